//! Which stream events are stale on arrival. Genesys numbers no events, but every observation
//! event carries its instant (the zero-width interval `t/t`). Events carry absolute values, so
//! one older than an event already applied for the same queue and group (media type, or none
//! for the user metrics) would move the gauges back in time, and an exact repeat of the last
//! one changes nothing: both are skipped and counted. An event at the same instant with other
//! content is applied; only its order, not its newness, is unknown.

use std::collections::HashMap;

/// (queue id, media type): the group an event's values belong to.
type Group = (String, Option<String>);

/// What an arriving event is, against the last one applied for its group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Arrival {
    New,
    /// Older than the last applied event.
    OutOfOrder,
    /// The same frame as the last applied event.
    Duplicate,
}

#[derive(Debug, Default)]
pub(super) struct EventOrder {
    /// The instant (epoch ms) and fingerprint of each group's last applied event.
    last: HashMap<Group, (i64, u64)>,
}

impl EventOrder {
    /// Classifies an event and, when it is new, remembers it as its group's last.
    pub(super) fn arrive(
        &mut self,
        queue_id: &str,
        media: Option<&str>,
        instant_ms: i64,
        fingerprint: u64,
    ) -> Arrival {
        let group = (queue_id.to_owned(), media.map(str::to_owned));
        match self.last.get(&group) {
            Some((last, _)) if instant_ms < *last => Arrival::OutOfOrder,
            Some((last, print)) if instant_ms == *last && fingerprint == *print => {
                Arrival::Duplicate
            }
            _ => {
                self.last.insert(group, (instant_ms, fingerprint));
                Arrival::New
            }
        }
    }

    /// Drops what is known of a queue that left the monitored set.
    pub(super) fn forget(&mut self, queue_id: &str) {
        self.last.retain(|(queue, _), _| queue != queue_id);
    }

    /// Keeps only the groups of queues `keep` accepts.
    pub(super) fn len(&self) -> usize {
        self.last.len()
    }

    pub(super) fn retain_queues(&mut self, keep: impl Fn(&str) -> bool) {
        self.last.retain(|(queue, _), _| keep(queue));
    }
}

#[cfg(test)]
mod tests;

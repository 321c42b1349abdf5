//! Which channel each id is on, for every kind of channel alike, and the client's channel
//! budget (docs/genesys-api.md#notification-channels) the kinds share.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use tokio::sync::watch;

use super::carried::Carried;
use crate::genesys::model::{CHANNELS_PER_CLIENT, MAX_TOPICS_PER_CHANNEL};

/// The ids channels of `ids_per_channel` hold in what the client's channel budget leaves
/// beside `taken` channels.
pub(crate) fn room_beside(taken: usize, ids_per_channel: usize) -> usize {
    CHANNELS_PER_CLIENT.saturating_sub(taken) * ids_per_channel
}

/// The channels each kind has started of the client's budget, so a kind placed later takes
/// only what the others leave.
#[derive(Debug, Default)]
pub(crate) struct ChannelBudget(Mutex<BTreeMap<&'static str, usize>>);

impl ChannelBudget {
    /// `kind` holds `channels` now.
    pub(crate) fn claim(&self, kind: &'static str, channels: usize) {
        crate::sync::lock(&self.0).insert(kind, channels);
    }

    /// The channels every other kind holds.
    pub(crate) fn taken_besides(&self, kind: &str) -> usize {
        let taken = crate::sync::lock(&self.0);
        taken
            .iter()
            .filter(|(k, _)| **k != kind)
            .map(|(_, n)| n)
            .sum()
    }
}

/// Which notification channel each id is on. An id stays on its channel for as long as it is
/// subscribed, so adding or removing one resubscribes one channel and resyncs at most one id;
/// chunking the sorted set afresh would shift every id after it into the next channel and
/// resubscribe and resync them all. New ids fill the first channel with room, in id order, so
/// the channels number at most ⌈most ids ever / size⌉, and a first placement is the sorted set
/// in chunks, the same on every run.
#[derive(Debug)]
pub(crate) struct ChannelPlan {
    size: usize,
    channels: Vec<BTreeSet<String>>,
}

impl ChannelPlan {
    /// Channels of at most `max_per_channel` ids, never above Genesys's 1,000 topics.
    pub(crate) fn new(max_per_channel: usize) -> Self {
        Self {
            size: max_per_channel.clamp(1, MAX_TOPICS_PER_CHANNEL),
            channels: Vec::new(),
        }
    }

    /// Places exactly `ids` (deduplicated); returns each channel's ids, sorted. A channel left
    /// empty stays in the plan, so later growth reuses it.
    pub(crate) fn place(&mut self, ids: &[String]) -> Vec<Vec<String>> {
        let wanted: BTreeSet<&String> = ids.iter().collect();
        for channel in &mut self.channels {
            channel.retain(|id| wanted.contains(id));
        }
        let placed = |id: &&String| self.channels.iter().any(|c| c.contains(*id));
        let new: Vec<String> = wanted
            .iter()
            .filter(|id| !placed(id))
            .map(|id| (*id).clone())
            .collect();
        let mut new = new.into_iter().peekable();
        for channel in &mut self.channels {
            while channel.len() < self.size {
                let Some(id) = new.next() else { break };
                channel.insert(id);
            }
        }
        while new.peek().is_some() {
            self.channels.push(new.by_ref().take(self.size).collect());
        }
        let lists = self.channels.iter();
        lists.map(|c| c.iter().cloned().collect()).collect()
    }
}

/// One kind's channels: where each id is, and the watch each channel's supervisor reads its
/// ids from. A channel no longer needed is emptied, not stopped, so later growth reuses it.
pub(crate) struct Channels {
    plan: ChannelPlan,
    senders: Vec<watch::Sender<Vec<String>>>,
    carried: Carried,
    /// The channels' labels: the status page's and the series' `channel`.
    label: fn(usize) -> String,
    /// Whether an empty set still gets a channel (a shard holding no queue is still ready).
    keeps_one: bool,
}

/// A channel placed for the first time: its supervisor is to be started.
pub(crate) struct NewChannel {
    pub label: String,
    pub carried: Carried,
    pub ids: watch::Receiver<Vec<String>>,
}

impl Channels {
    pub(crate) fn new(carried: Carried, label: fn(usize) -> String) -> Self {
        Self {
            plan: ChannelPlan::new(carried.ids_per_channel()),
            senders: Vec::new(),
            carried,
            label,
            keeps_one: false,
        }
    }

    /// The same channels, one kept even for no ids.
    pub(crate) fn keeping_one(self) -> Self {
        Self {
            keeps_one: true,
            ..self
        }
    }

    /// How many channels were started: what this kind takes of the client's budget.
    pub(crate) fn count(&self) -> usize {
        self.senders.len()
    }

    /// The ids one channel holds.
    pub(crate) fn ids_per_channel(&self) -> usize {
        self.carried.ids_per_channel()
    }

    /// Places `ids`, sending each started channel its list (also unchanged, with `force`, so
    /// its supervisor resubscribes and resyncs); returns the channels to start.
    pub(crate) fn place(&mut self, ids: &[String], force: bool) -> Vec<NewChannel> {
        let mut lists = self.plan.place(ids);
        if lists.is_empty() && self.senders.is_empty() && self.keeps_one {
            lists.push(Vec::new());
        }
        let mut started = Vec::new();
        for (index, list) in lists.into_iter().enumerate() {
            match self.senders.get(index) {
                Some(sender) => publish(sender, list, force),
                None => {
                    let (sender, ids) = watch::channel(list);
                    self.senders.push(sender);
                    let (label, carried) = ((self.label)(index), self.carried.clone());
                    started.push(NewChannel {
                        label,
                        carried,
                        ids,
                    });
                }
            }
        }
        started
    }
}

/// Sends `value` if it differs (or `force`, to make watchers resubscribe and resync the same
/// ids), so watchers wake for real changes only.
pub(crate) fn publish<T: PartialEq>(sender: &watch::Sender<T>, value: T, force: bool) {
    sender.send_if_modified(|current| {
        let changed = force || *current != value;
        *current = value;
        changed
    });
}

#[cfg(test)]
mod tests;

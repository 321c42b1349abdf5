//! What a source watches, from one listing to the next: an entity missing from a listing is kept
//! for a grace of refreshes, so one incomplete listing does not reset its series.

use std::collections::BTreeMap;

use tracing::warn;

/// An entity a listing names.
pub trait Listed: Clone {
    /// What the logs call it (`queue`, `trunk`).
    const KIND: &'static str;
    fn id(&self) -> &str;
    fn name(&self) -> &str;
}

/// The entities watched across refreshes, each with how many listings in a row it has been
/// missing from.
#[derive(Debug, Default)]
pub(crate) struct MonitoredSet<L> {
    /// Refreshes an entity may be missing before it is dropped.
    grace: u32,
    entities: BTreeMap<String, (L, u32)>,
}

impl<L: Listed> MonitoredSet<L> {
    pub(crate) fn new(grace: u32) -> Self {
        Self {
            grace,
            entities: BTreeMap::new(),
        }
    }

    /// Folds one listing in; returns the entities to watch, by name then id.
    pub(crate) fn update(&mut self, listed: Vec<L>) -> Vec<L> {
        for (_, misses) in self.entities.values_mut() {
            *misses += 1;
        }
        for entity in listed {
            self.entities.insert(entity.id().to_owned(), (entity, 0));
        }
        let grace = self.grace;
        self.entities.retain(|id, (_, misses)| {
            let keep = *misses <= grace;
            if *misses > 0 {
                warn!(kind = L::KIND, id = %id, misses = *misses, kept = keep, "missing from the listing");
            }
            keep
        });
        let mut watched: Vec<L> = self.entities.values().map(|(e, _)| e.clone()).collect();
        watched.sort_by(|a, b| a.name().cmp(b.name()).then_with(|| a.id().cmp(b.id())));
        watched
    }

    /// The ids the last listing held: the ones to subscribe to. One kept through its grace is
    /// gone upstream as far as we know, and Genesys may refuse its topic; one such topic in a
    /// subscription request would fail the request for every other id of its channel, so it is
    /// left out.
    pub(crate) fn listed(&self) -> Vec<String> {
        let listed = self.entities.iter().filter(|(_, (_, misses))| *misses == 0);
        listed.map(|(id, _)| id.clone()).collect()
    }
}

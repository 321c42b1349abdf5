//! The monitored queue set and each queue's freshness (docs/operations.md#fresh-and-stale).
//!
//! `genesys_queue_observation_timestamp_seconds` is the instant up to which the queue's values
//! are known current. A successful resync sets it; so do an event and a heartbeat on a healthy
//! socket, but only once the queue has been resynced at least once (before that its values are
//! not known to be complete) and only while it is not stale. A queue is stale from a failed
//! resync, or from the moment its freshness is older than the staleness bound, until the next
//! successful resync of it. Under [`StaleGauges::Remove`] a stale queue's observation gauges are
//! left out of the scrape instead of shown frozen, until that resync rewrites them all.

use std::sync::Mutex;

use super::Metrics;
use super::store::QueueEntry;
use crate::sync::lock;
use crate::vocabulary::queue::{QueueLabels, StaleGauges};

/// A queue's freshness.
#[derive(Debug, Clone)]
pub(super) struct Freshness {
    /// Whether a resync has ever refreshed it; until then nothing else moves its freshness
    /// and its observation gauges are not shown.
    pub(super) resynced: bool,
    pub(super) stale: bool,
    /// Unix seconds up to which its values are known current; before the first resync, when
    /// it joined the set (so a queue that can never be resynced turns stale too).
    pub(super) fresh_at: f64,
    /// Unix seconds of its last successful resync.
    resynced_at: Option<f64>,
}

impl Freshness {
    pub(super) fn joined(now_seconds: f64) -> Self {
        Self {
            resynced: false,
            stale: false,
            fresh_at: now_seconds,
            resynced_at: None,
        }
    }

    /// The stream showed the values current as of `at_unix_seconds`; only a resync makes
    /// stale or never-resynced values fresh.
    pub(super) fn observed(&mut self, at_unix_seconds: f64) {
        if self.resynced && !self.stale {
            self.fresh_at = self.fresh_at.max(at_unix_seconds);
        }
    }

    /// Turns stale if its values are older than `bound` at `now_unix_seconds`; returns the
    /// instant after which it would turn if nothing refreshed it (infinite once stale).
    pub(super) fn sweep(&mut self, now_unix_seconds: f64, bound: f64) -> f64 {
        self.stale |= now_unix_seconds - self.fresh_at > bound;
        if self.stale {
            f64::INFINITY
        } else {
            self.fresh_at + bound
        }
    }

    pub(super) fn resynced(&mut self, at_unix_seconds: f64) {
        self.resynced = true;
        self.stale = false;
        self.fresh_at = at_unix_seconds;
        self.resynced_at = Some(at_unix_seconds);
    }
}

/// One monitored queue as the status page shows it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QueueStatus {
    pub labels: QueueLabels,
    pub stale: bool,
    /// Unix seconds up to which its values are known current; `None` before the first resync.
    pub fresh_at: Option<f64>,
    pub resynced_at: Option<f64>,
}

impl Metrics {
    /// Replaces the monitored set. A queue that left takes its series with it; a queue whose
    /// division changed moves only its `genesys_queue_info`; a renamed queue keeps its values,
    /// counters included, under the new name (no reset). Returns whether any queue was
    /// renamed, so the caller can resync.
    pub fn set_queues(&self, queues: &[QueueLabels]) -> bool {
        let mut known = crate::sync::write(&self.queues);
        known.retain(|id, _| queues.iter().any(|q| &q.id == id));
        let mut renamed = false;
        let now = self.clock.now_seconds();
        for queue in queues {
            match known.get_mut(&queue.id) {
                Some(entry) => {
                    let entry = crate::sync::get_mut(entry);
                    renamed |= entry.labels.name != queue.name;
                    entry.relabel(queue);
                }
                None => {
                    let entry = QueueEntry::new(queue.clone(), self.media_types.len(), now);
                    known.insert(queue.id.clone(), Mutex::new(entry));
                }
            }
        }
        self.monitored_queues.set(known.len() as i64);
        renamed
    }

    /// Runs `write` on the queue's entry; unmonitored queues are ignored. Only this queue is
    /// locked, so a scrape rendering others does not hold the writer up.
    pub(super) fn with_queue<T>(
        &self,
        queue_id: &str,
        write: impl FnOnce(&mut QueueEntry) -> T,
    ) -> Option<T> {
        let queues = crate::sync::read(&self.queues);
        queues.get(queue_id).map(|entry| write(&mut lock(entry)))
    }

    pub(crate) fn is_monitored(&self, queue_id: &str) -> bool {
        let queues = crate::sync::read(&self.queues);
        queues.contains_key(queue_id)
    }

    /// The stream showed the queue current as of `at_unix_seconds` (an event, or a heartbeat
    /// on its healthy socket). Only a full resync makes a stale or never-resynced queue fresh.
    pub(crate) fn queue_observed(&self, queue_id: &str, at_unix_seconds: f64) {
        self.queues_observed([queue_id], at_unix_seconds);
    }

    /// [`Metrics::queue_observed`] for every queue of a channel, as one heartbeat means.
    pub(crate) fn queues_observed<'a>(
        &self,
        queue_ids: impl IntoIterator<Item = &'a str>,
        at_unix_seconds: f64,
    ) {
        let queues = crate::sync::read(&self.queues);
        for entry in queue_ids.into_iter().filter_map(|id| queues.get(id)) {
            lock(entry).freshness.observed(at_unix_seconds);
        }
    }

    /// Marks the queue resynced at `at_unix_seconds` without writing values, for tests of
    /// freshness alone (a resync goes through [`Metrics::apply_snapshot`]).
    #[cfg(test)]
    pub(crate) fn queue_resynced(&self, queue_id: &str, at_unix_seconds: f64) {
        self.with_queue(queue_id, |entry| entry.freshness.resynced(at_unix_seconds));
    }

    /// The queue's values could not be refreshed; cleared by its next resync
    /// ([`Metrics::apply_snapshot`]).
    pub(crate) fn set_queue_stale(&self, queue_id: &str) {
        self.with_queue(queue_id, |entry| entry.freshness.stale = true);
    }

    /// Marks stale every queue and agent whose values are older than the staleness bound at
    /// `now_unix_seconds`; returns the Unix seconds up to which a sweep would judge every one
    /// of them the same (infinite without a bound), unless something else marks one stale.
    pub(crate) fn sweep_stale(&self, now_unix_seconds: f64) -> f64 {
        let Some(bound) = self.stale_policy.bound_seconds else {
            return f64::INFINITY;
        };
        let queues = crate::sync::read(&self.queues);
        let next_turn = (queues.values())
            .map(|entry| lock(entry).freshness.sweep(now_unix_seconds, bound))
            .fold(f64::INFINITY, f64::min);
        drop(queues);
        next_turn.min(self.sweep_stale_agents(now_unix_seconds, bound))
    }

    /// Each monitored queue's name by id.
    pub(super) fn queue_names(&self) -> std::collections::HashMap<String, String> {
        let queues = crate::sync::read(&self.queues);
        (queues.iter())
            .map(|(id, entry)| (id.clone(), lock(entry).labels.name.clone()))
            .collect()
    }

    /// Whether a stale queue's observation gauges are left out of the scrape.
    pub(super) fn hides_stale_gauges(&self) -> bool {
        self.stale_policy.gauges == StaleGauges::Remove
    }

    /// Every monitored queue's freshness, stale ones first, then by name.
    pub(crate) fn queue_statuses(&self) -> Vec<QueueStatus> {
        let queues = crate::sync::read(&self.queues);
        let mut statuses: Vec<QueueStatus> = queues
            .values()
            .map(|entry| {
                let e = lock(entry);
                QueueStatus {
                    labels: e.labels.clone(),
                    stale: e.freshness.stale,
                    fresh_at: e.freshness.resynced.then_some(e.freshness.fresh_at),
                    resynced_at: e.freshness.resynced_at,
                }
            })
            .collect();
        statuses.sort_by(|a, b| {
            (!a.stale, &a.labels.name, &a.labels.id).cmp(&(!b.stale, &b.labels.name, &b.labels.id))
        });
        statuses
    }

    /// The monitored queues among `queue_ids` that are marked stale.
    pub(crate) fn queues_stale(&self, queue_ids: &[String]) -> Vec<String> {
        let queues = crate::sync::read(&self.queues);
        queue_ids
            .iter()
            .filter(|id| queues.get(*id).is_some_and(|e| lock(e).freshness.stale))
            .cloned()
            .collect()
    }
}

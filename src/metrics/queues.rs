//! The monitored queue set and each queue's freshness (docs/operations.md#fresh-and-stale),
//! by the rules of `table.rs`.
//!
//! `genesys_queue_observation_timestamp_seconds` is the instant up to which the queue's values
//! are known current. Under [`StaleGauges::Remove`] a stale queue's observation gauges are left
//! out of the scrape instead of shown frozen, until its next resync rewrites them all.

use super::Metrics;
use super::store::QueueEntry;
use crate::sync::lock;
use crate::vocabulary::queue::{QueueLabels, StaleGauges};

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
        let (renamed, monitored) = self.queues.replace(queues, self.clock.now_seconds());
        self.monitored_queues.set(monitored as i64);
        renamed
    }

    /// Runs `write` on the queue's entry; unmonitored queues are ignored. Only this queue is
    /// locked, so a scrape rendering others does not hold the writer up.
    pub(super) fn with_queue<T>(
        &self,
        queue_id: &str,
        write: impl FnOnce(&mut QueueEntry) -> T,
    ) -> Option<T> {
        self.queues.with(queue_id, write)
    }

    pub(crate) fn is_monitored(&self, queue_id: &str) -> bool {
        self.queues.contains(queue_id)
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
        self.queues.observed(queue_ids, at_unix_seconds);
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
        self.queues.set_stale(queue_id);
    }

    /// Marks stale every queue and agent whose values are older than the staleness bound at
    /// `now_unix_seconds`; returns the Unix seconds up to which a sweep would judge every one
    /// of them the same (infinite without a bound), unless something else marks one stale.
    pub(crate) fn sweep_stale(&self, now_unix_seconds: f64) -> f64 {
        let Some(bound) = self.stale_policy.bound_seconds else {
            return f64::INFINITY;
        };
        let queues = self.queues.sweep(now_unix_seconds, bound);
        queues.min(self.agents.sweep(now_unix_seconds, bound))
    }

    /// Each monitored queue's name by id.
    pub(super) fn queue_names(&self) -> std::collections::HashMap<String, String> {
        let queues = self.queues.read();
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
        let queues = self.queues.read();
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
        self.queues.stale(queue_ids)
    }
}

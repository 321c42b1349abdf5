//! The queues' table in the store (docs/metrics.md#series-per-queue): one entry per monitored queue, its
//! setters, and its families rendered at scrape time, over the store's generic
//! [`Table`](crate::metrics::table::Table) and its freshness rules
//! (docs/operations.md#fresh-and-stale).
//!
//! Queue series carry `queue_id` and `queue` (the name); the names are looked up here so
//! producers only ever pass ids. Label values come from allow-lists (media types from config,
//! routing statuses and states from fixed enums), so upstream payloads cannot grow
//! cardinality. `genesys_queue_observation_timestamp_seconds` is the instant up to which the
//! queue's values are known current; under `stale_gauges: remove` a stale queue's observation
//! gauges are left out of the scrape instead of shown frozen, until its next resync rewrites
//! them all.

use std::collections::HashMap;
use std::sync::Arc;

use prometheus::IntGauge;

mod counters;
mod entry;
mod reference;

use entry::{Family, MediaGroup, QueueEntry, RenderContext};
pub use entry::{MediaSnapshot, QueueSnapshot};

use crate::metrics::counted::Renders;
use crate::metrics::registry::{FamilyDoc, Registrar, SelfMetrics};
use crate::metrics::scrape::{EntityStatus, Rendered, Scrape, SourceStatuses};
use crate::metrics::table::{Names, Table};
use crate::metrics::{Metrics, Presences};
use crate::status::PollKind;
use crate::sync::lock;
use crate::vocabulary::clock::Clock;
use crate::vocabulary::counters::ConversationCounter;
use crate::vocabulary::labels::{
    Direction, InteractionState, LabelValue, MediaType, RoutingStatus, UserCount,
};
use crate::vocabulary::queue::QueueLabels;

/// Which queue series exist: the label sets and counters configured.
#[derive(Debug, Clone)]
pub struct QueueSeries {
    /// The `media_type` label's allow-list.
    pub media_types: Vec<MediaType>,
    /// The `direction` label's values; empty: conversation counters have no direction.
    pub directions: Vec<Direction>,
    /// The configured metric set's counters; series exist only for (queue, media type)
    /// groups that have had data.
    pub counters: Vec<ConversationCounter>,
}

impl QueueSeries {
    /// `media_types` as the allow-list, every conversation counter, no direction.
    pub fn new(media_types: Vec<MediaType>) -> Self {
        Self {
            media_types,
            directions: Vec::new(),
            counters: ConversationCounter::ALL.to_vec(),
        }
    }
}

/// The monitored queues' series.
pub struct QueueTable {
    table: Table<QueueEntry>,
    series: QueueSeries,
    presences: Arc<Presences>,
    renders: Arc<Renders>,
    /// When a queue joins, by the store's clock.
    clock: Clock,
    monitored: IntGauge,
}

#[derive(Clone)]
struct QueueTableMetrics {
    monitored: IntGauge,
}

impl SelfMetrics for QueueTableMetrics {
    fn register(r: &Registrar) -> Self {
        Self {
            monitored: r.gauge(
                "genesys_exporter_monitored_queues",
                "Queues the exporter is watching.",
            ),
        }
    }
}

impl QueueTable {
    /// A table of `series`, rendered by `metrics` from now on.
    pub fn register(metrics: &Metrics, series: QueueSeries) -> Arc<Self> {
        let table = Arc::new(Self {
            table: Table::default(),
            series,
            presences: metrics.presences().clone(),
            renders: metrics.renders(),
            clock: metrics.clock().clone(),
            monitored: QueueTableMetrics::of(metrics).monitored,
        });
        metrics.add_table(table.clone());
        table
    }

    /// Replaces the monitored set. A queue that left takes its series with it; a queue whose
    /// division changed moves only its `genesys_queue_info`; a renamed queue keeps its values,
    /// counters included, under the new name (no reset). Returns whether any queue was
    /// renamed, so the caller can resync.
    pub fn set_queues(&self, queues: &[QueueLabels]) -> bool {
        let (renamed, monitored) = self.table.replace(queues, self.clock.now_seconds());
        self.monitored.set(monitored as i64);
        renamed
    }

    /// Runs `write` on the queue's entry; unmonitored queues are ignored. Only this queue is
    /// locked, so a scrape rendering others does not hold the writer up.
    fn with_queue<T>(&self, queue_id: &str, write: impl FnOnce(&mut QueueEntry) -> T) -> Option<T> {
        self.table.with(queue_id, write)
    }

    pub(crate) fn is_monitored(&self, queue_id: &str) -> bool {
        self.table.contains(queue_id)
    }

    /// Whether `media_type` passes the label allow-list.
    pub(crate) fn knows_media_type(&self, media_type: &str) -> bool {
        self.media_index(media_type).is_some()
    }

    /// Whether `id` is one of the org's presences.
    pub(crate) fn knows_presence(&self, id: &str) -> bool {
        self.presences.knows(id)
    }

    /// The index of an allow-listed media type; `None` for any other.
    fn media_index(&self, media_type: &str) -> Option<usize> {
        (self.series.media_types.iter()).position(|m| m.as_str() == media_type)
    }

    /// Runs `write` on the queue's group of `media`, created first when `create` (the queue
    /// has now had something of that media type). Unknown media types are ignored.
    fn with_media_group(
        &self,
        queue_id: &str,
        media: &str,
        create: bool,
        write: impl FnOnce(&mut MediaGroup),
    ) {
        let Some(index) = self.media_index(media) else {
            return;
        };
        self.with_queue(queue_id, |entry| {
            if let Some(group) = entry.media_group(index, create) {
                write(group);
            }
        });
    }

    pub(crate) fn set_interactions(
        &self,
        queue_id: &str,
        media: &str,
        state: InteractionState,
        n: i64,
    ) {
        self.with_media_group(queue_id, media, n != 0, |group| {
            group.interactions[state as usize] = n;
        });
    }

    pub(crate) fn set_users_in_status(&self, queue_id: &str, status: RoutingStatus, n: i64) {
        self.with_queue(queue_id, |entry| entry.users[status as usize] = Some(n));
    }

    /// `presence_id` must pass [`QueueTable::knows_presence`] (callers check the allow-list).
    pub(crate) fn set_users_in_presence(&self, queue_id: &str, presence_id: &str, n: i64) {
        self.with_queue(queue_id, |entry| {
            entry.presences.insert(presence_id.into(), n);
        });
    }

    pub(crate) fn set_user_count(&self, queue_id: &str, which: UserCount, n: i64) {
        self.with_queue(queue_id, |entry| {
            entry.user_counts[which as usize] = Some(n)
        });
    }

    /// `since_epoch_ms` is when the oldest waiting interaction began waiting; `None` when
    /// nothing waits.
    pub(crate) fn set_longest_waiting(
        &self,
        queue_id: &str,
        media: &str,
        since_epoch_ms: Option<i64>,
    ) {
        self.with_media_group(queue_id, media, since_epoch_ms.is_some(), |group| {
            group.waiting_since_ms = since_epoch_ms;
        });
    }

    /// Applies a full resync of the queue at once, so no scrape sees half of it: every value
    /// is fresh as of `at_unix_seconds`.
    pub fn apply_snapshot(&self, queue_id: &str, at_unix_seconds: f64, snapshot: &QueueSnapshot) {
        self.with_queue(queue_id, |entry| {
            entry.freshness.resynced(at_unix_seconds);
            entry.users = snapshot.users.map(Some);
            entry.user_counts = snapshot.user_counts.map(Some);
            // NB: a presence the queue had and the resync no longer reports has no members.
            entry.presences.values_mut().for_each(|n| *n = 0);
            for (id, n) in &snapshot.presences {
                entry.presences.insert(id.as_str().into(), *n);
            }
            for (index, media_type) in self.series.media_types.iter().enumerate() {
                let media = (snapshot.media.get(media_type.as_str()))
                    .copied()
                    .unwrap_or_default();
                let had_any =
                    media.interactions.iter().any(|n| *n != 0) || media.waiting_since_ms.is_some();
                if let Some(group) = entry.media_group(index, had_any) {
                    group.interactions = media.interactions;
                    group.waiting_since_ms = media.waiting_since_ms;
                }
            }
        });
    }

    /// The stream showed the queue current as of `at_unix_seconds` (an event, or a heartbeat
    /// on its healthy socket). Only a full resync makes a stale or never-resynced queue fresh.
    pub(crate) fn queue_observed(&self, queue_id: &str, at_unix_seconds: f64) {
        self.queues_observed([queue_id], at_unix_seconds);
    }

    /// [`QueueTable::queue_observed`] for every queue of a channel, as one heartbeat means.
    pub(crate) fn queues_observed<'a>(
        &self,
        queue_ids: impl IntoIterator<Item = &'a str>,
        at_unix_seconds: f64,
    ) {
        self.table.observed(queue_ids, at_unix_seconds);
    }

    /// Marks the queue resynced at `at_unix_seconds` without writing values, for tests of
    /// freshness alone (a resync goes through [`QueueTable::apply_snapshot`]).
    #[cfg(test)]
    pub(crate) fn queue_resynced(&self, queue_id: &str, at_unix_seconds: f64) {
        self.with_queue(queue_id, |entry| entry.freshness.resynced(at_unix_seconds));
    }

    /// The queue's values could not be refreshed; cleared by its next resync
    /// ([`QueueTable::apply_snapshot`]).
    pub(crate) fn set_queue_stale(&self, queue_id: &str) {
        self.table.set_stale(queue_id);
    }

    /// The monitored queues among `queue_ids` that are marked stale.
    pub(crate) fn queues_stale(&self, queue_ids: &[String]) -> Vec<String> {
        self.table.stale(queue_ids)
    }

    fn render_context(&self, scrape: &Scrape) -> RenderContext<'_> {
        RenderContext {
            render: scrape.render,
            media_types: &self.series.media_types,
            directions: &self.series.directions,
            now_ms: scrape.now_ms,
            hide_stale_gauges: scrape.hide_stale,
            presences: self.presences.current(),
        }
    }

    fn families(&self) -> impl Iterator<Item = Family> {
        Family::all(self.series.counters.len())
    }
}

impl Names for QueueTable {
    fn names(&self) -> HashMap<String, String> {
        self.table.names()
    }
}

impl Rendered for QueueTable {
    fn family_count(&self) -> usize {
        self.families().count()
    }

    fn render_family(&self, index: usize, scrape: &Scrape) -> Vec<u8> {
        let Some(family) = self.families().nth(index) else {
            return Vec::new();
        };
        let ctx = self.render_context(scrape);
        let counters = &self.series.counters;
        let name = family.name(counters);
        let help = family.help(counters);
        let most = family
            .most_samples_per_queue(self.series.media_types.len(), self.series.directions.len());
        let per_queue = most * (name.len() + 160);
        (self.table).render_family((name, &help, family.kind()), per_queue, |entry, out| {
            entry.render(family, name, &ctx, out);
        })
    }

    fn release_pending(&self) {
        self.release_pending_conversations();
    }

    fn sweep(&self, now_unix_seconds: f64, bound: f64) -> f64 {
        self.table.sweep(now_unix_seconds, bound)
    }

    fn docs(&self) -> Vec<FamilyDoc> {
        let by_direction = !self.series.directions.is_empty();
        let counters = &self.series.counters;
        (self.families())
            .map(|family| {
                let labels = ["queue_id", "queue"].into_iter();
                let labels = labels.chain(family.extra_labels(by_direction).iter().copied());
                let help = family.help(counters);
                FamilyDoc::of_table(family.name(counters), family.kind(), labels, &help)
            })
            .collect()
    }

    fn statuses(&self) -> Option<SourceStatuses> {
        let queues = self.table.read();
        let rows = (queues.values()).map(|entry| {
            let e = lock(entry);
            let l = &e.labels;
            EntityStatus::of(&l.id, &l.name, &l.division, &e.freshness)
        });
        let poll = Some(PollKind::Conversations);
        Some(SourceStatuses::sorted(
            "Queues",
            "queues",
            "division",
            poll,
            rows.collect(),
        ))
    }
}

#[cfg(test)]
mod tests;

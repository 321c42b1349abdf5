//! Every metric the exporter exposes, behind domain methods: the queue series in their own store
//! (`store.rs`, rendered by `text.rs`, ARCHITECTURE.md#store), the exporter's own metrics on a
//! private `prometheus` registry.
//!
//! Queue-derived series carry `queue_id` and `queue` (the name); the names are looked up here so
//! call sites only ever pass ids. Label values come from allow-lists (media types from config,
//! routing statuses and states from fixed enums), so upstream payloads cannot grow cardinality.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock};

use prometheus::{IntGauge, Registry};

mod agent_time;
mod agents;
mod conversations;
pub(crate) mod ignored;
mod queues;
mod reference;
pub(crate) mod registry;
mod scrape;
mod store;
pub(crate) mod table;
mod text;

pub(crate) use agents::Applied;
pub use registry::FamilyDoc;
use registry::Registrar;
pub use scrape::{Judgement, ScrapeParts};
use store::{MediaGroup, QueueEntry, RenderContext};
pub use store::{MediaSnapshot, QueueSnapshot};
use table::Table;

use crate::vocabulary::agent::AgentExport;
use crate::vocabulary::clock::Clock;
use crate::vocabulary::counters::{ConversationCounter, ConversationGroup};
use crate::vocabulary::labels::{
    Direction, InteractionState, LabelValue, MediaType, RoutingStatus, UserCount,
};
use crate::vocabulary::presence::Presence;
use crate::vocabulary::queue::StalePolicy;

/// The exporter's metrics. Built once by `app` and shared by `Arc`.
pub struct Metrics {
    registry: Registry,
    media_types: Vec<MediaType>,
    /// The `direction` label's values; empty: conversation counters have no direction.
    directions: Vec<Direction>,
    /// The monitored queues' series (`store.rs`).
    queues: Table<QueueEntry>,
    stale_policy: StalePolicy,
    /// The watched agents, by id; empty unless `agents.enabled`.
    agents: Table<agents::AgentEntry>,
    agent_export: AgentExport,
    /// The org's presences by id (the `presence` label's allow-list), replaced whole when
    /// the definitions are read again.
    presences: RwLock<Arc<HashMap<String, Presence>>>,
    /// The shared wall clock: freshness and staleness are judged by it, and every producer
    /// holding the store reads "now" from it.
    clock: Clock,
    /// The configured metric set's counters; series exist only for (queue, media type) groups
    /// that have had data.
    counters: Vec<ConversationCounter>,
    /// How many renders of `/metrics` have started, and one past the highest-numbered that has
    /// finished: a new counter series is shown at 0 by a finished render before it moves
    /// (see `conversations.rs`).
    renders: AtomicU64,
    renders_finished: AtomicU64,

    monitored_queues: IntGauge,
    watched_agents: IntGauge,
    /// Each producer's self-metrics, by type (`registry.rs`).
    self_metrics: Mutex<HashMap<TypeId, Box<dyn Any + Send + Sync>>>,
    /// Every self-metric family registered, for [`Metrics::families`].
    described: Mutex<Vec<FamilyDoc>>,
    /// What the status page shows beyond the series.
    status: crate::status::StatusBoard,
}

/// `process_*` (CPU, memory, file descriptors, `process_start_time_seconds`, which shows a
/// restart), on Linux where /proc exists.
fn register_process_collector(registry: &Registry) {
    #[cfg(target_os = "linux")]
    {
        let collector = prometheus::process_collector::ProcessCollector::for_self();
        if let Err(error) = registry.register(Box::new(collector)) {
            tracing::warn!(%error, "process metrics unavailable");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = registry;
}

impl Metrics {
    /// `media_types` is the allow-list for the `media_type` label; every conversation counter
    /// is exported.
    pub fn new(media_types: Vec<MediaType>) -> Self {
        Self::with_counters(media_types, ConversationCounter::ALL.to_vec())
    }

    /// Like [`Metrics::new`], exporting only `counters` (the configured metric set).
    pub fn with_counters(media_types: Vec<MediaType>, counters: Vec<ConversationCounter>) -> Self {
        let registry = Registry::new();
        let described = Mutex::default();
        let r = Registrar::new(&registry, &described);
        register_process_collector(&registry);
        let labels = crate::build_info::LABELS;
        let build_info = r.gauges(
            "genesys_exporter_build_info",
            "Build of the running exporter (version, git revision and branch, rustc version, target); always 1.",
            &labels.map(|(name, _)| name),
        );
        build_info
            .with_label_values(&labels.map(|(_, value)| value))
            .set(1);
        let monitored_queues = r.gauge(
            "genesys_exporter_monitored_queues",
            "Queues the exporter is watching.",
        );
        let watched_agents = r.gauge(
            "genesys_exporter_watched_agents",
            "Agents the exporter is watching (agents.enabled).",
        );
        Self {
            media_types,
            directions: Vec::new(),
            agents: Table::default(),
            agent_export: AgentExport::default(),
            watched_agents,
            queues: Table::default(),
            stale_policy: StalePolicy::default(),
            clock: Clock::system(),
            presences: RwLock::default(),
            counters,
            renders: AtomicU64::new(0),
            renders_finished: AtomicU64::new(0),
            monitored_queues,
            self_metrics: Mutex::default(),
            described,
            registry,
            status: crate::status::StatusBoard::default(),
        }
    }

    /// Sets how freshness turns into staleness (default: only failed resyncs, gauges kept).
    pub(crate) fn with_stale_policy(mut self, policy: StalePolicy) -> Self {
        self.stale_policy = policy;
        self
    }

    /// What the agent series show beyond state (names, queue membership).
    pub(crate) fn with_agent_export(mut self, export: AgentExport) -> Self {
        self.agent_export = export;
        self
    }

    /// Judges time by `clock` (an accelerated one in tests), as every producer then does.
    pub(crate) fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Splits every conversation counter by `directions`, which become its `direction` label.
    pub(crate) fn with_directions(mut self, directions: Vec<Direction>) -> Self {
        self.directions = directions;
        self
    }

    /// The counter slot of `direction` in a media group: 0 for no direction when none are
    /// configured, the configured position otherwise; `None` for any other.
    fn direction_slot(&self, direction: Option<&str>) -> Option<usize> {
        match direction {
            None if self.directions.is_empty() => Some(0),
            Some(direction) => self.directions.iter().position(|d| d.as_str() == direction),
            None => None,
        }
    }

    /// Whether a conversation group passes both allow-lists.
    pub(crate) fn knows_conversation_group(&self, group: ConversationGroup<'_>) -> bool {
        self.knows_media_type(group.media_type) && self.direction_slot(group.direction).is_some()
    }

    /// Whether `media_type` passes the label allow-list.
    pub(crate) fn knows_media_type(&self, media_type: &str) -> bool {
        self.media_types.iter().any(|m| m.as_str() == media_type)
    }

    /// The index of an allow-listed media type; `None` for any other.
    fn media_index(&self, media_type: &str) -> Option<usize> {
        self.media_types
            .iter()
            .position(|m| m.as_str() == media_type)
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

    /// Makes `presences` the allow-list of the `presence` label (the org's active definitions).
    pub(crate) fn set_presences(&self, presences: &[Presence]) {
        let by_id = presences
            .iter()
            .map(|p| (p.id.clone(), p.clone()))
            .collect();
        *crate::sync::write(&self.presences) = Arc::new(by_id);
    }

    /// Whether `id` is one of the org's presences.
    pub(crate) fn knows_presence(&self, id: &str) -> bool {
        let presences = crate::sync::read(&self.presences);
        presences.contains_key(id)
    }

    /// `presence_id` must pass [`Metrics::knows_presence`] (callers check the allow-list).
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
            for (index, media_type) in self.media_types.iter().enumerate() {
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

    fn render_context(&self, now_ms: i64, render: u64) -> RenderContext<'_> {
        RenderContext {
            render,
            media_types: &self.media_types,
            directions: &self.directions,
            now_ms,
            hide_stale_gauges: self.hides_stale_gauges(),
            presences: crate::sync::read(&self.presences).clone(),
        }
    }

    pub(crate) fn status(&self) -> &crate::status::StatusBoard {
        &self.status
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }
}

#[cfg(test)]
mod tests;

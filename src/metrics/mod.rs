//! Every metric the exporter exposes, on one private registry, behind domain methods.
//!
//! Queue-derived series carry `queue_id` and `queue` (the name); the names are looked up here so
//! call sites only ever pass ids. Label values come from allow-lists (media types from config,
//! routing statuses and states from fixed enums), so upstream payloads cannot grow cardinality.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use prometheus::{
    CounterVec, Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge,
    IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::genesys::model::ROUTING_STATUSES;

mod conversations;
mod exporter;
mod labels;
mod queues;

use conversations::ConversationSeries;
use queues::QueueEntry;
pub use queues::{QueueStatus, StaleGauges, StalePolicy};

pub use labels::{ConversationCounter, InteractionState, QueueLabels, Statistic, UserCount};

const QUEUE: &[&str] = &["queue_id", "queue"];
const QUEUE_MEDIA: &[&str] = &["queue_id", "queue", "media_type"];

/// The exporter's metrics. Built once by `app` and shared by `Arc`.
pub struct Metrics {
    registry: Registry,
    media_types: Vec<String>,
    queues: RwLock<HashMap<String, QueueEntry>>,
    stale_policy: StalePolicy,
    /// When the oldest waiting interaction started waiting (epoch ms), per (queue id, media
    /// type); turned into an age at scrape time so the gauge grows between events.
    longest_waiting_since: Mutex<HashMap<(String, String), i64>>,

    queue_info: IntGaugeVec,
    interactions: IntGaugeVec,
    users: IntGaugeVec,
    members: IntGaugeVec,
    on_queue_users: IntGaugeVec,
    active_users: IntGaugeVec,
    oldest_waiting: GaugeVec,
    observation_timestamp: GaugeVec,
    /// The configured metric set's counters; series exist only for (queue, media type) groups
    /// that have had data.
    counters: Vec<ConversationCounter>,
    conversations: HashMap<ConversationCounter, CounterVec>,
    conversation_series: Mutex<ConversationSeries>,
    /// How many renders of `/metrics` have started; a new counter series is shown at 0 by at
    /// least one render before it moves (see `conversations.rs`).
    renders: AtomicU64,
    service_level_target: GaugeVec,

    queue_stale: IntGaugeVec,
    stream_connected: IntGaugeVec,
    stream_reconnects: IntCounterVec,
    stream_establish_failures: IntCounterVec,
    notifications: IntCounterVec,
    subscribed_topics: IntGaugeVec,
    api_requests: IntCounterVec,
    api_request_duration: HistogramVec,
    api_rate_limited: IntCounterVec,
    token_refreshes: IntCounterVec,
    resyncs: IntCounterVec,
    polls: IntCounterVec,
    last_resync: IntGaugeVec,
    last_poll: IntGauge,
    monitored_queues: IntGauge,
    buckets_rejected: IntCounterVec,
    state_loads: IntCounterVec,
    state_writes: IntCounterVec,
    last_state_write: IntGauge,
    /// What the status page shows beyond the series.
    status: crate::status::StatusBoard,
}

fn register<C: prometheus::core::Collector + Clone + 'static>(registry: &Registry, c: C) -> C {
    // NB: names are static and unique within this file, so registration cannot fail.
    registry
        .register(Box::new(c.clone()))
        .expect("metric names are unique");
    c
}

fn int_gauges(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let vec = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric definition");
    register(registry, vec)
}

fn gauges(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> GaugeVec {
    let vec = GaugeVec::new(Opts::new(name, help), labels).expect("valid metric definition");
    register(registry, vec)
}

fn int_counters(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let vec = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric definition");
    register(registry, vec)
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

fn int_gauge(registry: &Registry, name: &str, help: &str) -> IntGauge {
    register(
        registry,
        IntGauge::new(name, help).expect("valid metric definition"),
    )
}

impl Metrics {
    /// `media_types` is the allow-list for the `media_type` label; every conversation counter
    /// is exported.
    pub fn new(media_types: Vec<String>) -> Self {
        Self::with_counters(media_types, ConversationCounter::ALL.to_vec())
    }

    /// Like [`Metrics::new`], exporting only `counters` (the configured metric set).
    pub fn with_counters(media_types: Vec<String>, counters: Vec<ConversationCounter>) -> Self {
        let r = Registry::new();
        register_process_collector(&r);
        let conversations = ConversationCounter::ALL
            .into_iter()
            .map(|counter| {
                let vec = CounterVec::new(Opts::new(counter.name(), counter.help()), QUEUE_MEDIA)
                    .expect("valid metric definition");
                (counter, register(&r, vec))
            })
            .collect();
        let build_info = int_gauges(
            &r,
            "genesys_exporter_build_info",
            "Build of the running exporter; always 1.",
            &["version"],
        );
        build_info
            .with_label_values(&[env!("CARGO_PKG_VERSION")])
            .set(1);
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "genesys_exporter_api_request_duration_seconds",
                "Duration of Genesys Cloud API requests, per endpoint.",
            )
            .buckets(vec![
                0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
            ]),
            &["endpoint"],
        )
        .expect("valid metric definition");
        Self {
            media_types,
            queues: RwLock::default(),
            stale_policy: StalePolicy::default(),
            longest_waiting_since: Mutex::default(),
            queue_info: int_gauges(
                &r,
                "genesys_queue_info",
                "A monitored queue; always 1.",
                &["queue_id", "queue", "division"],
            ),
            interactions: int_gauges(
                &r,
                "genesys_queue_interactions",
                "Interactions in the queue now, by state and media type (oWaiting, oInteracting, oAlerting).",
                &["queue_id", "queue", "media_type", "state"],
            ),
            users: int_gauges(
                &r,
                "genesys_queue_users",
                "Queue members by routing status (oUserRoutingStatuses).",
                &["queue_id", "queue", "routing_status"],
            ),
            members: int_gauges(
                &r,
                "genesys_queue_members",
                "Users who are members of the queue (oMemberUsers).",
                QUEUE,
            ),
            on_queue_users: int_gauges(
                &r,
                "genesys_queue_on_queue_users",
                "Members on queue (oOnQueueUsers, all routing statuses).",
                QUEUE,
            ),
            active_users: int_gauges(
                &r,
                "genesys_queue_active_users",
                "Members with the queue active (oActiveUsers).",
                QUEUE,
            ),
            oldest_waiting: gauges(
                &r,
                "genesys_queue_oldest_waiting_seconds",
                "Age of the oldest waiting interaction at scrape time; 0 when nothing waits.",
                QUEUE_MEDIA,
            ),
            observation_timestamp: gauges(
                &r,
                "genesys_queue_observation_timestamp_seconds",
                "Unix time when the queue's observations were last known fresh.",
                QUEUE,
            ),
            counters,
            conversations,
            conversation_series: Mutex::default(),
            renders: AtomicU64::new(0),
            service_level_target: gauges(
                &r,
                "genesys_queue_service_level_target",
                "The queue's own service-level target as a ratio (oServiceLevel target).",
                QUEUE_MEDIA,
            ),
            queue_stale: int_gauges(
                &r,
                "genesys_exporter_queue_stale",
                "1 while the queue's observations cannot be refreshed (stream down and resync failing).",
                QUEUE,
            ),
            stream_connected: int_gauges(
                &r,
                "genesys_exporter_stream_connected",
                "1 while the notification channel's WebSocket is streaming.",
                &["channel"],
            ),
            stream_reconnects: int_counters(
                &r,
                "genesys_exporter_stream_reconnects_total",
                "Notification WebSocket reconnects, by reason.",
                &["reason"],
            ),
            stream_establish_failures: int_counters(
                &r,
                "genesys_exporter_stream_establish_failures_total",
                "Failed attempts to bring a notification channel up, by channel and stage (create_channel, subscribe, connect).",
                &["channel", "stage"],
            ),
            notifications: int_counters(
                &r,
                "genesys_exporter_notifications_total",
                "Notification messages received, by outcome.",
                &["outcome"],
            ),
            subscribed_topics: int_gauges(
                &r,
                "genesys_exporter_subscribed_topics",
                "Topics subscribed on the notification channel.",
                &["channel"],
            ),
            api_requests: int_counters(
                &r,
                "genesys_exporter_api_requests_total",
                "Genesys Cloud API requests, by endpoint and HTTP status (or error kind).",
                &["endpoint", "status"],
            ),
            api_request_duration: register(&r, duration),
            api_rate_limited: int_counters(
                &r,
                "genesys_exporter_api_rate_limited_total",
                "Requests answered 429 by Genesys Cloud, by endpoint.",
                &["endpoint"],
            ),
            token_refreshes: int_counters(
                &r,
                "genesys_exporter_token_refreshes_total",
                "OAuth token fetches, by result.",
                &["result"],
            ),
            resyncs: int_counters(
                &r,
                "genesys_exporter_resyncs_total",
                "REST observation resyncs, by result.",
                &["result"],
            ),
            polls: int_counters(
                &r,
                "genesys_exporter_aggregate_polls_total",
                "Conversation aggregate polls, by result.",
                &["result"],
            ),
            last_resync: int_gauges(
                &r,
                "genesys_exporter_last_resync_timestamp_seconds",
                "Unix time of the channel's last successful observation resync; 0 before the first.",
                &["channel"],
            ),
            last_poll: int_gauge(
                &r,
                "genesys_exporter_last_poll_timestamp_seconds",
                "Unix time of the last successful aggregate poll.",
            ),
            monitored_queues: int_gauge(
                &r,
                "genesys_exporter_monitored_queues",
                "Queues the exporter is watching.",
            ),
            buckets_rejected: int_counters(
                &r,
                "genesys_exporter_aggregate_buckets_rejected_total",
                "Aggregate buckets not folded into the counters, by reason (other_width, off_grid, expired, malformed).",
                &["reason"],
            ),
            state_loads: int_counters(
                &r,
                "genesys_exporter_state_loads_total",
                "Attempts to load the counter state at start-up, by result (loaded, missing, corrupt, truncated, foreign, future, expired, unreadable).",
                &["result"],
            ),
            state_writes: int_counters(
                &r,
                "genesys_exporter_state_writes_total",
                "Writes of the counter state file, by result.",
                &["result"],
            ),
            last_state_write: int_gauge(
                &r,
                "genesys_exporter_state_last_write_timestamp_seconds",
                "Unix time of the last successful write of the counter state file.",
            ),
            registry: r,
            status: crate::status::StatusBoard::default(),
        }
    }

    /// Sets how freshness turns into staleness (default: only failed resyncs, gauges kept).
    pub fn with_stale_policy(mut self, policy: StalePolicy) -> Self {
        self.stale_policy = policy;
        self
    }

    pub fn media_types(&self) -> &[String] {
        &self.media_types
    }

    /// Whether `media_type` passes the label allow-list.
    pub fn knows_media_type(&self, media_type: &str) -> bool {
        self.media_types.iter().any(|m| m == media_type)
    }

    pub fn set_interactions(&self, queue_id: &str, media: &str, state: InteractionState, n: i64) {
        self.with_live_queue(queue_id, |name| {
            self.interactions
                .with_label_values(&[queue_id, name, media, state.as_str()])
                .set(n);
        });
    }

    /// `status` must be one of `ROUTING_STATUSES` (callers check the allow-list).
    pub fn set_users_in_status(&self, queue_id: &str, status: &str, n: i64) {
        self.with_live_queue(queue_id, |name| {
            self.users
                .with_label_values(&[queue_id, name, status])
                .set(n);
        });
    }

    pub fn set_user_count(&self, queue_id: &str, which: UserCount, n: i64) {
        let vec = match which {
            UserCount::Members => &self.members,
            UserCount::OnQueue => &self.on_queue_users,
            UserCount::Active => &self.active_users,
        };
        self.with_live_queue(queue_id, |name| {
            vec.with_label_values(&[queue_id, name]).set(n);
        });
    }

    /// `since_epoch_ms` is when the oldest waiting interaction began waiting; `None` when
    /// nothing waits.
    pub fn set_longest_waiting(&self, queue_id: &str, media: &str, since_epoch_ms: Option<i64>) {
        self.with_live_queue(queue_id, |name| {
            let key = (queue_id.to_owned(), media.to_owned());
            let mut since = self
                .longest_waiting_since
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            match since_epoch_ms {
                Some(ms) => {
                    since.insert(key, ms);
                }
                None => {
                    since.remove(&key);
                    self.oldest_waiting
                        .with_label_values(&[queue_id, name, media])
                        .set(0.0);
                }
            }
        });
    }

    /// The Prometheus text exposition, with waiting ages computed for `now_epoch_ms`.
    pub fn render(&self, now_epoch_ms: i64) -> String {
        let renders_before = self.renders.fetch_add(1, Ordering::SeqCst);
        self.release_pending_conversations(renders_before);
        self.sweep_stale(now_epoch_ms as f64 / 1000.0);
        self.refresh_oldest_waiting(now_epoch_ms);
        let mut out = Vec::new();
        // NB: the text encoder only fails on a writer error, and a Vec never fails.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }

    fn refresh_oldest_waiting(&self, now_epoch_ms: i64) {
        // NB: same lock order as every writer: `queues`, then `longest_waiting_since`.
        let queues = self.queues.read().unwrap_or_else(|e| e.into_inner());
        let since = self
            .longest_waiting_since
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for ((queue_id, media), started_ms) in since.iter() {
            if let Some(queue) = queues.get(queue_id).map(|e| &e.labels) {
                let age = (now_epoch_ms - started_ms).max(0) as f64 / 1000.0;
                self.oldest_waiting
                    .with_label_values(&[queue_id, &queue.name, media])
                    .set(age);
            }
        }
    }

    /// Unix seconds of the last successful aggregates poll; 0 before the first.
    pub fn last_poll_seconds(&self) -> i64 {
        self.last_poll.get()
    }

    pub fn status(&self) -> &crate::status::StatusBoard {
        &self.status
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }
}

#[cfg(test)]
mod tests;

//! Every metric the exporter exposes, behind domain methods: the queue series in their own
//! store (`store.rs`, rendered by `text.rs`, DESIGN.md §10), the exporter's own metrics on a
//! private `prometheus` registry.
//!
//! Queue-derived series carry `queue_id` and `queue` (the name); the names are looked up here so
//! call sites only ever pass ids. Label values come from allow-lists (media types from config,
//! routing statuses and states from fixed enums), so upstream payloads cannot grow cardinality.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Mutex, RwLock};

use prometheus::{
    HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};

use crate::genesys::model::ROUTING_STATUSES;

mod conversations;
mod exporter;
mod labels;
mod queues;
mod reference;
mod scrape;
mod store;
mod text;

pub use queues::{QueueStatus, StaleGauges, StalePolicy};
pub use scrape::ScrapeParts;
use store::{MediaGroup, QueueEntry, RenderContext};
pub use store::{MediaSnapshot, QueueSnapshot};

pub use labels::{
    ConversationCounter, ConversationGroup, InteractionState, QueueLabels, Statistic, UserCount,
};

/// The exporter's metrics. Built once by `app` and shared by `Arc`.
pub struct Metrics {
    registry: Registry,
    media_types: Vec<String>,
    /// The `direction` label's values; empty: conversation counters have no direction.
    directions: Vec<String>,
    /// The queue series store (`store.rs`), by queue id so scrapes come out in a stable order.
    /// NB: one lock per queue under the set's lock: a scrape holds each queue only while
    /// writing it, so a stream event never waits for a whole 5,000-queue scrape.
    queues: RwLock<BTreeMap<String, Mutex<QueueEntry>>>,
    stale_policy: StalePolicy,
    /// The configured metric set's counters; series exist only for (queue, media type) groups
    /// that have had data.
    counters: Vec<ConversationCounter>,
    /// How many renders of `/metrics` have started, and one past the highest-numbered that has
    /// finished: a new counter series is shown at 0 by a finished render before it moves
    /// (see `conversations.rs`).
    renders: AtomicU64,
    renders_finished: AtomicU64,

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
    connections_open: IntGauge,
    connections_closed: IntCounterVec,
    values_ignored: IntCounterVec,
    connectivity_failures: IntCounterVec,
    results_malformed: IntCounterVec,
    /// What the status page shows beyond the series.
    status: crate::status::StatusBoard,
}

#[expect(
    clippy::expect_used,
    reason = "static definitions built at start, the same every run: every test builds them"
)]
fn register<C: prometheus::core::Collector + Clone + 'static>(registry: &Registry, c: C) -> C {
    // NB: names are static and unique within this file, so registration cannot fail.
    registry
        .register(Box::new(c.clone()))
        .expect("metric names are unique");
    c
}

#[expect(
    clippy::expect_used,
    reason = "static definitions built at start, the same every run: every test builds them"
)]
fn int_gauges(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let vec = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric definition");
    register(registry, vec)
}

#[expect(
    clippy::expect_used,
    reason = "static definitions built at start, the same every run: every test builds them"
)]
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

#[expect(
    clippy::expect_used,
    reason = "static definitions built at start, the same every run: every test builds them"
)]
fn int_gauge(registry: &Registry, name: &str, help: &str) -> IntGauge {
    register(
        registry,
        IntGauge::new(name, help).expect("valid metric definition"),
    )
}

#[expect(
    clippy::expect_used,
    reason = "static definitions built at start, the same every run: every test builds them"
)]
fn api_duration_histogram() -> HistogramVec {
    HistogramVec::new(
        HistogramOpts::new(
            "genesys_exporter_api_request_duration_seconds",
            "Duration of Genesys Cloud API requests, per endpoint.",
        )
        .buckets(vec![
            0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
        ]),
        &["endpoint"],
    )
    .expect("valid metric definition")
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
        let labels = crate::build_info::LABELS;
        let build_info = int_gauges(
            &r,
            "genesys_exporter_build_info",
            "Build of the running exporter (version, git revision and branch, rustc version, target); always 1.",
            &labels.map(|(name, _)| name),
        );
        build_info
            .with_label_values(&labels.map(|(_, value)| value))
            .set(1);
        let duration = api_duration_histogram();
        Self {
            media_types,
            directions: Vec::new(),
            queues: RwLock::default(),
            stale_policy: StalePolicy::default(),
            counters,
            renders: AtomicU64::new(0),
            renders_finished: AtomicU64::new(0),
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
            connections_open: int_gauge(
                &r,
                "genesys_exporter_http_connections",
                "Connections open to the exporter's HTTP server.",
            ),
            connections_closed: {
                let closed = int_counters(
                    &r,
                    "genesys_exporter_http_connections_closed_total",
                    "Connections the exporter's HTTP server closed or refused to protect itself, by reason (header_timeout, request_timeout, head_too_large, evicted, refused, tls_handshake, plain_http, client_not_allowed, error).",
                    &["reason"],
                );
                for reason in crate::server::ConnectionClose::ALL {
                    closed.with_label_values(&[reason.as_str()]);
                }
                closed
            },
            values_ignored: {
                let ignored = int_counters(
                    &r,
                    "genesys_exporter_ignored_values_total",
                    "Upstream observation values not exported, by what they were: a media_type or routing_status outside the allow-lists, or a metric not exported.",
                    &["what"],
                );
                for what in ["media_type", "routing_status", "metric"] {
                    ignored.with_label_values(&[what]);
                }
                ignored
            },
            connectivity_failures: {
                let failures = int_counters(
                    &r,
                    "genesys_exporter_connectivity_failures_total",
                    "Upstream connections that failed in a way config fixes, by cause (proxy_unreachable, proxy_auth, proxy_refused, tls_trust); the log names the key.",
                    &["cause"],
                );
                for cause in crate::genesys::egress::Cause::ALL {
                    failures.with_label_values(&[cause.as_str()]);
                }
                failures
            },
            results_malformed: int_counters(
                &r,
                "genesys_exporter_malformed_results_total",
                "Results of Genesys Cloud responses that did not parse and were skipped (the rest of the response kept), by endpoint.",
                &["endpoint"],
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

    /// Splits every conversation counter by `directions`, which become its `direction` label.
    pub fn with_directions(mut self, directions: Vec<String>) -> Self {
        self.directions = directions;
        self
    }

    pub fn media_types(&self) -> &[String] {
        &self.media_types
    }

    /// The configured directions; empty when counters are not split by direction.
    pub fn directions(&self) -> &[String] {
        &self.directions
    }

    /// The counter slot of `direction` in a media group: 0 for no direction when none are
    /// configured, the configured position otherwise; `None` for any other.
    fn direction_slot(&self, direction: Option<&str>) -> Option<usize> {
        match direction {
            None if self.directions.is_empty() => Some(0),
            Some(direction) => self.directions.iter().position(|d| d == direction),
            None => None,
        }
    }

    /// Whether a conversation group passes both allow-lists.
    pub fn knows_conversation_group(&self, group: ConversationGroup<'_>) -> bool {
        self.knows_media_type(group.media_type) && self.direction_slot(group.direction).is_some()
    }

    /// Whether `media_type` passes the label allow-list.
    pub fn knows_media_type(&self, media_type: &str) -> bool {
        self.media_types.iter().any(|m| m == media_type)
    }

    /// The index of an allow-listed media type; `None` for any other.
    fn media_index(&self, media_type: &str) -> Option<usize> {
        self.media_types.iter().position(|m| m == media_type)
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

    pub fn set_interactions(&self, queue_id: &str, media: &str, state: InteractionState, n: i64) {
        self.with_media_group(queue_id, media, n != 0, |group| {
            group.interactions[state as usize] = n;
        });
    }

    /// `status` must be one of `ROUTING_STATUSES` (callers check the allow-list).
    pub fn set_users_in_status(&self, queue_id: &str, status: &str, n: i64) {
        let Some(index) = ROUTING_STATUSES.iter().position(|s| *s == status) else {
            return;
        };
        self.with_queue(queue_id, |entry| entry.users[index] = Some(n));
    }

    pub fn set_user_count(&self, queue_id: &str, which: UserCount, n: i64) {
        self.with_queue(queue_id, |entry| {
            entry.user_counts[which as usize] = Some(n)
        });
    }

    /// `since_epoch_ms` is when the oldest waiting interaction began waiting; `None` when
    /// nothing waits.
    pub fn set_longest_waiting(&self, queue_id: &str, media: &str, since_epoch_ms: Option<i64>) {
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
            for (index, media) in snapshot.media.iter().enumerate() {
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
mod store_tests;
#[cfg(test)]
mod tests;

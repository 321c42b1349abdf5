//! The Genesys Cloud API's self-metrics: requests, their durations, 429s, token fetches,
//! connectivity failures config fixes, and results that did not parse. Every call passes
//! through one execution path, which is the only writer of the request series.

use prometheus::{HistogramOpts, HistogramVec, IntCounterVec};

use crate::genesys::egress::Cause;
use crate::metrics::Metrics;
use crate::metrics::registry::{Registrar, SelfMetrics, result_label};
use crate::vocabulary::labels::LabelValue;

/// Request durations from a fast local answer to a timeout.
const DURATION_BUCKETS: [f64; 11] = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// The `endpoint` label of the API self-metrics: a fixed set, never a raw path (ids in paths
/// would grow cardinality).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Endpoint {
    Token,
    RoutingQueues,
    PresenceDefinitions,
    Users,
    RoutingActivity,
    QueueObservations,
    ConversationAggregates,
    UserAggregates,
    NotificationChannels,
    NotificationSubscriptions,
    Trunks,
    TrunkMetrics,
    Edges,
    EdgeMetrics,
    Flows,
    FlowOutcomes,
    FlowMilestones,
    FlowAggregates,
    FlowObservations,
    Actions,
    ActionAggregates,
}

impl LabelValue for Endpoint {
    const ALL: &'static [Self] = &[
        Self::Token,
        Self::RoutingQueues,
        Self::PresenceDefinitions,
        Self::Users,
        Self::RoutingActivity,
        Self::QueueObservations,
        Self::ConversationAggregates,
        Self::UserAggregates,
        Self::NotificationChannels,
        Self::NotificationSubscriptions,
        Self::Trunks,
        Self::TrunkMetrics,
        Self::Edges,
        Self::EdgeMetrics,
        Self::Flows,
        Self::FlowOutcomes,
        Self::FlowMilestones,
        Self::FlowAggregates,
        Self::FlowObservations,
        Self::Actions,
        Self::ActionAggregates,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Self::Token => "token",
            Self::RoutingQueues => "routing_queues",
            Self::PresenceDefinitions => "presence_definitions",
            Self::Users => "users",
            Self::RoutingActivity => "routing_activity",
            Self::QueueObservations => "queue_observations",
            Self::ConversationAggregates => "conversation_aggregates",
            Self::UserAggregates => "user_aggregates",
            Self::NotificationChannels => "notification_channels",
            Self::NotificationSubscriptions => "notification_subscriptions",
            Self::Trunks => "trunks",
            Self::TrunkMetrics => "trunk_metrics",
            Self::Edges => "edges",
            Self::EdgeMetrics => "edge_metrics",
            Self::Flows => "flows",
            Self::FlowOutcomes => "flow_outcomes",
            Self::FlowMilestones => "flow_milestones",
            Self::FlowAggregates => "flow_aggregates",
            Self::FlowObservations => "flow_observations",
            Self::Actions => "actions",
            Self::ActionAggregates => "action_aggregates",
        }
    }
}

#[derive(Clone)]
pub(crate) struct GenesysMetrics {
    requests: IntCounterVec,
    durations: HistogramVec,
    rate_limited: IntCounterVec,
    token_fetches: IntCounterVec,
    connectivity_failures: IntCounterVec,
    malformed_results: IntCounterVec,
}

impl SelfMetrics for GenesysMetrics {
    fn register(r: &Registrar) -> Self {
        Self {
            requests: r.counters("genesys_exporter_api_requests_total",
                "Genesys Cloud API requests, by endpoint and HTTP status (or error kind).",
                &["endpoint", "status"],
            ),
            durations: r.histograms(HistogramOpts::new(
                    "genesys_exporter_api_request_duration_seconds",
                    "Duration of Genesys Cloud API requests, per endpoint.",
                )
                .buckets(DURATION_BUCKETS.to_vec()),
                &["endpoint"],
            ),
            rate_limited: r.counters("genesys_exporter_api_rate_limited_total",
                "Requests answered 429 by Genesys Cloud, by endpoint.",
                &["endpoint"],
            ),
            token_fetches: r.counters("genesys_exporter_token_refreshes_total",
                "OAuth token fetches, by result.",
                &["result"],
            ),
            connectivity_failures: r.counters_by::<Cause>("genesys_exporter_connectivity_failures_total",
                "Upstream connections that failed in a way config fixes, by cause (proxy_unreachable, proxy_auth, proxy_refused, tls_trust); the log names the key.",
                "cause",
            ),
            malformed_results: r.counters("genesys_exporter_malformed_results_total",
                "Results of Genesys Cloud responses that did not parse and were skipped (the rest of the response kept), by endpoint.",
                &["endpoint"],
            ),
        }
    }
}

impl GenesysMetrics {
    /// One finished request; `status` is the HTTP status or an error kind. The status page
    /// (on `store`) counts it too.
    pub(crate) fn request(&self, store: &Metrics, endpoint: Endpoint, status: &str, seconds: f64) {
        let endpoint = endpoint.as_str();
        self.requests.with_label_values(&[endpoint, status]).inc();
        self.durations
            .with_label_values(&[endpoint])
            .observe(seconds);
        let ok = status.starts_with('2');
        let rate_limited = status == "429";
        let now = store.clock().now();
        store.status().request(endpoint, ok, rate_limited, now);
    }

    pub(crate) fn rate_limited(&self, endpoint: Endpoint) {
        self.rate_limited
            .with_label_values(&[endpoint.as_str()])
            .inc();
    }

    pub(crate) fn token_fetched(&self, ok: bool) {
        self.token_fetches
            .with_label_values(&[result_label(ok)])
            .inc();
    }

    /// A failed connection upstream that config fixes (`egress.rs` logs which key).
    pub(crate) fn connectivity_failure(&self, cause: Cause) {
        self.connectivity_failures
            .with_label_values(&[cause.as_str()])
            .inc();
    }

    /// Results of a response that did not parse and were skipped, the rest kept.
    pub(crate) fn results_malformed(&self, endpoint: Endpoint, n: usize) {
        self.malformed_results
            .with_label_values(&[endpoint.as_str()])
            .inc_by(n as u64);
    }
}

//! Self-metrics: how the exporter itself is doing (stream, API calls, tokens, polls), kept
//! apart from the Genesys-derived series.

use super::Metrics;
use crate::aggregates::ledger::Rejection;
use crate::aggregates::state::LoadError;
use crate::genesys::client::Endpoint;
use crate::server::ConnectionClose;
use crate::stream::connection::{Outcome, SessionEnd};
use crate::stream::supervisor::StreamError;

impl Metrics {
    /// A channel's series exist from its start, so "never connected" and "never resynced"
    /// alert like "disconnected" and "not resynced for long".
    pub fn stream_started(&self, channel: &str) {
        self.stream_connected(channel, false);
        self.last_resync.with_label_values(&[channel]);
    }

    pub fn stream_connected(&self, channel: &str, connected: bool) {
        self.stream_connected
            .with_label_values(&[channel])
            .set(i64::from(connected));
    }

    pub fn stream_reconnected(&self, channel: &str, reason: SessionEnd) {
        self.stream_reconnects
            .with_label_values(&[reason.as_str()])
            .inc();
        self.status.channel(channel, |c| c.reconnects += 1);
    }

    /// Creating, subscribing or connecting a channel failed (counted by the failing stage).
    pub fn stream_establish_failed(&self, channel: &str, error: &StreamError) {
        self.stream_establish_failures
            .with_label_values(&[channel, error.kind()])
            .inc();
    }

    pub fn connection_closed(&self, reason: ConnectionClose) {
        self.connections_closed
            .with_label_values(&[reason.as_str()])
            .inc();
    }

    pub fn connections_open(&self, open: usize) {
        self.connections_open.set(open as i64);
    }

    #[cfg(test)]
    pub(crate) fn open_connections(&self) -> i64 {
        self.connections_open.get()
    }

    #[cfg(test)]
    pub(crate) fn connections_closed_for(&self, reason: ConnectionClose) -> u64 {
        self.connections_closed
            .with_label_values(&[reason.as_str()])
            .get()
    }

    /// An upstream value outside an allow-list (`media_type`, `routing_status`) or of a metric
    /// we do not know (`metric`): counted here, never a new label value.
    pub fn value_ignored(&self, what: &'static str) {
        self.values_ignored.with_label_values(&[what]).inc();
    }

    /// A failed connection upstream that config fixes (src/genesys/egress.rs).
    pub fn connectivity_failure(&self, cause: crate::genesys::egress::Cause) {
        self.connectivity_failures
            .with_label_values(&[cause.as_str()])
            .inc();
    }

    pub fn notification(&self, outcome: Outcome) {
        self.notifications
            .with_label_values(&[outcome.as_str()])
            .inc();
    }

    pub fn set_subscribed_topics(&self, channel: &str, n: usize) {
        self.subscribed_topics
            .with_label_values(&[channel])
            .set(n as i64);
    }

    /// One finished API request; `status` is the HTTP status or an error kind.
    pub fn api_request(&self, endpoint: Endpoint, status: &str, seconds: f64) {
        self.api_requests
            .with_label_values(&[endpoint.as_str(), status])
            .inc();
        self.api_request_duration
            .with_label_values(&[endpoint.as_str()])
            .observe(seconds);
        let ok = status.starts_with('2');
        let now = chrono::Utc::now();
        self.status
            .request(endpoint.as_str(), ok, status == "429", now);
    }

    /// Results of a REST response that did not parse and were skipped, the rest kept.
    pub fn results_malformed(&self, endpoint: Endpoint, n: usize) {
        self.results_malformed
            .with_label_values(&[endpoint.as_str()])
            .inc_by(n as u64);
    }

    pub fn api_rate_limited(&self, endpoint: Endpoint) {
        self.api_rate_limited
            .with_label_values(&[endpoint.as_str()])
            .inc();
    }

    pub fn token_refreshed(&self, ok: bool) {
        let result = if ok { "success" } else { "failure" };
        self.token_refreshes.with_label_values(&[result]).inc();
    }

    /// One observation resync request finished (a batch of at most 100 queues).
    pub fn resynced(&self, ok: bool) {
        self.resyncs
            .with_label_values(&[if ok { "success" } else { "failure" }])
            .inc();
    }

    /// Every queue of `channel` that was resynced is fresh as of `at_unix_seconds`.
    pub fn channel_resynced(&self, channel: &str, at_unix_seconds: i64) {
        self.last_resync
            .with_label_values(&[channel])
            .set(at_unix_seconds);
    }

    pub fn polled(&self, ok: bool, at_unix_seconds: i64) {
        self.polls
            .with_label_values(&[if ok { "success" } else { "failure" }])
            .inc();
        if ok {
            self.last_poll.set(at_unix_seconds);
        }
    }

    /// `n` aggregate buckets were not folded for `reason`.
    pub fn aggregate_buckets_rejected(&self, reason: Rejection, n: usize) {
        if n > 0 {
            self.buckets_rejected
                .with_label_values(&[reason.as_str()])
                .inc_by(n as u64);
        }
    }

    /// How loading the counter state went at start-up: loaded, or why it was ignored.
    pub fn state_loaded(&self, result: Result<(), &LoadError>) {
        let label = result.map_or_else(LoadError::as_str, |()| "loaded");
        self.state_loads.with_label_values(&[label]).inc();
    }

    pub fn state_written(&self, ok: bool, at_unix_seconds: i64) {
        self.state_writes
            .with_label_values(&[if ok { "success" } else { "failure" }])
            .inc();
        if ok {
            self.last_state_write.set(at_unix_seconds);
        }
    }
}

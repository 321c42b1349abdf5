//! Self-metrics: how the exporter itself is doing (stream, API calls, tokens, polls), kept
//! apart from the Genesys-derived series.

use super::Metrics;

impl Metrics {
    pub fn stream_connected(&self, channel: &str, connected: bool) {
        self.stream_connected
            .with_label_values(&[channel])
            .set(i64::from(connected));
    }

    pub fn stream_reconnected(&self, reason: &str) {
        self.stream_reconnects.with_label_values(&[reason]).inc();
    }

    pub fn notification(&self, outcome: &str) {
        self.notifications.with_label_values(&[outcome]).inc();
    }

    pub fn set_subscribed_topics(&self, channel: &str, n: usize) {
        self.subscribed_topics
            .with_label_values(&[channel])
            .set(n as i64);
    }

    /// One finished API request; `status` is the HTTP status or an error kind.
    pub fn api_request(&self, endpoint: &str, status: &str, seconds: f64) {
        self.api_requests
            .with_label_values(&[endpoint, status])
            .inc();
        self.api_request_duration
            .with_label_values(&[endpoint])
            .observe(seconds);
    }

    pub fn api_rate_limited(&self, endpoint: &str) {
        self.api_rate_limited.with_label_values(&[endpoint]).inc();
    }

    pub fn token_refreshed(&self, ok: bool) {
        let result = if ok { "success" } else { "failure" };
        self.token_refreshes.with_label_values(&[result]).inc();
    }

    pub fn resynced(&self, ok: bool, at_unix_seconds: i64) {
        self.resyncs
            .with_label_values(&[if ok { "success" } else { "failure" }])
            .inc();
        if ok {
            self.last_resync.set(at_unix_seconds);
        }
    }

    pub fn polled(&self, ok: bool, at_unix_seconds: i64) {
        self.polls
            .with_label_values(&[if ok { "success" } else { "failure" }])
            .inc();
        if ok {
            self.last_poll.set(at_unix_seconds);
        }
    }

    /// `n` aggregate buckets were not folded for `reason` (a `FoldReport::rejected` label).
    pub fn aggregate_buckets_rejected(&self, reason: &str, n: usize) {
        if n > 0 {
            self.buckets_rejected
                .with_label_values(&[reason])
                .inc_by(n as u64);
        }
    }

    /// How loading the counter state went at start-up (`loaded`, or why it was ignored).
    pub fn state_loaded(&self, result: &str) {
        self.state_loads.with_label_values(&[result]).inc();
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

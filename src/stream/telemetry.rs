//! The stream's self-metrics: each channel's connection, topics and last resync, reconnects
//! and failed attempts to establish, and every frame received by outcome.

use prometheus::{IntCounterVec, IntGaugeVec};

use super::connection::{Outcome, SessionEnd};
use super::supervisor::StreamError;
use crate::metrics::registry::{Registrar, SelfMetrics};
use crate::vocabulary::labels::LabelValue;

#[derive(Clone)]
pub(crate) struct StreamMetrics {
    connected: IntGaugeVec,
    reconnects: IntCounterVec,
    establish_failures: IntCounterVec,
    notifications: IntCounterVec,
    subscribed_topics: IntGaugeVec,
    rejected_topics: IntGaugeVec,
    last_resync: IntGaugeVec,
}

/// Why a subscription refused a topic: the `reason` label, never upstream's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejection {
    /// The OAuth client lacks a permission the topic needs (`missingPermissions`).
    MissingPermission,
    Other,
}

impl LabelValue for Rejection {
    const ALL: &'static [Self] = &[Self::MissingPermission, Self::Other];

    fn as_str(self) -> &'static str {
        match self {
            Self::MissingPermission => "missing_permission",
            Self::Other => "other",
        }
    }
}

impl SelfMetrics for StreamMetrics {
    fn register(r: &Registrar) -> Self {
        Self {
            connected: r.gauges("genesys_exporter_stream_connected",
                "1 while the notification channel's WebSocket is streaming.",
                &["channel"],
            ),
            reconnects: r.counters("genesys_exporter_stream_reconnects_total",
                "Notification WebSocket reconnects, by reason.",
                &["reason"],
            ),
            establish_failures: r.counters("genesys_exporter_stream_establish_failures_total",
                "Failed attempts to bring a notification channel up, by channel and stage (create_channel, subscribe, connect).",
                &["channel", "stage"],
            ),
            notifications: r.counters("genesys_exporter_notifications_total",
                "Notification messages received, by outcome.",
                &["outcome"],
            ),
            subscribed_topics: r.gauges("genesys_exporter_subscribed_topics",
                "Topics subscribed on the notification channel.",
                &["channel"],
            ),
            rejected_topics: r.gauges("genesys_exporter_rejected_topics",
                "Topics the channel's last subscription refused, by reason; what they carry is polled every stream.fallback_poll_interval instead.",
                &["channel", "reason"],
            ),
            last_resync: r.gauges("genesys_exporter_last_resync_timestamp_seconds",
                "Unix time of the channel's last successful resync (of queue observations, or of agents on an agent channel); 0 before the first.",
                &["channel"],
            ),
        }
    }
}

impl StreamMetrics {
    /// A channel's series exist from its start, so "never connected" and "never resynced"
    /// alert like "disconnected" and "not resynced for long".
    pub(crate) fn started(&self, channel: &str) {
        self.connected(channel, false);
        for reason in Rejection::ALL {
            self.rejected_topics(channel, *reason, 0);
        }
        self.last_resync.with_label_values(&[channel]);
    }

    pub(crate) fn connected(&self, channel: &str, connected: bool) {
        self.connected
            .with_label_values(&[channel])
            .set(i64::from(connected));
    }

    pub(crate) fn reconnected(&self, reason: SessionEnd) {
        self.reconnects.with_label_values(&[reason.as_str()]).inc();
    }

    /// Creating, subscribing or connecting a channel failed (counted by the failing stage).
    pub(crate) fn establish_failed(&self, channel: &str, error: &StreamError) {
        self.establish_failures
            .with_label_values(&[channel, error.kind()])
            .inc();
    }

    pub(crate) fn notification(&self, outcome: Outcome) {
        self.notifications
            .with_label_values(&[outcome.as_str()])
            .inc();
    }

    pub(crate) fn subscribed_topics(&self, channel: &str, n: usize) {
        self.subscribed_topics
            .with_label_values(&[channel])
            .set(n as i64);
    }

    pub(crate) fn rejected_topics(&self, channel: &str, reason: Rejection, n: usize) {
        self.rejected_topics
            .with_label_values(&[channel, reason.as_str()])
            .set(n as i64);
    }

    /// Every queue of `channel` that was resynced is fresh as of `at_unix_seconds`.
    pub(crate) fn channel_resynced(&self, channel: &str, at_unix_seconds: i64) {
        self.last_resync
            .with_label_values(&[channel])
            .set(at_unix_seconds);
    }
}

//! The aggregates poller's self-metrics: polls, buckets not counted, and the counter state's
//! loads and writes.

use prometheus::{IntCounterVec, IntGauge};

use super::ledger::Rejection;
use super::state::LoadError;
use crate::metrics::registry::{Registrar, SelfMetrics, result_label};
use crate::vocabulary::labels::LabelValue;

#[derive(Clone)]
pub(crate) struct AggregateMetrics {
    polls: IntCounterVec,
    last_poll: IntGauge,
    buckets_rejected: IntCounterVec,
    state_loads: IntCounterVec,
    state_writes: IntCounterVec,
    last_state_write: IntGauge,
}

impl SelfMetrics for AggregateMetrics {
    fn register(r: &Registrar) -> Self {
        Self {
            polls: r.counters("genesys_exporter_aggregate_polls_total",
                "Conversation aggregate polls, by result.",
                &["result"],
            ),
            last_poll: r.gauge("genesys_exporter_last_poll_timestamp_seconds",
                "Unix time of the last successful aggregate poll.",
            ),
            buckets_rejected: r.counters("genesys_exporter_aggregate_buckets_rejected_total",
                "Aggregate buckets not folded into the counters, by reason (other_width, off_grid, expired, malformed).",
                &["reason"],
            ),
            state_loads: r.counters("genesys_exporter_state_loads_total",
                "Attempts to load the counter state at start-up, by result (loaded, missing, corrupt, truncated, foreign, future, expired, unreadable).",
                &["result"],
            ),
            state_writes: r.counters("genesys_exporter_state_writes_total",
                "Writes of the counter state file, by result.",
                &["result"],
            ),
            last_state_write: r.gauge("genesys_exporter_state_last_write_timestamp_seconds",
                "Unix time of the last successful write of the counter state file.",
            ),
        }
    }
}

impl AggregateMetrics {
    pub(crate) fn polled(&self, ok: bool, at_unix_seconds: i64) {
        self.polls.with_label_values(&[result_label(ok)]).inc();
        if ok {
            self.last_poll.set(at_unix_seconds);
        }
    }

    /// `n` aggregate buckets were not folded for `reason`.
    pub(crate) fn buckets_rejected(&self, reason: Rejection, n: usize) {
        if n > 0 {
            self.buckets_rejected
                .with_label_values(&[reason.as_str()])
                .inc_by(n as u64);
        }
    }

    /// How loading the counter state went at start-up: loaded, or why it was ignored.
    pub(crate) fn state_loaded(&self, result: Result<(), &LoadError>) {
        let label = result.map_or_else(LoadError::as_str, |()| "loaded");
        self.state_loads.with_label_values(&[label]).inc();
    }

    pub(crate) fn state_written(&self, ok: bool, at_unix_seconds: i64) {
        self.state_writes
            .with_label_values(&[result_label(ok)])
            .inc();
        if ok {
            self.last_state_write.set(at_unix_seconds);
        }
    }
}

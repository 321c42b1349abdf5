//! The aggregates pollers' self-metrics: polls, buckets not counted, and the counter state's
//! loads and writes; one set for the conversation counters, one for the agents' time in
//! status.

use std::marker::PhantomData;

use prometheus::{IntCounterVec, IntGauge};

use super::ledger::Rejection;
use super::state::LoadError;
use crate::metrics::registry::{Registrar, SelfMetrics, result_label};
use crate::vocabulary::counters::ConversationCounter;
use crate::vocabulary::labels::LabelValue;

/// The names of one ledger's self-metrics, and what its help texts call it.
pub(crate) struct TelemetryNames {
    pub polls: &'static str,
    pub last_poll: &'static str,
    pub buckets_rejected: &'static str,
    pub state_loads: &'static str,
    pub state_writes: &'static str,
    pub last_state_write: &'static str,
    /// "Conversation aggregate", "Users aggregate": what is polled.
    pub polled: &'static str,
    /// "aggregate", "users aggregate": a poll.
    pub poll: &'static str,
    /// "Aggregate", "Users aggregate": a bucket.
    pub bucket: &'static str,
    /// "counter state", "time-in-status state": the state file.
    pub state: &'static str,
}

/// A ledger's counter type names its self-metrics.
pub(crate) trait Telemetered {
    const TELEMETRY: TelemetryNames;
}

impl Telemetered for ConversationCounter {
    const TELEMETRY: TelemetryNames = TelemetryNames {
        polls: "genesys_exporter_aggregate_polls_total",
        last_poll: "genesys_exporter_last_poll_timestamp_seconds",
        buckets_rejected: "genesys_exporter_aggregate_buckets_rejected_total",
        state_loads: "genesys_exporter_state_loads_total",
        state_writes: "genesys_exporter_state_writes_total",
        last_state_write: "genesys_exporter_state_last_write_timestamp_seconds",
        polled: "Conversation aggregate",
        poll: "aggregate",
        bucket: "Aggregate",
        state: "counter state",
    };
}

pub(crate) struct AggregateMetrics<C = ConversationCounter> {
    kind: PhantomData<fn() -> C>,
    polls: IntCounterVec,
    last_poll: IntGauge,
    buckets_rejected: IntCounterVec,
    state_loads: IntCounterVec,
    state_writes: IntCounterVec,
    last_state_write: IntGauge,
}

impl<C> Clone for AggregateMetrics<C> {
    fn clone(&self) -> Self {
        Self {
            kind: PhantomData,
            polls: self.polls.clone(),
            last_poll: self.last_poll.clone(),
            buckets_rejected: self.buckets_rejected.clone(),
            state_loads: self.state_loads.clone(),
            state_writes: self.state_writes.clone(),
            last_state_write: self.last_state_write.clone(),
        }
    }
}

impl<C: Telemetered + 'static> SelfMetrics for AggregateMetrics<C> {
    fn register(r: &Registrar) -> Self {
        let names = C::TELEMETRY;
        let (polled, state) = (names.polled, names.state);
        Self {
            kind: PhantomData,
            polls: r.counters(names.polls, &format!("{polled} polls, by result."), &["result"]),
            last_poll: r.gauge(names.last_poll,
                &format!("Unix time of the last successful {} poll.", names.poll),
            ),
            buckets_rejected: r.counters(names.buckets_rejected,
                &format!("{} buckets not folded into the counters, by reason (other_width, off_grid, expired, malformed).", names.bucket),
                &["reason"],
            ),
            state_loads: r.counters(names.state_loads,
                &format!("Attempts to load the {state} at start-up, by result (loaded, missing, corrupt, truncated, foreign, future, expired, unreadable)."),
                &["result"],
            ),
            state_writes: r.counters(names.state_writes,
                &format!("Writes of the {state} file, by result."),
                &["result"],
            ),
            last_state_write: r.gauge(names.last_state_write,
                &format!("Unix time of the last successful write of the {state} file."),
            ),
        }
    }
}

impl<C> AggregateMetrics<C> {
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

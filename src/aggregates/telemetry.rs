//! The aggregates pollers' self-metrics: polls, whether their counters are stale, buckets not
//! counted, and the counter state's loads and writes; one set for the conversation counters,
//! one for the agents' time in status.

use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use prometheus::{IntCounterVec, IntGauge};

use super::ledger::Rejection;
use super::state::LoadError;
use crate::metrics::registry::{Registrar, SelfMetrics, result_label};
use crate::status::SharedFreshness;
use crate::sync::lock;
use crate::vocabulary::clock::Clock;
use crate::vocabulary::counters::ConversationCounter;
use crate::vocabulary::labels::LabelValue;

/// The names of one ledger's self-metrics, and what its help texts call it.
pub(crate) struct TelemetryNames {
    pub polls: &'static str,
    pub last_poll: &'static str,
    /// 1 while the polled counters are stale (see `PollFreshness`).
    pub stale: &'static str,
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
    /// "conversation counters", "time-in-status counters": what the polls keep current.
    pub counters: &'static str,
}

/// A ledger's counter type names its self-metrics.
pub(crate) trait Telemetered {
    const TELEMETRY: TelemetryNames;
}

impl Telemetered for ConversationCounter {
    const TELEMETRY: TelemetryNames = TelemetryNames {
        polls: "genesys_exporter_aggregate_polls_total",
        last_poll: "genesys_exporter_last_poll_timestamp_seconds",
        stale: "genesys_exporter_aggregates_stale",
        buckets_rejected: "genesys_exporter_aggregate_buckets_rejected_total",
        state_loads: "genesys_exporter_state_loads_total",
        state_writes: "genesys_exporter_state_writes_total",
        last_state_write: "genesys_exporter_state_last_write_timestamp_seconds",
        polled: "Conversation aggregate",
        poll: "aggregate",
        bucket: "Aggregate",
        state: "counter state",
        counters: "conversation counters",
    };
}

pub(crate) struct AggregateMetrics<C = ConversationCounter> {
    kind: PhantomData<fn() -> C>,
    polls: IntCounterVec,
    last_poll: IntGauge,
    /// The poller's freshness and the clock it is judged by, once a poller runs: the stale
    /// gauge reads it at every scrape.
    freshness: Arc<Mutex<Option<(SharedFreshness, Clock)>>>,
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
            freshness: self.freshness.clone(),
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
        let freshness: Arc<Mutex<Option<(SharedFreshness, Clock)>>> = Arc::default();
        let watched = freshness.clone();
        r.judged_gauge(names.stale,
            &format!("1 while the {} are stale: no {} poll has succeeded yet, or none for three poll intervals; 0 otherwise.", names.counters, names.poll),
            Arc::new(move || {
                let (poll, clock) = lock(&watched).clone()?;
                let stale = lock(&poll).is_stale(clock.now());
                Some(i64::from(stale))
            }),
        );
        Self {
            kind: PhantomData,
            polls: r.counters(names.polls, &format!("{polled} polls, by result."), &["result"]),
            last_poll: r.gauge(names.last_poll,
                &format!("Unix time of the last successful {} poll.", names.poll),
            ),
            freshness,
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
    /// A poller starts: from now on its counters' freshness is judged at every scrape.
    pub(crate) fn watch(&self, freshness: SharedFreshness, clock: Clock) {
        *lock(&self.freshness) = Some((freshness, clock));
    }

    /// Counts a poll that began at `at`.
    pub(crate) fn polled(&self, ok: bool, at: DateTime<Utc>) {
        self.polls.with_label_values(&[result_label(ok)]).inc();
        if ok {
            self.last_poll.set(at.timestamp());
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

//! The one shared registry of self-metrics. Each producer defines its own (`genesys`, `stream`,
//! `observations`, `aggregates`, `queues`, `server`: a `telemetry` module each) and registers
//! them here through [`Metrics::self_metrics`], so the store knows no producer's vocabulary.

use std::any::{Any, TypeId};

use prometheus::core::Collector;
use prometheus::{
    HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};

use super::Metrics;
use crate::vocabulary::labels::LabelValue;

impl Metrics {
    /// A producer's self-metrics: registered by `register` the first time any part of that
    /// producer asks, the same handles every later time, so a second client or channel shares
    /// the series instead of failing to register them again.
    #[expect(
        clippy::expect_used,
        reason = "a slot is keyed by the TypeId of the one type it holds"
    )]
    pub fn self_metrics<T: Any + Clone + Send + Sync>(&self, register: fn(&Registry) -> T) -> T {
        let mut slots = self.self_metrics.lock().unwrap_or_else(|e| e.into_inner());
        let slot = slots
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Box::new(register(&self.registry)));
        slot.downcast_ref::<T>()
            .expect("the slot of T holds a T")
            .clone()
    }
}

#[expect(
    clippy::expect_used,
    reason = "static definitions built at start, the same every run: every test builds them"
)]
fn register<C: Collector + Clone + 'static>(registry: &Registry, collector: C) -> C {
    // NB: each name is defined once, by the one producer that owns it.
    registry
        .register(Box::new(collector.clone()))
        .expect("metric names are unique");
    collector
}

#[expect(
    clippy::expect_used,
    reason = "static definitions built at start, the same every run: every test builds them"
)]
pub fn gauges(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let vec = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric definition");
    register(registry, vec)
}

#[expect(
    clippy::expect_used,
    reason = "static definitions built at start, the same every run: every test builds them"
)]
pub fn gauge(registry: &Registry, name: &str, help: &str) -> IntGauge {
    register(
        registry,
        IntGauge::new(name, help).expect("valid metric definition"),
    )
}

#[expect(
    clippy::expect_used,
    reason = "static definitions built at start, the same every run: every test builds them"
)]
pub fn counters(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let vec = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric definition");
    register(registry, vec)
}

/// Counters by one fixed-set label, every value's series created at 0, so a rate over it
/// exists before the first event.
pub fn counters_by<L: LabelValue>(
    registry: &Registry,
    name: &str,
    help: &str,
    label: &str,
) -> IntCounterVec {
    let vec = counters(registry, name, help, &[label]);
    for value in L::ALL {
        vec.with_label_values(&[value.as_str()]);
    }
    vec
}

#[expect(
    clippy::expect_used,
    reason = "static definitions built at start, the same every run: every test builds them"
)]
pub fn histograms(registry: &Registry, opts: HistogramOpts, labels: &[&str]) -> HistogramVec {
    register(
        registry,
        HistogramVec::new(opts, labels).expect("valid metric definition"),
    )
}

/// `success` or `failure`, the `result` label of the exporter's own operations.
pub fn result_label(ok: bool) -> &'static str {
    if ok { "success" } else { "failure" }
}

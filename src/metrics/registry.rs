//! The one shared registry of self-metrics. Each producer defines its own (`genesys`, `stream`,
//! `queues::observations`, `agents`, `aggregates`, `server`: a `telemetry` module each) and registers them here
//! through [`SelfMetrics`], so the store knows no producer's vocabulary. Every family
//! registered is also described, so the docs can be held to the full list
//! ([`Metrics::families`]), not only to the families a run happened to touch.

use std::any::{Any, TypeId};
use std::sync::{Arc, Mutex};

use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{
    HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry,
};

use super::Metrics;
use crate::vocabulary::labels::LabelValue;

/// One family `/metrics` can expose, as docs/metrics.md lists it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FamilyDoc {
    pub name: String,
    /// `counter`, `gauge` or `histogram`.
    pub kind: &'static str,
    /// Sorted.
    pub labels: Vec<String>,
    pub help: String,
}

impl FamilyDoc {
    /// A table's family with these labels, in any order.
    pub(crate) fn of_table<'l>(
        name: &str,
        kind: super::text::Kind,
        labels: impl IntoIterator<Item = &'l str>,
        help: &str,
    ) -> Self {
        let mut labels: Vec<String> = labels.into_iter().map(str::to_owned).collect();
        labels.sort();
        Self {
            name: name.to_owned(),
            kind: kind.as_str(),
            labels,
            help: help.to_owned(),
        }
    }
}

/// Registers self-metrics on the shared registry and describes each family it registers.
pub(crate) struct Registrar<'a> {
    registry: &'a Registry,
    described: &'a Mutex<Vec<FamilyDoc>>,
}

/// A producer's self-metrics (its `telemetry.rs`): registered on the shared registry the first
/// time any part of that producer asks, the same handles every later time, so a second client
/// or channel shares the series instead of failing to register them again.
pub(crate) trait SelfMetrics: Any + Clone + Send + Sync {
    /// Defines and registers the producer's families.
    fn register(r: &Registrar) -> Self;

    /// The producer's series on `metrics`' registry.
    fn of(metrics: &Metrics) -> Self {
        metrics.self_metrics(Self::register)
    }
}

impl Metrics {
    #[expect(
        clippy::expect_used,
        reason = "a slot is keyed by the TypeId of the one type it holds"
    )]
    fn self_metrics<T: Any + Clone + Send + Sync>(&self, register: fn(&Registrar) -> T) -> T {
        let mut slots = crate::sync::lock(&self.self_metrics);
        let slot = slots
            .entry(TypeId::of::<T>())
            .or_insert_with(|| Box::new(register(&self.registrar())));
        slot.downcast_ref::<T>()
            .expect("the slot of T holds a T")
            .clone()
    }

    fn registrar(&self) -> Registrar<'_> {
        Registrar::new(&self.registry, &self.described)
    }

    /// Every family this store's tables can expose, and every self-metric registered on its
    /// registry so far (`process_*` aside), sorted by name.
    pub(crate) fn families(&self) -> Vec<FamilyDoc> {
        let tables = self
            .tables()
            .iter()
            .flat_map(|t| t.docs())
            .collect::<Vec<_>>();
        let described = crate::sync::lock(&self.described);
        let mut families: Vec<FamilyDoc> = (tables.into_iter())
            .chain(described.iter().cloned())
            .collect();
        families.sort();
        families
    }
}

impl<'a> Registrar<'a> {
    pub(super) fn new(registry: &'a Registry, described: &'a Mutex<Vec<FamilyDoc>>) -> Self {
        Self {
            registry,
            described,
        }
    }

    #[expect(
        clippy::expect_used,
        reason = "static definitions built at start, the same every run: every test builds them"
    )]
    fn register<C: Collector + Clone + 'static>(&self, kind: &'static str, collector: C) -> C {
        let mut described = crate::sync::lock(self.described);
        for desc in collector.desc() {
            let mut labels = desc.variable_labels.clone();
            labels.sort();
            described.push(FamilyDoc {
                name: desc.fq_name.clone(),
                kind,
                labels,
                help: desc.help.clone(),
            });
        }
        // NB: each name is defined once, by the one producer that owns it.
        self.registry
            .register(Box::new(collector.clone()))
            .expect("metric names are unique");
        collector
    }

    #[expect(
        clippy::expect_used,
        reason = "static definitions built at start, the same every run: every test builds them"
    )]
    pub(crate) fn gauges(&self, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
        let vec = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric definition");
        self.register("gauge", vec)
    }

    #[expect(
        clippy::expect_used,
        reason = "static definitions built at start, the same every run: every test builds them"
    )]
    pub(crate) fn gauge(&self, name: &str, help: &str) -> IntGauge {
        self.register(
            "gauge",
            IntGauge::new(name, help).expect("valid metric definition"),
        )
    }

    #[expect(
        clippy::expect_used,
        reason = "static definitions built at start, the same every run: every test builds them"
    )]
    pub(crate) fn counters(&self, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
        let vec =
            IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric definition");
        self.register("counter", vec)
    }

    /// Counters by one fixed-set label, every value's series created at 0, so a rate over it
    /// exists before the first event.
    pub(crate) fn counters_by<L: LabelValue>(
        &self,
        name: &str,
        help: &str,
        label: &str,
    ) -> IntCounterVec {
        let vec = self.counters(name, help, &[label]);
        for value in L::ALL {
            vec.with_label_values(&[value.as_str()]);
        }
        vec
    }

    /// A gauge worked out by `judge` as each scrape gathers it (`None`: no sample), for what
    /// must be judged as of the scrape rather than when something last happened: staleness
    /// turns true while nothing happens at all.
    #[expect(
        clippy::expect_used,
        reason = "static definitions built at start, the same every run: every test builds them"
    )]
    pub(crate) fn judged_gauge(&self, name: &str, help: &str, judge: Judge) {
        let opts = Opts::new(name, help);
        let described = IntGauge::with_opts(opts.clone()).expect("valid metric definition");
        self.register(
            "gauge",
            JudgedGauge {
                described,
                opts,
                judge,
            },
        );
    }

    #[expect(
        clippy::expect_used,
        reason = "static definitions built at start, the same every run: every test builds them"
    )]
    pub(crate) fn histograms(&self, opts: HistogramOpts, labels: &[&str]) -> HistogramVec {
        let vec = HistogramVec::new(opts, labels).expect("valid metric definition");
        self.register("histogram", vec)
    }
}

/// Works out a [`Registrar::judged_gauge`]'s value at a scrape.
pub(crate) type Judge = Arc<dyn Fn() -> Option<i64> + Send + Sync>;

#[derive(Clone)]
struct JudgedGauge {
    /// Only describes the family: each scrape gets a gauge of its own, so two scrapes at once
    /// never read each other's value.
    described: IntGauge,
    opts: Opts,
    judge: Judge,
}

impl Collector for JudgedGauge {
    fn desc(&self) -> Vec<&Desc> {
        self.described.desc()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let Some(value) = (self.judge)() else {
            return Vec::new();
        };
        // NB: the options were valid when `described` was built from them.
        let Ok(gauge) = IntGauge::with_opts(self.opts.clone()) else {
            return Vec::new();
        };
        gauge.set(value);
        gauge.collect()
    }
}

/// `success` or `failure`, the `result` label of the exporter's own operations.
pub(crate) fn result_label(ok: bool) -> &'static str {
    if ok { "success" } else { "failure" }
}

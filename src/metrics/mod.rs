//! The store (ARCHITECTURE.md#store): the one self-metrics registry, the tables the sources
//! register to be rendered, and the scrape that writes them all.
//!
//! The store knows no source: a source's table (its entries, setters, families) lives in the
//! source's folder over the generic [`table::Table`] and registers here as a
//! [`scrape::Rendered`]. What the store owns is what every table shares: the clock a scrape is
//! judged by, the renders that decide when a new counter moves (`counted.rs`), the staleness
//! policy, the org's presences, and the status board.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use prometheus::Registry;

pub(crate) mod counted;
pub(crate) mod ignored;
pub(crate) mod parted;
mod presences;
pub(crate) mod registry;
pub(crate) mod scrape;
pub mod table;
pub(crate) mod text;

pub use presences::Presences;
pub use registry::FamilyDoc;
use registry::Registrar;
pub use scrape::{Judgement, ScrapeParts};

use crate::vocabulary::clock::Clock;
use crate::vocabulary::queue::{StaleGauges, StalePolicy};
use counted::Renders;
use scrape::{Rendered, SourceStatuses};

/// The exporter's metrics. Built once by `app` and shared by `Arc`.
pub struct Metrics {
    registry: Registry,
    /// The sources' tables, in exposition order.
    tables: RwLock<Vec<Arc<dyn Rendered>>>,
    stale_policy: StalePolicy,
    /// The org's presences, the allow-list every table labels a presence by.
    presences: Arc<Presences>,
    /// The shared wall clock a scrape judges freshness and staleness by.
    clock: Clock,
    renders: Arc<Renders>,
    /// Each producer's self-metrics, by type (`registry.rs`).
    self_metrics: Mutex<HashMap<TypeId, Box<dyn Any + Send + Sync>>>,
    /// Every self-metric family registered, for [`Metrics::families`].
    described: Mutex<Vec<FamilyDoc>>,
    /// What the status page shows beyond the series.
    status: crate::status::StatusBoard,
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

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A store with no tables yet: each source registers its own.
    pub fn new() -> Self {
        let registry = Registry::new();
        let described = Mutex::default();
        let r = Registrar::new(&registry, &described);
        register_process_collector(&registry);
        let labels = crate::build_info::LABELS;
        let build_info = r.gauges(
            "genesys_exporter_build_info",
            "Build of the running exporter (version, git revision and branch, rustc version, target); always 1.",
            &labels.map(|(name, _)| name),
        );
        build_info
            .with_label_values(&labels.map(|(_, value)| value))
            .set(1);
        Self {
            registry,
            tables: RwLock::default(),
            stale_policy: StalePolicy::default(),
            presences: Arc::default(),
            clock: Clock::system(),
            renders: Arc::default(),
            self_metrics: Mutex::default(),
            described,
            status: crate::status::StatusBoard::default(),
        }
    }

    /// Sets how freshness turns into staleness (default: only failed resyncs, gauges kept).
    pub(crate) fn with_stale_policy(mut self, policy: StalePolicy) -> Self {
        self.stale_policy = policy;
        self
    }

    /// Judges time by `clock` (an accelerated one in tests).
    pub(crate) fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The clock scrapes are judged by; a table takes it when it is built.
    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The renders every table's counters are shown by.
    pub(crate) fn renders(&self) -> Arc<Renders> {
        self.renders.clone()
    }

    /// The org's presences, shared by every table that labels a presence.
    pub fn presences(&self) -> &Arc<Presences> {
        &self.presences
    }

    /// Renders `table` in every scrape from now on, after the tables added before it.
    pub(crate) fn add_table(&self, table: Arc<dyn Rendered>) {
        crate::sync::write(&self.tables).push(table);
    }

    fn tables(&self) -> Vec<Arc<dyn Rendered>> {
        crate::sync::read(&self.tables).clone()
    }

    /// Marks stale every entry whose values are older than the staleness bound at
    /// `now_unix_seconds`; returns the Unix seconds up to which a sweep would judge every one
    /// of them the same (infinite without a bound), unless something else marks one stale.
    pub(crate) fn sweep_stale(&self, now_unix_seconds: f64) -> f64 {
        let Some(bound) = self.stale_policy.bound_seconds else {
            return f64::INFINITY;
        };
        (self.tables().iter())
            .map(|table| table.sweep(now_unix_seconds, bound))
            .fold(f64::INFINITY, f64::min)
    }

    /// Whether a stale entry's observed values are left out of the scrape.
    fn hides_stale_gauges(&self) -> bool {
        self.stale_policy.gauges == StaleGauges::Remove
    }

    /// Each table's entries the status page lists, in exposition order.
    pub(crate) fn source_statuses(&self) -> Vec<SourceStatuses> {
        (self.tables().iter())
            .filter_map(|table| table.statuses())
            .collect()
    }

    pub(crate) fn status(&self) -> &crate::status::StatusBoard {
        &self.status
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }
}

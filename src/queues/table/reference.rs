//! The queue series through the `prometheus` crate: the path `/metrics` took before the store,
//! kept as the reference the fast path is tested against (`tests.rs`) and benchmarked against
//! (`tests/bench/scrape.rs`). Not used to serve.
#![allow(
    clippy::expect_used,
    reason = "a test and benchmark path; its definitions are static"
)]

use prometheus::{CounterVec, GaugeVec, Opts, Registry};

use super::QueueTable;
use crate::metrics::scrape::Scrape;
use crate::metrics::text::Kind;

/// One family as the crate holds it.
enum Series {
    Gauge(GaugeVec),
    Counter(CounterVec),
}

impl QueueTable {
    /// A registry holding every queue series as it stands, waiting ages computed for
    /// `now_ms`, a stale queue's observation gauges left out if `hide_stale`. Its text encoding
    /// must equal the queue part of a scrape series by series.
    pub fn reference_registry(&self, now_ms: i64, hide_stale: bool) -> Registry {
        let registry = Registry::new();
        // NB: as the render numbered last so far: it shows every counter group that exists.
        let scrape = Scrape {
            now_ms,
            render: self.renders.latest(),
            hide_stale,
        };
        let ctx = self.render_context(&scrape);
        let queues = self.table.read();
        let counters = &self.series.counters;
        for family in self.families() {
            let mut labels = vec!["queue_id", "queue"];
            labels.extend_from_slice(family.extra_labels(!self.series.directions.is_empty()));
            let opts = Opts::new(family.name(counters), family.help(counters));
            // NB: names and labels are static and valid, and unique per family.
            let vec = match family.kind() {
                Kind::Gauge => Series::Gauge(GaugeVec::new(opts, &labels).expect("valid gauge")),
                Kind::Counter => {
                    Series::Counter(CounterVec::new(opts, &labels).expect("valid counter"))
                }
            };
            for entry in queues.values() {
                let entry = crate::sync::lock(entry);
                entry.samples(family, &ctx, |extra, value| {
                    let mut values = vec![entry.labels.id.as_str(), entry.labels.name.as_str()];
                    values.extend_from_slice(extra);
                    match &vec {
                        Series::Gauge(v) => v.with_label_values(&values).set(value),
                        Series::Counter(v) => v.with_label_values(&values).inc_by(value),
                    }
                });
            }
            let collector: Box<dyn prometheus::core::Collector> = match vec {
                Series::Gauge(v) => Box::new(v),
                Series::Counter(v) => Box::new(v),
            };
            registry
                .register(collector)
                .expect("family names are unique");
        }
        registry
    }
}

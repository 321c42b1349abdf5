//! The observations' self-metrics: REST resyncs.

use prometheus::IntCounterVec;

use crate::metrics::registry::{Registrar, SelfMetrics, result_label};

#[derive(Clone)]
pub(crate) struct ObservationMetrics {
    resyncs: IntCounterVec,
}

impl SelfMetrics for ObservationMetrics {
    fn register(r: &Registrar) -> Self {
        Self {
            resyncs: r.counters(
                "genesys_exporter_resyncs_total",
                "REST observation resyncs, by result.",
                &["result"],
            ),
        }
    }
}

impl ObservationMetrics {
    /// One resync request finished (a batch of at most 100 queues).
    pub(crate) fn resynced(&self, ok: bool) {
        self.resyncs.with_label_values(&[result_label(ok)]).inc();
    }
}

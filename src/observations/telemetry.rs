//! The observations' self-metrics: REST resyncs, and upstream values an allow-list dropped.

use prometheus::IntCounterVec;

use crate::metrics::registry::{Registrar, SelfMetrics, result_label};
use crate::vocabulary::labels::LabelValue;

/// What an ignored value was: the `what` label, never a value from upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ignored {
    MediaType,
    RoutingStatus,
    Presence,
    Metric,
}

impl LabelValue for Ignored {
    const ALL: &'static [Self] = &[
        Self::MediaType,
        Self::RoutingStatus,
        Self::Presence,
        Self::Metric,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Self::MediaType => "media_type",
            Self::RoutingStatus => "routing_status",
            Self::Presence => "presence",
            Self::Metric => "metric",
        }
    }
}

#[derive(Clone)]
pub(crate) struct ObservationMetrics {
    resyncs: IntCounterVec,
    ignored: IntCounterVec,
}

impl SelfMetrics for ObservationMetrics {
    fn register(r: &Registrar) -> Self {
        Self {
            resyncs: r.counters("genesys_exporter_resyncs_total",
                "REST observation resyncs, by result.",
                &["result"],
            ),
            ignored: r.counters_by::<Ignored>("genesys_exporter_ignored_values_total",
                "Upstream observation values not exported, by what they were: a media_type, routing_status or presence outside the allow-lists, or a metric not exported.",
                "what",
            ),
        }
    }
}

impl ObservationMetrics {
    /// One resync request finished (a batch of at most 100 queues).
    pub(crate) fn resynced(&self, ok: bool) {
        self.resyncs.with_label_values(&[result_label(ok)]).inc();
    }

    pub(crate) fn ignored(&self, what: Ignored) {
        self.ignored.with_label_values(&[what.as_str()]).inc();
    }
}

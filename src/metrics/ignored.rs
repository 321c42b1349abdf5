//! Upstream values an allow-list dropped, whichever source read them: nothing upstream
//! becomes a label without an allow-list, and nothing is dropped uncounted.

use prometheus::IntCounterVec;

use super::registry::{Registrar, SelfMetrics};
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

/// `genesys_exporter_ignored_values_total`, shared by every source.
#[derive(Clone)]
pub(crate) struct IgnoredValues {
    ignored: IntCounterVec,
}

impl SelfMetrics for IgnoredValues {
    fn register(r: &Registrar) -> Self {
        Self {
            ignored: r.counters_by::<Ignored>("genesys_exporter_ignored_values_total",
                "Upstream observation values not exported, by what they were: a media_type, routing_status or presence outside the allow-lists, or a metric not exported.",
                "what",
            ),
        }
    }
}

impl IgnoredValues {
    pub(crate) fn count(&self, what: Ignored) {
        self.ignored.with_label_values(&[what.as_str()]).inc();
    }
}

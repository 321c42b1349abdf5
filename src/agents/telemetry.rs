//! The agents' self-metrics: REST reads of agent state, by result.

use prometheus::IntCounterVec;

use crate::metrics::registry::{Registrar, SelfMetrics, result_label};

#[derive(Clone)]
pub(crate) struct AgentMetrics {
    resyncs: IntCounterVec,
}

impl SelfMetrics for AgentMetrics {
    fn register(r: &Registrar) -> Self {
        Self {
            resyncs: r.counters(
                "genesys_exporter_agent_resyncs_total",
                "REST reads of agent state (routing activity queries and users listings by id), by result.",
                &["result"],
            ),
        }
    }
}

impl AgentMetrics {
    /// One agent read finished (all its batches).
    pub(crate) fn resynced(&self, ok: bool) {
        self.resyncs.with_label_values(&[result_label(ok)]).inc();
    }
}

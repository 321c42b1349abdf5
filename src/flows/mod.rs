//! IVR flows (`flows.enabled`, docs/operations.md#ivr-flows): the flows of the watched types
//! and names, found by the Architect listing and found again every `queue_refresh_interval`,
//! and their counters from the flow aggregates query (`counters.rs`), shown in their table
//! (`table.rs`). A flow missing from a listing keeps its series for a grace of refreshes.

pub(crate) mod counters;
pub(crate) mod events;
pub(crate) mod table;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use table::{FlowLabels, FlowNames, FlowTable};

use crate::genesys::client::GenesysClient;
use crate::genesys::error::ApiError;
use crate::genesys::model::{Flow, FlowPart};
use crate::sync::lock;
use crate::vocabulary::listing::{Listed, MonitoredSet};
use crate::vocabulary::queue::name_matches;

impl Listed for Flow {
    const KIND: &'static str = "flow";

    fn id(&self) -> &str {
        &self.id
    }

    fn name(&self) -> &str {
        &self.name
    }
}

/// The flows source: which flows, and the table their series are in.
pub(crate) struct Flows {
    /// Flow names; `*` a wildcard. None: every flow of the table's types.
    names: Vec<String>,
    table: Arc<FlowTable>,
    watched: Mutex<MonitoredSet<Flow>>,
}

impl Flows {
    /// Flows named by `names` (none: all) of the table's types; one missing from a listing
    /// kept for `grace` refreshes.
    pub(crate) fn new(table: Arc<FlowTable>, names: Vec<String>, grace: u32) -> Self {
        Self {
            names,
            table,
            watched: Mutex::new(MonitoredSet::new(grace)),
        }
    }

    fn admits(&self, flow: &Flow) -> bool {
        let typed = self.table.types().contains(&flow.flow_type);
        let named = self.names.is_empty()
            || (self.names.iter()).any(|pattern| name_matches(pattern, &flow.name));
        typed && named
    }

    /// Reads the flows and outcomes listings; returns the ids of the flows watched now.
    pub(crate) async fn refresh(&self, client: &GenesysClient) -> Result<Vec<String>, ApiError> {
        let (flows, outcomes) = client.list_flows(self.table.types()).await?;
        let listed = flows.into_iter().filter(|flow| self.admits(flow)).collect();
        let watched = lock(&self.watched).update(listed);
        let labels: Vec<FlowLabels> = (watched.iter())
            .map(|flow| FlowLabels {
                id: flow.id.clone(),
                name: flow.name.clone(),
                flow_type: flow.flow_type.clone(),
            })
            .collect();
        let milestones = match self.table.milestones() {
            true => client.list_flow_milestones().await?,
            false => Vec::new(),
        };
        let named = |parts: Vec<FlowPart>| -> HashMap<String, String> {
            parts.into_iter().map(|part| (part.id, part.name)).collect()
        };
        let names = FlowNames {
            outcomes: named(outcomes),
            milestones: named(milestones),
        };
        self.table.set_flows(&labels, names);
        Ok(labels.into_iter().map(|flow| flow.id).collect())
    }
}

#[cfg(test)]
mod tests;

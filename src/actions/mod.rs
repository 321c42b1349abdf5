//! Data actions (`actions.enabled`, docs/operations.md#data-actions): the integrations' actions
//! the flows call, found by their listing and found again every `queue_refresh_interval`, and
//! their executions from the data action aggregates query (`counters.rs`), shown in their table
//! (`table.rs`). An action missing from a listing keeps its series for a grace of refreshes.

pub(crate) mod counters;
pub(crate) mod table;

use std::sync::{Arc, Mutex};

use table::{ActionLabels, ActionTable};

use crate::genesys::client::GenesysClient;
use crate::genesys::error::ApiError;
use crate::genesys::model::Action;
use crate::sync::lock;
use crate::vocabulary::listing::{Listed, MonitoredSet};
use crate::vocabulary::queue::name_matches;

impl Listed for Action {
    const KIND: &'static str = "data action";

    fn id(&self) -> &str {
        &self.id
    }

    fn name(&self) -> &str {
        &self.name
    }
}

/// The data actions source: which actions, and the table their series are in.
pub(crate) struct Actions {
    /// Action names; `*` a wildcard. None: every action.
    names: Vec<String>,
    table: Arc<ActionTable>,
    watched: Mutex<MonitoredSet<Action>>,
}

impl Actions {
    /// The actions named by `names` (none: all); one missing from a listing kept for `grace`
    /// refreshes.
    pub(crate) fn new(table: Arc<ActionTable>, names: Vec<String>, grace: u32) -> Self {
        Self {
            names,
            table,
            watched: Mutex::new(MonitoredSet::new(grace)),
        }
    }

    fn admits(&self, action: &Action) -> bool {
        self.names.is_empty()
            || (self.names.iter()).any(|pattern| name_matches(pattern, &action.name))
    }

    /// Reads the actions listing; returns the ids of the actions watched now.
    pub(crate) async fn refresh(&self, client: &GenesysClient) -> Result<Vec<String>, ApiError> {
        let actions = client.list_actions().await?;
        let listed = actions.into_iter().filter(|a| self.admits(a)).collect();
        let watched = lock(&self.watched).update(listed);
        let labels: Vec<ActionLabels> = (watched.iter())
            .map(|action| ActionLabels {
                id: action.id.clone(),
                name: action.name.clone(),
                integration_id: action.integration_id.clone(),
                category: action.category.clone(),
            })
            .collect();
        self.table.set_actions(&labels);
        Ok(labels.into_iter().map(|action| action.id).collect())
    }
}

#[cfg(test)]
mod tests;

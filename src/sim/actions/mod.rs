//! Data actions (docs/genesys-api.md#data-actions): the integrations' actions the IVR's flows
//! call, as `GET /api/v2/integrations/actions` lists them, the data action aggregates query
//! (`rest`), and their part of the truth. The executions are the model's (`model/ivr.rs`).

pub(crate) mod rest;

use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Value, json};

use crate::genesys::model::Action;
use crate::sim::model::ivr::{Ivr, error_type};
use crate::sim::model::traffic::uuid;

/// Action names, numbered once they run out.
const ACTIONS: [&str; 4] = [
    "Look up account",
    "Take payment",
    "Check balance",
    "Book callback",
];
/// The integrations the actions belong to, in turn.
const INTEGRATIONS: [&str; 2] = ["Customer CRM", "Payments gateway"];

/// The names and ids of the data actions the IVR calls.
#[derive(Debug, Clone)]
pub(crate) struct Actions {
    pub actions: Vec<Action>,
}

impl Actions {
    pub(crate) fn new(ivr: &Ivr, seed: u64) -> Self {
        // NB: ids from a stream of their own, so they never move the other ids.
        let mut ids = StdRng::seed_from_u64(seed ^ 0xac71_0a5c_a115);
        let integrations = INTEGRATIONS.map(|_| uuid(&mut ids));
        let actions = (0..ivr.size.actions)
            .map(|n| Action {
                id: uuid(&mut ids),
                name: match ACTIONS.get(n) {
                    Some(name) => (*name).to_owned(),
                    None => format!("{} {}", ACTIONS[n % ACTIONS.len()], n / ACTIONS.len() + 1),
                },
                integration_id: integrations[n % INTEGRATIONS.len()].clone(),
                category: INTEGRATIONS[n % INTEGRATIONS.len()].to_owned(),
            })
            .collect();
        Self { actions }
    }

    /// The index of the action with `name_or_id`.
    pub(crate) fn index(&self, name_or_id: &str) -> Option<usize> {
        (self.actions.iter()).position(|a| a.id == name_or_id || a.name == name_or_id)
    }

    /// Every execution the IVR ever recorded, lagged or not: per action, per response status
    /// (with its error type), how many and how many milliseconds in all.
    pub(crate) fn truth(&self, ivr: &Ivr) -> Value {
        let actions: Vec<Value> = (self.actions.iter().enumerate())
            .map(|(index, action)| {
                let mut results: Vec<(u16, Value)> = (ivr.execution_totals.iter())
                    .filter(|((a, _), _)| *a == index)
                    .map(|((_, status), stat)| {
                        let result = json!({"responseStatus": status.to_string(),
                            "errorType": error_type(*status), "count": stat.count,
                            "sum": stat.sum});
                        (*status, result)
                    })
                    .collect();
                results.sort_by_key(|(status, _)| *status);
                let results: Vec<Value> = results.into_iter().map(|(_, r)| r).collect();
                json!({"action": action, "executions": results})
            })
            .collect();
        json!(actions)
    }
}

#[cfg(test)]
mod tests;

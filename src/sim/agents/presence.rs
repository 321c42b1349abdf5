//! The org's presence definitions (docs/genesys-api.md#presence-definitions): the ten system
//! presences, and "Lunch", the org's own, mapped to MEAL, which the agents take for their meals.
//! The agents' presences are the first eight, in `PRESENCES` order; the other system ones exist, as
//! in any org, unused.

use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};

use crate::genesys::model::{PresenceDefinition, PresenceDefinitionListing};

use crate::sim::Sim;
use crate::sim::api::bad_request;
use crate::sim::auth::form_pairs;
use crate::sim::model::traffic::PRESENCES;

/// (label, `type`, system presence as definitions spell it), for each entry of `PRESENCES`.
const AGENT_PRESENCES: [(&str, &str, &str); PRESENCES.len()] = [
    ("On Queue", "System", "OnQueue"),
    ("Available", "System", "Available"),
    ("Away", "System", "Away"),
    ("Break", "System", "Break"),
    ("Lunch", "User", "Meal"),
    ("Training", "System", "Training"),
    ("Meeting", "System", "Meeting"),
    ("Offline", "System", "Offline"),
];

/// The system presences no agent takes here.
const UNUSED_SYSTEM_PRESENCES: [&str; 3] = ["Busy", "Idle", "Meal"];

/// Every definition: the agents' presences under `agent_ids` (one per `PRESENCES` entry), then
/// the unused system ones under `unused_ids`.
pub(crate) fn definitions(agent_ids: &[String], unused_ids: &[String]) -> Vec<PresenceDefinition> {
    let agents = AGENT_PRESENCES.iter().zip(agent_ids);
    let unused = (UNUSED_SYSTEM_PRESENCES.iter())
        .map(|system| (*system, "System", *system))
        .zip(unused_ids);
    (agents.map(|(&(label, kind, system), id)| definition(id, label, kind, system)))
        .chain(unused.map(|((label, kind, system), id)| definition(id, label, kind, system)))
        .collect()
}

fn definition(id: &str, label: &str, kind: &str, system: &str) -> PresenceDefinition {
    PresenceDefinition {
        id: id.to_owned(),
        name: Some(label.to_owned()),
        kind: Some(kind.to_owned()),
        language_labels: [("en_US".to_owned(), label.to_owned())].into(),
        system_presence: system.to_owned(),
        division_id: None,
        deactivated: false,
    }
}

/// How many ids `definitions` needs beyond the agents' presences.
pub(crate) const UNUSED_PRESENCES: usize = UNUSED_SYSTEM_PRESENCES.len();

/// `GET /api/v2/presence/definitions[?deactivated=…][&localeCode=…]`: every definition at once.
pub(crate) async fn list_definitions(
    State(sim): State<Arc<Sim>>,
    RawQuery(query): RawQuery,
) -> Response {
    for (key, value) in form_pairs(query.as_deref().unwrap_or("")) {
        // NB: the SDKs send TRUE or FALSE.
        let boolean = value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false");
        if key == "deactivated" && !boolean {
            return bad_request("deactivated must be true or false").into_response();
        }
    }
    let entities = sim.presences.clone();
    Json(PresenceDefinitionListing {
        total: entities.len() as u64,
        entities,
    })
    .into_response()
}

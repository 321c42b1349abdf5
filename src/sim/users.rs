//! The simulated agents as users (API.md §10): `GET /api/v2/users` with `expand=presence,
//! routingStatus`, paged, and each agent's state and since-instants for the ground truth. An
//! agent belongs to one queue; its id is the queue's with the agent's index in the last four
//! hex digits, so it never depends on traffic settings.

use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::genesys::model::{
    PresenceRef, User, UserEntityListing, UserPresence, UserRoutingStatus,
};
use crate::genesys::time::{format_instant, from_epoch_millis};
use crate::vocabulary::labels::{LabelValue, RoutingStatus, SystemPresence};

use super::Sim;
use super::api::Paging;
use super::auth::form_pairs;
use super::directory::Directory;
use super::traffic::Model;

/// One agent as the API and the truth show it.
pub(crate) struct AgentView {
    pub id: String,
    pub name: String,
    pub queue_id: String,
    pub division: Option<crate::genesys::model::DivisionRef>,
    pub status: RoutingStatus,
    pub status_since: i64,
    /// The presence definition the agent is in, and its system presence as definitions spell it.
    pub presence_id: String,
    pub system_presence: String,
    pub presence_since: i64,
}

/// The id of a queue's `index`-th agent.
pub(crate) fn agent_id(queue_id: &str, index: usize) -> String {
    let keep = queue_id.len().saturating_sub(4);
    format!("{}{:04x}", &queue_id[..keep], index & 0xffff)
}

/// Every agent of the live queues, in queue order.
pub(crate) fn agents(sim: &Sim) -> Vec<AgentView> {
    agents_of(sim, &sim.model(), &sim.queues())
}

/// [`agents`] with the model and directory already locked (in that order).
fn agents_of(sim: &Sim, model: &Model, directory: &Directory) -> Vec<AgentView> {
    let mut views = Vec::new();
    for (q, queue) in directory.live() {
        let Some(state) = model.queues.get(q) else {
            continue;
        };
        for (index, agent) in state.agents.iter().enumerate() {
            let definition = &sim.presences[agent.presence];
            views.push(AgentView {
                id: agent_id(&queue.id, index),
                name: format!("{} agent {}", queue.name, index + 1),
                queue_id: queue.id.clone(),
                division: queue.division.clone(),
                status: RoutingStatus::ALL[agent.status as usize],
                status_since: agent.status_since,
                presence_id: definition.id.clone(),
                system_presence: definition.system_presence.clone(),
                presence_since: agent.presence_since,
            });
        }
    }
    views
}

fn instant(ms: i64) -> Option<String> {
    from_epoch_millis(ms).map(format_instant)
}

/// The agents in the truth's shape: system presences in upper snake case, as exported.
pub(crate) fn agents_truth(sim: &Sim, model: &Model, directory: &Directory) -> Value {
    let agents: Vec<Value> = (agents_of(sim, model, directory).into_iter())
        .map(|agent| {
            let system = SystemPresence::parse_any_case(&agent.system_presence)
                .map_or(agent.system_presence.clone(), |p| p.as_str().to_owned());
            json!({
                "id": agent.id,
                "name": agent.name,
                "queueId": agent.queue_id,
                "routingStatus": agent.status.as_str(),
                "routingStatusSince": instant(agent.status_since),
                "presenceId": agent.presence_id,
                "systemPresence": system,
                "presenceSince": instant(agent.presence_since),
            })
        })
        .collect();
    Value::Array(agents)
}

fn as_user(agent: AgentView, presence: bool, routing_status: bool) -> User {
    User {
        presence: presence.then(|| UserPresence {
            presence_definition: PresenceRef {
                id: agent.presence_id,
                system_presence: agent.system_presence,
            },
            modified_date: instant(agent.presence_since),
        }),
        routing_status: routing_status.then(|| UserRoutingStatus {
            user_id: Some(agent.id.clone()),
            status: agent.status.as_str().to_owned(),
            start_time: instant(agent.status_since),
        }),
        id: agent.id,
        name: agent.name,
        division: agent.division,
        state: Some("active".to_owned()),
    }
}

/// `GET /api/v2/users[?pageSize=…][&pageNumber=…][&expand=presence,routingStatus]`.
pub(crate) async fn list_users(State(sim): State<Arc<Sim>>, RawQuery(query): RawQuery) -> Response {
    let mut paging = Paging::new();
    let mut expand = Vec::new();
    for (key, value) in form_pairs(query.as_deref().unwrap_or("")) {
        match paging.take(&key, &value) {
            Ok(true) => {}
            Ok(false) if key == "expand" => {
                // NB: repeated (`expand=a&expand=b`) or, from the SDKs, joined with commas.
                expand.extend(value.split(',').map(|v| v.trim().to_owned()));
            }
            Ok(false) => {}
            Err(failure) => return failure.into_response(),
        }
    }
    let (presence, routing_status) = (
        expand.iter().any(|e| e == "presence"),
        expand.iter().any(|e| e == "routingStatus"),
    );
    let users = (agents(&sim).into_iter())
        .map(|agent| as_user(agent, presence, routing_status))
        .collect();
    let listing: UserEntityListing = paging.page(users);
    Json(listing).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_ids_are_their_queues_with_the_index_in_the_last_four_hex_digits() {
        let queue = "2aa6c0c9-e93b-48b7-95be-9a4f956094d2";
        assert_eq!(agent_id(queue, 0), "2aa6c0c9-e93b-48b7-95be-9a4f95600000");
        assert_eq!(agent_id(queue, 11), "2aa6c0c9-e93b-48b7-95be-9a4f9560000b");
        assert_eq!(agent_id(queue, 11).len(), queue.len());
    }
}

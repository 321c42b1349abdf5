//! The simulated agents as users (docs/genesys-api.md#users): `GET /api/v2/users` with
//! `expand=presence,routingStatus`, paged, and each agent's state and since-instants for the
//! ground truth. An agent belongs to one queue; its id is the queue's with the agent's index in the
//! last four hex digits, so it never depends on traffic settings.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::genesys::model::{
    ActivityEntity, ActivityMetricValue, NotificationFrame, PresenceRef, RoutingActivityData,
    RoutingActivityQuery, RoutingActivityResponse, User, UserActivityEvent, UserEntityListing,
    UserPresence, UserRoutingStatus, user_activity_topic,
};
use crate::genesys::time::{format_instant, from_epoch_millis};
use crate::vocabulary::labels::{LabelValue, RoutingStatus, SystemPresence};
use crate::vocabulary::metric::GenesysMetric;

use crate::sim::Sim;
use crate::sim::api::{Paging, bad_request, parse_json, selection, with_predicates};
use crate::sim::auth::form_pairs;
use crate::sim::guard::Failure;
use crate::sim::model::agent_time::Dimension;
use crate::sim::model::directory::Directory;
use crate::sim::model::traffic::Model;

/// The faults of the agents' REST reads, armed through `POST /sim/faults`.
#[derive(Debug, Default)]
pub(crate) struct AgentFaults {
    /// The most members the routing activity query lists per queue; 0: all.
    pub truncate_details: u32,
    /// Users listings left whose first user comes without its expanded parts.
    pub missing_expand: u32,
}

/// One agent as the API and the truth show it.
pub(crate) struct AgentView {
    /// (queue slot, index in its queue): where the model keeps it.
    pub slot: (usize, usize),
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

/// The agents of the live queues `keep` accepts (by queue id), in queue order: a request
/// about a few queues or agents builds only theirs.
pub(crate) fn agents_in(sim: &Sim, keep: impl Fn(&str) -> bool) -> Vec<AgentView> {
    agents_where(sim, &sim.model(), &sim.queues(), keep)
}

/// The live agents among `ids`, in queue order. An agent's id is its queue's but for the last
/// four hex digits ([`agent_id`]), so only their queues' agents are built.
pub(crate) fn agents_with_ids(sim: &Sim, ids: &[String]) -> Vec<AgentView> {
    fn prefix(id: &str) -> &str {
        id.get(..id.len().saturating_sub(4)).unwrap_or_default()
    }
    let queues: HashSet<&str> = ids.iter().map(|id| prefix(id)).collect();
    let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
    let mut agents = agents_in(sim, |queue| queues.contains(prefix(queue)));
    agents.retain(|agent| wanted.contains(agent.id.as_str()));
    agents
}

/// [`agents`] with the model and directory already locked (in that order).
fn agents_of(sim: &Sim, model: &Model, directory: &Directory) -> Vec<AgentView> {
    agents_where(sim, model, directory, |_| true)
}

fn agents_where(
    sim: &Sim,
    model: &Model,
    directory: &Directory,
    keep: impl Fn(&str) -> bool,
) -> Vec<AgentView> {
    let mut views = Vec::new();
    for (q, queue) in directory.live().filter(|(_, queue)| keep(&queue.id)) {
        let Some(state) = model.queues.get(q) else {
            continue;
        };
        for (index, agent) in state.agents.iter().enumerate() {
            let definition = &sim.presences[agent.presence];
            views.push(AgentView {
                slot: (q, index),
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
                "timeInStatus": time_in_status(sim, model, agent.slot),
            })
        })
        .collect();
    Value::Array(agents)
}

/// Milliseconds of every spell the agent ended, lagged or not, by metric and qualifier:
/// what its time-in-status counters must add up to.
fn time_in_status(sim: &Sim, model: &Model, slot: (usize, usize)) -> Value {
    let mut by_metric = serde_json::Map::new();
    for dimension in Dimension::ALL {
        by_metric.insert(dimension.metric().as_str().to_owned(), json!({}));
    }
    for (dimension, index, ms) in model.agent_time.totals_of(slot) {
        if let Some(qualifier) = dimension.qualifier(index, &sim.presence_ids) {
            by_metric[dimension.metric().as_str()][qualifier] = json!(ms);
        }
    }
    Value::Object(by_metric)
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

/// The most ids one users listing may name.
const MAX_IDS: usize = 100;

/// `GET /api/v2/users[?pageSize=…][&pageNumber=…][&id=…][&expand=presence,routingStatus]`.
pub(crate) async fn list_users(State(sim): State<Arc<Sim>>, RawQuery(query): RawQuery) -> Response {
    let mut paging = Paging::new();
    let (mut expand, mut ids) = (Vec::new(), Vec::new());
    for (key, value) in form_pairs(query.as_deref().unwrap_or("")) {
        // NB: lists come repeated (`expand=a&expand=b`) or, from the SDKs, joined with commas.
        let values = || value.split(',').map(|v| v.trim().to_owned());
        match paging.take(&key, &value) {
            Ok(true) => {}
            Ok(false) if key == "expand" => expand.extend(values()),
            Ok(false) if key == "id" => ids.extend(values()),
            Ok(false) => {}
            Err(failure) => return failure.into_response(),
        }
    }
    if ids.len() > MAX_IDS {
        return bad_request(format!("at most {MAX_IDS} ids")).into_response();
    }
    let (presence, routing_status) = (
        expand.iter().any(|e| e == "presence"),
        expand.iter().any(|e| e == "routingStatus"),
    );
    let listed = match ids.is_empty() {
        true => agents(&sim),
        false => agents_with_ids(&sim, &ids),
    };
    let users = (listed.into_iter())
        .map(|agent| as_user(agent, presence, routing_status))
        .collect();
    let mut listing: UserEntityListing = paging.page(users);
    let mut faults = crate::sync::lock(&sim.agent_faults);
    if faults.missing_expand > 0
        && let Some(first) = listing.entities.first_mut()
    {
        faults.missing_expand -= 1;
        first.presence = None;
        first.routing_status = None;
    }
    Json(listing).into_response()
}

/// The metrics the routing activity query answers (docs/genesys-api.md#routing-activity-query).
const ACTIVITY_METRICS: [GenesysMetric; 6] = [
    GenesysMetric::OActiveUsers,
    GenesysMetric::OMemberUsers,
    GenesysMetric::OOffQueueUsers,
    GenesysMetric::OOnQueueUsers,
    GenesysMetric::OUserPresences,
    GenesysMetric::OUserRoutingStatuses,
];

/// `POST /api/v2/analytics/routing/activity/query`: each selected queue's members by routing
/// status and presence (and the member counts), with `details` their ids and each member's
/// state and since-instants. Checked as Genesys checks it: metrics named, `groupBy` with
/// `queueId`, at most 100 queue predicates.
pub(crate) async fn routing_activity(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query: RoutingActivityQuery = match parse_json(&headers, &body) {
        Ok(query) => query,
        Err(failure) => return failure.into_response(),
    };
    let predicates = query.filter.as_ref().map(|f| f.queue_id_values().count());
    let response = match activity_results(&sim, &query) {
        Ok(results) => Json(RoutingActivityResponse {
            results,
            entity_id_dimension: Some("userId".to_owned()),
        })
        .into_response(),
        Err(failure) => failure.into_response(),
    };
    with_predicates(response, predicates)
}

fn activity_results(
    sim: &Sim,
    query: &RoutingActivityQuery,
) -> Result<Vec<RoutingActivityData>, Failure> {
    let mut metrics = Vec::new();
    for asked in &query.metrics {
        match GenesysMetric::parse(&asked.metric).filter(|m| ACTIVITY_METRICS.contains(m)) {
            Some(metric) => metrics.push((metric, asked.details)),
            None => return Err(bad_request("metrics must name routing activity metrics")),
        }
    }
    if metrics.is_empty() {
        return Err(bad_request("metrics must name at least one metric"));
    }
    if !query.group_by.iter().any(|g| g == "queueId") {
        return Err(bad_request("groupBy must include queueId"));
    }
    let selected = selection(query.filter.as_ref())?;
    let limit = crate::sync::lock(&sim.agent_faults).truncate_details as usize;
    let wanted: HashSet<&str> = selected.queue_ids.iter().map(String::as_str).collect();
    let agents = agents_in(sim, |queue| wanted.contains(queue));
    let mut by_queue: HashMap<&str, Vec<&AgentView>> = HashMap::new();
    for agent in &agents {
        by_queue
            .entry(agent.queue_id.as_str())
            .or_default()
            .push(agent);
    }
    let mut results = Vec::new();
    for id in &selected.queue_ids {
        if sim.queue_index(id).is_none() {
            continue;
        }
        let members = by_queue.get(id.as_str()).map_or(&[][..], Vec::as_slice);
        let mut data = Vec::new();
        for (metric, details) in &metrics {
            data.extend(activity_values(sim, *metric, *details, members));
        }
        let details = metrics.iter().any(|(_, details)| *details);
        let (entities, truncated) = if details {
            listed_members(members, limit)
        } else {
            (Vec::new(), false)
        };
        results.push(RoutingActivityData {
            group: [("queueId".to_owned(), id.clone())].into(),
            data,
            truncated,
            entities,
        });
    }
    Ok(results)
}

/// The members' entities, all of them, or past `limit` (non-zero) the oldest and the newest
/// half by activity date, and whether that truncated them.
fn listed_members(members: &[&AgentView], limit: usize) -> (Vec<ActivityEntity>, bool) {
    let mut by_activity: Vec<&&AgentView> = members.iter().collect();
    by_activity.sort_by_key(|a| (a.status_since.max(a.presence_since), a.id.clone()));
    if limit == 0 || by_activity.len() <= limit {
        return (members.iter().map(|m| activity_entity(m)).collect(), false);
    }
    let (oldest, newest) = (limit.div_ceil(2), limit / 2);
    let kept = (by_activity[..oldest].iter())
        .chain(&by_activity[by_activity.len() - newest..])
        .map(|m| activity_entity(m))
        .collect();
    (kept, true)
}

fn is_offline(agent: &AgentView) -> bool {
    SystemPresence::parse_any_case(&agent.system_presence) == Some(SystemPresence::Offline)
}

/// One metric's values for a queue's `members`: by routing status, by presence, or one count.
fn activity_values(
    sim: &Sim,
    metric: GenesysMetric,
    details: bool,
    members: &[&AgentView],
) -> Vec<ActivityMetricValue> {
    let value = |qualifier: Option<String>, secondary: Option<String>, of: Vec<&&AgentView>| {
        ActivityMetricValue {
            metric: metric.into(),
            qualifier,
            secondary_qualifier: secondary,
            count: of.len() as u64,
            entity_ids: if details {
                of.iter().map(|agent| agent.id.clone()).collect()
            } else {
                Vec::new()
            },
        }
    };
    let matching = |keep: &dyn Fn(&AgentView) -> bool| -> Vec<&&AgentView> {
        members.iter().filter(|agent| keep(agent)).collect()
    };
    match metric {
        GenesysMetric::OUserRoutingStatuses => (RoutingStatus::ALL.iter())
            .map(|status| {
                let of = matching(&|agent| agent.status == *status);
                value(Some(status.as_str().to_owned()), None, of)
            })
            .collect(),
        GenesysMetric::OUserPresences => (sim.presence_ids.iter())
            .filter_map(|id| {
                let definition = sim.presences.iter().find(|d| &d.id == id)?;
                let system = SystemPresence::parse_any_case(&definition.system_presence)?;
                let of = matching(&|agent| &agent.presence_id == id);
                Some(value(
                    Some(id.clone()),
                    Some(system.as_str().to_owned()),
                    of,
                ))
            })
            .collect(),
        GenesysMetric::OMemberUsers => vec![value(None, None, matching(&|_| true))],
        GenesysMetric::OActiveUsers => vec![value(None, None, matching(&|a| !is_offline(a)))],
        GenesysMetric::OOnQueueUsers => {
            let of = matching(&|agent| agent.status != RoutingStatus::OffQueue);
            vec![value(None, None, of)]
        }
        _ => {
            let of = matching(&|a| a.status == RoutingStatus::OffQueue && !is_offline(a));
            vec![value(None, None, of)]
        }
    }
}

fn activity_entity(agent: &AgentView) -> ActivityEntity {
    let system = SystemPresence::parse_any_case(&agent.system_presence);
    ActivityEntity {
        user_id: agent.id.clone(),
        queue_id: Some(agent.queue_id.clone()),
        routing_status: Some(agent.status.as_str().to_owned()),
        routing_status_date: instant(agent.status_since),
        organization_presence_id: Some(agent.presence_id.clone()),
        system_presence: system.map(|p| p.as_str().to_owned()),
        presence_date: instant(agent.presence_since),
        activity_date: instant(agent.status_since.max(agent.presence_since)),
        queue_membership_status: Some("ACTIVE".to_owned()),
    }
}

/// An agent's activity event (`v2.users.{id}.activity`), as Genesys publishes it on a change.
pub(crate) fn activity_event(agent: &AgentView) -> String {
    let system = SystemPresence::parse_any_case(&agent.system_presence)
        .map_or(agent.system_presence.clone(), |p| p.as_str().to_owned());
    let frame = NotificationFrame {
        topic_name: user_activity_topic(&agent.id),
        version: Some("2".to_owned()),
        event_body: UserActivityEvent {
            id: agent.id.clone(),
            routing_status: Some(UserRoutingStatus {
                user_id: None,
                status: agent.status.as_str().to_owned(),
                start_time: instant(agent.status_since),
            }),
            presence: Some(UserPresence {
                presence_definition: PresenceRef {
                    id: agent.presence_id.clone(),
                    system_presence: system,
                },
                modified_date: instant(agent.presence_since),
            }),
            active_queue_ids: Some(vec![agent.queue_id.clone()]),
        },
        metadata: None,
    };
    serde_json::to_string(&frame).unwrap_or_default()
}

#[cfg(test)]
mod tests;

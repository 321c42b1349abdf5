//! The queues' `/sim/…` endpoints (docs/simulator.md#control-endpoints): queues added, changed
//! and removed at run time, a held queue released, a surge, a probe event; and each queue's
//! ground truth. Not part of the Genesys API, so no auth and no correlation headers.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::genesys::model::{Queue, queue_observation_topic};
use crate::genesys::time::{format_interval, from_epoch_millis};
use crate::sim::Sim;
use crate::sim::control::control_error;
use crate::sim::model::directory::{Directory, UnknownDivision};
use crate::sim::model::stats::{Metric, StatSet, service_level, stat_of};
use crate::sim::model::traffic::{DIRECTIONS, Model};
use crate::sync::lock;
use crate::vocabulary::labels::{LabelValue, RoutingStatus};

use super::events::event;
use super::view::{MediaView, event_media_metrics, queue_view};

pub(crate) fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/sim/queues", post(add_queue))
        .route("/sim/queues/{id}", delete(remove_queue).patch(update_queue))
        .route("/sim/queues/{id}/release", post(release_queue))
        .route("/sim/queues/{id}/surge", post(surge_queue))
        .route("/sim/probe", post(probe))
}

/// A change to a live queue (`PATCH /sim/queues/{id}`): a new name, another division.
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct QueueUpdate {
    pub name: Option<String>,
    pub division_id: Option<String>,
}

/// A queue to add at run time (`POST /sim/queues`).
#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct NewQueue {
    pub name: Option<String>,
    pub division_id: Option<String>,
    /// Agents but no arrivals until released, so a client can be watching before the first
    /// conversation.
    pub held: bool,
}

// NB: `Sim`'s lock order holds here too: the model, then the queue set.
impl Sim {
    /// Adds a queue to the directory and the traffic model in one step.
    pub(crate) fn add_queue(&self, request: NewQueue) -> Result<Queue, UnknownDivision> {
        let mut model = self.model();
        let now = self.traffic_now();
        let (index, queue) = self
            .queues_mut()
            .add(request.name, request.division_id.as_deref())?;
        let added = model.add_queue(now, request.held);
        debug_assert_eq!(added, index, "directory and model slots move together");
        Ok(queue)
    }

    /// Renames or moves a live queue, keeping its traffic; `None` if there is none with `id`.
    pub(crate) fn update_queue(
        &self,
        id: &str,
        update: QueueUpdate,
    ) -> Result<Option<Queue>, UnknownDivision> {
        self.queues_mut()
            .update(id, update.name, update.division_id.as_deref())
    }

    /// Removes a live queue and stops its traffic; false if there is none with `id`.
    pub(crate) fn remove_queue(&self, id: &str) -> bool {
        let mut model = self.model();
        let Some(index) = self.queues_mut().remove(id) else {
            return false;
        };
        model.remove_queue(index);
        true
    }

    /// A surge of `customers` while the queue's routing stalls for `hold` (see
    /// `Model::surge`); false if there is no live queue with `id`.
    pub(crate) fn surge_queue(
        &self,
        id: &str,
        customers: usize,
        hold: std::time::Duration,
    ) -> bool {
        let mut model = self.model();
        let now = self.traffic_now();
        let Some(index) = self.queue_index(id) else {
            return false;
        };
        model.surge(index, now, customers, hold.as_millis() as i64);
        true
    }

    /// Lets a held queue's arrivals begin; false if there is no live queue with `id`.
    pub(crate) fn release_queue(&self, id: &str) -> bool {
        let mut model = self.model();
        let now = self.traffic_now();
        let Some(index) = self.queue_index(id) else {
            return false;
        };
        model.release_queue(index, now);
        true
    }
}

/// Every live queue's ground truth, in queue order, with the model and directory locked (in
/// that order).
pub(crate) fn truth(model: &Model, directory: &Directory, presence_ids: &[String]) -> Vec<Value> {
    directory
        .live()
        .map(|(q, queue)| queue_truth(model, q, queue, presence_ids))
        .collect()
}

fn queue_truth(model: &Model, q: usize, queue: &Queue, presence_ids: &[String]) -> Value {
    let view = queue_view(model, q);
    let goal = model.queues[q].service_level;
    let mut interactions = serde_json::Map::new();
    let mut longest = serde_json::Map::new();
    let mut totals = serde_json::Map::new();
    let mut by_direction = serde_json::Map::new();
    for (m, media) in model.media_types.iter().enumerate() {
        let v = &view.media[m];
        interactions.insert(
            media.clone(),
            json!({"waiting": v.waiting, "interacting": v.interacting, "alerting": v.alerting}),
        );
        if let Some(at) = v.longest_waiting() {
            longest.insert(media.clone(), json!(at));
        }
        if let Some(set) = model.ledger.totals(q, m) {
            totals.insert(media.clone(), totals_truth(set));
        }
        let directed: serde_json::Map<String, Value> = DIRECTIONS
            .iter()
            .enumerate()
            .filter_map(|(d, direction)| {
                let set = model.ledger.directed_totals(q, m, d)?;
                Some(((*direction).to_owned(), totals_truth(set)))
            })
            .collect();
        if !directed.is_empty() {
            by_direction.insert(media.clone(), Value::Object(directed));
        }
    }
    let users: BTreeMap<&str, u64> = RoutingStatus::ALL
        .iter()
        .map(|status| status.as_str())
        .zip(view.users.statuses)
        .collect();
    // NB: every agent presence, by definition id, zeros included: the gauges show them all.
    let presences: BTreeMap<&str, u64> = (presence_ids.iter())
        .map(String::as_str)
        .zip(view.users.presences.iter().copied())
        .collect();
    json!({
        "id": queue.id,
        "name": queue.name,
        "division": queue.division,
        "interactions": interactions,
        "longestWaitingSince": longest,
        "users": users,
        "presences": presences,
        "members": view.users.members,
        "activeUsers": view.users.active,
        "onQueueUsers": view.users.on_queue.iter().sum::<u64>(),
        "offQueueUsers": view.users.off_queue,
        "totals": totals,
        "totalsByDirection": by_direction,
        "serviceLevelTarget": goal.target,
        "serviceLevelThresholdMs": goal.threshold_ms,
    })
}

/// Everything ever recorded for one media type: counts (and sums for timers) of the metrics
/// with data, and `oServiceLevel` once something was answered or abandoned.
fn totals_truth(set: &StatSet) -> Value {
    let mut metrics: BTreeMap<&str, Value> = Metric::REPORTED
        .into_iter()
        .filter(|metric| stat_of(set, *metric).count > 0)
        .map(|metric| {
            let stat = stat_of(set, metric);
            let value = if metric.is_timer() {
                json!({"count": stat.count, "sum": stat.sum})
            } else {
                json!({"count": stat.count})
            };
            (metric.name(), value)
        })
        .collect();
    let (numerator, denominator) = service_level(set);
    if denominator > 0 {
        let level = json!({"numerator": numerator, "denominator": denominator});
        metrics.insert("oServiceLevel", level);
    }
    json!(metrics)
}

fn queue_not_found(id: &str) -> Response {
    control_error(StatusCode::NOT_FOUND, format!("no queue {id}"))
}

async fn add_queue(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let request: NewQueue = if body.is_empty() {
        NewQueue::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(request) => request,
            Err(error) => return control_error(StatusCode::BAD_REQUEST, error.to_string()),
        }
    };
    match sim.add_queue(request) {
        Ok(queue) => {
            tracing::info!(queue_id = %queue.id, name = %queue.name, "simulator queue added");
            Json(queue).into_response()
        }
        Err(UnknownDivision(id)) => {
            control_error(StatusCode::BAD_REQUEST, format!("no division {id}"))
        }
    }
}

async fn update_queue(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let update: QueueUpdate = match serde_json::from_slice(&body) {
        Ok(update) => update,
        Err(error) => return control_error(StatusCode::BAD_REQUEST, error.to_string()),
    };
    match sim.update_queue(&id, update) {
        Ok(Some(queue)) => {
            tracing::info!(queue_id = %queue.id, name = %queue.name, "simulator queue updated");
            Json(queue).into_response()
        }
        Ok(None) => queue_not_found(&id),
        Err(UnknownDivision(division)) => {
            control_error(StatusCode::BAD_REQUEST, format!("no division {division}"))
        }
    }
}

async fn remove_queue(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    if sim.remove_queue(&id) {
        tracing::info!(queue_id = %id, "simulator queue removed");
        StatusCode::NO_CONTENT.into_response()
    } else {
        queue_not_found(&id)
    }
}

async fn release_queue(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    if sim.release_queue(&id) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        queue_not_found(&id)
    }
}

/// A backlog on demand: `customers` call at once while the queue's routing stalls `seconds`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Surge {
    customers: usize,
    seconds: f64,
}

async fn surge_queue(State(sim): State<Arc<Sim>>, Path(id): Path<String>, body: Bytes) -> Response {
    let surge: Surge = match serde_json::from_slice(&body) {
        Ok(surge) => surge,
        Err(e) => return control_error(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let hold = std::time::Duration::try_from_secs_f64(surge.seconds).ok();
    let Some(hold) = hold.filter(|h| !h.is_zero() && surge.customers <= 10_000) else {
        let message = "a surge needs seconds above 0 and at most 10000 customers";
        return control_error(StatusCode::BAD_REQUEST, message);
    };
    if sim.surge_queue(&id, surge.customers, hold) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        queue_not_found(&id)
    }
}

/// A probe observation for the latency benchmark.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    queue_id: String,
    media_type: String,
    waiting: u64,
}

/// Sends one observation event for (queue, media type) at once, stamped now, with `waiting`
/// waiting and nothing else. A measuring aid: the model and the truth do not change, so use a
/// media type the simulator does not simulate, or the next round overwrites it.
async fn probe(State(sim): State<Arc<Sim>>, Json(probe): Json<Probe>) -> Response {
    let Some(at) = from_epoch_millis(sim.now_ms()) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let view = MediaView {
        waiting: probe.waiting,
        ..MediaView::default()
    };
    let text = event(
        &probe.queue_id,
        Some(&probe.media_type),
        format_interval(at, at),
        event_media_metrics(&view),
    );
    let topic = queue_observation_topic(&probe.queue_id);
    lock(&sim.channels).send_topic(&topic, &text);
    StatusCode::NO_CONTENT.into_response()
}

#[cfg(test)]
mod tests;

//! `/sim/…`: ground truth, pausing the traffic, run-time queues and the request log
//! (docs/simulator.md#control-endpoints), with `inject`'s fault endpoints merged in. Not part of
//! the Genesys API, so no auth and no correlation headers.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::genesys::model::{Queue, queue_observation_topic};
use crate::genesys::time::{format_instant, format_interval, from_epoch_millis};
use crate::vocabulary::labels::{LabelValue, RoutingStatus};

use super::directory::UnknownDivision;
use super::stats::{Metric, StatSet, service_level, stat_of};
use super::traffic::{DIRECTIONS, Model};
use super::view::{MediaView, event_media_metrics, queue_view};
use super::{NewQueue, QueueUpdate, Sim, lock};

pub(crate) fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/sim/truth", get(truth))
        .route("/sim/traffic/pause", post(pause))
        .route("/sim/traffic/resume", post(resume))
        .route("/sim/queues", post(add_queue))
        .route("/sim/queues/{id}", delete(remove_queue).patch(update_queue))
        .route("/sim/queues/{id}/release", post(release_queue))
        .route("/sim/queues/{id}/surge", post(surge_queue))
        .route("/sim/requests", get(requests))
        .route("/sim/probe", post(probe))
        .merge(super::inject::routes())
}

async fn truth(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(truth_json(&sim))
}

/// The ground truth, in the exact shape the black-box tests read.
pub(crate) fn truth_json(sim: &Sim) -> Value {
    let now = sim.now_ms();
    let model = sim.model();
    let directory = sim.queues();
    let queues: Vec<Value> = directory
        .live()
        .map(|(q, queue)| queue_truth(&model, q, queue, &sim.presence_ids))
        .collect();
    let at = from_epoch_millis(now)
        .map(format_instant)
        .unwrap_or_default();
    let pending = model.ledger.pending() + model.agent_time.pending();
    let agents = super::users::agents_truth(sim, &model, &directory);
    json!({"now": at, "paused": sim.is_paused(), "pendingRecords": pending, "queues": queues,
        "presenceDefinitions": sim.presences, "agents": agents})
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

async fn pause(State(sim): State<Arc<Sim>>) -> StatusCode {
    sim.pause();
    StatusCode::NO_CONTENT
}

async fn resume(State(sim): State<Arc<Sim>>) -> StatusCode {
    sim.resume();
    StatusCode::NO_CONTENT
}

pub(crate) fn control_error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
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
#[derive(serde::Deserialize)]
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
#[derive(serde::Deserialize)]
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
    let text = super::publish::event(
        &probe.queue_id,
        Some(&probe.media_type),
        format_interval(at, at),
        event_media_metrics(&view),
    );
    let topic = queue_observation_topic(&probe.queue_id);
    lock(&sim.channels).send_topic(&topic, &text);
    StatusCode::NO_CONTENT.into_response()
}

async fn requests(State(sim): State<Arc<Sim>>) -> Json<Value> {
    let requests: Vec<_> = lock(&sim.gate.requests).iter().cloned().collect();
    Json(json!({ "requests": requests }))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::{Value, json};

    use crate::genesys::model::{Queue, QueueEntityListing, queue_observation_topic};
    use crate::sim::harness::{
        DEADLINE, TestSim, channel, connect, next_json, total_offered, truth_now,
    };

    fn truth_queue<'a>(truth: &'a Value, id: &str) -> Option<&'a Value> {
        let queues = truth["queues"].as_array().unwrap();
        queues.iter().find(|q| q["id"] == id)
    }

    fn offered_in(queue: &Value) -> u64 {
        let totals = queue["totals"].as_object().unwrap();
        let counts = totals.values().map(|m| m["nOffered"]["count"].as_u64());
        counts.map(Option::unwrap_or_default).sum()
    }

    /// The truth once `id` has offered conversations.
    async fn once_offering(sim: &TestSim, id: &str) -> Value {
        let waited = tokio::time::timeout(DEADLINE, async {
            loop {
                let truth = sim.truth().await;
                if truth_queue(&truth, id).is_some_and(|q| offered_in(q) > 0) {
                    return truth;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        waited.await.expect("the queue offers conversations")
    }

    async fn add_queue(sim: &TestSim, body: Value) -> reqwest::Response {
        let request = sim.http.post(sim.url("/sim/queues")).json(&body);
        request.send().await.unwrap()
    }

    #[tokio::test]
    async fn a_held_queue_added_at_run_time_is_served_everywhere_and_quiet_until_released() {
        let sim = TestSim::fast().await;
        let token = sim.token().await;
        let response = add_queue(&sim, json!({"name": "Queue X", "held": true})).await;
        assert_eq!(response.status(), 200);
        let queue: Queue = response.json().await.unwrap();
        assert_eq!(
            (queue.name.as_str(), queue.member_count),
            ("Queue X", Some(6))
        );
        assert!(queue.division.is_some());
        let path = format!("/api/v2/routing/queues/{}", queue.id);
        let by_id: Queue = sim.get(&token, &path).await.json().await.unwrap();
        assert_eq!(by_id, queue);
        let named = "/api/v2/routing/queues?name=Queue%20X";
        let listing: QueueEntityListing = sim.get(&token, named).await.json().await.unwrap();
        assert_eq!(listing.entities, std::slice::from_ref(&queue));

        let channel = channel(&sim, &token).await;
        let topic = queue_observation_topic(&queue.id);
        let path = format!(
            "/api/v2/notifications/channels/{}/subscriptions",
            channel.id
        );
        let put = sim.put_json(&token, &path, &json!([{"id": topic}])).await;
        assert_eq!(put.status(), 200);
        let mut socket = connect(&channel).await;

        let since = truth_now(&sim.truth().await);
        let truth = tokio::time::timeout(DEADLINE, async {
            loop {
                let truth = sim.truth().await;
                if truth_now(&truth) - since >= chrono::Duration::seconds(1) {
                    return truth;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        let truth = truth.await.unwrap();
        let held = truth_queue(&truth, &queue.id).expect("the truth lists the added queue");
        assert_eq!(held["members"], 6);
        assert_eq!(offered_in(held), 0, "held for a second of busy traffic");
        assert!(total_offered(&truth) > 0, "while the other queues are busy");

        sim.control(&format!("/sim/queues/{}/release", queue.id), json!({}))
            .await;
        once_offering(&sim, &queue.id).await;
        let totals = tokio::time::timeout(DEADLINE, async {
            loop {
                let frame = next_json(&mut socket).await.expect("socket stays open");
                let interval = frame["eventBody"]["data"][0]["interval"].as_str();
                let aggregate = interval
                    .and_then(|i| i.split_once('/'))
                    .is_some_and(|(from, to)| from != to);
                if frame["topicName"] == topic.as_str() && aggregate {
                    return frame;
                }
            }
        });
        let totals = totals.await.expect("running totals of the released queue");
        assert_eq!(totals["eventBody"]["group"]["queueId"], queue.id.as_str());
        sim.stop().await;
    }

    #[tokio::test]
    async fn a_removed_queue_is_gone_from_routing_truth_analytics_and_topics() {
        let sim = TestSim::fast().await;
        let token = sim.token().await;
        let id = sim.handle.queues[1].id.clone();
        once_offering(&sim, &id).await;
        let remove = |id: String| sim.http.delete(sim.url(&format!("/sim/queues/{id}")));
        assert_eq!(remove(id.clone()).send().await.unwrap().status(), 204);

        let path = format!("/api/v2/routing/queues/{id}");
        assert_eq!(sim.get(&token, &path).await.status(), 404);
        let all = "/api/v2/routing/queues?pageSize=100";
        let listing: QueueEntityListing = sim.get(&token, all).await.json().await.unwrap();
        assert_eq!(listing.total, 2);
        assert!(listing.entities.iter().all(|q| q.id != id));
        let truth = sim.truth().await;
        assert!(truth_queue(&truth, &id).is_none());
        assert_eq!(truth["queues"].as_array().unwrap().len(), 2);

        let filter = json!({"type": "or", "predicates": [
            {"type": "dimension", "dimension": "queueId", "value": id}]});
        let now = truth_now(&truth);
        let window = crate::genesys::time::format_interval(
            now - chrono::Duration::hours(1),
            now + chrono::Duration::hours(1),
        );
        let aggregates = json!({"interval": window, "groupBy": ["queueId"],
                                "filter": filter, "metrics": ["nOffered"]});
        let path = "/api/v2/analytics/conversations/aggregates/query";
        let response = sim.post_json(&token, path, &aggregates).await;
        assert_eq!(response.text().await.unwrap(), "{}");
        let observations = json!({"filter": filter, "metrics": ["oWaiting"]});
        let path = "/api/v2/analytics/queues/observations/query";
        let response: Value = sim
            .post_json(&token, path, &observations)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(response["results"], json!([]));
        let channel = channel(&sim, &token).await;
        let path = format!(
            "/api/v2/notifications/channels/{}/subscriptions",
            channel.id
        );
        let topic = json!([{"id": queue_observation_topic(&id)}]);
        assert_eq!(sim.put_json(&token, &path, &topic).await.status(), 400);

        assert_eq!(remove(id.clone()).send().await.unwrap().status(), 404);
        let release = sim.http.post(sim.url(&format!("/sim/queues/{id}/release")));
        assert_eq!(release.send().await.unwrap().status(), 404);
        let unknown_division = add_queue(&sim, json!({"divisionId": "nope"})).await;
        assert_eq!(unknown_division.status(), 400);
        let misspelt = add_queue(&sim, json!({"hold": true})).await;
        assert_eq!(misspelt.status(), 400);
        sim.stop().await;
    }
}

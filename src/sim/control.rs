//! `/sim/…`: ground truth, pausing the traffic and fault injection (API.md §9). Not part of the
//! Genesys API, so no auth and no correlation headers.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::genesys::model::ROUTING_STATUSES;
use crate::genesys::time::{format_instant, from_epoch_millis};

use super::channels::Outbound;
use super::stats::{Metric, stat_of};
use super::view::queue_view;
use super::ws::{socket_closing, to_every_socket};
use super::{Sim, lock};

pub(crate) fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/sim/truth", get(truth))
        .route("/sim/traffic/pause", post(pause))
        .route("/sim/traffic/resume", post(resume))
        .route("/sim/faults", post(faults))
        .route("/sim/requests", get(requests))
}

async fn truth(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(truth_json(&sim))
}

/// The ground truth, in the exact shape the black-box tests read.
pub(crate) fn truth_json(sim: &Sim) -> Value {
    let now = sim.now_ms();
    let model = sim.model();
    let queues: Vec<Value> = sim
        .queues
        .iter()
        .enumerate()
        .map(|(q, queue)| {
            let view = queue_view(&model, q);
            let mut interactions = serde_json::Map::new();
            let mut longest = serde_json::Map::new();
            let mut totals = serde_json::Map::new();
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
                    let metrics: BTreeMap<&str, Value> = Metric::ALL
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
                    totals.insert(media.clone(), json!(metrics));
                }
            }
            let users: BTreeMap<&str, u64> =
                ROUTING_STATUSES.iter().copied().zip(view.users.statuses).collect();
            json!({
                "id": queue.id,
                "name": queue.name,
                "division": queue.division,
                "interactions": interactions,
                "longestWaitingSince": longest,
                "users": users,
                "members": view.users.members,
                "activeUsers": view.users.active,
                "onQueueUsers": view.users.on_queue.iter().sum::<u64>(),
                "offQueueUsers": view.users.off_queue,
                "totals": totals,
            })
        })
        .collect();
    let at = from_epoch_millis(now)
        .map(format_instant)
        .unwrap_or_default();
    let pending = model.ledger.pending();
    json!({"now": at, "paused": sim.is_paused(), "pendingRecords": pending, "queues": queues})
}

async fn pause(State(sim): State<Arc<Sim>>) -> StatusCode {
    sim.pause();
    StatusCode::NO_CONTENT
}

async fn resume(State(sim): State<Arc<Sim>>) -> StatusCode {
    sim.resume();
    StatusCode::NO_CONTENT
}

#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Fault {
    RevokeTokens,
    #[serde(rename_all = "camelCase")]
    RateLimit {
        count: u32,
        #[serde(default = "one")]
        retry_after_seconds: u64,
    },
    ServerError {
        count: u32,
        #[serde(default = "service_unavailable")]
        status: u16,
    },
    CloseSockets,
    SocketClosing,
    StopHeartbeats,
    ResumeHeartbeats,
    ExpireChannels,
    MalformedMessage,
}

fn one() -> u64 {
    1
}

fn service_unavailable() -> u16 {
    503
}

async fn faults(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let fault: Fault = match serde_json::from_slice(&body) {
        Ok(fault) => fault,
        Err(error) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(json!({"error": error.to_string()})),
            )
                .into_response();
        }
    };
    tracing::info!(?fault, "simulator fault injected");
    match fault {
        Fault::RevokeTokens => sim.auth.revoke_all(),
        Fault::RateLimit {
            count,
            retry_after_seconds,
        } => {
            let mut faults = lock(&sim.gate.faults);
            faults.rate_limited = count;
            faults.retry_after_seconds = retry_after_seconds;
        }
        Fault::ServerError { count, status } => {
            let mut faults = lock(&sim.gate.faults);
            faults.server_errors = count;
            faults.server_status = status;
        }
        Fault::CloseSockets => to_every_socket(&sim, &Outbound::Close),
        Fault::SocketClosing => socket_closing(&sim),
        Fault::StopHeartbeats => sim.heartbeats.store(false, Ordering::SeqCst),
        Fault::ResumeHeartbeats => sim.heartbeats.store(true, Ordering::SeqCst),
        Fault::ExpireChannels => lock(&sim.channels).expire_all(),
        Fault::MalformedMessage => {
            to_every_socket(&sim, &Outbound::Text("{\"topicName\": not json".to_owned()));
            let unknown =
                json!({"topicName": "v2.sim.unknown.topic", "eventBody": {"surprise": 1}});
            to_every_socket(&sim, &Outbound::Text(unknown.to_string()));
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn requests(State(sim): State<Arc<Sim>>) -> Json<Value> {
    let requests: Vec<_> = lock(&sim.gate.requests).iter().cloned().collect();
    Json(json!({ "requests": requests }))
}

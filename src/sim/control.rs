//! `/sim/…` endpoints every source shares (docs/simulator.md#control-endpoints): the ground
//! truth, pausing the traffic and the request log; a source's own (`/sim/queues…`) and the faults'
//! sit with them. Not part of the Genesys API, so no auth and no correlation headers.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

use super::Sim;
use crate::sync::lock;

pub(crate) fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/sim/truth", get(truth))
        .route("/sim/traffic/pause", post(pause))
        .route("/sim/traffic/resume", post(resume))
        .route("/sim/requests", get(requests))
}

async fn truth(State(sim): State<Arc<Sim>>) -> Json<Value> {
    Json(super::truth_json(&sim))
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

async fn requests(State(sim): State<Arc<Sim>>) -> Json<Value> {
    let requests: Vec<_> = lock(&sim.gate.requests).iter().cloned().collect();
    Json(json!({ "requests": requests }))
}

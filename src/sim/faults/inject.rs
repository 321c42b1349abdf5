//! `POST /sim/faults` and `GET /sim/faults`: applies a [`Fault`] where it acts (the API gate,
//! the auth state, the sockets) and lists what is still armed. Not part of the Genesys API.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::fault::Fault;
use super::socket_faults::{
    MAX_OVERSIZED_BYTES, malformed_message, oversized_message, socket_closing, to_every_socket,
};
use crate::sim::Sim;
use crate::sim::api_faults::ApiFault;
use crate::sim::control::control_error;
use crate::sim::notify::channels::Outbound;
use crate::sim::telephony::Estate;
use crate::sync::lock;

pub(crate) fn routes() -> Router<Arc<Sim>> {
    Router::new().route("/sim/faults", post(inject).get(armed))
}

async fn inject(State(sim): State<Arc<Sim>>, body: Bytes) -> Response {
    let fault: Fault = match serde_json::from_slice(&body) {
        Ok(fault) => fault,
        Err(error) => return control_error(StatusCode::BAD_REQUEST, error.to_string()),
    };
    let described = format!("{fault:?}");
    match apply(&sim, fault) {
        Ok(()) => {
            tracing::info!(fault = %described, "simulator fault injected");
            StatusCode::NO_CONTENT.into_response()
        }
        Err(message) => control_error(StatusCode::BAD_REQUEST, message),
    }
}

/// Applies `fault`, or says why it cannot be armed as asked.
fn apply(sim: &Arc<Sim>, fault: Fault) -> Result<(), &'static str> {
    if let Some((gate_fault, count, path)) = for_gate(&fault) {
        // NB: only `/api/` requests pass the gate; a fault aimed elsewhere would never fire.
        if path.is_some_and(|p| !p.starts_with("/api/")) {
            return Err("path must start with /api/");
        }
        lock(&sim.gate.faults).arm(gate_fault, count, path.cloned());
        return Ok(());
    }
    match fault {
        Fault::RevokeTokens => sim.auth.revoke_all(),
        Fault::CloseSockets => to_every_socket(sim, &Outbound::Close),
        Fault::SocketClosing => socket_closing(sim),
        Fault::StopHeartbeats => sim.heartbeats.store(false, Ordering::SeqCst),
        Fault::ResumeHeartbeats => sim.heartbeats.store(true, Ordering::SeqCst),
        Fault::ExpireChannels => lock(&sim.channels).expire_all(),
        Fault::MalformedMessage => malformed_message(sim),
        Fault::RefuseChannels { count, status } => {
            let status = StatusCode::from_u16(status)
                .ok()
                .filter(|s| s.is_client_error() || s.is_server_error())
                .ok_or("status must be a 4xx or 5xx")?;
            lock(&sim.channels).refuse(count, status);
        }
        Fault::OversizedMessage { bytes } => {
            let bytes = usize::try_from(bytes)
                .ok()
                .filter(|_| bytes <= MAX_OVERSIZED_BYTES)
                .ok_or("bytes must be at most 64 MiB")?;
            oversized_message(sim, bytes);
        }
        Fault::DuplicateEvents { rounds } => lock(&sim.publishing).duplicate(rounds),
        Fault::ReorderEvents { rounds } => lock(&sim.publishing).reorder(rounds),
        Fault::RejectUserTopics { every } => sim.reject_user_topics.store(every, Ordering::SeqCst),
        Fault::RejectTelephonyTopics { restore } => sim
            .reject_telephony_topics
            .store(!restore, Ordering::SeqCst),
        Fault::TrunkOutOfService { trunk, restore } => telephony(sim, |estate, now| {
            let t = estate
                .trunk_index(&trunk)
                .ok_or("no trunk has that name or id")?;
            estate.set_out_of_service(t, !restore, now);
            Ok(())
        })?,
        Fault::RegisterFailing { trunk, restore } => telephony(sim, |estate, now| {
            let t = estate
                .trunk_index(&trunk)
                .ok_or("no trunk has that name or id")?;
            estate.set_register_failing(t, !restore, now);
            Ok(())
        })?,
        Fault::EdgeOffline { edge, restore } => telephony(sim, |estate, now| {
            let e = estate
                .edge_index(&edge)
                .ok_or("no Edge has that name or id")?;
            estate.set_offline(e, !restore, now);
            Ok(())
        })?,
        Fault::FlowOutcomeFailing { outcome, restore } => {
            let index = lock(&sim.flows)
                .outcome_index(&outcome)
                .ok_or("no flow outcome has that name or id")?;
            let failing = &mut sim.model().ivr.failing_outcomes;
            if restore {
                failing.remove(&index);
            } else {
                failing.insert(index);
            }
        }
        Fault::DataActionFailing {
            action,
            status,
            restore,
        } => {
            if !(400..=599).contains(&status) {
                return Err("status must be a 4xx or 5xx");
            }
            let index = lock(&sim.actions)
                .index(&action)
                .ok_or("no data action has that name or id")?;
            let failing = &mut sim.model().ivr.failing_actions;
            if restore {
                failing.remove(&index);
            } else {
                failing.insert(index, status);
            }
        }
        Fault::TruncateActivityDetails { limit } => {
            lock(&sim.agent_faults).truncate_details = limit
        }
        Fault::MissingExpand { count } => lock(&sim.agent_faults).missing_expand = count,
        Fault::ShortenChannels { ttl_ms } => {
            let ttl_ms = i64::try_from(ttl_ms).unwrap_or(i64::MAX / 2);
            let mut channels = lock(&sim.channels);
            channels.shorten(sim.now_ms(), ttl_ms);
        }
        Fault::RateLimit { .. }
        | Fault::ServerError { .. }
        | Fault::Unauthorized { .. }
        | Fault::MalformedBody { .. }
        | Fault::SlowResponse { .. } => {}
    }
    Ok(())
}

/// The gate's part of an API fault: what it does, how many requests, which path.
fn for_gate(fault: &Fault) -> Option<(ApiFault, u32, Option<&String>)> {
    let (gate_fault, count, path) = match fault {
        Fault::RateLimit {
            count,
            retry_after_seconds,
            path,
        } => (
            ApiFault::RateLimit {
                retry_after_seconds: *retry_after_seconds,
            },
            count,
            path,
        ),
        Fault::ServerError {
            count,
            status,
            path,
        } => (ApiFault::ServerError { status: *status }, count, path),
        Fault::Unauthorized { count, path } => (ApiFault::Unauthorized, count, path),
        Fault::MalformedBody { count, path } => (ApiFault::MalformedBody, count, path),
        Fault::SlowResponse {
            count,
            delay_ms,
            path,
        } => (
            ApiFault::SlowResponse {
                delay_ms: *delay_ms,
            },
            count,
            path,
        ),
        _ => return None,
    };
    Some((gate_fault, *count, path.as_ref()))
}

/// What is still armed: each entry has its `kind` and `remaining` count (requests, creations or
/// rounds); API faults also their `path`, a held-back round its `heldFrames`.
async fn armed(State(sim): State<Arc<Sim>>) -> Json<Value> {
    let gate = lock(&sim.gate.faults).armed().to_vec();
    let mut armed: Vec<Value> = gate
        .iter()
        .filter_map(|a| serde_json::to_value(a).ok())
        .collect();
    if let Some(refusal) = lock(&sim.channels).refusal() {
        let status = refusal.status.as_u16();
        let remaining = refusal.remaining;
        armed.push(json!({"kind": "refuse_channels", "status": status, "remaining": remaining}));
    }
    armed.extend(lock(&sim.publishing).armed());
    Json(json!({ "armed": armed }))
}

#[cfg(test)]
mod tests;

/// Changes the trunks and Edges, then how many voice arrivals still reach the queues.
fn telephony(
    sim: &Sim,
    change: impl FnOnce(&mut Estate, i64) -> Result<(), &'static str>,
) -> Result<(), &'static str> {
    let mut model = sim.model();
    let mut estate = lock(&sim.telephony);
    change(&mut estate, sim.now_ms())?;
    model.voice_reach = estate.reach();
    Ok(())
}

//! The notification WebSocket (docs/genesys-api.md#the-notification-websocket): one session per
//! socket (heartbeats, ping/pong, socket-side subscribe); `publish` sends the queue events,
//! `socket_faults` the fault frames.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::mpsc;

use crate::genesys::model::{
    HEARTBEAT_MESSAGE, MetadataBody, NotificationFrame, TOPIC_CHANNEL_METADATA,
};

use super::channels::Outbound;
use super::notifications::subscribe;
use crate::sim::Sim;
use crate::sync::lock;

static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

pub(crate) async fn upgrade(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    ws: WebSocketUpgrade,
) -> Response {
    if !lock(&sim.channels).is_valid(&id, sim.now_ms()) {
        return StatusCode::NOT_FOUND.into_response();
    }
    ws.on_upgrade(move |socket| session(sim, id, socket))
}

pub(crate) fn metadata_frame(topic: &str, message: &str) -> String {
    let frame = NotificationFrame {
        topic_name: topic.to_owned(),
        version: None,
        event_body: MetadataBody {
            message: message.to_owned(),
        },
        metadata: None,
    };
    serde_json::to_string(&frame).unwrap_or_default()
}

async fn session(sim: Arc<Sim>, id: String, socket: WebSocket) {
    let conn = NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (mut sink, mut stream) = socket.split();
    if !lock(&sim.channels).attach(&id, conn, tx, sim.now_ms()) {
        let _ = sink.send(Message::Close(None)).await;
        return;
    }
    let period = sim.config.heartbeat_interval;
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    loop {
        let outgoing = tokio::select! {
            () = sim.cancel.cancelled() => Outbound::Close,
            _ = heartbeat.tick() => {
                if !sim.heartbeats.load(Ordering::SeqCst) {
                    continue;
                }
                Outbound::Text(metadata_frame(TOPIC_CHANNEL_METADATA, HEARTBEAT_MESSAGE))
            }
            message = rx.recv() => message.unwrap_or(Outbound::Close),
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => match client_message(&sim, &id, text.as_str()) {
                    Some(reply) => Outbound::Text(reply),
                    None => continue,
                },
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => continue,
            },
        };
        let sent = match outgoing {
            Outbound::Text(text) => sink.send(Message::Text(text.into())).await,
            Outbound::Close => {
                let _ = sink.send(Message::Close(None)).await;
                break;
            }
        };
        if sent.is_err() {
            break;
        }
    }
    lock(&sim.channels).detach(&id, conn);
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ClientMessage {
    message: String,
    #[serde(default)]
    topics: Vec<String>,
    #[serde(default)]
    correlation_id: Option<String>,
}

/// The reply to a client frame; frames we do not understand are ignored, as Genesys does.
fn client_message(sim: &Sim, channel: &str, text: &str) -> Option<String> {
    let message: ClientMessage = serde_json::from_str(text).ok()?;
    match message.message.as_str() {
        "ping" => Some(metadata_frame(TOPIC_CHANNEL_METADATA, "pong")),
        "subscribe" => {
            let result = match subscribe(sim, channel, message.topics, false) {
                Ok(_) => json!({"result": "200", "status": "subscribed"}),
                Err(failure) if failure.status == StatusCode::NOT_FOUND => {
                    json!({"result": "404", "status": "channel not found"})
                }
                Err(_) => json!({"result": "400", "status": "invalid subscription"}),
            };
            let mut result = result;
            result["correlationId"] = json!(message.correlation_id);
            Some(result.to_string())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests;

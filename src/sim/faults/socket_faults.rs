//! What the socket faults send (`socket_closing`, `close_sockets`, `malformed_message`,
//! `oversized_message`): frames and closes aimed at every connected socket, whatever it
//! subscribed to, outside the publish rounds.

use std::sync::Arc;

use serde_json::json;

use crate::genesys::model::{HEARTBEAT_MESSAGE, TOPIC_CHANNEL_METADATA, TOPIC_SOCKET_CLOSING};
use crate::sim::Sim;
use crate::sim::notify::channels::Outbound;
use crate::sim::notify::ws::metadata_frame;
use crate::sim::queues::events::current_users_event;
use crate::sync::lock;

/// The largest `oversized_message` we build, so a typo cannot exhaust memory; also the default
/// message limit of tungstenite-based clients.
pub(crate) const MAX_OVERSIZED_BYTES: u64 = 64 << 20;

/// Sends every connected socket a `socket_closing` notice and closes it after the grace.
pub(crate) fn socket_closing(sim: &Arc<Sim>) {
    let sockets = lock(&sim.channels).sockets();
    let notice = metadata_frame(TOPIC_SOCKET_CLOSING, "Socket is closing for maintenance");
    for (id, conn) in sockets {
        lock(&sim.channels).send_to(&id, conn, Outbound::Text(notice.clone()));
        let sim = sim.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = sim.cancel.cancelled() => {}
                () = tokio::time::sleep(sim.config.socket_closing_grace) => {
                    lock(&sim.channels).send_to(&id, conn, Outbound::Close);
                }
            }
        });
    }
}

/// Sends `message` to every connected socket, whatever it subscribed to.
pub(crate) fn to_every_socket(sim: &Sim, message: &Outbound) {
    let channels = lock(&sim.channels);
    for (id, conn) in channels.sockets() {
        channels.send_to(&id, conn, message.clone());
    }
}

/// Sends every connected socket a frame that is not JSON, then one on an unknown topic.
pub(crate) fn malformed_message(sim: &Sim) {
    to_every_socket(sim, &Outbound::Text("{\"topicName\": not json".to_owned()));
    let unknown = json!({"topicName": "v2.sim.unknown.topic", "eventBody": {"surprise": 1}});
    to_every_socket(sim, &Outbound::Text(unknown.to_string()));
}

/// Sends every connected socket one valid notification of at least `bytes` bytes: the current
/// user observation of the first queue it subscribed (a heartbeat if none), padded with an extra
/// `padding` field, so a client must cope with the size and nothing else.
pub(crate) fn oversized_message(sim: &Sim, bytes: usize) {
    let sockets = lock(&sim.channels).sockets_with_queue();
    for (id, conn, queue) in sockets {
        let frame = match queue.as_deref().and_then(|q| current_users_event(sim, q)) {
            Some(frame) => frame,
            None => metadata_frame(TOPIC_CHANNEL_METADATA, HEARTBEAT_MESSAGE),
        };
        let padded = padded(&frame, bytes);
        lock(&sim.channels).send_to(&id, conn, Outbound::Text(padded));
    }
}

/// `frame` (a JSON object) with a `padding` field that makes it at least `bytes` long.
fn padded(frame: &str, bytes: usize) -> String {
    let Ok(serde_json::Value::Object(mut object)) = serde_json::from_str(frame) else {
        return frame.to_owned();
    };
    object.insert("padding".to_owned(), json!(""));
    let bare = serde_json::Value::Object(object.clone()).to_string().len();
    // NB: each ASCII character in the string adds exactly one byte to the rendered frame.
    object.insert(
        "padding".to_owned(),
        json!("x".repeat(bytes.saturating_sub(bare))),
    );
    serde_json::Value::Object(object).to_string()
}

#[cfg(test)]
mod tests;

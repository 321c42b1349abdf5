//! What the socket faults send (`socket_closing`, `close_sockets`, `malformed_message`,
//! `oversized_message`): frames and closes aimed at every connected socket, whatever it
//! subscribed to, outside the publish rounds.

use std::sync::Arc;

use serde_json::json;

use crate::genesys::model::{HEARTBEAT_MESSAGE, TOPIC_CHANNEL_METADATA, TOPIC_SOCKET_CLOSING};
use crate::genesys::time::{format_interval, from_epoch_millis};

use super::channels::Outbound;
use super::publish::event;
use super::view::{event_user_metrics, queue_view};
use super::ws::metadata_frame;
use super::{Sim, lock};

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

/// The observation event of `queue_id`'s users as they are now, if the queue is live.
fn current_users_event(sim: &Sim, queue_id: &str) -> Option<String> {
    let view = {
        let model = sim.model();
        let q = sim.queue_index(queue_id)?;
        queue_view(&model, q)
    };
    let instant = from_epoch_millis(sim.now_ms())?;
    let metrics = event_user_metrics(&view.users, &sim.presence_ids);
    Some(event(
        queue_id,
        None,
        format_interval(instant, instant),
        metrics,
    ))
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
mod tests {
    use futures_util::SinkExt;
    use serde_json::{Value, json};
    use tokio_tungstenite::tungstenite::Message as WsMessage;

    use crate::genesys::model::queue_observation_topic;
    use crate::sim::Fault;
    use crate::sim::harness::{DEADLINE, Socket, TestSim, channel, connect, next_json, next_text};

    /// The next frame of at least `bytes` bytes, as JSON.
    async fn next_at_least(socket: &mut Socket, bytes: usize) -> Value {
        let waited = tokio::time::timeout(DEADLINE, async {
            loop {
                let text = next_text(socket).await.expect("socket stays open");
                if text.len() >= bytes {
                    return serde_json::from_str::<Value>(&text).expect("valid JSON");
                }
            }
        });
        waited.await.expect("an oversized frame arrives")
    }

    #[tokio::test]
    async fn an_oversized_message_is_a_valid_event_on_a_subscribed_topic_and_the_socket_lives_on() {
        let sim = TestSim::fast().await;
        let token = sim.token().await;
        let subscribed = channel(&sim, &token).await;
        let queue_id = sim.handle.queues[1].id.clone();
        let topic = queue_observation_topic(&queue_id);
        let path = format!(
            "/api/v2/notifications/channels/{}/subscriptions",
            subscribed.id
        );
        let put = sim.put_json(&token, &path, &json!([{"id": topic}])).await;
        assert_eq!(put.status(), 200);
        let mut socket = connect(&subscribed).await;
        let mut bare = connect(&channel(&sim, &token).await).await;

        let bytes = 3 << 20;
        sim.fault(&Fault::OversizedMessage { bytes: 3 << 20 }).await;
        let frame = next_at_least(&mut socket, bytes).await;
        assert_eq!(frame["topicName"], topic.as_str());
        assert_eq!(frame["eventBody"]["group"]["queueId"], queue_id.as_str());
        let interval = frame["eventBody"]["data"][0]["interval"].as_str().unwrap();
        let (from, to) = interval.split_once('/').unwrap();
        assert_eq!(from, to, "an observation: {interval}");
        assert!(frame["eventBody"]["data"][0]["metrics"].is_array());
        assert!(frame["padding"].as_str().unwrap().len() > bytes * 9 / 10);
        let metadata = next_at_least(&mut bare, bytes).await;
        assert_eq!(metadata["topicName"], "channel.metadata");

        socket
            .send(WsMessage::Text(r#"{"message":"ping"}"#.into()))
            .await
            .unwrap();
        tokio::time::timeout(DEADLINE, async {
            loop {
                let frame = next_json(&mut socket).await.expect("socket stays open");
                if frame["eventBody"]["message"] == "pong" {
                    break;
                }
            }
        })
        .await
        .expect("the socket answers a ping after the oversized frame");
        let too_big = sim
            .post_fault(&Fault::OversizedMessage { bytes: 65 << 20 })
            .await;
        assert_eq!(too_big.status(), 400);
        sim.stop().await;
    }
}

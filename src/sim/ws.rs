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
use super::{Sim, lock};

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
mod tests {
    use std::time::Duration;

    use futures_util::{SinkExt, StreamExt};
    use serde_json::{Value, json};
    use tokio_tungstenite::tungstenite::Message as WsMessage;

    use crate::genesys::model::queue_observation_topic;
    use crate::sim::SimConfig;
    use crate::sim::harness::{DEADLINE, TestSim, channel, connect, next_json};

    #[tokio::test]
    async fn a_subscribed_socket_receives_heartbeats_pongs_and_queue_events() {
        let config = SimConfig {
            heartbeat_interval: Duration::from_millis(200),
            ..SimConfig::fast_for_tests(5)
        };
        let sim = TestSim::start(config).await;
        let token = sim.token().await;
        let channel = channel(&sim, &token).await;
        assert!(channel.id.starts_with("streaming-0-"));
        assert!(channel.connect_uri.starts_with("ws://127.0.0.1:"));
        let queue_id = sim.handle.queues[0].id.clone();
        let topic = queue_observation_topic(&queue_id);
        let path = format!(
            "/api/v2/notifications/channels/{}/subscriptions",
            channel.id
        );
        let put = sim.put_json(&token, &path, &json!([{"id": topic}])).await;
        let listing: Value = put.json().await.unwrap();
        assert_eq!(listing["entities"][0]["id"], topic);

        let mut socket = connect(&channel).await;
        socket
            .send(WsMessage::Text(r#"{"message":"ping"}"#.into()))
            .await
            .unwrap();
        let (mut heartbeat, mut pong, mut observation, mut aggregate) =
            (false, false, false, false);
        tokio::time::timeout(DEADLINE, async {
            while !(heartbeat && pong && observation && aggregate) {
                let frame = next_json(&mut socket).await.expect("socket stays open");
                match frame["eventBody"]["message"].as_str() {
                    Some("WebSocket Heartbeat") => heartbeat = true,
                    Some("pong") => pong = true,
                    _ => {}
                }
                if frame["topicName"] == topic.as_str() {
                    assert_eq!(frame["eventBody"]["group"]["queueId"], queue_id.as_str());
                    let interval = frame["eventBody"]["data"][0]["interval"].as_str().unwrap();
                    let (from, to) = interval.split_once('/').unwrap();
                    if from == to {
                        observation = true;
                    } else {
                        assert!(to.ends_with(":00:00.000Z") || to.ends_with(":30:00.000Z"));
                        aggregate = true;
                    }
                }
            }
        })
        .await
        .expect("heartbeat, pong, observation and aggregate frames all arrive");
        sim.stop().await;
    }

    #[tokio::test]
    async fn a_second_socket_drops_the_first_and_serves_subscribe_and_fault_frames() {
        let sim = TestSim::fast().await;
        let token = sim.token().await;
        let channel = channel(&sim, &token).await;
        let mut first = connect(&channel).await;
        let mut second = connect(&channel).await;
        let closed = tokio::time::timeout(DEADLINE, async {
            while next_json(&mut first).await.is_some() {}
        });
        closed.await.expect("the first socket is closed");
        second
            .send(WsMessage::Text(r#"{"message":"ping"}"#.into()))
            .await
            .unwrap();
        let reply = tokio::time::timeout(DEADLINE, next_json(&mut second))
            .await
            .unwrap();
        assert_eq!(reply.unwrap()["eventBody"]["message"], "pong");

        let topic = queue_observation_topic(&sim.handle.queues[1].id);
        let subscribe = json!({"message": "subscribe", "topics": [topic], "correlationId": "c-1"});
        second
            .send(WsMessage::Text(subscribe.to_string().into()))
            .await
            .unwrap();
        let reply = tokio::time::timeout(DEADLINE, async {
            loop {
                let frame = next_json(&mut second).await.expect("socket stays open");
                if frame.get("result").is_some() {
                    return frame;
                }
            }
        });
        let reply = reply.await.unwrap();
        assert_eq!(reply["result"], "200");
        assert_eq!(reply["correlationId"], "c-1");

        sim.control("/sim/faults", json!({"kind": "malformed_message"}))
            .await;
        let garbage = tokio::time::timeout(DEADLINE, async {
            loop {
                match second.next().await {
                    Some(Ok(WsMessage::Text(text))) => {
                        if serde_json::from_str::<Value>(&text).is_err() {
                            return text.to_string();
                        }
                    }
                    Some(Ok(_)) => {}
                    other => panic!("socket ended: {other:?}"),
                }
            }
        });
        assert!(!garbage.await.unwrap().is_empty());
        sim.stop().await;
    }

    #[tokio::test]
    async fn socket_closing_warns_then_closes_and_expired_channels_refuse_sockets() {
        let sim = TestSim::fast().await;
        let token = sim.token().await;
        let channel = channel(&sim, &token).await;
        let mut socket = connect(&channel).await;
        sim.control("/sim/faults", json!({"kind": "socket_closing"}))
            .await;
        tokio::time::timeout(DEADLINE, async {
            loop {
                let frame = next_json(&mut socket).await.expect("notice before close");
                if frame["topicName"] == "v2.system.socket_closing" {
                    break;
                }
            }
            while next_json(&mut socket).await.is_some() {}
        })
        .await
        .expect("socket_closing notice, then close");

        sim.control("/sim/faults", json!({"kind": "expire_channels"}))
            .await;
        let channel_path = format!("/api/v2/notifications/channels/{}", channel.id);
        assert_eq!(sim.head(&token, &channel_path).await.status(), 404);
        assert!(
            tokio_tungstenite::connect_async(channel.connect_uri.as_str())
                .await
                .is_err()
        );
        sim.stop().await;
    }
}

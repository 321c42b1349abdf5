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
    let (mut heartbeat, mut pong, mut observation, mut aggregate) = (false, false, false, false);
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

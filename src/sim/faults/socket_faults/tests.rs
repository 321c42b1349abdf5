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

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

use crate::genesys::model::{Channel, queue_observation_topic};
use crate::genesys::time::parse_instant;
use crate::sim::harness::{DEADLINE, Socket, TestSim, channel, connect, next_json};
use crate::sim::{Fault, SimConfig};

/// Reads `socket` until it closes: when, and whether a `socket_closing` notice came first.
async fn until_closed(socket: &mut Socket) -> (DateTime<Utc>, bool) {
    let mut warned = false;
    let closed = tokio::time::timeout(DEADLINE, async {
        while let Some(frame) = next_json(socket).await {
            warned |= frame["topicName"] == "v2.system.socket_closing";
        }
    });
    closed.await.expect("the socket is closed");
    (Utc::now(), warned)
}

/// Asserts the channel is gone as Genesys has it: HEAD and subscriptions 404, no socket.
async fn assert_gone(sim: &TestSim, token: &str, channel: &Channel) {
    let path = format!("/api/v2/notifications/channels/{}", channel.id);
    assert_eq!(sim.head(token, &path).await.status(), 404);
    let topic = json!([{"id": queue_observation_topic(&sim.handle.queues[0].id)}]);
    let subscriptions = format!("{path}/subscriptions");
    assert_eq!(
        sim.put_json(token, &subscriptions, &topic).await.status(),
        404
    );
    let socket = tokio_tungstenite::connect_async(channel.connect_uri.as_str()).await;
    assert!(socket.is_err(), "a socket to an expired channel is refused");
}

/// NB: a sweep every 20 ms keeps the close within ~100 ms of expiry; the bound leaves room
/// for a loaded machine.
const LATE: TimeDelta = TimeDelta::milliseconds(150);

#[tokio::test]
async fn a_channel_past_its_ttl_closes_its_socket_without_notice_and_is_gone() {
    let ttl = TimeDelta::milliseconds(400);
    let sim = TestSim::start(SimConfig {
        channel_ttl: Duration::from_millis(400),
        ..SimConfig::fast_for_tests(12)
    })
    .await;
    let token = sim.token().await;
    let before = Utc::now();
    let channel = channel(&sim, &token).await;
    let after = Utc::now();
    let expires = parse_instant(channel.expires.as_deref().unwrap()).unwrap();
    let margin = TimeDelta::milliseconds(1);
    assert!(
        before + ttl - margin <= expires && expires <= after + ttl,
        "{expires}"
    );
    let mut socket = connect(&channel).await;
    let (closed, warned) = until_closed(&mut socket).await;
    assert!(!warned, "no socket_closing before an expiry");
    assert!(
        closed >= expires - margin,
        "closed at {closed}, expires {expires}"
    );
    assert!(
        closed <= expires + LATE,
        "closed at {closed}, expires {expires}"
    );
    assert_gone(&sim, &token, &channel).await;
    sim.stop().await;
}

#[tokio::test]
async fn shortened_channels_close_silently_long_before_the_expires_they_were_given() {
    let sim = TestSim::fast().await;
    let token = sim.token().await;
    let watched = channel(&sim, &token).await;
    let topic = json!([{"id": queue_observation_topic(&sim.handle.queues[0].id)}]);
    let path = format!(
        "/api/v2/notifications/channels/{}/subscriptions",
        watched.id
    );
    assert_eq!(sim.put_json(&token, &path, &topic).await.status(), 200);
    let idle = channel(&sim, &token).await;
    let mut socket = connect(&watched).await;

    let armed = Utc::now();
    sim.fault(&Fault::ShortenChannels { ttl_ms: 300 }).await;
    let head = format!("/api/v2/notifications/channels/{}", idle.id);
    assert_eq!(sim.head(&token, &head).await.status(), 200, "not yet");
    let (closed, warned) = until_closed(&mut socket).await;
    assert!(!warned, "no socket_closing before the silent close");
    let lived = closed - armed;
    let ttl = TimeDelta::milliseconds(300);
    assert!(
        lived >= ttl - TimeDelta::milliseconds(1),
        "closed after {lived}"
    );
    assert!(lived <= ttl + LATE, "closed after {lived}");
    let promised = parse_instant(watched.expires.as_deref().unwrap()).unwrap();
    assert!(
        promised - closed > TimeDelta::hours(23),
        "expires said {promised}"
    );
    assert_gone(&sim, &token, &watched).await;
    assert_gone(&sim, &token, &idle).await;
    sim.stop().await;
}

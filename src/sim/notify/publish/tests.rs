use std::collections::{HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::*;
use crate::genesys::model::queue_observation_topic;
use crate::genesys::time::parse_interval;
use crate::sim::harness::{
    DEADLINE, Socket, TestSim, channel, connect, idle, next_text, truth_now,
};
use crate::sim::{Fault, SimConfig};

#[tokio::test]
async fn a_cancelled_publisher_sends_what_it_held_and_leaves_nothing_held() {
    let sim = Arc::new(idle(SimConfig::fast_for_tests(5)));
    lock(&sim.publishing).reorder(1);
    let mut publisher = Publisher::new(crate::sim::round_parts());
    publisher.publish_once(&sim);
    let armed = lock(&sim.publishing).armed();
    assert!(
        armed[0]["heldFrames"].as_u64() > Some(0),
        "every group is new: {armed:?}"
    );
    let cancel = CancellationToken::new();
    cancel.cancel();
    publisher.run(sim.clone(), cancel).await;
    assert!(lock(&sim.publishing).armed().is_empty());
}

#[test]
fn round_instants_strictly_increase_even_on_a_stopped_clock() {
    let config = SimConfig {
        clock: crate::vocabulary::clock::Clock::scaled(0.0),
        ..SimConfig::fast_for_tests(6)
    };
    let sim = idle(config);
    let mut publisher = Publisher::new(crate::sim::round_parts());
    publisher.publish_once(&sim);
    let first = publisher.last_instant;
    publisher.publish_once(&sim);
    assert_eq!(publisher.last_instant, first + 1);
}

/// A socket subscribed to every queue, once its first queue event has arrived.
async fn watching_every_queue(sim: &TestSim) -> Socket {
    let token = sim.token().await;
    let channel = channel(sim, &token).await;
    let topics: Vec<Value> = sim
        .handle
        .queues
        .iter()
        .map(|q| json!({"id": queue_observation_topic(&q.id)}))
        .collect();
    let path = format!(
        "/api/v2/notifications/channels/{}/subscriptions",
        channel.id
    );
    let put = sim.put_json(&token, &path, &json!(topics)).await;
    assert_eq!(put.status(), 200);
    let mut socket = connect(&channel).await;
    next_queue_event(&mut socket).await;
    socket
}

/// The next queue topic event, as its text.
async fn next_queue_event(socket: &mut Socket) -> String {
    let waited = tokio::time::timeout(DEADLINE, async {
        loop {
            let text = next_text(socket).await.expect("socket stays open");
            if text.contains(r#""topicName":"v2.analytics.queues."#) {
                return text;
            }
        }
    });
    waited.await.expect("queue events keep coming")
}

/// An observation's group (queue id and media type, or users) and instant.
fn observed(text: &str) -> Option<(String, DateTime<Utc>)> {
    let frame: Value = serde_json::from_str(text).unwrap();
    let body = &frame["eventBody"];
    let (from, to) = parse_interval(body["data"][0]["interval"].as_str()?)?;
    let group = &body["group"];
    let media = group["mediaType"].as_str().unwrap_or("users");
    (from == to).then(|| (format!("{}/{media}", group["queueId"]), from))
}

/// The simulated now once `GET /sim/faults` no longer lists `kind`: every later observation
/// comes from a round the fault did not touch.
async fn once_done(sim: &TestSim, kind: &str) -> DateTime<Utc> {
    let waited = tokio::time::timeout(DEADLINE, async {
        loop {
            let armed = sim.get_json("/sim/faults").await;
            if armed["armed"]
                .as_array()
                .unwrap()
                .iter()
                .all(|a| a["kind"] != kind)
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    waited.await.expect("the fault is used up");
    truth_now(&sim.truth().await)
}

/// Queue events until `after` more have arrived past the first observation later than
/// `boundary`, and the index of that observation.
async fn events_past(socket: &mut Socket, boundary: DateTime<Utc>) -> (Vec<String>, usize) {
    let mut events = Vec::new();
    let mut past = None;
    while past.is_none_or(|at| events.len() < at + 30) {
        let text = next_queue_event(socket).await;
        if past.is_none() && observed(&text).is_some_and(|(_, at)| at > boundary) {
            past = Some(events.len());
        }
        events.push(text);
    }
    (events, past.unwrap_or_default())
}

#[tokio::test]
async fn duplicated_rounds_reach_the_socket_as_pairs_and_then_stop() {
    let sim = TestSim::fast().await;
    let mut socket = watching_every_queue(&sim).await;
    sim.fault(&Fault::DuplicateEvents { rounds: 3 }).await;
    let boundary = once_done(&sim, "duplicate_events").await;
    let (events, past) = events_past(&mut socket, boundary).await;
    let runs = events.chunk_by(|a, b| a == b).map(<[String]>::len);
    let runs: Vec<usize> = runs.collect();
    assert!(
        runs.iter().all(|n| *n <= 2),
        "never more than twice: {runs:?}"
    );
    assert!(runs.contains(&2), "some events came twice in a row");
    let later = &events[past..];
    assert!(later.chunk_by(|a, b| a == b).all(|run| run.len() == 1));
    sim.stop().await;
}

#[tokio::test]
async fn a_held_round_arrives_after_a_newer_one_and_then_order_returns() {
    let sim = TestSim::fast().await;
    let mut socket = watching_every_queue(&sim).await;
    sim.fault(&Fault::ReorderEvents { rounds: 1 }).await;
    let boundary = once_done(&sim, "reorder_events").await;
    let (events, past) = events_past(&mut socket, boundary).await;
    let mut newest: HashMap<String, DateTime<Utc>> = HashMap::new();
    let mut stale = Vec::new();
    for (index, text) in events.iter().enumerate() {
        let Some((group, at)) = observed(text) else {
            continue;
        };
        match newest.get(&group) {
            Some(seen) if *seen >= at => stale.push((index, at)),
            _ => {
                newest.insert(group, at);
            }
        }
    }
    assert!(!stale.is_empty(), "an older observation after a newer one");
    let instants: HashSet<_> = stale.iter().map(|(_, at)| *at).collect();
    assert_eq!(instants.len(), 1, "one held round: {stale:?}");
    assert!(stale.iter().all(|(index, _)| *index < past), "{stale:?}");
    sim.stop().await;
}

use std::time::Duration;

use serde_json::{Value, json};

use super::*;
use crate::genesys::model::QueueEntityListing;
use crate::sim::SimConfig;
use crate::sim::harness::{
    DEADLINE, TestSim, channel, connect, idle, live_queues, next_json, total_offered, truth_now,
};

fn truth_queue<'a>(truth: &'a Value, id: &str) -> Option<&'a Value> {
    let queues = truth["queues"].as_array().unwrap();
    queues.iter().find(|q| q["id"] == id)
}

fn offered_in(queue: &Value) -> u64 {
    let totals = queue["totals"].as_object().unwrap();
    let counts = totals.values().map(|m| m["nOffered"]["count"].as_u64());
    counts.map(Option::unwrap_or_default).sum()
}

/// The truth once `id` has offered conversations.
async fn once_offering(sim: &TestSim, id: &str) -> Value {
    let waited = tokio::time::timeout(DEADLINE, async {
        loop {
            let truth = sim.truth().await;
            if truth_queue(&truth, id).is_some_and(|q| offered_in(q) > 0) {
                return truth;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    waited.await.expect("the queue offers conversations")
}

async fn add_queue(sim: &TestSim, body: Value) -> reqwest::Response {
    let request = sim.http.post(sim.url("/sim/queues")).json(&body);
    request.send().await.unwrap()
}

#[test]
fn queues_added_and_removed_keep_the_directory_and_the_model_in_step() {
    let sim = idle(SimConfig::fast_for_tests(2));
    let held = NewQueue {
        held: true,
        ..NewQueue::default()
    };
    let added = sim.add_queue(held).unwrap();
    assert_eq!(sim.queue_index(&added.id), Some(3));
    assert_eq!(sim.model().queues.len(), 4);
    let first = live_queues(&sim)[0].id.clone();
    assert!(sim.remove_queue(&first));
    assert!(!sim.remove_queue(&first));
    assert!(!sim.release_queue(&first));
    assert!(sim.release_queue(&added.id));
    let again = sim.add_queue(NewQueue::default()).unwrap();
    assert_eq!(sim.queue_index(&again.id), Some(4));
    assert_eq!(sim.model().queues.len(), 5);
    assert_eq!(live_queues(&sim).len(), 4);
}

#[tokio::test]
async fn a_held_queue_added_at_run_time_is_served_everywhere_and_quiet_until_released() {
    let sim = TestSim::fast().await;
    let token = sim.token().await;
    let response = add_queue(&sim, json!({"name": "Queue X", "held": true})).await;
    assert_eq!(response.status(), 200);
    let queue: Queue = response.json().await.unwrap();
    assert_eq!(
        (queue.name.as_str(), queue.member_count),
        ("Queue X", Some(6))
    );
    assert!(queue.division.is_some());
    let path = format!("/api/v2/routing/queues/{}", queue.id);
    let by_id: Queue = sim.get(&token, &path).await.json().await.unwrap();
    assert_eq!(by_id, queue);
    let named = "/api/v2/routing/queues?name=Queue%20X";
    let listing: QueueEntityListing = sim.get(&token, named).await.json().await.unwrap();
    assert_eq!(listing.entities, std::slice::from_ref(&queue));

    let channel = channel(&sim, &token).await;
    let topic = queue_observation_topic(&queue.id);
    let path = format!(
        "/api/v2/notifications/channels/{}/subscriptions",
        channel.id
    );
    let put = sim.put_json(&token, &path, &json!([{"id": topic}])).await;
    assert_eq!(put.status(), 200);
    let mut socket = connect(&channel).await;

    let since = truth_now(&sim.truth().await);
    let truth = tokio::time::timeout(DEADLINE, async {
        loop {
            let truth = sim.truth().await;
            if truth_now(&truth) - since >= chrono::Duration::seconds(1) {
                return truth;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    let truth = truth.await.unwrap();
    let held = truth_queue(&truth, &queue.id).expect("the truth lists the added queue");
    assert_eq!(held["members"], 6);
    assert_eq!(offered_in(held), 0, "held for a second of busy traffic");
    assert!(total_offered(&truth) > 0, "while the other queues are busy");

    sim.control(&format!("/sim/queues/{}/release", queue.id), json!({}))
        .await;
    once_offering(&sim, &queue.id).await;
    let totals = tokio::time::timeout(DEADLINE, async {
        loop {
            let frame = next_json(&mut socket).await.expect("socket stays open");
            let interval = frame["eventBody"]["data"][0]["interval"].as_str();
            let aggregate = interval
                .and_then(|i| i.split_once('/'))
                .is_some_and(|(from, to)| from != to);
            if frame["topicName"] == topic.as_str() && aggregate {
                return frame;
            }
        }
    });
    let totals = totals.await.expect("running totals of the released queue");
    assert_eq!(totals["eventBody"]["group"]["queueId"], queue.id.as_str());
    sim.stop().await;
}

#[tokio::test]
async fn a_removed_queue_is_gone_from_routing_truth_analytics_and_topics() {
    let sim = TestSim::fast().await;
    let token = sim.token().await;
    let id = sim.handle.queues[1].id.clone();
    once_offering(&sim, &id).await;
    let remove = |id: String| sim.http.delete(sim.url(&format!("/sim/queues/{id}")));
    assert_eq!(remove(id.clone()).send().await.unwrap().status(), 204);

    let path = format!("/api/v2/routing/queues/{id}");
    assert_eq!(sim.get(&token, &path).await.status(), 404);
    let all = "/api/v2/routing/queues?pageSize=100";
    let listing: QueueEntityListing = sim.get(&token, all).await.json().await.unwrap();
    assert_eq!(listing.total, 2);
    assert!(listing.entities.iter().all(|q| q.id != id));
    let truth = sim.truth().await;
    assert!(truth_queue(&truth, &id).is_none());
    assert_eq!(truth["queues"].as_array().unwrap().len(), 2);

    let filter = json!({"type": "or", "predicates": [
            {"type": "dimension", "dimension": "queueId", "value": id}]});
    let now = truth_now(&truth);
    let window = crate::genesys::time::format_interval(
        now - chrono::Duration::hours(1),
        now + chrono::Duration::hours(1),
    );
    let aggregates = json!({"interval": window, "groupBy": ["queueId"],
                                "filter": filter, "metrics": ["nOffered"]});
    let path = "/api/v2/analytics/conversations/aggregates/query";
    let response = sim.post_json(&token, path, &aggregates).await;
    assert_eq!(response.text().await.unwrap(), "{}");
    let observations = json!({"filter": filter, "metrics": ["oWaiting"]});
    let path = "/api/v2/analytics/queues/observations/query";
    let response: Value = sim
        .post_json(&token, path, &observations)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(response["results"], json!([]));
    let channel = channel(&sim, &token).await;
    let path = format!(
        "/api/v2/notifications/channels/{}/subscriptions",
        channel.id
    );
    let topic = json!([{"id": queue_observation_topic(&id)}]);
    assert_eq!(sim.put_json(&token, &path, &topic).await.status(), 400);

    assert_eq!(remove(id.clone()).send().await.unwrap().status(), 404);
    let release = sim.http.post(sim.url(&format!("/sim/queues/{id}/release")));
    assert_eq!(release.send().await.unwrap().status(), 404);
    let unknown_division = add_queue(&sim, json!({"divisionId": "nope"})).await;
    assert_eq!(unknown_division.status(), 400);
    let misspelt = add_queue(&sim, json!({"hold": true})).await;
    assert_eq!(misspelt.status(), 400);
    sim.stop().await;
}

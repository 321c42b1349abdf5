use serde_json::{Value, json};

use crate::genesys::model::{Channel, queue_observation_topic};
use crate::sim::harness::TestSim;

#[tokio::test]
async fn subscriptions_are_replaced_added_listed_and_limited() {
    let sim = TestSim::fast().await;
    let token = sim.token().await;
    let created = sim
        .post_json(&token, "/api/v2/notifications/channels", &json!({}))
        .await;
    let channel: Channel = created.json().await.unwrap();
    let path = format!(
        "/api/v2/notifications/channels/{}/subscriptions",
        channel.id
    );
    let topic = |i: usize| json!({"id": queue_observation_topic(&sim.handle.queues[i].id)});

    let put = sim.put_json(&token, &path, &json!([topic(0)])).await;
    assert_eq!(put.status(), 200);
    let post = sim.post_json(&token, &path, &json!([topic(1)])).await;
    let listing: Value = post.json().await.unwrap();
    assert_eq!(listing["entities"].as_array().unwrap().len(), 2);
    let get: Value = sim.get(&token, &path).await.json().await.unwrap();
    assert_eq!(get, listing);

    let too_many: Vec<Value> = (0..1001).map(|_| topic(0)).collect();
    let put = sim.put_json(&token, &path, &json!(too_many)).await;
    assert_eq!(put.status(), 400);
    let unknown = sim
        .put_json(&token, &path, &json!([{"id": "v2.nope"}]))
        .await;
    assert_eq!(unknown.status(), 400);

    let deleted: Value = sim.delete(&token, &path).await.json().await.unwrap();
    assert_eq!(deleted["entities"], json!([]));

    let missing = "/api/v2/notifications/channels/streaming-0-nope/subscriptions";
    let missing = sim.put_json(&token, missing, &json!([topic(0)])).await;
    assert_eq!(missing.status(), 404);
    let channel_path = format!("/api/v2/notifications/channels/{}", channel.id);
    assert_eq!(sim.head(&token, &channel_path).await.status(), 200);
    sim.stop().await;
}

#[tokio::test]
async fn a_21st_channel_replaces_the_oldest_unconnected_one() {
    let sim = TestSim::fast().await;
    let token = sim.token().await;
    let mut ids = Vec::new();
    for _ in 0..21 {
        let created = sim
            .post_json(&token, "/api/v2/notifications/channels", &json!({}))
            .await;
        ids.push(created.json::<Channel>().await.unwrap().id);
    }
    let head = async |id: &String| {
        let path = format!("/api/v2/notifications/channels/{id}");
        sim.head(&token, &path).await.status().as_u16()
    };
    assert_eq!(head(&ids[0]).await, 404);
    assert_eq!(head(&ids[1]).await, 200);
    assert_eq!(head(&ids[20]).await, 200);
    sim.stop().await;
}

use serde_json::{Value, json};

use crate::sim::harness::TestSim;

const PATH: &str = "/api/v2/analytics/users/aggregates/query";

fn users(ids: &[String]) -> Value {
    let predicates: Vec<Value> = (ids.iter())
        .map(|id| json!({"type": "dimension", "dimension": "userId", "value": id}))
        .collect();
    json!({"type": "or", "predicates": predicates})
}

#[tokio::test]
async fn queries_genesys_would_refuse_get_the_error_envelope() {
    let sim = TestSim::fast().await;
    let token = sim.token().await;
    let one = vec!["u".to_owned()];
    let many: Vec<String> = (0..101).map(|i| format!("u{i}")).collect();
    let query = |group_by: Value, ids: &[String], metrics: Value| {
        json!({"interval": "2026-11-25T08:00:00.000Z/2026-11-25T09:00:00.000Z",
                   "granularity": "PT30M", "groupBy": group_by, "filter": users(ids),
                   "metrics": metrics})
    };
    let time = json!(["tAgentRoutingStatus"]);
    for (what, body) in [
        (
            "grouped by queue",
            query(json!(["queueId"]), &one, time.clone()),
        ),
        ("101 users", query(json!(["userId"]), &many, time.clone())),
        (
            "a conversation metric",
            query(json!(["userId"]), &one, json!(["nOffered"])),
        ),
    ] {
        let response = sim.post_json(&token, PATH, &body).await;
        assert_eq!(response.status(), 400, "{what}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "bad.request", "{what}");
    }
    let fine = sim
        .post_json(&token, PATH, &query(json!(["userId"]), &one, time))
        .await;
    assert_eq!(fine.status(), 200);
    sim.stop().await;
}

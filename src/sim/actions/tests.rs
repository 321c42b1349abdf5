use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::genesys::model::{ActionAggregateQueryResponse, ActionEntityListing};
use crate::genesys::time::{bucket_start, format_interval};
use crate::sim::Fault;
use crate::sim::harness::TestSim;

const AGGREGATES: &str = "/api/v2/analytics/actions/aggregates/query";

/// (actionId, responseStatus, errorType) → (count, sum).
type Executions = BTreeMap<(String, String, Option<String>), (u64, u64)>;

fn truth_executions(truth: &Value) -> Executions {
    let mut out = Executions::new();
    for action in truth["actions"].as_array().unwrap() {
        for result in action["executions"].as_array().unwrap() {
            let key = (
                action["action"]["id"].as_str().unwrap().to_owned(),
                result["responseStatus"].as_str().unwrap().to_owned(),
                result["errorType"].as_str().map(str::to_owned),
            );
            let (count, sum) = (result["count"].as_u64(), result["sum"].as_u64());
            out.insert(key, (count.unwrap(), sum.unwrap()));
        }
    }
    out
}

fn response_executions(body: &ActionAggregateQueryResponse) -> Executions {
    let mut out = Executions::new();
    for result in &body.results {
        let key = (
            result.group["actionId"].clone(),
            result.group["responseStatus"].clone(),
            result.group.get("errorType").cloned(),
        );
        let entry = out.entry(key).or_default();
        for metric in result.data.iter().flat_map(|d| &d.metrics) {
            assert_eq!(metric.metric.as_str(), "tTotalExecution");
            entry.0 += metric.stats.count.unwrap_or(0);
            entry.1 += metric.stats.sum.unwrap_or(0.0) as u64;
        }
    }
    out
}

async fn query(sim: &TestSim, token: &str, ids: &[String]) -> ActionAggregateQueryResponse {
    let predicates: Vec<Value> = (ids.iter())
        .map(|id| json!({"dimension": "actionId", "value": id}))
        .collect();
    let hour = Duration::from_secs(3600);
    let start = bucket_start(chrono::Utc::now(), hour) - chrono::Duration::hours(1);
    let interval = format_interval(start, start + chrono::Duration::hours(3));
    let body = json!({"interval": interval, "granularity": "PT1H",
        "groupBy": ["actionId", "responseStatus", "errorType"],
        "filter": {"type": "or", "predicates": predicates}, "metrics": ["tTotalExecution"]});
    let response = sim.post_json(token, AGGREGATES, &body).await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn executions_add_up_to_the_truth_and_a_failing_action_answers_its_status() {
    let (sim, token) = TestSim::paused_with_history(11).await;
    let listing: ActionEntityListing = (sim.get(&token, "/api/v2/integrations/actions").await)
        .json()
        .await
        .unwrap();
    let ids: Vec<String> = listing.entities.iter().map(|a| a.id.clone()).collect();
    assert_eq!(ids.len(), 3);
    let categories: Vec<&str> = listing
        .entities
        .iter()
        .map(|a| a.category.as_str())
        .collect();
    assert_eq!(
        categories,
        ["Customer CRM", "Payments gateway", "Customer CRM"]
    );
    let one = sim
        .get(
            &token,
            &format!("/api/v2/integrations/actions?ids={}", ids[1]),
        )
        .await;
    let one: ActionEntityListing = one.json().await.unwrap();
    assert_eq!(one.entities, [listing.entities[1].clone()]);
    let many = (0..51)
        .map(|n| format!("a{n}"))
        .collect::<Vec<_>>()
        .join(",");
    let refused = sim
        .get(&token, &format!("/api/v2/integrations/actions?ids={many}"))
        .await;
    assert_eq!(refused.status(), 400, "at most 50 ids");

    let truth = sim.settled_truth().await;
    let before = truth_executions(&truth);
    assert!(
        before.keys().any(|(_, status, _)| status == "200"),
        "{before:?}"
    );
    assert_eq!(
        response_executions(&query(&sim, &token, &ids).await),
        before
    );

    let failing = Fault::DataActionFailing {
        action: "Take payment".into(),
        status: 504,
        restore: false,
    };
    sim.fault(&failing).await;
    sim.control("/sim/traffic/resume", json!({})).await;
    let truth = tokio::time::timeout(crate::sim::harness::DEADLINE, async {
        loop {
            let truth = sim.truth().await;
            let timeouts = truth_executions(&truth).into_iter().find(|(key, _)| {
                key.0 == ids[1] && key.1 == "504" && key.2.as_deref() == Some("TIMEOUT")
            });
            if timeouts.is_some() {
                return truth;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the failing action is called");
    let after = truth_executions(&truth);
    let ok_before = before.get(&(ids[1].clone(), "200".into(), None));
    assert_eq!(
        after.get(&(ids[1].clone(), "200".into(), None)),
        ok_before,
        "none succeeds"
    );
    sim.control("/sim/traffic/pause", json!({})).await;
    let settled = truth_executions(&sim.settled_truth().await);
    assert_eq!(
        response_executions(&query(&sim, &token, &ids).await),
        settled
    );
    let refused = json!({"interval": "2026-01-01T00:00:00Z/2026-01-01T01:00:00Z",
        "groupBy": ["actionId"], "metrics": ["nFlow"],
        "filter": {"type": "or", "predicates": [{"dimension": "actionId", "value": ids[0]}]}});
    assert_eq!(
        sim.post_json(&token, AGGREGATES, &refused).await.status(),
        400
    );
    sim.stop().await;
}

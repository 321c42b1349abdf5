use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use crate::genesys::model::{FlowAggregateQueryResponse, FlowEntityListing, FlowPartListing};
use crate::genesys::time::{bucket_start, format_interval};
use crate::sim::harness::TestSim;

const AGGREGATES: &str = "/api/v2/analytics/flows/aggregates/query";

/// (group, metric) → count.
type Counts = BTreeMap<(BTreeMap<String, String>, String), u64>;

/// What the truth says `group_by` and `metrics` add up to.
fn truth_counts(truth: &Value, group_by: &[&str], metrics: &[&str]) -> Counts {
    let mut counts = Counts::new();
    for flow in truth["flows"]["flows"].as_array().unwrap() {
        for group in flow["groups"].as_array().unwrap() {
            let id = flow["flow"]["id"].as_str().unwrap().to_owned();
            let mut key = BTreeMap::from([("flowId".to_owned(), id)]);
            for (dimension, value) in group["group"].as_object().unwrap() {
                if group_by.contains(&dimension.as_str()) {
                    key.insert(dimension.clone(), value.as_str().unwrap().to_owned());
                }
            }
            for metric in metrics {
                if let Some(count) = group["metrics"][metric]["count"].as_u64() {
                    *counts
                        .entry((key.clone(), (*metric).to_owned()))
                        .or_default() += count;
                }
            }
        }
    }
    counts
}

fn response_counts(body: &FlowAggregateQueryResponse) -> Counts {
    let mut counts = Counts::new();
    for result in &body.results {
        for metric in result.data.iter().flat_map(|d| &d.metrics) {
            let key = (result.group.clone(), metric.metric.as_str().to_owned());
            *counts.entry(key).or_default() += metric.stats.count.unwrap_or(0);
        }
    }
    counts
}

async fn paused_with_history() -> (TestSim, String, Value) {
    let (sim, token) = TestSim::paused_with_history(8).await;
    let truth = sim.settled_truth().await;
    (sim, token, truth)
}

#[tokio::test]
async fn the_listings_name_every_flow_outcome_and_milestone_and_filter_as_genesys_does() {
    let (sim, token, truth) = paused_with_history().await;
    let listing: FlowEntityListing = (sim.get(&token, "/api/v2/flows?pageSize=100").await)
        .json()
        .await
        .unwrap();
    let named: Vec<&Value> = truth["flows"]["flows"].as_array().unwrap().iter().collect();
    assert_eq!(listing.entities.len(), named.len());
    let types: Vec<&str> = listing
        .entities
        .iter()
        .map(|f| f.flow_type.as_str())
        .collect();
    assert_eq!(
        types,
        [
            "INBOUNDCALL",
            "INBOUNDCALL",
            "INBOUNDCHAT",
            "INQUEUECALL",
            "BOT"
        ]
    );
    let path = "/api/v2/flows?type=inboundcall,inboundchat&pageSize=2&pageNumber=2";
    let inbound: FlowEntityListing = sim.get(&token, path).await.json().await.unwrap();
    assert_eq!((inbound.total, inbound.entities.len()), (3, 1));
    let upper = sim.get(&token, "/api/v2/flows?type=INBOUNDCALL").await;
    assert_eq!(upper.status(), 400, "the type parameter is lower case");
    for (path, want) in [("outcomes", 3), ("milestones", 4)] {
        let parts: FlowPartListing = (sim.get(&token, &format!("/api/v2/flows/{path}")).await)
            .json()
            .await
            .unwrap();
        assert_eq!(parts.entities.len(), want, "{path}");
        assert_eq!(json!(parts.entities), truth["flows"][path], "{path}");
    }
    sim.stop().await;
}

#[tokio::test]
async fn flow_aggregates_add_up_to_the_truth_by_exit_outcome_and_milestone() {
    let (sim, token, truth) = paused_with_history().await;
    let ids: Vec<Value> = (truth["flows"]["flows"].as_array().unwrap().iter())
        .map(|f| json!({"dimension": "flowId", "value": f["flow"]["id"]}))
        .collect();
    let hour = Duration::from_secs(3600);
    let start = bucket_start(chrono::Utc::now(), hour) - chrono::Duration::hours(1);
    let interval = format_interval(start, start + chrono::Duration::hours(3));
    let cases: [(&[&str], &[&str]); 3] = [
        (
            &["flowId", "exitReason", "transferType"],
            &["nFlow", "tFlow", "tFlowExit", "tFlowDisconnect"],
        ),
        (
            &["flowId", "flowOutcomeId", "flowOutcomeValue"],
            &["nFlowOutcome", "nFlowOutcomeFailed", "tFlowOutcome"],
        ),
        (&["flowId", "flowMilestoneId"], &["nFlowMilestone"]),
    ];
    for (group_by, metrics) in cases {
        let query = json!({"interval": interval, "granularity": "PT1H", "groupBy": group_by,
            "filter": {"type": "or", "predicates": ids}, "metrics": metrics});
        let response = sim.post_json(&token, AGGREGATES, &query).await;
        assert_eq!(response.status(), 200, "{group_by:?}");
        let body: FlowAggregateQueryResponse = response.json().await.unwrap();
        let want = truth_counts(&truth, group_by, metrics);
        assert!(
            want.values().all(|n| *n > 0) && !want.is_empty(),
            "{want:?}"
        );
        assert_eq!(response_counts(&body), want, "{group_by:?}");
    }
    let exits = truth_counts(&truth, &["exitReason"], &["tFlowExit", "tFlowDisconnect"]);
    let reasons: Vec<&str> = exits
        .keys()
        .filter_map(|(g, _)| g.get("exitReason"))
        .map(String::as_str)
        .collect();
    for reason in ["TRANSFER", "FLOW_DISCONNECT", "DISCONNECT"] {
        assert!(reasons.contains(&reason), "{reason} in {reasons:?}");
    }
    for refused in [
        json!({"interval": interval, "groupBy": ["exitReason"], "metrics": ["nFlow"],
            "filter": {"type": "or", "predicates": ids}}),
        json!({"interval": interval, "groupBy": ["flowId"], "metrics": ["nOffered"],
            "filter": {"type": "or", "predicates": ids}}),
        json!({"interval": interval, "groupBy": ["flowId"], "metrics": ["nFlow"]}),
    ] {
        let response = sim.post_json(&token, AGGREGATES, &refused).await;
        assert_eq!(response.status(), 400, "{refused}");
    }
    sim.stop().await;
}

#[tokio::test]
async fn flow_observations_count_the_conversations_in_each_flow_now() {
    let (sim, token, truth) = paused_with_history().await;
    let flows = truth["flows"]["flows"].as_array().unwrap();
    let ids: Vec<Value> = (flows.iter())
        .map(|f| json!({"dimension": "flowId", "value": f["flow"]["id"]}))
        .collect();
    let query = json!({"filter": {"type": "or", "predicates": ids}, "metrics": ["oFlow"]});
    let path = "/api/v2/analytics/flows/observations/query";
    let response = sim.post_json(&token, path, &query).await;
    assert_eq!(response.status(), 200);
    let body: crate::genesys::model::FlowObservationQueryResponse = response.json().await.unwrap();
    let got: BTreeMap<String, u64> = (body.results.iter())
        .map(|r| (r.group["flowId"].clone(), r.data[0].stats.count.unwrap()))
        .collect();
    let want: BTreeMap<String, u64> = (flows.iter())
        .map(|f| {
            (
                f["flow"]["id"].as_str().unwrap().to_owned(),
                f["inFlow"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(got, want);
    assert!(
        want.values().sum::<u64>() > 0,
        "callers are in the flows: {want:?}"
    );
    let mut refused = query.clone();
    refused["metrics"] = json!(["oWaiting"]);
    assert_eq!(sim.post_json(&token, path, &refused).await.status(), 400);
    sim.stop().await;
}

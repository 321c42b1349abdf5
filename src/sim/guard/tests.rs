use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::sim::harness::{DEADLINE, TestSim};

const QUEUES: &str = "/api/v2/routing/queues";
const OBSERVATIONS: &str = "/api/v2/analytics/queues/observations/query";

fn observations_query(sim: &TestSim) -> Value {
    let id = &sim.handle.queues[0].id;
    json!({"filter": {"type": "or", "predicates": [
                   {"type": "dimension", "dimension": "queueId", "value": id}]},
               "metrics": ["oWaiting"]})
}

async fn armed(sim: &TestSim) -> Vec<Value> {
    let armed = sim.get_json("/sim/faults").await;
    armed["armed"].as_array().unwrap().clone()
}

#[tokio::test]
async fn api_requires_a_valid_token_and_rejects_it_after_revocation() {
    let sim = TestSim::fast().await;
    let queues = "/api/v2/routing/queues";
    let anonymous = sim.get_anonymously(queues).await;
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers().contains_key("inin-correlation-id"));
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["code"], "authentication.required");
    assert_eq!(body["status"], 401);
    assert!(body["contextId"].is_string());

    let token = sim.token().await;
    let ok = sim.get(&token, queues).await;
    assert_eq!(ok.status(), 200);
    for header in [
        "inin-ratelimit-allowed",
        "inin-ratelimit-count",
        "inin-ratelimit-reset",
    ] {
        assert!(ok.headers().contains_key(header), "{header} missing");
    }

    sim.control("/sim/faults", json!({"kind": "revoke_tokens"}))
        .await;
    let revoked = sim.get(&token, queues).await;
    assert_eq!(revoked.status(), 401);
    let body: Value = revoked.json().await.unwrap();
    assert_eq!(body["code"], "bad.credentials");
    sim.stop().await;
}

#[tokio::test]
async fn injected_faults_answer_the_next_requests_and_are_logged() {
    let sim = TestSim::fast().await;
    let token = sim.token().await;
    let queues = "/api/v2/routing/queues";
    let fault = json!({"kind": "rate_limit", "count": 1, "retryAfterSeconds": 3});
    sim.control("/sim/faults", fault).await;
    sim.control(
        "/sim/faults",
        json!({"kind": "server_error", "count": 1, "status": 502}),
    )
    .await;
    let limited = sim.get(&token, queues).await;
    assert_eq!(limited.status(), 429);
    assert_eq!(limited.headers()["retry-after"], "3");
    let failed = sim.get(&token, queues).await;
    assert_eq!(failed.status(), 502);
    let ok = sim.get(&token, queues).await;
    assert_eq!(ok.status(), 200);

    let unknown = sim
        .http
        .post(sim.url("/sim/faults"))
        .json(&json!({"kind": "meteor"}));
    assert_eq!(unknown.send().await.unwrap().status(), 400);

    let log = sim.requests_log().await;
    let statuses: Vec<u64> = log["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [429, 502, 200]);
    assert_eq!(log["requests"][0]["path"], "/api/v2/routing/queues");
    assert_eq!(log["requests"][0]["method"], "GET");
    assert!(log["requests"][0]["predicates"].is_null());
    sim.stop().await;
}

#[tokio::test]
async fn faults_aimed_at_a_path_hit_only_that_exact_path_and_are_used_up() {
    let sim = TestSim::fast().await;
    let token = sim.token().await;
    let one = format!("{QUEUES}/{}", sim.handle.queues[0].id);
    for fault in [
        json!({"kind": "rate_limit", "count": 2, "path": one}),
        json!({"kind": "server_error", "count": 1, "status": 500, "path": QUEUES}),
        json!({"kind": "server_error", "count": 1, "status": 502}),
    ] {
        sim.control("/sim/faults", fault).await;
    }
    assert_eq!(armed(&sim).await.len(), 3);
    let status = async |path: &str| sim.get(&token, path).await.status().as_u16();
    assert_eq!(status(QUEUES).await, 500, "aimed at the listing");
    assert_eq!(status(&one).await, 429);
    assert_eq!(
        status(&format!("{QUEUES}?pageSize=5")).await,
        502,
        "any path"
    );
    assert_eq!(status(QUEUES).await, 200);
    assert_eq!(status(&one).await, 429);
    assert_eq!(status(&one).await, 200);
    assert!(armed(&sim).await.is_empty());

    let elsewhere = sim
        .http
        .post(sim.url("/sim/faults"))
        .json(&json!({"kind": "server_error", "count": 1, "path": "/sim/truth"}));
    assert_eq!(elsewhere.send().await.unwrap().status(), 400);
    sim.stop().await;
}

#[tokio::test]
async fn a_malformed_body_is_a_200_with_json_that_breaks_off() {
    let sim = TestSim::fast().await;
    let token = sim.token().await;
    let fault = json!({"kind": "malformed_body", "count": 1, "path": OBSERVATIONS});
    sim.control("/sim/faults", fault).await;
    let query = observations_query(&sim);
    assert_eq!(sim.get(&token, QUEUES).await.status(), 200);
    let broken = sim.post_json(&token, OBSERVATIONS, &query).await;
    assert_eq!(broken.status(), 200);
    assert_eq!(broken.headers()["content-type"], "application/json");
    let text = broken.text().await.unwrap();
    assert!(text.starts_with("{\"results\":"), "{text}");
    assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
    let whole = sim.post_json(&token, OBSERVATIONS, &query).await;
    assert!(whole.json::<Value>().await.unwrap()["results"].is_array());
    sim.stop().await;
}

#[tokio::test]
async fn a_slow_response_arrives_after_its_delay_and_only_on_its_path() {
    let sim = TestSim::fast().await;
    let token = sim.token().await;
    let delay = Duration::from_millis(1_000);
    let fault = json!({"kind": "slow_response", "count": 1, "delayMs": 1_000, "path": QUEUES});
    sim.control("/sim/faults", fault).await;
    let timed = async |method: reqwest::Method, path: &str| {
        let started = Instant::now();
        let response = match method {
            reqwest::Method::POST => sim.post_json(&token, path, &observations_query(&sim)).await,
            _ => sim.get(&token, path).await,
        };
        assert_eq!(response.status(), 200, "{path}");
        started.elapsed()
    };
    assert!(timed(reqwest::Method::POST, OBSERVATIONS).await < delay);
    assert!(timed(reqwest::Method::GET, QUEUES).await >= delay);
    assert!(timed(reqwest::Method::GET, QUEUES).await < delay);
    sim.stop().await;
}

#[tokio::test]
async fn shutting_down_cuts_a_slow_response_short() {
    let sim = TestSim::fast().await;
    let token = sim.token().await;
    let fault = json!({"kind": "slow_response", "count": 1, "delayMs": 600_000});
    sim.control("/sim/faults", fault).await;
    let request = sim.http.get(sim.url(QUEUES)).bearer_auth(&token).send();
    let request = tokio::spawn(request);
    tokio::time::timeout(DEADLINE, async {
        while !armed(&sim).await.is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the request takes the slow fault");
    sim.stop().await;
    let response = tokio::time::timeout(DEADLINE, request).await.unwrap();
    assert_eq!(response.unwrap().unwrap().status(), 200);
}

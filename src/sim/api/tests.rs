use serde_json::Value;

use crate::sim::harness::TestSim;

#[tokio::test]
async fn an_unserved_method_on_an_api_path_gets_the_error_envelope() {
    let sim = TestSim::fast().await;
    let token = sim.token().await;
    let id = &sim.handle.queues[0].id;
    for (method, path) in [
        (reqwest::Method::DELETE, "/api/v2/routing/queues".to_owned()),
        (
            reqwest::Method::POST,
            format!("/api/v2/routing/queues/{id}"),
        ),
        (
            reqwest::Method::GET,
            "/api/v2/analytics/queues/observations/query".to_owned(),
        ),
    ] {
        let response = sim.request(method.clone(), &token, &path).await;
        assert_eq!(response.status(), 405, "{method} {path}");
        assert!(response.headers().contains_key("allow"), "{method} {path}");
        let correlation = response.headers()["inin-correlation-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], 405, "{method} {path}");
        assert_eq!(body["code"], "method.not.allowed", "{method} {path}");
        assert_eq!(body["contextId"], correlation.as_str(), "{method} {path}");
    }
    let control = sim.http.delete(sim.url("/sim/truth")).send().await.unwrap();
    assert_eq!(
        control.status(),
        405,
        "the simulator's own paths stay plain"
    );
    sim.stop().await;
}

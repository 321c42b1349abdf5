use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::*;

fn state() -> ServerState {
    ServerState::new(Arc::new(Metrics::new()), Arc::default())
}

async fn get(state: &ServerState, path: &str) -> (StatusCode, String) {
    let request = Request::get(path).body(Body::empty()).unwrap();
    let response = router(state.clone()).oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn metrics_are_served_in_text_format() {
    let (status, body) = get(&state(), "/metrics").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("# TYPE genesys_exporter_build_info gauge"),
        "{body}"
    );
}

#[tokio::test]
async fn metrics_are_gzipped_only_for_a_scraper_that_asks() {
    use std::io::Read;
    let state = state();
    let scrape = |encoding: Option<&'static str>| {
        let mut request = Request::get("/metrics");
        if let Some(encoding) = encoding {
            request = request.header(header::ACCEPT_ENCODING, encoding);
        }
        router(state.clone()).oneshot(request.body(Body::empty()).unwrap())
    };
    let plain = scrape(None).await.unwrap();
    assert_eq!(plain.headers().get(header::CONTENT_ENCODING), None);
    let plain = plain.into_body().collect().await.unwrap().to_bytes();

    // What Prometheus sends.
    let gzipped = scrape(Some("gzip")).await.unwrap();
    assert_eq!(gzipped.headers()[header::CONTENT_ENCODING], "gzip");
    let body = gzipped.into_body().collect().await.unwrap().to_bytes();
    let mut unzipped = String::new();
    flate2::read::GzDecoder::new(&body[..])
        .read_to_string(&mut unzipped)
        .unwrap();
    assert!(body.len() < plain.len());
    // NB: the process metrics and the scrape count move between scrapes; the rest is the
    // same text.
    let stable = |text: &str| {
        text.lines()
            .filter(|l| !l.starts_with("process_") && !l.starts_with("genesys_exporter_scrapes"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        stable(&unzipped),
        stable(std::str::from_utf8(&plain).unwrap())
    );

    let refused = scrape(Some("gzip;q=0, identity")).await.unwrap();
    assert_eq!(refused.headers().get(header::CONTENT_ENCODING), None);
}

#[tokio::test]
async fn a_request_body_over_the_limit_is_refused_unread() {
    let request = Request::get("/metrics")
        .header(header::CONTENT_LENGTH, "1000000")
        .body(Body::from(vec![b'x'; 1_000_000]))
        .unwrap();
    let response = router(state()).oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn readiness_names_what_is_missing_until_ready() {
    let state = state();
    let (status, body) = get(&state, "/readyz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(body.contains("no OAuth token"), "{body}");
    state.health.token_obtained();
    state.health.queues_resolved();
    state.health.channel_started("0");
    let (_, body) = get(&state, "/readyz").await;
    assert!(
        body.contains("channel 0: first observation resync"),
        "{body}"
    );
    state.health.channel_resynced("0");
    assert_eq!(get(&state, "/readyz").await.0, StatusCode::OK);
}

#[tokio::test]
async fn a_task_that_panics_turns_health_to_503_naming_it_within_a_second() {
    let state = state();
    assert_eq!(get(&state, "/healthz").await.0, StatusCode::OK);
    let tasks = crate::tasks::Tasks::new(state.health.clone(), CancellationToken::new());
    tasks.spawn("poller", async { panic!("injected") });
    tokio::time::timeout(std::time::Duration::from_secs(1), tasks.died())
        .await
        .expect("noticed within a second");
    let (status, body) = get(&state, "/healthz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body, "not alive: task poller stopped unexpectedly\n");
}

mod web;

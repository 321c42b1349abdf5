//! The client against the scripted fake in `fake.rs`: caching, refresh, retries, batching, paging.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use reqwest::header::HeaderMap;
use tokio::time::{Instant, timeout};

use super::fake::{self, Reply, Scenario};
use super::*;
use crate::genesys::execute::retry_after;

/// Every test finishes well inside this, or fails instead of hanging.
const DEADLINE: Duration = Duration::from_secs(10);

fn ids(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("q-{i:03}")).collect()
}

fn rendered(metrics: &Metrics) -> String {
    metrics.render(0)
}

/// Fails, showing the whole rendering, unless `metrics` renders `line`.
#[track_caller]
fn assert_renders(metrics: &Metrics, line: &str) {
    let text = rendered(metrics);
    assert!(text.contains(line), "{line} is missing from:\n{text}");
}

/// What `call` returns, failing the test unless it returns within `DEADLINE`.
async fn in_time<T>(call: impl Future<Output = T>) -> T {
    timeout(DEADLINE, call)
        .await
        .expect("finished within the deadline")
}

/// What `call` returns to each of `n` callers running it at once on clones of `client`.
async fn from_concurrent_callers<T, Call>(
    n: usize,
    client: &GenesysClient,
    call: impl Fn(GenesysClient) -> Call,
) -> Vec<T>
where
    Call: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let calls = (0..n).map(|_| tokio::spawn(call(client.clone())));
    let results = in_time(futures_util::future::join_all(calls)).await;
    results.into_iter().map(|r| r.unwrap()).collect()
}

/// What `ensure_token` returns to each of `n` callers calling it at once.
async fn tokens_ensured_by_concurrent_callers(
    n: usize,
    client: &GenesysClient,
) -> Vec<Result<(), ApiError>> {
    from_concurrent_callers(
        n,
        client,
        |client| async move { client.ensure_token().await },
    )
    .await
}

/// What `get_queue(id)` returns to each of `n` callers calling it at once.
async fn queue_read_by_concurrent_callers(
    n: usize,
    client: &GenesysClient,
    id: &'static str,
) -> Vec<Result<Queue, ApiError>> {
    from_concurrent_callers(
        n,
        client,
        |client| async move { client.get_queue(id).await },
    )
    .await
}

/// A fake with one queue, and a client that has already fetched its first token.
async fn a_client_holding_a_token() -> (Arc<Scenario>, GenesysClient, Arc<Metrics>) {
    let scenario = Scenario::new().with_queues(1);
    let (client, metrics) = fake::start(scenario.clone()).await;
    client.ensure_token().await.unwrap();
    (scenario, client, metrics)
}

/// A fake serving `scenario` and the settings to reach it, for a test to adjust.
async fn fake_and_settings(scenario: &Arc<Scenario>) -> (std::net::SocketAddr, ClientSettings) {
    let addr = fake::serve(scenario.clone(), "").await;
    (addr, fake::settings(&format!("http://{addr}")))
}

/// A client for `settings` with a private, empty metrics registry.
fn client_for(settings: ClientSettings) -> (GenesysClient, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::new());
    let client = GenesysClient::new(settings, metrics.clone()).unwrap();
    (client, metrics)
}

#[tokio::test]
async fn a_token_is_fetched_once_and_reused_across_calls() {
    let scenario = Scenario::new().with_queues(3);
    let (client, metrics) = fake::start(scenario.clone()).await;
    in_time(async {
        client.ensure_token().await.unwrap();
        client.get_queue("q-001").await.unwrap();
        client.list_queues(None).await.unwrap();
    })
    .await;
    assert_eq!(scenario.tokens(), 1);
    assert_eq!(scenario.count("GET /api/v2/routing/queues"), 2);
    assert_renders(
        &metrics,
        r#"genesys_exporter_token_refreshes_total{result="success"} 1"#,
    );
    assert_renders(
        &metrics,
        r#"genesys_exporter_api_requests_total{endpoint="routing_queues",status="200"} 2"#,
    );
}

#[tokio::test]
async fn a_token_is_refreshed_at_ninety_percent_of_its_lifetime() {
    let scenario = Scenario::new().with_queues(1);
    scenario.expires_in.store(2, Ordering::SeqCst);
    let (client, _metrics) = fake::start(scenario.clone()).await;
    client.ensure_token().await.unwrap();
    let fetched = Instant::now();
    client.ensure_token().await.unwrap();
    assert_eq!(scenario.tokens(), 1, "a fresh token is reused");
    timeout(DEADLINE, async {
        while scenario.tokens() < 2 {
            tokio::time::sleep(Duration::from_millis(50)).await;
            client.ensure_token().await.unwrap();
        }
    })
    .await
    .expect("the token is refreshed before it expires");
    let refreshed_after = fetched.elapsed();
    assert!(
        refreshed_after >= Duration::from_millis(1_750),
        "refreshed too early: {refreshed_after:?}"
    );
    assert!(
        refreshed_after < Duration::from_millis(2_000),
        "refreshed too late: {refreshed_after:?}"
    );
}

#[tokio::test]
async fn a_login_outage_after_the_refresh_mark_is_ridden_out_on_the_cached_token() {
    let (scenario, client, metrics) = a_client_holding_a_token().await;
    // Two whole retry chains (the first attempt and max_retries = 3) fail.
    scenario.token_script.lock().unwrap().extend([503; 8]);
    let fetched = Instant::now();
    let tokens = &client.inner.tokens;
    tokens.set_deadlines(fetched, fetched + Duration::from_secs(3_600));
    let results = queue_read_by_concurrent_callers(10, &client, "q-000").await;
    assert!(
        results.into_iter().all(|r| r.is_ok()),
        "the token is still valid, so calls go on while it is refreshed"
    );
    let failed = r#"genesys_exporter_token_refreshes_total{result="failure"} 1"#;
    timeout(DEADLINE, async {
        while !rendered(&metrics).contains(failed) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the background refresh gives up");
    assert_eq!(
        scenario.tokens(),
        1 + 4,
        "one refresh, however many callers"
    );
    in_time(client.get_queue("q-000")).await.unwrap();
    assert_eq!(
        scenario.tokens(),
        5,
        "a failed refresh is not retried at once"
    );

    tokens.set_deadlines(fetched, Instant::now());
    let error = in_time(client.get_queue("q-000")).await.unwrap_err();
    assert_eq!(
        error.kind(),
        "server_error",
        "an expired token is never sent"
    );
    assert_eq!(scenario.tokens(), 9);
    assert_eq!(scenario.count("GET"), 11);
    in_time(client.get_queue("q-000")).await.unwrap();
    assert_eq!(scenario.tokens(), 10, "the login service is back");
}

#[tokio::test]
async fn callers_waiting_on_a_fetch_that_could_not_connect_share_its_error() {
    let scenario = Scenario::new();
    let (_, mut settings) = fake_and_settings(&scenario).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    settings.login_base_url = format!("http://{closed}");
    let (client, metrics) = client_for(settings);
    let results = tokens_ensured_by_concurrent_callers(10, &client).await;
    let errors: Vec<ApiError> = results.into_iter().map(|r| r.unwrap_err()).collect();
    assert!(errors.iter().all(|e| e.kind() == "transport"), "{errors:?}");
    let originals = errors
        .iter()
        .filter(|e| matches!(e, ApiError::Transport { .. }))
        .count();
    assert_eq!(originals, 1, "one fetch, its error shared: {errors:?}");
    for error in &errors {
        assert!(error.to_string().contains(&closed.to_string()), "{error}");
    }
    let text = rendered(&metrics);
    assert!(
        text.contains(
            r#"genesys_exporter_api_requests_total{endpoint="token",status="transport"} 4"#
        ),
        "one retry chain, not one per caller: {text}"
    );
    assert_renders(
        &metrics,
        r#"genesys_exporter_token_refreshes_total{result="failure"} 1"#,
    );
}

#[tokio::test]
async fn concurrent_callers_share_a_single_token_fetch() {
    let scenario = Scenario::new().with_queues(3);
    let (client, _metrics) = fake::start(scenario.clone()).await;
    let results = queue_read_by_concurrent_callers(20, &client, "q-002").await;
    assert!(results.into_iter().all(|r| r.is_ok()));
    assert_eq!(scenario.tokens(), 1);
}

#[tokio::test]
async fn a_401_forces_exactly_one_refresh_and_one_retry_even_for_concurrent_callers() {
    let scenario = Scenario::new().with_queues(3);
    let (client, _metrics) = fake::start(scenario.clone()).await;
    client.ensure_token().await.unwrap();
    scenario.revoke();
    let results = queue_read_by_concurrent_callers(10, &client, "q-000").await;
    assert!(results.into_iter().all(|r| r.is_ok()));
    assert_eq!(scenario.tokens(), 2, "one initial fetch and one refresh");
    assert!(
        scenario.count("GET") <= 20,
        "each caller retried at most once"
    );
}

#[tokio::test]
async fn a_second_401_after_the_refresh_is_an_error() {
    let (scenario, client, _metrics) = a_client_holding_a_token().await;
    scenario.script(Reply::status(401));
    scenario.script(Reply::status(401));
    let error = in_time(client.get_queue("q-000")).await.unwrap_err();
    assert_eq!(error.kind(), "unauthorized");
    assert_eq!(scenario.tokens(), 2);
    assert_eq!(scenario.count("GET"), 2);
}

#[tokio::test]
async fn a_429_waits_for_retry_after_and_is_counted() {
    let (scenario, client, metrics) = a_client_holding_a_token().await;
    scenario.script(Reply {
        status: 429,
        headers: vec![("Retry-After", "1".into())],
        ..Reply::default()
    });
    let started = Instant::now();
    in_time(client.get_queue("q-000")).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
    assert_eq!(scenario.count("GET"), 2);
    assert_renders(
        &metrics,
        r#"genesys_exporter_api_rate_limited_total{endpoint="routing_queues"} 1"#,
    );
    assert_renders(
        &metrics,
        r#"genesys_exporter_api_requests_total{endpoint="routing_queues",status="429"} 1"#,
    );
}

#[test]
fn the_rate_limit_wait_prefers_retry_after_then_the_window_reset_and_is_capped() {
    let mut headers = HeaderMap::new();
    assert_eq!(retry_after(&headers), Duration::from_secs(1));
    headers.insert("inin-ratelimit-reset", "7".parse().unwrap());
    assert_eq!(retry_after(&headers), Duration::from_secs(7));
    headers.insert("retry-after", "3".parse().unwrap());
    assert_eq!(retry_after(&headers), Duration::from_secs(3));
    headers.insert("retry-after", "86400".parse().unwrap());
    assert_eq!(retry_after(&headers), Duration::from_secs(60));
}

#[tokio::test]
async fn server_errors_are_retried_until_a_success() {
    let (scenario, client, metrics) = a_client_holding_a_token().await;
    scenario.script(Reply::status(503));
    scenario.script(Reply::status(500));
    let queue = in_time(client.get_queue("q-000")).await.unwrap();
    assert_eq!(queue.name, "Queue 000");
    assert_eq!(scenario.count("GET"), 3);
    assert_renders(&metrics, r#"endpoint="routing_queues",status="503"} 1"#);
}

#[tokio::test]
async fn server_errors_that_outlast_the_retries_become_an_error() {
    let (scenario, client, _metrics) = a_client_holding_a_token().await;
    for _ in 0..4 {
        scenario.script(Reply::status(502));
    }
    let error = in_time(client.get_queue("q-000")).await.unwrap_err();
    assert_eq!(error.kind(), "server_error");
    assert_eq!(
        scenario.count("GET"),
        4,
        "the first attempt and max_retries = 3 retries"
    );
}

#[tokio::test]
async fn a_body_past_the_size_limit_is_dropped_unread_and_retried() {
    let scenario = Scenario::new().with_queues(1);
    let (_, settings) = fake_and_settings(&scenario).await;
    let (client, metrics) = client_for(settings);
    client.ensure_token().await.unwrap();
    scenario.script(Reply {
        status: 200,
        body_bytes: Some(crate::genesys::execute::MAX_RESPONSE_BYTES + 1),
        ..Reply::default()
    });
    in_time(client.get_queue("q-000")).await.unwrap();
    assert_renders(
        &metrics,
        r#"endpoint="routing_queues",status="too_large"} 1"#,
    );
}

#[tokio::test]
async fn a_timed_out_request_is_retried() {
    let scenario = Scenario::new().with_queues(1);
    let (_, mut settings) = fake_and_settings(&scenario).await;
    settings.request_timeout = Duration::from_millis(200);
    let (client, metrics) = client_for(settings);
    client.ensure_token().await.unwrap();
    scenario.script(Reply {
        status: 200,
        delay: Duration::from_secs(1),
        ..Reply::default()
    });
    in_time(client.get_queue("q-000")).await.unwrap();
    assert_renders(&metrics, r#"endpoint="routing_queues",status="timeout"} 1"#);
}

#[tokio::test]
async fn other_client_errors_are_not_retried_and_carry_message_and_correlation_id() {
    let scenario = Scenario::new().with_queues(1);
    let (client, _metrics) = fake::start(scenario.clone()).await;
    let error = in_time(client.get_queue("missing")).await.unwrap_err();
    assert_eq!(scenario.count("GET"), 1);
    let ApiError::Status {
        status,
        message,
        correlation_id,
        ..
    } = &error
    else {
        panic!("{error:?}")
    };
    assert_eq!(*status, 404);
    assert_eq!(message, "Queue missing not found");
    assert!(correlation_id.starts_with("corr-"), "{correlation_id}");
}

#[tokio::test]
async fn a_rejected_client_gets_a_clear_error_that_never_shows_the_secret() {
    let scenario = Scenario::new();
    let (addr, mut settings) = fake_and_settings(&scenario).await;
    settings.client_secret = Secret::new("wrong-secret-value");
    let (client, metrics) = client_for(settings);
    let error = in_time(client.ensure_token()).await.unwrap_err();
    let text = format!("{error} {error:?} {client:?}");
    assert_eq!(error.kind(), "invalid_client");
    assert!(
        text.contains(fake::CLIENT_ID) && text.contains(&addr.to_string()),
        "{text}"
    );
    assert!(!text.contains("wrong-secret-value"), "{text}");
    assert_eq!(scenario.tokens(), 1, "a rejected client is not retried");
    assert_renders(
        &metrics,
        r#"genesys_exporter_token_refreshes_total{result="failure"} 1"#,
    );
}

#[tokio::test]
async fn callers_queued_behind_a_rejected_grant_share_its_error_instead_of_refetching() {
    let scenario = Scenario::new();
    let (_, mut settings) = fake_and_settings(&scenario).await;
    settings.client_secret = Secret::new("wrong-secret-value");
    let (client, _metrics) = client_for(settings);
    let results = tokens_ensured_by_concurrent_callers(10, &client).await;
    for result in results {
        assert_eq!(result.unwrap_err().kind(), "invalid_client");
    }
    assert_eq!(scenario.tokens(), 1);
    client.ensure_token().await.unwrap_err();
    assert_eq!(scenario.tokens(), 2, "a later call tries again");
}

#[tokio::test]
async fn a_token_endpoint_outage_is_retried() {
    let scenario = Scenario::new();
    scenario.token_script.lock().unwrap().extend([503, 500]);
    let (client, _metrics) = fake::start(scenario.clone()).await;
    in_time(client.ensure_token()).await.unwrap();
    assert_eq!(scenario.tokens(), 3);
}

/// The token request takes the same path as every REST call: a 429 waits (a second without
/// `Retry-After`) and is counted under `endpoint="token"` like any other.
#[tokio::test]
async fn a_rate_limited_token_request_waits_and_is_counted_like_any_call() {
    let scenario = Scenario::new();
    scenario.token_script.lock().unwrap().push_back(429);
    let (client, metrics) = fake::start(scenario.clone()).await;
    let started = Instant::now();
    in_time(client.ensure_token()).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "the 429 was not waited out"
    );
    assert_eq!(scenario.tokens(), 2);
    assert_renders(
        &metrics,
        r#"genesys_exporter_api_rate_limited_total{endpoint="token"} 1"#,
    );
    assert_renders(
        &metrics,
        r#"genesys_exporter_api_requests_total{endpoint="token",status="429"} 1"#,
    );
    assert_renders(
        &metrics,
        r#"genesys_exporter_token_refreshes_total{result="success"} 1"#,
    );
}

#[tokio::test]
async fn observations_for_250_queues_go_out_in_three_batches_of_at_most_100() {
    let scenario = Scenario::new();
    let (client, _metrics) = fake::start(scenario.clone()).await;
    let response = in_time(client.query_observations(&ids(250))).await.unwrap();
    assert_eq!(*scenario.batches.lock().unwrap(), [100, 100, 50]);
    assert_eq!(response.results.len(), 250);
    assert_eq!(
        response.results[249].group.queue_id.as_deref(),
        Some("q-249")
    );
    let nothing = client.query_observations(&[]).await.unwrap();
    assert!(nothing.results.is_empty());
    assert_eq!(
        scenario.count("POST"),
        3,
        "no request for an empty queue set"
    );
}

#[tokio::test]
async fn an_aggregates_query_filters_to_its_scope_and_groups_by_direction_only_when_asked() {
    let scenario = Scenario::new();
    let (client, _metrics) = fake::start(scenario.clone()).await;
    let interval = "2026-11-25T08:00:00.000Z/2026-11-25T10:00:00.000Z";
    let metrics = vec!["nOffered".to_owned()];
    let scopes = [
        AggregateScope::default(),
        AggregateScope {
            media_types: vec!["voice".into(), "email".into()],
            directions: vec![],
        },
        AggregateScope {
            media_types: vec!["voice".into()],
            directions: vec!["outbound".into()],
        },
    ];
    let queue_ids = ids(2);
    for scope in &scopes {
        let query = client.query_aggregates(interval, "PT30M", &queue_ids, scope, &metrics);
        timeout(DEADLINE, query).await.unwrap().unwrap();
    }
    let sent: Vec<serde_json::Value> = scenario
        .aggregate_queries
        .lock()
        .unwrap()
        .iter()
        .map(|q| serde_json::to_value(q).unwrap())
        .collect();
    let queues = serde_json::json!({"type": "or", "predicates": [
        {"type": "dimension", "dimension": "queueId", "value": "q-000"},
        {"type": "dimension", "dimension": "queueId", "value": "q-001"}]});
    let any_of = |dimension: &str, values: &[&str]| {
        let predicates: Vec<_> = values
            .iter()
            .map(|v| serde_json::json!({"type": "dimension", "dimension": dimension, "value": v}))
            .collect();
        serde_json::json!({"type": "or", "predicates": predicates})
    };
    assert_eq!(sent[0]["filter"], queues);
    assert_eq!(
        sent[0]["groupBy"],
        serde_json::json!(["queueId", "mediaType"])
    );
    assert_eq!(
        sent[1]["filter"],
        serde_json::json!({"type": "and", "clauses": [
            queues, any_of("mediaType", &["voice", "email"])]})
    );
    assert_eq!(
        sent[1]["groupBy"],
        serde_json::json!(["queueId", "mediaType"])
    );
    assert_eq!(
        sent[2]["filter"],
        serde_json::json!({"type": "and", "clauses": [
            queues, any_of("mediaType", &["voice"]), any_of("direction", &["outbound"])]})
    );
    assert_eq!(
        sent[2]["groupBy"],
        serde_json::json!(["queueId", "mediaType", "direction"])
    );
    assert_eq!(
        *scenario.batches.lock().unwrap(),
        [2, 2, 2],
        "queues counted in clauses"
    );
}

#[tokio::test]
async fn an_aggregates_query_carries_at_most_100_queues_and_empty_bodies_read_as_no_results() {
    let scenario = Scenario::new();
    let (client, _metrics) = fake::start(scenario.clone()).await;
    let interval = "2026-11-25T08:00:00.000Z/2026-11-25T10:00:00.000Z";
    let response = timeout(
        DEADLINE,
        client.query_aggregates(
            interval,
            "PT30M",
            &ids(100),
            &AggregateScope::default(),
            &crate::genesys::model::AGGREGATE_METRICS
                .iter()
                .map(|m| m.as_str().to_owned())
                .collect::<Vec<_>>(),
        ),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(response.results.is_empty());
    assert_eq!(
        *scenario.batches.lock().unwrap(),
        [100],
        "the poller batches"
    );
}

#[tokio::test]
async fn the_queue_listing_is_read_to_its_last_page() {
    let scenario = Scenario::new().with_queues(230);
    let (client, _metrics) = fake::start(scenario.clone()).await;
    let queues = in_time(client.list_queues(None)).await.unwrap();
    assert_eq!(queues.len(), 230);
    assert_eq!(scenario.count("GET /api/v2/routing/queues"), 3);
    let none = client.list_queues(Some("Nothing*")).await.unwrap();
    assert!(none.is_empty());
}

#[tokio::test]
async fn paging_stops_at_the_page_count_even_if_the_server_ignores_the_page_number() {
    let scenario = Scenario::new().with_queues(230);
    *scenario.broken_paging.lock().unwrap() = Some(3);
    let (client, _metrics) = fake::start(scenario.clone()).await;
    let queues = in_time(client.list_queues(None)).await.unwrap();
    assert_eq!(scenario.count("GET /api/v2/routing/queues"), 3);
    assert_eq!(queues.len(), 300, "three times the first page");
}

#[tokio::test]
async fn a_listing_that_never_ends_is_cut_at_100_pages() {
    let scenario = Scenario::new().with_queues(100);
    *scenario.broken_paging.lock().unwrap() = Some(u32::MAX);
    let (client, _metrics) = fake::start(scenario.clone()).await;
    let queues = in_time(client.list_queues(None)).await.unwrap();
    assert_eq!(scenario.count("GET /api/v2/routing/queues"), 100);
    assert_eq!(queues.len(), 100 * 100);
}

#[tokio::test]
async fn base_urls_with_a_path_prefix_and_trailing_slash_are_joined_cleanly() {
    let scenario = Scenario::new().with_queues(2);
    let addr = fake::serve(scenario.clone(), "/genesys").await;
    let (client, _metrics) = client_for(fake::settings(&format!("http://{addr}/genesys/")));
    let queue = in_time(client.get_queue("q-001")).await.unwrap();
    assert_eq!(queue.id, "q-001");
    assert_eq!(scenario.count("GET /api/v2/routing/queues/q-001"), 1);
}

#[test]
fn unusable_base_urls_are_refused_up_front() {
    for url in ["not a url", "ftp://example.com", "mailto:ops@example.com"] {
        let mut settings = fake::settings(url);
        settings.login_base_url = "https://login.example.com".into();
        let error = GenesysClient::new(settings, Arc::new(Metrics::new())).unwrap_err();
        assert_eq!(error.kind(), "bad_url", "{url}");
    }
}

#[test]
fn path_segments_are_percent_encoded() {
    let base = Url::parse("https://api.example.com/prefix").unwrap();
    assert_eq!(
        join(&base, &["queues", "a/b c"]).as_str(),
        "https://api.example.com/prefix/queues/a%2Fb%20c"
    );
}

#[tokio::test]
async fn channels_are_created_and_subscribed() {
    let scenario = Scenario::new();
    let (client, metrics) = fake::start(scenario.clone()).await;
    in_time(async {
        let channel = client.create_channel().await.unwrap();
        let topics = vec!["v2.analytics.queues.q-000.observations".to_owned()];
        let listing = client
            .replace_subscriptions(&channel.id, &topics)
            .await
            .unwrap();
        let ids: Vec<&String> = listing.entities.iter().map(|t| &t.id).collect();
        assert_eq!(ids, [&topics[0]]);
        assert!(listing.entities.iter().all(|t| !t.is_rejected()));
        let too_many: Vec<String> = (0..1_001).map(|i| format!("t{i}")).collect();
        let error = client
            .replace_subscriptions(&channel.id, &too_many)
            .await
            .unwrap_err();
        assert_eq!(error.status(), Some(400));
    })
    .await;
    assert_renders(
        &metrics,
        r#"endpoint="notification_subscriptions",status="200"} 1"#,
    );
    assert_renders(
        &metrics,
        r#"endpoint="notification_subscriptions",status="400"} 1"#,
    );
}

use crate::aggregates::test_support::Support;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::json;

use super::*;
use crate::aggregates::ConversationTotals;
use crate::genesys::client::{AggregateScope, ClientSettings};
use crate::genesys::model::ConversationAggregationQuery;
use crate::genesys::time::{parse_instant, parse_interval};
use crate::secret::Secret;

const DEADLINE: Duration = Duration::from_secs(10);

fn settings(window_minutes: u64, granularity_minutes: u64) -> PollSettings {
    PollSettings {
        poll_interval: Duration::from_millis(50),
        window: Duration::from_secs(window_minutes * 60),
        granularity: Duration::from_secs(granularity_minutes * 60),
        state_flush_interval: Duration::from_secs(1),
        scope: AggregateScope {
            media_types: vec!["voice".to_owned()],
            directions: Vec::new(),
        },
    }
}

fn at(text: &str) -> DateTime<Utc> {
    parse_instant(text).unwrap()
}

#[test]
fn the_window_covers_whole_buckets_up_to_the_end_of_the_current_one() {
    let (start, end) = window(at("2026-11-25T10:07:12.345Z"), &settings(120, 15));
    assert_eq!(start, at("2026-11-25T08:00:00.000Z"));
    assert_eq!(end, at("2026-11-25T10:15:00.000Z"));
    assert_eq!((end - start).num_minutes() % 15, 0);
}

#[test]
fn a_window_at_a_bucket_boundary_still_includes_the_new_bucket() {
    let (start, end) = window(at("2026-11-25T10:00:00.000Z"), &settings(120, 30));
    assert_eq!(start, at("2026-11-25T08:00:00.000Z"));
    assert_eq!(end, at("2026-11-25T10:30:00.000Z"));
}

#[test]
fn a_window_shorter_than_a_bucket_is_the_current_bucket() {
    let (start, end) = window(at("2026-11-25T10:07:00.000Z"), &settings(0, 5));
    assert_eq!(start, at("2026-11-25T10:05:00.000Z"));
    assert_eq!(end, at("2026-11-25T10:10:00.000Z"));
}

/// A minimal upstream: reports `offered` for the last bucket of the queried window, for
/// every queue asked about, and records each query.
#[derive(Default)]
struct Upstream {
    offered: AtomicU64,
    fail: AtomicBool,
    queries: Mutex<Vec<ConversationAggregationQuery>>,
}

async fn aggregates(
    State(upstream): State<Arc<Upstream>>,
    Json(query): Json<ConversationAggregationQuery>,
) -> Response {
    upstream.queries.lock().unwrap().push(query.clone());
    if upstream.fail.load(Ordering::SeqCst) {
        let body = json!({"message": "bad", "code": "bad.request", "status": 400});
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    }
    let (_, end) = parse_interval(&query.interval).unwrap();
    let last = format_interval(end - TimeDelta::minutes(5), end);
    let offered = upstream.offered.load(Ordering::SeqCst);
    let results: Vec<_> = query
        .filter
        .iter()
        .flat_map(|f| f.queue_id_values())
        .map(|id| {
            json!({"group": {"queueId": id, "mediaType": "voice"}, "data": [{"interval": last,
                    "metrics": [{"metric": "nOffered", "stats": {"count": offered}}]}]})
        })
        .collect();
    Json(json!({ "results": results })).into_response()
}

async fn serve(upstream: Arc<Upstream>) -> String {
    let token = json!({"access_token": "t", "token_type": "bearer", "expires_in": 86400});
    let app = Router::new()
        .route("/oauth/token", post(move || async move { Json(token) }))
        .route(
            "/api/v2/analytics/conversations/aggregates/query",
            post(aggregates),
        )
        .with_state(upstream);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn metrics() -> Support {
    crate::aggregates::test_support::support_metrics(&["voice"])
}

fn poller(
    metrics: &Support,
    queues: Vec<String>,
    base: &str,
) -> (Poller, watch::Sender<Vec<String>>) {
    poller_with(metrics, queues, base, settings(120, 5))
}

fn poller_with(
    metrics: &Support,
    queues: Vec<String>,
    base: &str,
    settings: PollSettings,
) -> (Poller, watch::Sender<Vec<String>>) {
    crate::genesys::install_crypto_provider();
    let client = GenesysClient::new(
        ClientSettings {
            api_base_url: base.into(),
            login_base_url: base.into(),
            client_id: "test".into(),
            client_secret: Secret::new("test"),
            request_timeout: Duration::from_secs(2),
            max_retries: 0,
            retry_backoff_base: Duration::from_millis(10),
            retry_backoff_cap: Duration::from_millis(100),
            trust: Default::default(),
            proxy: Default::default(),
        },
        metrics.metrics.clone(),
    )
    .unwrap();
    let totals = Arc::new(ConversationTotals::new(
        metrics,
        metrics.queues.clone(),
        settings.granularity,
        metrics.queues.counters().to_vec(),
    ));
    let (tx, rx) = watch::channel(queues);
    (
        Poller::new(
            client,
            totals,
            metrics.metrics.clone(),
            rx,
            settings,
            Clock::system(),
        ),
        tx,
    )
}

use crate::aggregates::test_support::sample;

const OFFERED: &str =
    r#"genesys_conversations_offered_total{media_type="voice",queue="Support",queue_id="q1"}"#;
const POLLS_OK: &str = r#"genesys_exporter_aggregate_polls_total{result="success"}"#;
const POLLS_FAILED: &str = r#"genesys_exporter_aggregate_polls_total{result="failure"}"#;

#[tokio::test]
async fn a_poll_asks_for_100_queues_at_a_time_and_folds_every_batch() {
    let upstream = Arc::new(Upstream::default());
    upstream.offered.store(7, Ordering::SeqCst);
    let base = serve(upstream.clone()).await;
    let metrics = metrics();
    let queues: Vec<String> = (0..150).map(|i| format!("q{i}")).collect();
    let labels: Vec<_> = queues
        .iter()
        .map(|id| crate::vocabulary::queue::QueueLabels {
            id: id.clone(),
            name: id.to_uppercase(),
            division: "Home".into(),
        })
        .collect();
    metrics.queues.set_queues(&labels);
    let (poller, _queues) = poller(&metrics, queues, &base);
    let now = at("2026-11-25T10:07:12.000Z");
    let poll = || tokio::time::timeout(DEADLINE, poller.poll_once(now));
    assert_eq!(poll().await.unwrap().unwrap(), 0, "the baseline");
    upstream.offered.store(9, Ordering::SeqCst);
    assert_eq!(poll().await.unwrap().unwrap(), 150, "one delta per queue");
    let sizes: Vec<usize> = upstream
        .queries
        .lock()
        .unwrap()
        .iter()
        .map(|q| q.filter.iter().flat_map(|f| f.queue_id_values()).count())
        .collect();
    assert_eq!(sizes, [100, 50, 100, 50]);
}

#[tokio::test]
async fn poll_once_queries_the_window_and_folds_only_what_is_new() {
    let upstream = Arc::new(Upstream::default());
    upstream.offered.store(7, Ordering::SeqCst);
    let base = serve(upstream.clone()).await;
    let metrics = metrics();
    let (poller, _queues) = poller(&metrics, vec!["q1".into()], &base);
    let now = at("2026-11-25T10:07:12.000Z");
    let poll = || tokio::time::timeout(DEADLINE, poller.poll_once(now));

    assert_eq!(
        poll().await.unwrap().unwrap(),
        0,
        "what the window holds at start is the baseline"
    );
    let query = upstream.queries.lock().unwrap()[0].clone();
    assert_eq!(
        query.interval,
        "2026-11-25T08:05:00.000Z/2026-11-25T10:10:00.000Z"
    );
    assert_eq!(query.granularity.as_deref(), Some("PT5M"));
    let mut asked = query.metrics.clone();
    asked.sort();
    let every = crate::genesys::model::AGGREGATE_METRICS.iter();
    let mut every: Vec<&str> = every.map(|m| m.as_str()).collect();
    every.sort_unstable();
    assert_eq!(
        asked, every,
        "every counter is exported, so every metric is asked for, each once"
    );
    assert_eq!(
        sample(&metrics, OFFERED),
        Some(0.0),
        "a group with data in the window has its series, at 0"
    );

    assert_eq!(poll().await.unwrap().unwrap(), 0, "a repeat adds nothing");
    upstream.offered.store(9, Ordering::SeqCst);
    assert_eq!(
        poll().await.unwrap().unwrap(),
        1,
        "a revision adds its difference"
    );
    assert_eq!(sample(&metrics, OFFERED), Some(2.0));
    assert_eq!(sample(&metrics, POLLS_OK), Some(3.0));

    upstream.fail.store(true, Ordering::SeqCst);
    upstream.offered.store(15, Ordering::SeqCst);
    let error = poll().await.unwrap().unwrap_err();
    assert_eq!(error.kind(), "client_error");
    assert_eq!(sample(&metrics, POLLS_FAILED), Some(1.0));
    assert_eq!(
        sample(&metrics, OFFERED),
        Some(2.0),
        "a failed poll changes nothing"
    );
}

const STALE: &str = "genesys_exporter_aggregates_stale";

/// A poller of `q1` every `interval`, and the upstream it asks.
async fn polling_every(interval: Duration) -> (Arc<Upstream>, Support, Poller) {
    let upstream = Arc::new(Upstream::default());
    let base = serve(upstream.clone()).await;
    let metrics = metrics();
    let settings = PollSettings {
        poll_interval: interval,
        ..settings(120, 5)
    };
    let (poller, _) = poller_with(&metrics, vec!["q1".into()], &base, settings);
    (upstream, metrics, poller)
}

#[tokio::test]
async fn counters_are_stale_until_a_poll_succeeds_and_a_failed_poll_is_noise() {
    let (upstream, metrics, poller) = polling_every(Duration::from_secs(3600)).await;
    assert_eq!(sample(&metrics, STALE), Some(1.0), "nothing polled yet");
    let polls = metrics.status().polls();
    assert_eq!(polls[&PollKind::Conversations].bound, TimeDelta::hours(3));
    let poll = || tokio::time::timeout(DEADLINE, poller.poll_once(metrics.clock().now()));
    assert!(poll().await.unwrap().is_ok());
    assert_eq!(
        sample(&metrics, STALE),
        Some(0.0),
        "fresh from the first success"
    );
    upstream.fail.store(true, Ordering::SeqCst);
    assert!(poll().await.unwrap().is_err());
    assert_eq!(
        sample(&metrics, STALE),
        Some(0.0),
        "one failed poll is noise, within three intervals"
    );
}

#[tokio::test]
async fn counters_are_stale_past_three_intervals_without_a_success_until_the_next() {
    let (upstream, metrics, poller) = polling_every(Duration::from_millis(1)).await;
    let now = metrics.clock().now();
    let polled = tokio::time::timeout(DEADLINE, poller.poll_once(now)).await;
    assert!(polled.unwrap().is_ok());
    upstream.fail.store(true, Ordering::SeqCst);
    let failed = tokio::time::timeout(DEADLINE, poller.poll_once(now)).await;
    assert!(failed.unwrap().is_err());
    // NB: judged at the scrape, not by the poll: stale while no poll runs at all.
    tokio::time::timeout(DEADLINE, async {
        while sample(&metrics, STALE) != Some(1.0) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await
    .expect("stale three milliseconds after the last success");

    upstream.fail.store(false, Ordering::SeqCst);
    // A poll that began an hour from now is current for a while yet, however slow the test.
    let later = metrics.clock().now() + TimeDelta::hours(1);
    let polled = tokio::time::timeout(DEADLINE, poller.poll_once(later)).await;
    assert!(polled.unwrap().is_ok());
    assert_eq!(
        sample(&metrics, STALE),
        Some(0.0),
        "fresh from the next success"
    );
    let polls = metrics.status().polls();
    assert_eq!(polls[&PollKind::Conversations].last_success, Some(later));
}

#[tokio::test]
async fn buckets_before_the_window_are_forgotten_even_while_polls_fail() {
    let upstream = Arc::new(Upstream::default());
    upstream.fail.store(true, Ordering::SeqCst);
    let base = serve(upstream.clone()).await;
    let metrics = metrics();
    let (poller, _queues) = poller(&metrics, vec!["q1".into()], &base);
    poller
        .totals
        .watch(&["q1".into()], DateTime::<Utc>::MIN_UTC);
    // The stream's running totals keep reaching the ledger while every poll fails.
    let stream_total = |interval: &str| -> crate::genesys::model::AggregateDataContainer {
        serde_json::from_value(json!({"group": {"queueId": "q1", "mediaType": "voice"},
                "data": [{"interval": interval, "metrics": [{"metric": "nOffered", "stats": {"count": 2}}]}]}))
            .unwrap()
    };
    poller.totals.fold(&stream_total(
        "2026-11-25T10:00:00.000Z/2026-11-25T10:05:00.000Z",
    ));
    poller.totals.fold(&stream_total(
        "2026-11-25T13:00:00.000Z/2026-11-25T13:05:00.000Z",
    ));
    assert_eq!(poller.totals.lock().ledger.bucket_count(), 2);

    let now = at("2026-11-25T13:07:12.000Z");
    let result = tokio::time::timeout(DEADLINE, poller.poll_once(now)).await;
    assert!(result.unwrap().is_err(), "the poll fails");
    assert_eq!(
        poller.totals.lock().ledger.bucket_count(),
        1,
        "only the bucket inside the window is remembered"
    );
    let old = stream_total("2026-11-25T10:00:00.000Z/2026-11-25T10:05:00.000Z");
    assert_eq!(poller.totals.fold(&old), 0, "an evicted bucket is refused");
    assert_eq!(sample(&metrics, OFFERED), Some(4.0));
}

#[tokio::test]
async fn run_polls_at_once_then_after_each_interval_and_stops_on_cancel() {
    let metrics = metrics();
    // NB: no queues, so no request leaves the process; the cycle and its counting still run.
    let (poller, _queues) = poller(&metrics, Vec::new(), "http://127.0.0.1:9");
    let cancel = CancellationToken::new();
    let started = tokio::time::Instant::now();
    let task = tokio::spawn(poller.run(cancel.clone()));
    let polls_reach = |n: f64| {
        let metrics = metrics.clone();
        tokio::time::timeout(DEADLINE, async move {
            while sample(&metrics, POLLS_OK).unwrap_or(0.0) < n {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    };
    polls_reach(1.0)
        .await
        .expect("first poll happens immediately");
    polls_reach(2.0)
        .await
        .expect("second poll after one interval");
    assert!(
        started.elapsed() >= Duration::from_millis(50),
        "the second poll waits"
    );
    cancel.cancel();
    tokio::time::timeout(DEADLINE, task)
        .await
        .expect("run stops on cancel")
        .unwrap();
}

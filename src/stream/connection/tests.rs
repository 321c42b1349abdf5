use super::*;
use crate::queues::observations::Observations;
use crate::queues::table::{QueueSeries, QueueTable};
use crate::stream::carried::Carried;
use crate::vocabulary::labels::MediaType;
use crate::vocabulary::queue::QueueLabels;
use futures_util::stream;
use std::sync::Mutex;

fn context() -> (SessionContext, Arc<Metrics>) {
    context_with(Arc::new(|_| 0))
}

/// A queue channel's context, its running totals going to `totals`.
fn context_with(totals: AggregateSink) -> (SessionContext, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::new());
    let queues = QueueTable::register(&metrics, QueueSeries::new(vec![MediaType::Voice]));
    queues.set_queues(&[QueueLabels {
        id: "q1".into(),
        name: "Support".into(),
        division: "Home".into(),
    }]);
    let observations = Arc::new(Observations::new(&metrics, queues.clone(), Clock::system()));
    let carried = Carried::queues(observations, totals);
    let ctx = SessionContext::new(
        carried,
        metrics.clone(),
        Clock::system(),
        Duration::from_secs(60),
    );
    (ctx, metrics)
}

fn text(s: &str) -> Result<WsMessage, tungstenite::Error> {
    Ok(WsMessage::text(s.to_owned()))
}

fn outcome_line(metrics: &Metrics, outcome: &str) -> String {
    let rendered = metrics.render(0);
    let prefix = format!("genesys_exporter_notifications_total{{outcome=\"{outcome}\"}} ");
    rendered
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or("")
        .replace(&prefix, "")
}

const HEARTBEAT: &str =
    r#"{"topicName":"channel.metadata","eventBody":{"message":"WebSocket Heartbeat"}}"#;
const OBSERVATION: &str = r#"{"topicName":"v2.analytics.queues.q1.observations","eventBody":{"group":{"queueId":"q1","mediaType":"voice"},"data":[{"interval":"2026-11-25T09:46:54.839Z/2026-11-25T09:46:54.839Z","metrics":[{"metric":"oWaiting","stats":{"count":3}}]}]}}"#;

#[tokio::test]
async fn silence_past_the_heartbeat_timeout_ends_the_session() {
    // NB: tokio's test-util (paused time) is not among the crate's features, so this runs
    // on a short real timeout under a generous deadline.
    let (mut ctx, metrics) = context();
    ctx.heartbeat_timeout = Duration::from_millis(150);
    let frames = stream::iter(vec![text(HEARTBEAT)]).chain(stream::pending());
    let started = Instant::now();
    let cancel = CancellationToken::new();
    let session = run_session(frames, &ctx, None, &cancel);
    let (end, _) = tokio::time::timeout(Duration::from_secs(5), session)
        .await
        .expect("session ends");
    assert_eq!(end, SessionEnd::HeartbeatTimeout);
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(outcome_line(&metrics, "heartbeat"), "1");
}

#[tokio::test]
async fn socket_closing_ends_the_session_after_the_frames_before_it() {
    let (ctx, metrics) = context();
    let closing = r#"{"topicName":"v2.system.socket_closing","eventBody":{"message":"bye"}}"#;
    let frames = stream::iter(vec![text(OBSERVATION), text(closing), text(HEARTBEAT)])
        .chain(stream::pending());
    let (end, mut rest) = tokio::time::timeout(
        Duration::from_secs(5),
        run_session(frames, &ctx, None, &CancellationToken::new()),
    )
    .await
    .expect("session ends");
    assert_eq!(end, SessionEnd::SocketClosing);
    assert_eq!(outcome_line(&metrics, "observation"), "1");
    assert_eq!(outcome_line(&metrics, "socket_closing"), "1");
    assert!(
        metrics
            .render(0)
            .contains(r#"media_type="voice",queue="Support",queue_id="q1",state="waiting"} 3"#)
    );
    let still_readable = tokio::time::timeout(Duration::from_secs(5), rest.next())
        .await
        .expect("next frame");
    assert!(
        still_readable.is_some(),
        "the stream is handed back for make-before-break"
    );
}

#[tokio::test]
async fn malformed_and_unknown_frames_are_counted_and_not_fatal() {
    let (ctx, metrics) = context();
    let frames = stream::iter(vec![
        text("{not json"),
        Ok(WsMessage::Binary(vec![1, 2, 3].into())),
        text(r#"{"topicName":"v2.users.u1.presence","eventBody":{}}"#),
        text(
            r#"{"topicName":"v2.analytics.queues.other.observations","eventBody":{"data":[{"interval":"a/a","metrics":[]}]}}"#,
        ),
        text(HEARTBEAT),
    ]);
    let (end, _) = tokio::time::timeout(
        Duration::from_secs(5),
        run_session(frames, &ctx, None, &CancellationToken::new()),
    )
    .await
    .expect("session ends");
    assert_eq!(
        end,
        SessionEnd::Closed,
        "the stream ran out, nothing was fatal"
    );
    assert_eq!(outcome_line(&metrics, "malformed"), "2");
    assert_eq!(outcome_line(&metrics, "unknown_topic"), "1");
    assert_eq!(
        outcome_line(&metrics, "ignored"),
        "1",
        "an unmonitored queue"
    );
    assert_eq!(outcome_line(&metrics, "heartbeat"), "1");
}

#[test]
fn an_oversized_notification_is_skipped_and_counted() {
    let (ctx, metrics) = context();
    let padding = "x".repeat(MAX_NOTIFICATION_BYTES);
    let huge = OBSERVATION.replacen('{', &format!(r#"{{"padding":"{padding}","#), 1);
    assert_eq!(ctx.handle_text(&huge), (Outcome::Oversized, None));
    assert!(!metrics.render(0).contains(r#"state="waiting"} 3"#));
    assert_eq!(ctx.handle_text(OBSERVATION).0, Outcome::Observation);
}

#[test]
fn repeated_and_older_observations_are_counted_and_skipped() {
    let (ctx, metrics) = context();
    let older = OBSERVATION
        .replace("09:46:54.839Z", "09:46:53.000Z")
        .replace(r#""count":3"#, r#""count":9"#);
    let newer_same_instant = OBSERVATION.replace(r#""count":3"#, r#""count":4"#);
    assert_eq!(ctx.handle_text(OBSERVATION).0, Outcome::Observation);
    assert_eq!(ctx.handle_text(OBSERVATION).0, Outcome::Duplicate);
    assert_eq!(ctx.handle_text(&older).0, Outcome::OutOfOrder);
    let waiting = r#"media_type="voice",queue="Support",queue_id="q1",state="waiting"}"#;
    assert!(metrics.render(0).contains(&format!("{waiting} 3")));
    assert_eq!(ctx.handle_text(&newer_same_instant).0, Outcome::Observation);
    assert!(metrics.render(0).contains(&format!("{waiting} 4")));
}

#[tokio::test]
async fn interval_aggregates_go_to_the_sink() {
    let seen = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = seen.clone();
    let (ctx, metrics) = context_with(Arc::new(move |body| {
        assert_eq!(body.group.queue_id.as_deref(), Some("q1"));
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    }));
    let aggregate = r#"{"topicName":"v2.analytics.queues.q1.observations","eventBody":{"group":{"mediaType":"voice"},"data":[{"interval":"2026-11-25T09:30:00.000Z/2026-11-25T10:00:00.000Z","metrics":[{"metric":"nOffered","stats":{"count":2}}]}]}}"#;
    let frames = stream::iter(vec![text(aggregate)]);
    let _ = tokio::time::timeout(
        Duration::from_secs(5),
        run_session(frames, &ctx, None, &CancellationToken::new()),
    )
    .await;
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert_eq!(outcome_line(&metrics, "interval_aggregate"), "1");
}

#[test]
fn an_event_with_both_interval_kinds_feeds_the_gauges_and_the_ledger() {
    let folded = Arc::new(Mutex::new(Vec::new()));
    let sink = folded.clone();
    let (ctx, metrics) = context_with(Arc::new(move |body| {
        let intervals = body.data.iter().map(|d| d.interval.clone());
        sink.lock().unwrap().extend(intervals);
        1
    }));
    let mixed = r#"{"topicName":"v2.analytics.queues.q1.observations","eventBody":{"group":{"queueId":"q1","mediaType":"voice"},"data":[
            {"interval":"2026-11-25T09:46:54.839Z/2026-11-25T09:46:54.839Z","metrics":[{"metric":"oWaiting","stats":{"count":4}}]},
            {"interval":"2026-11-25T09:30:00.000Z/2026-11-25T10:00:00.000Z","metrics":[{"metric":"nOffered","stats":{"count":2}}]}]}}"#;
    let (outcome, end) = ctx.handle_text(mixed);
    assert_eq!((outcome, end), (Outcome::Observation, None));
    assert!(
        metrics
            .render(0)
            .contains(r#"media_type="voice",queue="Support",queue_id="q1",state="waiting"} 4"#),
        "the observation part reached the gauges"
    );
    assert_eq!(
        *folded.lock().unwrap(),
        vec!["2026-11-25T09:30:00.000Z/2026-11-25T10:00:00.000Z".to_owned()],
        "only the aggregate part reached the ledger"
    );
}

#[tokio::test]
async fn reaching_the_rotation_instant_ends_with_channel_expiring() {
    let (ctx, _) = context();
    let rotate_at = Instant::now() + Duration::from_millis(50);
    let cancel = CancellationToken::new();
    let session = run_session(stream::pending(), &ctx, Some(rotate_at), &cancel);
    let (end, _) = tokio::time::timeout(Duration::from_secs(5), session)
        .await
        .expect("session ends");
    assert_eq!(end, SessionEnd::ChannelExpiring);
}

#[tokio::test]
async fn cancellation_ends_the_session_at_once() {
    let (ctx, _) = context();
    let cancel = CancellationToken::new();
    cancel.cancel();
    let session = run_session(stream::pending(), &ctx, None, &cancel);
    let (end, _) = tokio::time::timeout(Duration::from_secs(5), session)
        .await
        .expect("session ends");
    assert_eq!(end, SessionEnd::Cancelled);
}

#[tokio::test]
async fn a_refused_connection_is_a_typed_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let error = connect(
        &format!("ws://127.0.0.1:{port}/channels/x"),
        Duration::from_secs(5),
        &crate::genesys::egress::Egress::direct(),
    )
    .await
    .unwrap_err();
    assert_eq!(error.kind(), "unreachable");
}

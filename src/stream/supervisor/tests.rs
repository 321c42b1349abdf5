//! The supervisor against a scripted REST fake and a loopback WebSocket server (axum).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::ws::{Message as AxMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use tokio::sync::{Notify, mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::*;
use crate::genesys::model::{
    Channel, ChannelTopic, ChannelTopicEntityListing, QueueObservationQueryResponse,
};
use crate::metrics::Metrics;
use crate::queues::observations::Observations;
use crate::queues::table::{QueueSeries, QueueTable};
use crate::stream::carried::Carried;
use crate::vocabulary::clock::Clock;
use crate::vocabulary::labels::MediaType;
use crate::vocabulary::queue::QueueLabels;

/// One open server-side socket: the test pushes frames through `tx`.
struct Conn {
    channel: String,
    tx: mpsc::UnboundedSender<String>,
    closed: Arc<AtomicBool>,
}

#[derive(Default)]
struct WsServer {
    conns: Mutex<Vec<Conn>>,
}

impl WsServer {
    fn count(&self) -> usize {
        self.conns.lock().unwrap().len()
    }

    fn push(&self, index: usize, frame: &str) {
        let conns = self.conns.lock().unwrap();
        conns[index].tx.send(frame.to_owned()).unwrap();
    }

    fn channel_of(&self, index: usize) -> String {
        self.conns.lock().unwrap()[index].channel.clone()
    }

    fn is_closed(&self, index: usize) -> bool {
        self.conns.lock().unwrap()[index]
            .closed
            .load(Ordering::SeqCst)
    }
}

async fn upgrade(
    ws: WebSocketUpgrade,
    Path(id): Path<String>,
    State(server): State<Arc<WsServer>>,
) -> Response {
    ws.on_upgrade(move |socket| serve_socket(socket, id, server))
}

async fn serve_socket(mut socket: WebSocket, channel: String, server: Arc<WsServer>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let closed = Arc::new(AtomicBool::new(false));
    server.conns.lock().unwrap().push(Conn {
        channel,
        tx,
        closed: closed.clone(),
    });
    loop {
        tokio::select! {
            Some(frame) = rx.recv() => {
                if socket.send(AxMessage::Text(frame.into())).await.is_err() {
                    break;
                }
            }
            incoming = socket.recv() => match incoming {
                Some(Ok(AxMessage::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
        }
    }
    closed.store(true, Ordering::SeqCst);
}

async fn ws_server() -> (Arc<WsServer>, SocketAddr) {
    let server = Arc::new(WsServer::default());
    let app = Router::new()
        .route("/channels/{id}", get(upgrade))
        .with_state(server.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (server, addr)
}

#[derive(Default)]
struct Script {
    created: Vec<String>,
    gone: HashSet<String>,
    subscriptions: Vec<(String, Vec<String>)>,
    queries: Vec<Vec<String>>,
    waiting: u64,
    fail_create: bool,
    fail_query: bool,
    /// Answers subscriptions with this status.
    fail_subscribe: Option<u16>,
}

#[derive(Clone)]
struct FakeUpstream {
    addr: SocketAddr,
    script: Arc<Mutex<Script>>,
    /// When set, channel creation waits for a `notify_one`.
    create_gate: Arc<Mutex<Option<Arc<Notify>>>>,
    /// When set, an observations query, once sent (recorded, its answer fixed), waits for a
    /// `notify_one` before answering: a slow response.
    query_gate: Arc<Mutex<Option<Arc<Notify>>>>,
}

fn api_error(status: u16) -> ApiError {
    ApiError::Status {
        endpoint: "fake",
        status,
        message: "scripted".into(),
        correlation_id: "c".into(),
    }
}

/// The queue channels these tests drive never read agents; an agent read fails loudly.
impl crate::agents::AgentSource for FakeUpstream {
    async fn query_routing_activity(
        &self,
        _queue_ids: &[String],
    ) -> Result<Vec<crate::genesys::model::RoutingActivityData>, ApiError> {
        Err(api_error(501))
    }

    async fn users_by_id(
        &self,
        _ids: &[String],
    ) -> Result<Vec<crate::genesys::model::User>, ApiError> {
        Err(api_error(501))
    }
}

/// Nor trunks and Edges; a telephony read fails loudly.
impl crate::telephony::TelephonySource for FakeUpstream {
    async fn list_trunks(
        &self,
        _types: &[crate::vocabulary::telephony::TrunkType],
    ) -> Result<Vec<crate::genesys::model::Trunk>, ApiError> {
        Err(api_error(501))
    }

    async fn list_edges(&self) -> Result<Vec<crate::genesys::model::Edge>, ApiError> {
        Err(api_error(501))
    }

    async fn trunk_metrics(
        &self,
        _ids: &[String],
    ) -> Result<Vec<crate::genesys::model::TrunkMetrics>, ApiError> {
        Err(api_error(501))
    }

    async fn edge_metrics(
        &self,
        _ids: &[String],
    ) -> Result<Vec<crate::genesys::model::EdgeMetrics>, ApiError> {
        Err(api_error(501))
    }
}

impl Upstream for FakeUpstream {
    fn create_channel(&self) -> impl Future<Output = Result<Channel, ApiError>> + Send {
        let this = self.clone();
        async move {
            let gate = this.create_gate.lock().unwrap().clone();
            if let Some(gate) = gate {
                gate.notified().await;
            }
            let mut script = this.script.lock().unwrap();
            if script.fail_create {
                return Err(api_error(503));
            }
            let id = format!("streaming-0-{}", script.created.len() + 1);
            script.created.push(id.clone());
            Ok(Channel {
                connect_uri: format!("ws://{}/channels/{id}", this.addr),
                id,
                expires: None,
            })
        }
    }

    fn replace_subscriptions(
        &self,
        channel_id: &str,
        topics: &[String],
    ) -> impl Future<Output = Result<ChannelTopicEntityListing, ApiError>> + Send {
        let (script, channel_id, topics) =
            (self.script.clone(), channel_id.to_owned(), topics.to_vec());
        async move {
            let mut script = script.lock().unwrap();
            if script.gone.contains(&channel_id) {
                return Err(api_error(404));
            }
            if let Some(status) = script.fail_subscribe {
                return Err(api_error(status));
            }
            script.subscriptions.push((channel_id, topics.clone()));
            Ok(ChannelTopicEntityListing {
                entities: topics.iter().map(|id| ChannelTopic::named(id)).collect(),
            })
        }
    }

    fn query_observations(
        &self,
        queue_ids: &[String],
    ) -> impl Future<Output = Result<QueueObservationQueryResponse, ApiError>> + Send {
        let (script, queue_ids) = (self.script.clone(), queue_ids.to_vec());
        let gate = self.query_gate.lock().unwrap().clone();
        async move {
            let answer = {
                let mut script = script.lock().unwrap();
                script.queries.push(queue_ids.clone());
                if script.fail_query {
                    Err(api_error(500))
                } else {
                    let results = queue_ids
                        .iter()
                        .map(|id| format!(r#"{{"group":{{"queueId":"{id}","mediaType":"voice"}},"data":[{{"metric":"oWaiting","stats":{{"count":{}}}}}]}}"#, script.waiting))
                        .collect::<Vec<_>>()
                        .join(",");
                    Ok(serde_json::from_str(&format!(r#"{{"results":[{results}]}}"#)).unwrap())
                }
            };
            if let Some(gate) = gate {
                gate.notified().await;
            }
            answer
        }
    }
}

struct Harness {
    server: Arc<WsServer>,
    upstream: FakeUpstream,
    metrics: Arc<Metrics>,
    observations: Arc<Observations>,
    health: Arc<Health>,
    queues: watch::Sender<Vec<String>>,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), StreamError>>,
}

fn settings(heartbeat_timeout: Duration) -> StreamSettings {
    StreamSettings {
        heartbeat_timeout,
        reconnect_backoff_base: Duration::from_millis(20),
        reconnect_backoff_cap: Duration::from_millis(50),
        fallback_poll_interval: Duration::from_millis(100),
        rotate_before_expiry: Duration::from_secs(60),
        egress: crate::genesys::egress::Egress::direct(),
    }
}

/// Tests that do not exercise the watchdog use a long heartbeat timeout, as the fake server
/// sends no heartbeats of its own.
const QUIET: Duration = Duration::from_secs(30);

/// The parts every supervisor test builds: a WebSocket server, a scripted upstream (q1 and q2
/// waiting 5 unless `prepare` says otherwise), metrics watching q1 and q2, and a driver for
/// `queue_ids`.
struct Fixture {
    server: Arc<WsServer>,
    upstream: FakeUpstream,
    metrics: Arc<Metrics>,
    observations: Arc<Observations>,
    health: Arc<Health>,
    queues: watch::Sender<Vec<String>>,
    driver: Driver<FakeUpstream>,
    queue_ids: watch::Receiver<Vec<String>>,
}

async fn fixture(
    prepare: impl FnOnce(&mut Script),
    queue_ids: &[&str],
    heartbeat_timeout: Duration,
) -> Fixture {
    let (server, addr) = ws_server().await;
    let mut script = Script {
        waiting: 5,
        ..Script::default()
    };
    prepare(&mut script);
    let upstream = FakeUpstream {
        addr,
        script: Arc::new(Mutex::new(script)),
        create_gate: Arc::default(),
        query_gate: Arc::default(),
    };
    let metrics = Arc::new(Metrics::new());
    let queues = QueueTable::register(&metrics, QueueSeries::new(vec![MediaType::Voice]));
    let labels: Vec<QueueLabels> = ["q1", "q2"]
        .iter()
        .map(|id| QueueLabels {
            id: (*id).into(),
            name: format!("Queue {id}"),
            division: "Home".into(),
        })
        .collect();
    queues.set_queues(&labels);
    let observations = Arc::new(Observations::new(&metrics, queues.clone(), Clock::system()));
    let carried = Carried::queues(observations.clone(), Arc::new(|_| 0));
    let ctx = SessionContext::new(carried, metrics.clone(), Clock::system(), heartbeat_timeout)
        .for_channel("test");
    let health = Arc::new(Health::default());
    let (queues, rx) = watch::channel(queue_ids.iter().map(|id| (*id).to_owned()).collect());
    let driver = Driver::new(
        upstream.clone(),
        ctx,
        health.clone(),
        settings(heartbeat_timeout),
        "test".into(),
    );
    Fixture {
        server,
        upstream,
        metrics,
        observations,
        health,
        queues,
        driver,
        queue_ids: rx,
    }
}

async fn start(
    prepare: impl FnOnce(&mut Script),
    queue_ids: &[&str],
    heartbeat_timeout: Duration,
) -> Harness {
    let f = fixture(prepare, queue_ids, heartbeat_timeout).await;
    let cancel = CancellationToken::new();
    let task = tokio::spawn(f.driver.run(f.queue_ids, cancel.clone()));
    Harness {
        server: f.server,
        upstream: f.upstream,
        metrics: f.metrics,
        observations: f.observations,
        health: f.health,
        queues: f.queues,
        cancel,
        task,
    }
}

/// The value of `series` (name and labels) in a render of `metrics` now.
fn rendered(metrics: &Metrics, series: &str) -> Option<String> {
    let text = metrics.render(chrono::Utc::now().timestamp_millis());
    text.lines().find_map(|line| {
        line.strip_prefix(series)?
            .strip_prefix(' ')
            .map(str::to_owned)
    })
}

impl Harness {
    fn script(&self) -> std::sync::MutexGuard<'_, Script> {
        self.upstream.script.lock().unwrap()
    }

    fn line(&self, series: &str) -> Option<String> {
        rendered(&self.metrics, series)
    }

    async fn stop(mut self) {
        self.cancel.cancel();
        let result = tokio::time::timeout(Duration::from_secs(5), &mut self.task)
            .await
            .expect("run ends on cancel");
        assert!(result.unwrap().is_ok());
        assert_eq!(
            self.line(r#"genesys_exporter_stream_connected{channel="test"}"#)
                .as_deref(),
            Some("0")
        );
    }
}

/// Polls `check` until it holds, failing the test after a deadline.
/// Adds q2 to the queue set and waits until both queues are subscribed and `resynced` (q2,
/// and q1 too if it is stale) are resynced.
async fn add_q2_and_wait_for_its_resync(h: &Harness, subscription: &str, resynced: &[&str]) {
    h.queues.send(vec!["q1".into(), "q2".into()]).unwrap();
    eventually(subscription, || h.script().subscriptions.len() == 2).await;
    eventually("the resync after the change", || {
        h.script().queries.last().is_some_and(|q| q == resynced)
    })
    .await;
}

/// Waits for the first resync's snapshot (q1 waiting 5) to reach the gauges.
async fn first_resync(h: &Harness) {
    eventually("first resync", || {
        h.line(WAITING_Q1).as_deref() == Some("5")
    })
    .await;
}

async fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !check() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

const WAITING_Q1: &str = r#"genesys_queue_interactions{media_type="voice",queue="Queue q1",queue_id="q1",state="waiting"}"#;
const HEARTBEAT: &str =
    r#"{"topicName":"channel.metadata","eventBody":{"message":"WebSocket Heartbeat"}}"#;

fn waiting_event(queue: &str, n: u64) -> String {
    format!(
        r#"{{"topicName":"v2.analytics.queues.{queue}.observations","eventBody":{{"group":{{"queueId":"{queue}","mediaType":"voice"}},"data":[{{"interval":"2026-11-25T09:46:54.839Z/2026-11-25T09:46:54.839Z","metrics":[{{"metric":"oWaiting","stats":{{"count":{n}}}}}]}}]}}}}"#
    )
}

#[tokio::test]
async fn streams_after_a_resync_then_recreates_a_vanished_channel_after_heartbeat_silence() {
    let h = start(|_| {}, &["q1"], Duration::from_secs(1)).await;
    eventually("first connection", || h.server.count() == 1).await;
    first_resync(&h).await;
    assert_eq!(
        h.script().subscriptions[0].1,
        vec!["v2.analytics.queues.q1.observations".to_owned()]
    );
    assert_eq!(
        h.line(r#"genesys_exporter_subscribed_topics{channel="test"}"#)
            .as_deref(),
        Some("1")
    );
    assert_eq!(
        h.line(r#"genesys_exporter_stream_connected{channel="test"}"#)
            .as_deref(),
        Some("1")
    );

    h.server.push(0, &waiting_event("q1", 2));
    eventually("the event applied", || {
        h.line(WAITING_Q1).as_deref() == Some("2")
    })
    .await;

    let first_channel = h.server.channel_of(0);
    h.script().gone.insert(first_channel.clone());
    h.script().waiting = 7;
    eventually("a reconnect after silence", || h.server.count() == 2).await;
    assert_ne!(
        h.server.channel_of(1),
        first_channel,
        "the vanished channel was replaced"
    );
    assert_eq!(
        h.line(r#"genesys_exporter_stream_reconnects_total{reason="heartbeat_timeout"}"#)
            .as_deref(),
        Some("1")
    );
    eventually("the resync after reconnecting", || {
        h.line(WAITING_Q1).as_deref() == Some("7")
    })
    .await;
    h.stop().await;
}

#[tokio::test]
async fn socket_closing_builds_the_new_channel_before_dropping_the_old_socket() {
    let h = start(|_| {}, &["q1"], QUIET).await;
    eventually("first connection", || h.server.count() == 1).await;
    first_resync(&h).await;
    let gate = Arc::new(Notify::new());
    *h.upstream.create_gate.lock().unwrap() = Some(gate.clone());

    h.server.push(
        0,
        r#"{"topicName":"v2.system.socket_closing","eventBody":{"message":"maintenance"}}"#,
    );
    eventually("the closing counted", || {
        h.line(r#"genesys_exporter_notifications_total{outcome="socket_closing"}"#)
            .is_some()
    })
    .await;
    h.server.push(0, &waiting_event("q1", 3));
    eventually(
        "events on the old socket still applied during rotation",
        || h.line(WAITING_Q1).as_deref() == Some("3"),
    )
    .await;
    assert!(!h.server.is_closed(0));
    assert_eq!(
        h.line(r#"genesys_exporter_stream_connected{channel="test"}"#)
            .as_deref(),
        Some("1"),
        "no gap"
    );

    gate.notify_one();
    eventually("the new socket", || h.server.count() == 2).await;
    eventually("the old socket closed", || h.server.is_closed(0)).await;
    assert_eq!(h.script().created.len(), 2);
    assert_eq!(
        h.line(r#"genesys_exporter_stream_reconnects_total{reason="socket_closing"}"#)
            .as_deref(),
        Some("1")
    );
    h.server.push(1, HEARTBEAT);
    h.stop().await;
}

#[tokio::test]
async fn a_queue_set_change_resubscribes_and_resyncs_without_reconnecting() {
    let h = start(|_| {}, &["q1"], QUIET).await;
    first_resync(&h).await;
    add_q2_and_wait_for_its_resync(&h, "the new subscription", &["q2"]).await;
    assert_eq!(h.script().subscriptions[1].1.len(), 2);
    eventually("the topic count", || {
        h.line(r#"genesys_exporter_subscribed_topics{channel="test"}"#)
            .as_deref()
            == Some("2")
    })
    .await;
    assert_eq!(h.server.count(), 1);
    h.stop().await;
}

/// The same set published again (the app forces this after a rename) resyncs every queue.
#[tokio::test]
async fn the_same_queue_set_again_resyncs_every_queue() {
    let h = start(|_| {}, &["q1", "q2"], QUIET).await;
    eventually("the first resync", || h.script().queries.len() == 1).await;
    h.queues.send(vec!["q1".into(), "q2".into()]).unwrap();
    eventually("a second resync", || h.script().queries.len() == 2).await;
    assert_eq!(h.script().queries[1], ["q1", "q2"]);
    h.queues.send(vec!["q1".into()]).unwrap();
    eventually("the subscription without q2", || {
        h.script().subscriptions.len() == 3
    })
    .await;
    h.queues.send(vec!["q1".into(), "q3".into()]).unwrap();
    eventually("the resync of q3", || h.script().queries.len() == 3).await;
    assert_eq!(
        h.script().queries[2],
        ["q3"],
        "a removal alone resyncs nothing"
    );
    h.stop().await;
}

const STALE_Q1: &str = r#"genesys_exporter_queue_stale{queue="Queue q1",queue_id="q1"}"#;

#[tokio::test]
async fn a_failed_resync_is_retried_while_streaming_until_the_queue_is_fresh() {
    let h = start(|script| script.fail_query = true, &["q1"], QUIET).await;
    eventually("first connection", || h.server.count() == 1).await;
    eventually("the queue marked stale", || {
        h.line(STALE_Q1).as_deref() == Some("1")
    })
    .await;
    eventually("the failed resync retried while streaming", || {
        h.script().queries.len() >= 2
    })
    .await;
    {
        let mut script = h.script();
        script.fail_query = false;
        script.waiting = 7;
    }
    eventually("a successful retry", || {
        h.line(STALE_Q1).as_deref() == Some("0")
    })
    .await;
    assert_eq!(h.line(WAITING_Q1).as_deref(), Some("7"));
    let retries = h.script().queries.len();
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(
        h.script().queries.len(),
        retries,
        "a fresh queue is not queried again while streaming"
    );
    assert_eq!(h.server.count(), 1, "no reconnect was needed");
    assert!(h.script().queries.iter().all(|q| q == &["q1".to_owned()]));
    h.stop().await;
}

#[tokio::test]
async fn a_snapshot_answered_after_a_newer_event_does_not_overwrite_it() {
    let h = start(|_| {}, &["q1"], QUIET).await;
    first_resync(&h).await;
    let gate = Arc::new(Notify::new());
    *h.upstream.query_gate.lock().unwrap() = Some(gate.clone());
    h.queues.send(vec!["q1".into(), "q2".into()]).unwrap();
    eventually("the resync query sent", || h.script().queries.len() == 2).await;
    // The snapshot is fixed at 5; the queue changes right after, and its event arrives before
    // the slow response.
    h.server.push(0, &waiting_event("q1", 2));
    eventually("the event applied at once, not held for the query", || {
        h.line(WAITING_Q1).as_deref() == Some("2")
    })
    .await;
    gate.notify_one();
    eventually("the resync applied", || {
        h.line(r#"genesys_exporter_resyncs_total{result="success"}"#)
            .as_deref()
            == Some("2")
    })
    .await;
    assert_eq!(
        h.line(WAITING_Q1).as_deref(),
        Some("2"),
        "the newer event wins over the older snapshot"
    );
    h.server.push(0, &waiting_event("q1", 6));
    eventually("events flow again", || {
        h.line(WAITING_Q1).as_deref() == Some("6")
    })
    .await;
    h.stop().await;
}

/// Closes the gate on observation queries, then waits until one is sent and waiting on it.
async fn a_query_waiting_at_the_gate(h: &Harness) -> Arc<Notify> {
    let gate = Arc::new(Notify::new());
    *h.upstream.query_gate.lock().unwrap() = Some(gate.clone());
    // NB: no await since the gate closed, so every query counted from here waits on it.
    let sent = h.script().queries.len();
    eventually("a query waiting at the gate", || {
        h.script().queries.len() > sent
    })
    .await;
    gate
}

#[tokio::test]
async fn live_events_are_applied_while_a_failing_stale_retry_is_in_flight() {
    let h = start(|script| script.fail_query = true, &["q1"], QUIET).await;
    eventually("first connection", || h.server.count() == 1).await;
    eventually("the queue marked stale", || {
        h.line(STALE_Q1).as_deref() == Some("1")
    })
    .await;
    let gate = a_query_waiting_at_the_gate(&h).await;
    h.server.push(0, &waiting_event("q1", 2));
    eventually("the event applied during the slow retry", || {
        h.line(WAITING_Q1).as_deref() == Some("2")
    })
    .await;
    *h.upstream.query_gate.lock().unwrap() = None;
    gate.notify_one();
    eventually("the retry failed and its record let go", || {
        h.line(r#"genesys_exporter_resyncs_total{result="failure"}"#)
            .is_some_and(|n| n.parse::<u32>().unwrap() >= 2)
            && h.observations.records_in_flight() == 0
    })
    .await;
    assert_eq!(h.line(WAITING_Q1).as_deref(), Some("2"));
    assert_eq!(h.line(STALE_Q1).as_deref(), Some("1"));
    h.stop().await;
}

#[tokio::test]
async fn resyncs_query_one_batch_of_at_most_100_queues_at_a_time() {
    let ids: Vec<String> = (0..400).map(|i| format!("q{i}")).collect();
    let refs: Vec<&str> = ids[..250].iter().map(String::as_str).collect();
    let h = start(|_| {}, &refs, QUIET).await;
    eventually("the first resync's three batches", || {
        h.script().queries.len() == 3
    })
    .await;
    let sizes = |queries: &[Vec<String>]| queries.iter().map(Vec::len).collect::<Vec<_>>();
    assert_eq!(sizes(&h.script().queries), [100, 100, 50]);
    assert_eq!(h.script().queries.concat(), ids[..250]);
    h.queues.send(ids[100..].to_vec()).unwrap();
    eventually("the queue change's two batches", || {
        h.script().queries.len() == 5
    })
    .await;
    assert_eq!(sizes(&h.script().queries[3..]), [100, 50]);
    assert_eq!(
        h.script().queries[3..].concat(),
        ids[250..],
        "only the queues new to the channel"
    );
    h.stop().await;
}

#[tokio::test]
async fn a_queue_set_change_supersedes_a_slow_stale_retry() {
    let h = start(|script| script.fail_query = true, &["q1"], QUIET).await;
    eventually("first connection", || h.server.count() == 1).await;
    eventually("the queue marked stale", || {
        h.line(STALE_Q1).as_deref() == Some("1")
    })
    .await;
    let gate = a_query_waiting_at_the_gate(&h).await;
    h.script().fail_query = false;
    add_q2_and_wait_for_its_resync(
        &h,
        "the new subscription while the retry still waits",
        &["q1", "q2"],
    )
    .await;
    assert_eq!(
        h.observations.records_in_flight(),
        1,
        "the dropped retry let its record go"
    );
    gate.notify_one();
    eventually("the queue fresh again", || {
        h.line(STALE_Q1).as_deref() == Some("0")
    })
    .await;
    assert_eq!(h.line(WAITING_Q1).as_deref(), Some("5"));
    assert_eq!(h.observations.records_in_flight(), 0);
    assert_eq!(h.server.count(), 1, "no reconnect was needed");
    h.stop().await;
}

#[tokio::test]
async fn while_the_stream_is_down_fallback_resyncs_run_and_failures_mark_queues_stale() {
    let h = start(|script| script.fail_create = true, &["q1"], QUIET).await;
    eventually("several fallback resyncs", || h.script().queries.len() >= 3).await;
    assert_eq!(h.line(WAITING_Q1).as_deref(), Some("5"));
    assert!(
        matches!(h.health.readiness(), Err(msg) if !msg.contains("resync")),
        "the first resync counts for readiness"
    );
    h.script().fail_query = true;
    eventually("the queue marked stale", || {
        h.line(STALE_Q1).as_deref() == Some("1")
    })
    .await;
    assert_eq!(h.server.count(), 0);
    h.stop().await;
}

#[tokio::test]
async fn more_topics_than_a_channel_carries_is_an_error_not_a_retry_loop() {
    let ids: Vec<String> = (0..1_001).map(|i| format!("q{i}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let h = start(|_| {}, &refs, QUIET).await;
    let result = tokio::time::timeout(Duration::from_secs(5), h.task)
        .await
        .expect("run returns");
    assert_eq!(result.unwrap().unwrap_err().kind(), "too_many_topics");
}

/// The real client and the embedded simulator: the wire formats agree end to end.
#[tokio::test]
async fn against_the_simulator_it_streams_and_survives_closing_and_closed_sockets() {
    use crate::aggregates::ConversationTotals;
    use crate::genesys::{ClientSettings, GenesysClient};
    use crate::secret::Secret;

    crate::genesys::install_crypto_provider();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_cancel = CancellationToken::new();
    let sim = crate::sim::start(
        crate::sim::SimConfig::fast_for_tests(7),
        listener,
        sim_cancel.clone(),
    )
    .await
    .unwrap();
    let metrics = Arc::new(Metrics::new());
    let queues = QueueTable::register(
        &metrics,
        QueueSeries::new(vec![MediaType::Voice, MediaType::Chat, MediaType::Email]),
    );
    let labels: Vec<QueueLabels> = sim
        .queues
        .iter()
        .map(|q| QueueLabels {
            id: q.id.clone(),
            name: q.name.clone(),
            division: "Home".into(),
        })
        .collect();
    queues.set_queues(&labels);
    let settings = ClientSettings {
        api_base_url: sim.base_url.clone(),
        login_base_url: sim.base_url.clone(),
        client_id: sim.client_id.clone(),
        client_secret: Secret::new(sim.client_secret.clone()),
        request_timeout: Duration::from_secs(5),
        max_retries: 2,
        retry_backoff_base: Duration::from_millis(10),
        retry_backoff_cap: Duration::from_millis(100),
        trust: Default::default(),
        proxy: Default::default(),
    };
    let client = GenesysClient::new(settings, metrics.clone()).unwrap();
    let totals = Arc::new(ConversationTotals::new(
        &metrics,
        queues.clone(),
        Duration::from_secs(1_800),
        queues.counters().to_vec(),
    ));
    let health = Arc::new(Health::default());
    let (_queues, rx) = watch::channel(labels.iter().map(|q| q.id.clone()).collect::<Vec<_>>());
    let observations = Arc::new(Observations::new(&metrics, queues.clone(), Clock::system()));
    let carried = Carried::queues(observations, Arc::new(move |body| totals.fold(body)));
    let ctx = SessionContext::new(
        carried,
        metrics.clone(),
        Clock::system(),
        settings_for_sim().heartbeat_timeout,
    )
    .for_channel("sim");
    let supervisor = Supervisor::new(client, ctx, health.clone(), settings_for_sim(), rx);
    let cancel = CancellationToken::new();
    let task = tokio::spawn(supervisor.run(cancel.clone()));
    let line = |series: &str| {
        let text = metrics.render(chrono::Utc::now().timestamp_millis());
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ').map(str::to_owned))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    let observations = r#"genesys_exporter_notifications_total{outcome="observation"}"#;
    eventually("observation events", || line(observations) >= 3.0).await;
    assert_eq!(
        line(r#"genesys_exporter_resyncs_total{result="success"}"#),
        1.0
    );
    assert_eq!(
        line(r#"genesys_exporter_notifications_total{outcome="malformed"}"#),
        0.0
    );
    assert_eq!(
        line(r#"genesys_exporter_subscribed_topics{channel="sim"}"#),
        labels.len() as f64
    );

    let http = reqwest::Client::new();
    for (fault, reason) in [
        ("socket_closing", "socket_closing"),
        ("close_sockets", "closed"),
    ] {
        let response = http
            .post(format!("{}/sim/faults", sim.base_url))
            .body(format!(r#"{{"kind":"{fault}"}}"#))
            .header("content-type", "application/json")
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{fault}: {}",
            response.status()
        );
        let series = format!(r#"genesys_exporter_stream_reconnects_total{{reason="{reason}"}}"#);
        eventually(reason, || line(&series) >= 1.0).await;
        let before = line(observations);
        eventually("events after reconnecting", || line(observations) > before).await;
        assert_eq!(
            line(r#"genesys_exporter_stream_connected{channel="sim"}"#),
            1.0
        );
    }
    assert!(line(r#"genesys_exporter_resyncs_total{result="success"}"#) >= 3.0);
    let aggregates = r#"genesys_exporter_notifications_total{outcome="interval_aggregate"}"#;
    eventually("running totals", || line(aggregates) >= 1.0).await;
    assert_eq!(
        line(r#"genesys_exporter_notifications_total{outcome="ignored"}"#),
        0.0
    );

    cancel.cancel();
    let result = tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("run ends on cancel");
    assert!(result.unwrap().is_ok());
    sim_cancel.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(5), sim.stopped()).await;
}

fn settings_for_sim() -> StreamSettings {
    StreamSettings {
        heartbeat_timeout: Duration::from_secs(5),
        ..settings(Duration::from_secs(5))
    }
}

mod transitions;

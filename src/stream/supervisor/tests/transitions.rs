//! One test per transition of the channel state machine, driving `Driver::step` directly.
//! Steps that need no socket run on tokio's paused clock, so backoffs and fallback intervals
//! are exact; connecting and streaming need real loopback sockets, which paused time cannot
//! drive, so those run on the real clock under deadlines (see the tests in `super`).

use super::*;

use crate::stream::upstream::ChannelState;
use crate::vocabulary::clock::Clock;

struct Rig {
    driver: Driver<FakeUpstream>,
    progress: Progress,
    upstream: FakeUpstream,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    cancel: CancellationToken,
    _queues: watch::Sender<Vec<String>>,
}

async fn rig(prepare: impl FnOnce(&mut Script), queue_ids: &[&str]) -> Rig {
    let f = fixture(prepare, queue_ids, QUIET).await;
    f.health.channel_started("test");
    let progress = f.driver.progress(f.queue_ids);
    Rig {
        driver: f.driver,
        progress,
        upstream: f.upstream,
        metrics: f.metrics,
        health: f.health,
        cancel: CancellationToken::new(),
        _queues: f.queues,
    }
}

impl Rig {
    async fn step(&mut self, phase: Phase) -> Step {
        self.driver
            .step(phase, &mut self.progress, &self.cancel)
            .await
    }

    fn script(&self) -> std::sync::MutexGuard<'_, Script> {
        self.upstream.script.lock().unwrap()
    }

    fn line(&self, series: &str) -> Option<String> {
        rendered(&self.metrics, series)
    }

    fn channel(&self, id: &str) -> ChannelState {
        let channel = Channel {
            connect_uri: format!("ws://{}/channels/{id}", self.upstream.addr),
            id: id.to_owned(),
            expires: None,
        };
        ChannelState::new(channel, Duration::from_secs(60), &Clock::system())
    }
}

fn failures(stage: &str) -> String {
    format!(r#"genesys_exporter_stream_establish_failures_total{{channel="test",stage="{stage}"}}"#)
}

#[tokio::test(start_paused = true)]
async fn creating_yields_a_channel_to_subscribe() {
    let mut rig = rig(|_| {}, &["q1"]).await;
    let next = rig.step(Phase::Creating).await.unwrap();
    assert!(matches!(next, Phase::Subscribing(ref s) if s.channel.id == "streaming-0-1"));
}

#[tokio::test(start_paused = true)]
async fn a_refused_creation_backs_off_without_a_channel_and_is_counted() {
    let mut rig = rig(|script| script.fail_create = true, &["q1"]).await;
    let next = rig.step(Phase::Creating).await.unwrap();
    assert!(matches!(next, Phase::Reconnecting(None)));
    assert_eq!(rig.line(&failures("create_channel")).as_deref(), Some("1"));
}

#[tokio::test(start_paused = true)]
async fn subscribing_connects_next_and_a_failure_keeps_the_channel_unless_it_is_gone() {
    let mut rig = rig(|_| {}, &["q1"]).await;
    let next = rig.step(Phase::Subscribing(rig.channel("c1"))).await;
    assert!(matches!(next, Ok(Phase::Connecting(ref s)) if s.channel.id == "c1"));
    assert_eq!(*rig.driver.ctx.subscribed.read().unwrap(), ["q1"]);
    assert_eq!(
        rig.line(r#"genesys_exporter_subscribed_topics{channel="test"}"#)
            .as_deref(),
        Some("1")
    );

    rig.script().fail_subscribe = Some(503);
    let next = rig.step(Phase::Subscribing(rig.channel("c1"))).await;
    assert!(matches!(next, Ok(Phase::Reconnecting(Some(ref s))) if s.channel.id == "c1"));
    rig.script().gone.insert("c1".to_owned());
    let next = rig.step(Phase::Subscribing(rig.channel("c1"))).await;
    assert!(
        matches!(next, Ok(Phase::Reconnecting(None))),
        "a new channel is needed"
    );
    assert_eq!(rig.line(&failures("subscribe")).as_deref(), Some("2"));
}

#[tokio::test(start_paused = true)]
async fn more_topics_than_a_channel_carries_stop_the_channel() {
    let ids: Vec<String> = (0..1_001).map(|i| format!("q{i}")).collect();
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut rig = rig(|_| {}, &refs).await;
    let error = rig.step(Phase::Subscribing(rig.channel("c1"))).await;
    assert_eq!(error.err().map(|e| e.kind()), Some("too_many_topics"));
}

#[tokio::test(start_paused = true)]
async fn reconnecting_waits_out_the_backoff_then_reuses_or_replaces_the_channel() {
    let mut rig = rig(|_| {}, &["q1"]).await;
    rig.progress.last_resync = Some(Instant::now());
    let started = Instant::now();
    let next = rig.step(Phase::Reconnecting(Some(rig.channel("c1")))).await;
    assert!(matches!(next, Ok(Phase::Subscribing(ref s)) if s.channel.id == "c1"));
    assert!(
        started.elapsed() <= Duration::from_millis(20),
        "the first ceiling is the base"
    );
    let next = rig.step(Phase::Reconnecting(None)).await;
    assert!(matches!(next, Ok(Phase::Creating)));
    assert!(
        started.elapsed() <= Duration::from_millis(60),
        "then doubled, capped at 50 ms"
    );
    assert_eq!(rig.progress.backoff.attempts(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_channel_that_cannot_be_created_is_resynced_at_the_fallback_interval() {
    let mut rig = rig(|_| {}, &["q1", "q2"]).await;
    *rig.upstream.create_gate.lock().unwrap() = Some(Arc::new(Notify::new()));
    let stuck = tokio::time::timeout(Duration::from_millis(350), rig.step(Phase::Creating)).await;
    assert!(stuck.is_err(), "creation never answers");
    let queries = rig.script().queries.clone();
    assert_eq!(queries.len(), 3, "at 100, 200 and 300 ms: {queries:?}");
    assert!(
        queries
            .iter()
            .all(|q| q == &["q1".to_owned(), "q2".to_owned()])
    );
    assert_eq!(rig.line(WAITING_Q1).as_deref(), Some("5"));
    rig.health.token_obtained();
    rig.health.queues_resolved();
    assert_eq!(
        rig.health.readiness(),
        Ok(()),
        "the fallback resync counts for readiness"
    );
    assert_eq!(
        rig.line(r#"genesys_exporter_stream_connected{channel="test"}"#),
        None,
        "nothing claims a connection"
    );
}

#[tokio::test(start_paused = true)]
async fn failing_fallback_resyncs_while_down_mark_the_queues_stale_and_the_channel_unready() {
    let mut rig = rig(
        |script| {
            script.fail_create = true;
            script.fail_query = true;
        },
        &["q1"],
    )
    .await;
    let mut phase = Phase::Creating;
    let started = Instant::now();
    while rig.script().queries.is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "a fallback resync within 1 s"
        );
        phase = rig.step(phase).await.unwrap();
        assert!(matches!(phase, Phase::Creating | Phase::Reconnecting(None)));
    }
    assert!(
        started.elapsed() >= Duration::from_millis(100),
        "the first an interval after going down"
    );
    assert_eq!(rig.line(STALE_Q1).as_deref(), Some("1"));
    rig.health.token_obtained();
    rig.health.queues_resolved();
    assert!(rig.health.readiness().unwrap_err().contains("channel test"));
}

#[tokio::test(start_paused = true)]
async fn cancellation_stops_a_step_in_any_down_phase() {
    let mut rig = rig(|_| {}, &["q1"]).await;
    *rig.upstream.create_gate.lock().unwrap() = Some(Arc::new(Notify::new()));
    rig.cancel.cancel();
    assert!(matches!(
        rig.step(Phase::Creating).await,
        Ok(Phase::Stopped)
    ));
    let next = rig.step(Phase::Reconnecting(None)).await;
    assert!(matches!(next, Ok(Phase::Stopped)));
    assert!(matches!(rig.step(Phase::Stopped).await, Ok(Phase::Stopped)));
}

#[tokio::test]
async fn connecting_opens_the_socket_or_gives_up_the_channel() {
    let mut rig = rig(|_| {}, &["q1"]).await;
    let next = rig.step(Phase::Connecting(rig.channel("c1"))).await;
    assert!(matches!(next, Ok(Phase::Streaming(_))));

    let refused = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = refused.local_addr().unwrap().port();
    drop(refused);
    let mut state = rig.channel("c2");
    state.channel.connect_uri = format!("ws://127.0.0.1:{port}/channels/c2");
    let next = rig.step(Phase::Connecting(state)).await;
    assert!(matches!(next, Ok(Phase::Reconnecting(None))));
    assert_eq!(rig.line(&failures("connect")).as_deref(), Some("1"));
}

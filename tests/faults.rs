//! Upstream faults injected through the simulator: the exporter recovers, counts what happened
//! and ends with gauges equal to the ground truth.

mod common;

use common::checks::{
    exporter_get, gauges_match_truth, metric_grows, metric_reaches, reading, ready, value,
};
use common::{Harness, eventually};
use genesys_exporter::sim::Fault;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnects_and_resyncs_after_the_sockets_close() {
    let harness = Harness::start(11).await;
    ready(&harness).await;
    let resyncs = [("result", "success")];
    let resyncs = reading(&harness, "genesys_exporter_resyncs_total", &resyncs).await;
    harness.fault(Fault::CloseSockets).await;
    metric_reaches(
        &harness,
        "genesys_exporter_stream_reconnects_total",
        &[("reason", "closed")],
        1.0,
    )
    .await;
    resyncs.grows_by(&harness, 1.0).await;
    ready(&harness).await;
    harness.pause_traffic().await;
    gauges_match_truth(&harness).await;
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replaces_the_socket_on_socket_closing_without_losing_the_stream() {
    let harness = Harness::start(12).await;
    ready(&harness).await;
    harness.fault(Fault::SocketClosing).await;
    metric_reaches(
        &harness,
        "genesys_exporter_notifications_total",
        &[("outcome", "socket_closing")],
        1.0,
    )
    .await;
    metric_reaches(
        &harness,
        "genesys_exporter_stream_reconnects_total",
        &[("reason", "socket_closing")],
        1.0,
    )
    .await;
    ready(&harness).await;
    harness.pause_traffic().await;
    gauges_match_truth(&harness).await;
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeat_silence_is_detected_and_the_stream_rebuilt() {
    let harness = Harness::start(13).await;
    ready(&harness).await;
    // NB: any frame counts as a sign of life, so the traffic must be quiet for the silence to show.
    harness.pause_traffic().await;
    harness.fault(Fault::StopHeartbeats).await;
    metric_reaches(
        &harness,
        "genesys_exporter_stream_reconnects_total",
        &[("reason", "heartbeat_timeout")],
        1.0,
    )
    .await;
    harness.fault(Fault::ResumeHeartbeats).await;
    ready(&harness).await;
    gauges_match_truth(&harness).await;
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_unknown_messages_are_counted_and_not_fatal() {
    let harness = Harness::start(14).await;
    ready(&harness).await;
    harness.fault(Fault::MalformedMessage).await;
    metric_reaches(
        &harness,
        "genesys_exporter_notifications_total",
        &[("outcome", "malformed")],
        1.0,
    )
    .await;
    metric_reaches(
        &harness,
        "genesys_exporter_notifications_total",
        &[("outcome", "unknown_topic")],
        1.0,
    )
    .await;
    let scrape = harness.scrape().await;
    let reconnects = [("reason", "error")];
    let value_of = |name, labels| value(&scrape, name, labels);
    assert_eq!(
        value_of("genesys_exporter_stream_reconnects_total", &reconnects),
        0.0
    );
    assert_eq!(
        value_of("genesys_exporter_stream_connected", &[("channel", "0")]),
        1.0
    );
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_replaced_and_polling_goes_on() {
    let harness = Harness::start(15).await;
    ready(&harness).await;
    let refreshes = [("result", "success")];
    let refreshes = reading(
        &harness,
        "genesys_exporter_token_refreshes_total",
        &refreshes,
    )
    .await;
    harness.fault(Fault::RevokeTokens).await;
    refreshes.grows_by(&harness, 1.0).await;
    let polls = [("result", "success")];
    metric_grows(
        &harness,
        "genesys_exporter_aggregate_polls_total",
        &polls,
        2.0,
    )
    .await;
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_are_waited_out_and_counted() {
    let harness = Harness::start(16).await;
    ready(&harness).await;
    harness
        .fault(Fault::RateLimit {
            count: 2,
            retry_after_seconds: 1,
            path: None,
        })
        .await;
    eventually("both 429s are counted", || async {
        let got = harness
            .scrape()
            .await
            .sum("genesys_exporter_api_rate_limited_total");
        if got >= 2.0 {
            Ok(())
        } else {
            Err(format!("{got} rate limited"))
        }
    })
    .await;
    let polls = [("result", "success")];
    metric_grows(
        &harness,
        "genesys_exporter_aggregate_polls_total",
        &polls,
        1.0,
    )
    .await;
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_keep_the_exporter_alive_but_not_ready() {
    let config = genesys_exporter::sim::SimConfig::fast_for_tests(17);
    let harness = Harness::start_with(config, |settings| {
        settings.client_secret = Some(genesys_exporter::secret::Secret::new("not-the-secret"));
    })
    .await;
    metric_reaches(
        &harness,
        "genesys_exporter_token_refreshes_total",
        &[("result", "failure")],
        1.0,
    )
    .await;
    let (status, body) = exporter_get(&harness, "/readyz").await;
    assert_eq!(status, 503);
    assert!(body.contains("no OAuth token"), "{body}");
    assert_eq!(exporter_get(&harness, "/healthz").await.0, 200);
    let metrics = exporter_get(&harness, "/metrics").await.1;
    assert!(!metrics.contains("not-the-secret"));
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_a_thousand_queues_are_sharded_over_channels() {
    let config = genesys_exporter::sim::SimConfig {
        queues: 1_001,
        agents_per_queue: 2,
        media_types: vec!["voice".to_owned()],
        arrivals_per_minute: 30.0,
        ..genesys_exporter::sim::SimConfig::fast_for_tests(18)
    };
    let harness = Harness::start_with(config, |_| {}).await;
    eventually("two channels stream 1,000 and 1 topics", || async {
        let scrape = harness.scrape().await;
        let on = |name, channel| value(&scrape, name, &[("channel", channel)]);
        let topics = |channel| on("genesys_exporter_subscribed_topics", channel);
        let connected = |channel| on("genesys_exporter_stream_connected", channel);
        let got = (topics("0"), topics("1"), connected("0"), connected("1"));
        if got == (1000.0, 1.0, 1.0, 1.0) {
            Ok(())
        } else {
            Err(format!(
                "(topics 0, topics 1, connected 0, connected 1) = {got:?}"
            ))
        }
    })
    .await;
    harness.pause_traffic().await;
    gauges_match_truth(&harness).await;
    harness.stop().await;
}

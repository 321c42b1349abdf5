//! The fault matrix: every fault the simulator injects, with traffic flowing. For each, the
//! matching self-metric moves, `/healthz` and `/readyz` tell the truth during and after (no task
//! died; a ready exporter stays ready, as every channel's first resync is done), and once the
//! fault clears every gauge equals the ground truth within 5 s. Each case prints its recovery
//! time (fault cleared → gauges equal truth) as `fault <name>: recovered in <ms> ms`.

use crate::common;

use std::time::{Duration, Instant};

use common::checks::{assert_alive_and_ready, exporter_get, metric_reaches, ready, value_now};
use common::truth::{check_against_truth, gauge_mismatches};
use common::{Harness, eventually};
use genesys_exporter::sim::{Fault, SimConfig};

const OBSERVATIONS: &str = "/api/v2/analytics/queues/observations/query";
const RECONNECTS: &str = "genesys_exporter_stream_reconnects_total";
const NOTIFICATIONS: &str = "genesys_exporter_notifications_total";
/// From a cleared fault to gauges equal to the truth.
const RECOVERY: Duration = Duration::from_secs(5);

/// One row of the matrix.
struct Case {
    name: &'static str,
    seed: u64,
    /// Injected in order, with the traffic flowing.
    arm: Vec<Fault>,
    /// The self-metric that must move while the fault acts: name, labels, by how much.
    moves: (&'static str, &'static [(&'static str, &'static str)], f64),
    /// What clears the fault (nothing for one-shot faults).
    clear: Vec<Fault>,
    /// The watchdog only sees silence when no frame arrives at all, so that case is quiet.
    quiet: bool,
}

fn observations_path() -> Option<String> {
    Some(OBSERVATIONS.to_owned())
}

/// Waits until every gauge equals the truth; returns how long that took.
async fn recovery(harness: &Harness) -> Duration {
    let started = Instant::now();
    let mut last = String::new();
    while started.elapsed() < RECOVERY {
        match check_against_truth(harness, &harness.media_types, gauge_mismatches).await {
            Ok(()) => return started.elapsed(),
            Err(why) => last = why,
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("gauges not equal to the truth {RECOVERY:?} after the fault cleared: {last}");
}

async fn run(case: Case) {
    let harness = Harness::start(case.seed).await;
    ready(&harness).await;
    if case.quiet {
        harness.pause_traffic().await;
    }
    let (name, labels, by) = case.moves;
    let before = value_now(&harness, name, labels).await;
    for fault in &case.arm {
        harness.fault(fault).await;
    }
    metric_reaches(&harness, name, labels, before + by).await;
    assert_alive_and_ready(&harness, &format!("{} during", case.name)).await;
    for fault in &case.clear {
        harness.fault(fault).await;
    }
    // NB: a still truth is what "equal" can be measured against; the recovery must come from
    // the exporter (reconnect, resync), not from fresh events.
    harness.pause_traffic().await;
    let took = recovery(&harness).await;
    eprintln!("fault {}: recovered in {} ms", case.name, took.as_millis());
    assert_alive_and_ready(&harness, &format!("{} after", case.name)).await;
    eventually("streaming again", || async {
        match value_now(
            &harness,
            "genesys_exporter_stream_connected",
            &[("channel", "0")],
        )
        .await
        {
            1.0 => Ok(()),
            other => Err(format!("connected {other}")),
        }
    })
    .await;
    harness.stop().await;
}

/// A one-shot fault: nothing to clear.
fn once(
    name: &'static str,
    seed: u64,
    arm: Vec<Fault>,
    moves: (&'static str, &'static [(&'static str, &'static str)], f64),
) -> Case {
    Case {
        name,
        seed,
        arm,
        moves,
        clear: Vec::new(),
        quiet: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_sockets() {
    run(once(
        "close_sockets",
        11,
        vec![Fault::CloseSockets],
        (RECONNECTS, &[("reason", "closed")], 1.0),
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_closing() {
    run(once(
        "socket_closing",
        12,
        vec![Fault::SocketClosing],
        (RECONNECTS, &[("reason", "socket_closing")], 1.0),
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeat_silence() {
    run(Case {
        name: "stop_heartbeats",
        seed: 13,
        arm: vec![Fault::StopHeartbeats],
        moves: (RECONNECTS, &[("reason", "heartbeat_timeout")], 1.0),
        clear: vec![Fault::ResumeHeartbeats],
        quiet: true,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_channels() {
    let stage = &[("channel", "0"), ("stage", "subscribe")];
    run(once(
        "expire_channels",
        14,
        vec![Fault::ExpireChannels],
        (
            "genesys_exporter_stream_establish_failures_total",
            stage,
            1.0,
        ),
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_that_expires_without_socket_closing() {
    run(once(
        "shorten_channels",
        15,
        vec![Fault::ShortenChannels { ttl_ms: 300 }],
        (RECONNECTS, &[("reason", "closed")], 1.0),
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_channel_creation() {
    let stage = &[("channel", "0"), ("stage", "create_channel")];
    run(Case {
        name: "refuse_channels",
        seed: 16,
        arm: vec![
            Fault::RefuseChannels {
                count: 1_000,
                status: 400,
            },
            Fault::ExpireChannels,
        ],
        moves: (
            "genesys_exporter_stream_establish_failures_total",
            stage,
            2.0,
        ),
        clear: vec![Fault::RefuseChannels {
            count: 0,
            status: 400,
        }],
        quiet: false,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_on_the_resync() {
    let limited = &[("endpoint", "queue_observations")];
    run(Case {
        name: "rate_limit",
        seed: 17,
        arm: vec![
            Fault::RateLimit {
                count: 1_000,
                retry_after_seconds: 1,
                path: observations_path(),
            },
            Fault::CloseSockets,
        ],
        moves: ("genesys_exporter_api_rate_limited_total", limited, 2.0),
        clear: vec![Fault::RateLimit {
            count: 0,
            retry_after_seconds: 1,
            path: observations_path(),
        }],
        quiet: false,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5xx_burst_on_the_resync() {
    let failed = &[("endpoint", "queue_observations"), ("status", "503")];
    run(Case {
        name: "server_error",
        seed: 18,
        arm: vec![
            Fault::ServerError {
                count: 1_000,
                status: 503,
                path: observations_path(),
            },
            Fault::CloseSockets,
        ],
        moves: ("genesys_exporter_api_requests_total", failed, 3.0),
        clear: vec![Fault::ServerError {
            count: 0,
            status: 503,
            path: observations_path(),
        }],
        quiet: false,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_resync_responses() {
    let slow = &[("endpoint", "queue_observations")];
    run(Case {
        name: "slow_response",
        seed: 19,
        arm: vec![
            Fault::SlowResponse {
                count: 2,
                delay_ms: 1_500,
                path: observations_path(),
            },
            Fault::CloseSockets,
        ],
        moves: (
            "genesys_exporter_api_request_duration_seconds_sum",
            slow,
            1.5,
        ),
        clear: vec![Fault::SlowResponse {
            count: 0,
            delay_ms: 1_500,
            path: observations_path(),
        }],
        quiet: false,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_resync_bodies() {
    run(Case {
        name: "malformed_body",
        seed: 20,
        arm: vec![
            Fault::MalformedBody {
                count: 1_000,
                path: observations_path(),
            },
            Fault::CloseSockets,
        ],
        moves: (
            "genesys_exporter_resyncs_total",
            &[("result", "failure")],
            1.0,
        ),
        clear: vec![Fault::MalformedBody {
            count: 0,
            path: observations_path(),
        }],
        quiet: false,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_unknown_messages() {
    run(once(
        "malformed_message",
        21,
        vec![Fault::MalformedMessage],
        (NOTIFICATIONS, &[("outcome", "malformed")], 1.0),
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_messages() {
    run(once(
        "oversized_message",
        22,
        vec![Fault::OversizedMessage { bytes: 2 << 20 }],
        (NOTIFICATIONS, &[("outcome", "oversized")], 1.0),
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_events() {
    run(once(
        "duplicate_events",
        23,
        vec![Fault::DuplicateEvents { rounds: 5 }],
        (NOTIFICATIONS, &[("outcome", "duplicate")], 1.0),
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_events() {
    run(once(
        "reorder_events",
        24,
        vec![Fault::ReorderEvents { rounds: 5 }],
        (NOTIFICATIONS, &[("outcome", "out_of_order")], 1.0),
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_tokens() {
    let refreshed = &[("result", "success")];
    run(once(
        "revoke_tokens",
        25,
        vec![Fault::RevokeTokens],
        ("genesys_exporter_token_refreshes_total", refreshed, 1.0),
    ))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_credentials_keep_the_exporter_alive_but_not_ready() {
    let config = SimConfig::fast_for_tests(17);
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

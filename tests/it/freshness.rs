//! What freshness and staleness mean on `/metrics` (docs/operations.md#fresh-and-stale): a quiet
//! queue on a healthy stream is fresh, a channel that cannot be established lives on fallback
//! resyncs, and a queue that cannot be refreshed at all turns stale.

use crate::common;

use std::time::Duration;

use common::checks::{assert_alive_and_ready, exporter_get, gauges_match_truth, ready, value};
use common::{Harness, Scrape, eventually};
use genesys_exporter::sim::{Fault, SimConfig};
use serde_json::Value;

const STAMP: &str = "genesys_queue_observation_timestamp_seconds";
const STALE: &str = "genesys_exporter_queue_stale";
const OBSERVATIONS: &str = "/api/v2/analytics/queues/observations/query";

/// `count` observation queries answered 503 (0 disarms).
fn failing_observations(count: u32) -> Fault {
    Fault::ServerError {
        count,
        status: 503,
        path: Some(OBSERVATIONS.to_owned()),
    }
}

fn unix_now() -> f64 {
    chrono::Utc::now().timestamp_millis() as f64 / 1000.0
}

/// (queue id, queue name) of every queue in the truth.
fn queues(truth: &Value) -> Vec<(String, String)> {
    let queues = truth["queues"].as_array().expect("truth lists queues");
    let pair = |q: &Value| {
        (
            q["id"].as_str().unwrap().to_owned(),
            q["name"].as_str().unwrap().to_owned(),
        )
    };
    queues.iter().map(pair).collect()
}

/// `name{queue_id, queue}` for every queue.
fn per_queue(scrape: &Scrape, name: &str, queues: &[(String, String)]) -> Vec<Option<f64>> {
    queues
        .iter()
        .map(|(id, q)| scrape.get(name, &[("queue_id", id), ("queue", q)]))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_queues_on_a_healthy_stream_stay_within_two_heartbeats_of_now() {
    let config = SimConfig {
        start_paused: true,
        heartbeat_interval: Duration::from_secs(1),
        ..SimConfig::fast_for_tests(31)
    };
    let harness = Harness::start_with(config, |_| {}).await;
    ready(&harness).await;
    let queues = queues(&harness.truth().await);
    let events = |scrape: &Scrape| {
        value(
            scrape,
            "genesys_exporter_notifications_total",
            &[("outcome", "observation")],
        )
    };
    let heartbeats = |scrape: &Scrape| {
        value(
            scrape,
            "genesys_exporter_notifications_total",
            &[("outcome", "heartbeat")],
        )
    };
    // NB: paused from the start, the simulator publishes nothing once the exporter subscribed
    // (its one forced round went out before any socket): every value came from the resync.
    let first = harness.scrape().await;
    let sampled_until = tokio::time::Instant::now() + Duration::from_secs(6);
    let mut samples = 0;
    while tokio::time::Instant::now() < sampled_until {
        let scrape = harness.scrape().await;
        let now = unix_now();
        for (stamp, (id, _)) in per_queue(&scrape, STAMP, &queues).into_iter().zip(&queues) {
            let age = now - stamp.expect("every queue has a timestamp");
            assert!(
                age <= 2.0,
                "queue {id} is {age:.3} s old at sample {samples}"
            );
        }
        assert!(common::every(per_queue(&scrape, STALE, &queues), |s| {
            *s == Some(0.0)
        }));
        samples += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let last = harness.scrape().await;
    assert_eq!(
        events(&last),
        events(&first),
        "no event arrived: the queues were quiet"
    );
    assert!(
        heartbeats(&last) >= heartbeats(&first) + 5.0,
        "heartbeats kept them fresh"
    );
    assert!(samples >= 20);
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_refused_at_the_channel_limit_lives_on_fallback_resyncs_until_it_can() {
    let refuse = |count: u32| Fault::RefuseChannels { count, status: 400 };
    lives_on_fallback_resyncs(32, refuse).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_storm_on_channel_creation_leaves_the_gauges_on_fallback_resyncs() {
    let storm = |count: u32| Fault::RateLimit {
        count,
        retry_after_seconds: 1,
        path: Some("/api/v2/notifications/channels".to_owned()),
    };
    lives_on_fallback_resyncs(34, storm).await;
}

/// While `refuse(n)` refuses channel creation, fallback resyncs keep the gauges equal to the
/// truth; once `refuse(0)` lifts it, the channel streams again.
async fn lives_on_fallback_resyncs(seed: u64, refuse: impl Fn(u32) -> Fault) {
    let harness = Harness::start(seed).await;
    ready(&harness).await;
    harness.fault(refuse(100_000)).await;
    harness.fault(Fault::ExpireChannels).await;
    let down = |scrape: &Scrape| {
        let connected = value(
            scrape,
            "genesys_exporter_stream_connected",
            &[("channel", "0")],
        );
        let refused = value(
            scrape,
            "genesys_exporter_stream_establish_failures_total",
            &[("channel", "0"), ("stage", "create_channel")],
        );
        (connected, refused)
    };
    eventually("the channel is down and its creation refused", || async {
        match down(&harness.scrape().await) {
            (0.0, refused) if refused >= 1.0 => Ok(()),
            other => Err(format!("connected, refused = {other:?}")),
        }
    })
    .await;
    let resynced = |scrape: &Scrape| {
        value(
            scrape,
            "genesys_exporter_last_resync_timestamp_seconds",
            &[("channel", "0")],
        )
    };
    let before = resynced(&harness.scrape().await);
    eventually(
        "fallback resyncs move the channel's last resync",
        || async {
            let now = resynced(&harness.scrape().await);
            if now > before {
                Ok(())
            } else {
                Err(format!("{now} <= {before}"))
            }
        },
    )
    .await;
    harness.pause_traffic().await;
    gauges_match_truth(&harness).await;
    let queues = queues(&harness.truth().await);
    let scrape = harness.scrape().await;
    assert!(
        common::every(per_queue(&scrape, STALE, &queues), |s| *s == Some(0.0)),
        "fresh from the fallback"
    );
    assert_alive_and_ready(&harness, "on fallback resyncs").await;

    harness.fault(refuse(0)).await;
    eventually("the channel streams again", || async {
        match down(&harness.scrape().await) {
            (1.0, _) => Ok(()),
            other => Err(format!("connected, refused = {other:?}")),
        }
    })
    .await;
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queues_that_cannot_be_refreshed_turn_stale_and_removed_gauges_come_back() {
    let harness = Harness::start_with(SimConfig::fast_for_tests(33), |settings| {
        settings.stream.staleness_bound = Duration::from_secs(2);
        settings.stream.stale_gauges = genesys_exporter::vocabulary::queue::StaleGauges::Remove;
    })
    .await;
    ready(&harness).await;
    let queues = queues(&harness.truth().await);
    harness
        .fault(Fault::RefuseChannels {
            count: 100_000,
            status: 503,
        })
        .await;
    harness.fault(failing_observations(100_000)).await;
    harness.fault(Fault::ExpireChannels).await;
    eventually("every queue stale and its gauges gone", || async {
        let scrape = harness.scrape().await;
        let stale = per_queue(&scrape, STALE, &queues);
        let waiting = scrape.sum("genesys_queue_interactions");
        let listed = scrape.sum("genesys_queue_info");
        if common::every(&stale, |s| **s == Some(1.0))
            && waiting == 0.0
            && !scrape
                .series
                .keys()
                .any(|k| k.starts_with("genesys_queue_interactions{"))
            && listed == queues.len() as f64
        {
            Ok(())
        } else {
            Err(format!("stale {stale:?}, interactions {waiting}"))
        }
    })
    .await;
    assert_eq!(
        exporter_get(&harness, "/healthz").await.0,
        200,
        "stale, not dead"
    );
    harness.fault(failing_observations(0)).await;
    harness
        .fault(Fault::RefuseChannels {
            count: 0,
            status: 503,
        })
        .await;
    harness.pause_traffic().await;
    gauges_match_truth(&harness).await;
    let scrape = harness.scrape().await;
    assert!(common::every(per_queue(&scrape, STALE, &queues), |s| *s == Some(0.0)));
    harness.stop().await;
}

//! At the scale of a large estate: more queues than one notification channel carries. These
//! are the suite's longest tests, and libtest starts tests in the order of their names, so this
//! module's name sorts early: a long test started last would hold the whole run up.

use crate::common;

use std::time::Duration;

use common::checks::{
    assert_alive_and_ready, exporter_get, metric_reaches_within, value, value_now,
};
use common::truth::{check_against_truth, gauge_mismatches};
use common::{Harness, Scrape, within};
use genesys_exporter::sim::{Fault, SimConfig};

const RECONNECTS: &str = "genesys_exporter_stream_reconnects_total";

const QUEUES: usize = 2_500;

/// 2,500 queues over three channels of 1,000, 1,000 and 500 topics, through a make-before-break
/// rotation of every channel and then a reconnect of every socket.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_five_hundred_queues_over_three_channels_through_a_rotation_and_a_reconnect() {
    let _heavy = common::one_heavy_test_at_a_time().await;
    // NB: each step here (start, a rotation of every channel, the comparison) works through all
    // 2,500 queues.
    let at_scale = common::deadline_for(QUEUES);
    let config = SimConfig {
        queues: QUEUES,
        agents_per_queue: 2,
        media_types: vec!["voice".to_owned(), "chat".to_owned()],
        // NB: enough traffic that every queue's gauges move, no more. At 6 arrivals a minute per
        // queue (250 a second in all) a debug build on two loaded cores read the stream 5 to 10 s
        // behind the simulator, so a fault's notice reached the last channel after the wait for
        // it: the test measured the machine, not the rotation.
        arrivals_per_minute: 1.0,
        tick: Duration::from_millis(100),
        // NB: the gauges move through fewer, fuller frames: the publisher was a quarter of the
        // test's CPU at 200 ms.
        publish_interval: Duration::from_millis(500),
        ..SimConfig::fast_for_tests(26)
    };
    // NB: this test judges the gauges; polling 2,500 queues' aggregates every 300 ms (the fast
    // settings) took most of two cores, enough under a loaded suite to keep the stream from
    // catching up within the deadline.
    // NB: nor is it a test of the heartbeat watchdog: at this scale, on two loaded cores, the
    // suite's 3 s timeout fired on scheduling delays (a stream read 5 to 10 s behind the
    // simulator was measured), so a socket the fault closed could count as a heartbeat timeout
    // instead. Production's default is 75 s; 15 s was still reached in a full suite on two
    // loaded cores (a channel counted a heartbeat timeout where the fault's socket_closing was
    // due), so the watchdog waits a minute here.
    let harness = Harness::start_with(config, |settings| {
        settings.aggregates.poll_interval = Duration::from_secs(3600);
        settings.stream.heartbeat_timeout = Duration::from_secs(60);
    })
    .await;
    let channels = ["0", "1", "2"];
    let streaming = |scrape: &Scrape| {
        let on = |name, channel| value(scrape, name, &[("channel", channel)]);
        channels.map(|c| {
            (
                on("genesys_exporter_subscribed_topics", c),
                on("genesys_exporter_stream_connected", c),
            )
        })
    };
    let all_streaming = [(1000.0, 1.0), (1000.0, 1.0), (500.0, 1.0)];
    within(
        "three channels stream 1,000, 1,000 and 500 topics",
        at_scale,
        || async {
            let (status, body) = exporter_get(&harness, "/readyz").await;
            let got = streaming(&harness.scrape().await);
            if got == all_streaming && status == 200 {
                Ok(())
            } else {
                Err(format!("{got:?}, readyz {status} {body}"))
            }
        },
    )
    .await;
    for (fault, reason) in [
        (Fault::SocketClosing, "socket_closing"),
        (Fault::CloseSockets, "closed"),
    ] {
        let before = value_now(&harness, RECONNECTS, &[("reason", reason)]).await;
        harness.fault(&fault).await;
        let at_least = before + 3.0;
        metric_reaches_within(
            &harness,
            RECONNECTS,
            &[("reason", reason)],
            at_least,
            at_scale,
        )
        .await;
        within("all three streaming again", at_scale, || async {
            let got = streaming(&harness.scrape().await);
            if got == all_streaming {
                Ok(())
            } else {
                Err(format!("{got:?}"))
            }
        })
        .await;
        assert_alive_and_ready(&harness, reason).await;
    }
    harness.pause_traffic().await;
    let media_types = harness.media_types.clone();
    // NB: one comparison reads the truth and a scrape of 2,500 queues, which in a debug build
    // on two loaded cores took over 10 s: the suite's 30 s allowed two tries.
    within(
        "every gauge of 2,500 queues equals the truth",
        at_scale,
        || check_against_truth(&harness, &media_types, gauge_mismatches),
    )
    .await;
    harness.stop().await;
}

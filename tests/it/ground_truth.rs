//! The exporter's `/metrics` equals the simulator's ground truth: every queue gauge once the
//! traffic model is paused, and every counter against the aggregate totals of the window.

use crate::common;

use common::truth::{
    check_against_truth, count, counter_mismatches, gauge_mismatches, total_offered,
};
use common::{Harness, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gauges_and_counters_equal_ground_truth_once_traffic_pauses() {
    let config = genesys_exporter::sim::SimConfig::fast_for_tests(7);
    let media_types = config.media_types.clone();
    let harness = Harness::start_counting(config, |_| {}).await;

    eventually("traffic flows and the exporter is ready", || async {
        let (status, body) = harness
            .get_text(&format!("{}/readyz", harness.exporter_url))
            .await;
        let offered = total_offered(&harness.truth().await);
        if status == 200 && offered >= 20.0 {
            Ok(())
        } else {
            Err(format!("readyz {status} {body}, {offered} offered"))
        }
    })
    .await;
    harness.pause_traffic().await;
    let truth = harness.truth().await;
    let queues = truth["queues"]
        .as_array()
        .expect("truth lists queues")
        .len();
    assert!(
        queues > 0 && queues == harness.sim.queues.len(),
        "truth lists {queues} queues"
    );

    eventually("every queue gauge equals the ground truth", || {
        check_against_truth(&harness, &media_types, gauge_mismatches)
    })
    .await;
    eventually("every counter equals the ground-truth totals", || {
        check_against_truth(&harness, &media_types, counter_mismatches)
    })
    .await;

    // The waiting age is computed at scrape time from the instant the oldest interaction began.
    let truth = harness.truth().await;
    let scrape = harness.scrape().await;
    let now_ms = chrono::Utc::now().timestamp_millis() as f64;
    for queue in truth["queues"].as_array().unwrap() {
        for (media, since) in queue["longestWaitingSince"]
            .as_object()
            .into_iter()
            .flatten()
        {
            let labels = [
                ("queue_id", queue["id"].as_str().unwrap()),
                ("queue", queue["name"].as_str().unwrap()),
                ("media_type", media.as_str()),
            ];
            let age = scrape
                .get("genesys_queue_oldest_waiting_seconds", &labels)
                .expect("age exported");
            let expected = (now_ms - count(since)) / 1000.0;
            assert!(
                (age - expected).abs() < 5.0,
                "{media}: age {age}, expected about {expected}"
            );
        }
    }
    harness.stop().await;
}

use std::time::Duration;

use serde_json::json;

use super::*;
use crate::sim::harness::{DEADLINE, TestSim, idle, live_queues, total_offered, truth_now};
use crate::sim::model::stats::{Metric, stat_of};

#[test]
fn queue_ids_and_names_are_derived_from_the_seed() {
    let config = SimConfig {
        queues: 12,
        ..SimConfig::default()
    };
    let (first, second) = (idle(config.clone()), idle(config));
    let queues = live_queues(&first);
    assert_eq!(queues, live_queues(&second));
    let other = live_queues(&idle(SimConfig {
        seed: 43,
        queues: 12,
        ..SimConfig::default()
    }));
    assert_ne!(queues[0].id, other[0].id);
    assert_eq!(queues[0].name, "Support");
    assert_eq!(queues[11].name, "Queue 12");
    assert_eq!(queues[0].id.len(), 36);
}

#[tokio::test]
async fn a_sim_started_paused_offers_nothing_until_resumed() {
    let sim = TestSim::start(SimConfig {
        start_paused: true,
        ..SimConfig::fast_for_tests(4)
    })
    .await;
    let first = sim.truth().await;
    assert_eq!(first["paused"], true);
    let started = truth_now(&first);
    let truth = tokio::time::timeout(DEADLINE, async {
        loop {
            let truth = sim.truth().await;
            if truth_now(&truth) - started >= chrono::Duration::seconds(1) {
                return truth;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap();
    assert_eq!(
        total_offered(&truth),
        0,
        "a second of paused busy traffic: {truth}"
    );
    sim.control("/sim/traffic/resume", json!({})).await;
    tokio::time::timeout(DEADLINE, async {
        while total_offered(&sim.truth().await) == 0 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("resumed traffic offers conversations");
    sim.stop().await;
}

#[test]
fn history_pre_generates_past_buckets_that_are_already_visible() {
    let config = SimConfig {
        history: Duration::from_secs(3_600),
        arrivals_per_minute: 20.0,
        ..SimConfig::default()
    };
    let mut model = Model::new(&config, 0);
    model.step(3_600_000);
    let offered: u64 = (0..config.media_types.len())
        .filter_map(|m| model.ledger.totals(0, m))
        .map(|set| stat_of(set, Metric::NOffered).count)
        .sum();
    assert!(
        (600..=1_800).contains(&offered),
        "about 20 a minute for an hour: {offered}"
    );
    let buckets = model.ledger.query(&[0], 0, 3_600_000, 1_800_000);
    assert!(buckets.keys().any(|(_, _, _, bucket)| *bucket == 0));
    assert!(buckets.keys().any(|(_, _, _, bucket)| *bucket == 1));
}

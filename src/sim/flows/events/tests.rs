use std::collections::HashSet;
use std::time::Duration;

use super::*;
use crate::genesys::time::{format_interval, from_epoch_millis};
use crate::sim::SimConfig;
use crate::sim::harness::TestSim;

fn round(now: i64) -> Round {
    Round {
        now,
        instant: String::new(),
        force: false,
        held: HashSet::new(),
    }
}

/// A round long after an interval ended (a loaded machine's late round) still sends that
/// interval's final totals, and says nothing twice.
#[tokio::test]
async fn a_round_long_after_an_interval_ended_still_sends_its_final_totals() {
    let config = SimConfig {
        history: Duration::from_secs(180),
        start_paused: true,
        flow_topic_interval: Duration::from_secs(60),
        ..SimConfig::fast_for_tests(9)
    };
    let test = TestSim::start(config).await;
    let sim = &test.handle.sim;
    let flow = lock(&sim.flows).flows[0].id.clone();
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    {
        let mut channels = lock(&sim.channels);
        let (id, _) = channels.create("demo-client", sim.now_ms());
        let topics = vec![flow_aggregates_topic(&flow)];
        channels.subscribe(&id, topics, true, sim.now_ms()).unwrap();
        assert!(channels.attach(&id, 1, tx, sim.now_ms()));
    }
    let now = sim.now_ms();
    let current = now - now.rem_euclid(60_000);
    let at = |ms| from_epoch_millis(ms).unwrap();
    let before = format_interval(at(current - 60_000), at(current));
    let mut part = FlowEvents::default();
    let late = current + 59_000;
    let frames = part.frames(sim, &round(late));
    assert!(!frames.is_empty());
    assert!(
        frames
            .iter()
            .all(|f| f.topic == flow_aggregates_topic(&flow)),
        "only the subscribed flow's topic"
    );
    assert!(
        frames.iter().any(|f| f.text.contains(&before)),
        "the interval before, {before}, 59 s after it ended: {frames:#?}"
    );
    assert!(
        part.frames(sim, &round(late)).is_empty(),
        "nothing changed, nothing sent"
    );
    test.cancel.cancel();
}

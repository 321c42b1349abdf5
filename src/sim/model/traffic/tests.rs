use super::*;
use crate::sim::model::stats::{service_level, stat_of};

fn offered(model: &Model, queue: usize) -> u64 {
    (0..model.media_types.len())
        .filter_map(|m| model.ledger.totals(queue, m))
        .map(|set| stat_of(set, Metric::NOffered).count)
        .sum()
}

fn waiting(model: &Model, queue: usize) -> usize {
    let interactions = &model.queues[queue].interactions;
    (interactions.iter())
        .filter(|i| matches!(i.phase, Phase::Waiting))
        .count()
}

#[test]
fn a_surge_waits_out_its_stall_then_hangs_up_and_routing_resumes() {
    let config = SimConfig::fast_for_tests(9);
    let mut model = Model::new(&config, 0);
    let queue = model.add_queue(0, true);
    model.surge(queue, 100, 7, 1_000);
    model.step(1_098);
    assert_eq!(
        waiting(&model, queue),
        7,
        "nobody is offered during the stall"
    );
    model.step(1_100);
    assert_eq!(waiting(&model, queue), 0, "they hang up as it ends");
    model.step(2_000);
    let abandoned: u64 = (0..model.media_types.len())
        .filter_map(|m| model.ledger.totals(queue, m))
        .map(|set| stat_of(set, Metric::TAbandon).count)
        .sum();
    assert_eq!((offered(&model, queue), abandoned), (7, 7));

    // After the stall, waiting customers are offered again.
    model.release_queue(queue, 2_000);
    model.step(4_000);
    let answered = (0..model.media_types.len())
        .filter_map(|m| model.ledger.totals(queue, m))
        .map(|set| stat_of(set, Metric::NConnected).count)
        .sum::<u64>();
    assert!(answered > 0, "routing resumed");
}

#[test]
fn a_held_queue_has_no_arrivals_until_released_and_a_removed_one_stops() {
    let config = SimConfig::fast_for_tests(9);
    let mut model = Model::new(&config, 0);
    let held = model.add_queue(0, true);
    model.step(2_000);
    assert!(offered(&model, 0) > 0, "busy fast traffic in the others");
    assert_eq!(offered(&model, held), 0);
    model.release_queue(held, 2_000);
    model.step(4_000);
    assert!(offered(&model, held) > 0);

    model.remove_queue(0);
    let (before, other) = (offered(&model, 0), offered(&model, 1));
    model.step(6_000);
    assert_eq!(offered(&model, 0), before);
    assert!(model.queues[0].interactions.is_empty());
    assert!(offered(&model, 1) > other, "the remaining queues go on");
    model.release_queue(0, 6_000);
    model.step(8_000);
    assert_eq!(
        offered(&model, 0),
        before,
        "a removed queue is not released"
    );
}

/// The whole run's (numerator, denominator) of a queue, over every media type.
fn service_level_of(model: &Model, queue: usize) -> (u64, u64) {
    (0..model.media_types.len())
        .filter_map(|m| model.ledger.totals(queue, m))
        .map(service_level)
        .fold((0, 0), |(n, d), (dn, dd)| (n + dn, d + dd))
}

#[test]
fn each_queue_meets_its_own_service_level_threshold_and_target() {
    // NB: below saturation (agents take breaks too), where the threshold decides.
    let config = SimConfig {
        arrivals_per_minute: 500.0,
        ..SimConfig::fast_for_tests(12)
    };
    let mut model = Model::new(&config, 0);
    let base = 400 / 6;
    let added = model.add_queue(0, false);
    let goals: Vec<(u64, f64)> = model
        .queues
        .iter()
        .map(|q| (q.service_level.threshold_ms, q.service_level.target))
        .collect();
    assert_eq!(
        goals,
        [(base, 0.8), (base / 2, 0.9), (100, 0.7), (base, 0.8)]
    );
    assert_eq!(added, 3);

    model.step(180_000);
    let ratio = |q: usize| {
        let (numerator, denominator) = service_level_of(&model, q);
        assert!(denominator > 1_000, "queue {q}: {denominator}");
        let answered: u64 = (0..model.media_types.len())
            .filter_map(|m| model.ledger.totals(q, m))
            .map(|set| stat_of(set, Metric::TAnswered).count)
            .sum();
        assert!(numerator <= answered);
        numerator as f64 / denominator as f64
    };
    let (standard, strict, lenient) = (ratio(0), ratio(1), ratio(2));
    assert!(
        strict < standard && standard < lenient,
        "a shorter threshold is harder to meet: {strict} {standard} {lenient}"
    );
}

#[test]
fn no_agent_state_begins_before_the_one_it_replaces() {
    let config = SimConfig::fast_for_tests(13);
    let mut model = Model::new(&config, 0);
    let since = |model: &Model| -> Vec<(i64, i64)> {
        (model.queues.iter().flat_map(|q| &q.agents))
            .map(|a| (a.status_since, a.presence_since))
            .collect()
    };
    let mut before = since(&model);
    let mut changes = 0;
    for step in 1..=3_000 {
        model.step(step * 20);
        let now = since(&model);
        for (old, new) in before.iter().zip(&now) {
            assert!(
                new.0 >= old.0 && new.1 >= old.1,
                "at {}: {old:?} then {new:?}",
                step * 20
            );
            changes += usize::from(new != old);
        }
        before = now;
    }
    assert!(changes > 1_000, "agents were busy: {changes} changes");
}

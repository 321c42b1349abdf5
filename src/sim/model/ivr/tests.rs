use super::*;
use crate::sim::SimConfig;
use crate::sim::model::stats::{Metric, stat_of};
use crate::sim::model::traffic::Model;

/// Everything the IVR recorded of `metric` in `flow`, over all its facets.
fn total(ivr: &Ivr, flow: usize, metric: FlowMetric) -> u64 {
    (ivr.totals.iter())
        .filter(|((f, _), _)| *f == flow)
        .map(|(_, stats)| stats.of(metric).count)
        .sum()
}

fn offered(model: &Model, queue: usize, media: usize) -> u64 {
    (model.ledger.totals(queue, media)).map_or(0, |set| stat_of(set, Metric::NOffered).count)
}

#[test]
fn a_queues_calls_and_chats_are_its_flows_transfers_and_every_visit_ends_once() {
    let config = SimConfig::fast_for_tests(5);
    let mut model = Model::new(&config, 0);
    model.step(600_000);
    let ivr = &model.ivr;
    for (queue, _) in model.queues.iter().enumerate() {
        for (media, name) in model.media_types.iter().enumerate() {
            match ivr.flow_for(queue, name) {
                Some(flow) => {
                    let transfers = ivr.transfers.get(&(flow, queue, media)).copied();
                    assert_eq!(transfers, Some(offered(&model, queue, media)), "{name}");
                }
                None => assert_eq!(name, "email", "only {name} meets no flow"),
            }
        }
    }
    let mut measured = 0;
    for (flow, plan) in ivr.plans.iter().enumerate() {
        let entered = total(ivr, flow, FlowMetric::NFlow);
        let (exits, disconnects) = (
            total(ivr, flow, FlowMetric::TFlowExit),
            total(ivr, flow, FlowMetric::TFlowDisconnect),
        );
        let sent: u64 = (ivr.transfers.iter())
            .filter(|((f, ..), _)| *f == flow)
            .map(|(_, n)| n)
            .sum();
        let in_flow = ivr.in_flow(flow) as u64;
        assert_eq!(
            (exits + disconnects + in_flow, exits),
            (entered, sent),
            "{plan:?}"
        );
        let reported = total(ivr, flow, FlowMetric::NFlowOutcome);
        assert_eq!(reported, (entered - in_flow) * plan.outcomes.len() as u64);
        if entered > 0 {
            measured += 1;
            assert!(
                disconnects > 0 && in_flow > 0,
                "some end in the flow, some are in it"
            );
            assert!(
                total(ivr, flow, FlowMetric::NFlowOutcomeFailed) > 0,
                "some fail"
            );
        } else {
            assert!(!matches!(plan.flow_type, CALL_FLOW | CHAT_FLOW), "{plan:?}");
        }
    }
    assert_eq!(
        measured,
        ivr.size.call_flows + 1,
        "call flows and the chat flow"
    );
}

#[test]
fn a_failing_outcome_fails_every_visit_and_its_records_show_after_the_lag() {
    let config = SimConfig::fast_for_tests(6);
    let mut model = Model::new(&config, 0);
    model.ivr.failing_outcomes.insert(0);
    model.step(120_000);
    let ivr = &model.ivr;
    let successes: u64 = (ivr.totals.iter())
        .filter(|((_, facet), _)| {
            matches!(
                facet,
                Facet::Outcome {
                    outcome: 0,
                    success: true
                }
            )
        })
        .map(|(_, stats)| stats.of(FlowMetric::NFlowOutcome).count)
        .sum();
    let failures: u64 = (ivr.totals.iter())
        .filter(|((_, facet), _)| matches!(facet, Facet::Outcome { outcome: 0, .. }))
        .map(|(_, stats)| stats.of(FlowMetric::NFlowOutcomeFailed).count)
        .sum();
    assert_eq!(successes, 0);
    assert!(failures > 0);
    let visible = |model: &Model| -> u64 {
        let all = (model.ivr.lagged).query((-3_600_000, 240_000, 3_840_000), |key| Some(key.0));
        all.values()
            .map(|stats| stats.of(FlowMetric::TFlow).count)
            .sum()
    };
    let ended: u64 = (0..ivr.plans.len())
        .map(|f| total(ivr, f, FlowMetric::TFlow))
        .sum();
    assert!(
        visible(&model) < ended,
        "the last visits are inside the lag"
    );
    model.flush(120_000 + config.reporting_lag.as_millis() as i64);
    assert_eq!(visible(&model), ended);
}

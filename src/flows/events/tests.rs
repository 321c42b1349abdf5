use super::*;

fn body(group: &[(&str, &str)]) -> KeyedAggregateDataContainer {
    KeyedAggregateDataContainer {
        group: (group.iter())
            .map(|(d, v)| ((*d).into(), (*v).into()))
            .collect(),
        data: Vec::new(),
    }
}

#[test]
fn a_body_is_held_to_its_topics_flow_or_outcome() {
    let flow = "v2.analytics.flow.f1.aggregates";
    let outcome = "v2.analytics.flowoutcome.o1.aggregates";
    assert!(FlowTopics::owns(flow) && FlowTopics::owns(outcome));
    assert!(!FlowTopics::owns("v2.analytics.flow.f1.metrics"));
    assert!(FlowTopics::event(flow, body(&[("flowId", "f1")])).is_ok());
    let exit = [("flowId", "f1"), ("exitReason", "TRANSFER")];
    assert!(FlowTopics::event(flow, body(&exit)).is_ok());
    assert!(FlowTopics::event(flow, body(&[("flowId", "f2")])).is_err());
    let reported = [("flowId", "f1"), ("flowOutcomeId", "o1")];
    assert!(FlowTopics::event(outcome, body(&reported)).is_ok());
    let no_flow = [("flowOutcomeId", "o1")];
    assert!(FlowTopics::event(outcome, body(&no_flow)).is_err());
    let other = [("flowId", "f1"), ("flowOutcomeId", "o2")];
    assert!(FlowTopics::event(outcome, body(&other)).is_err());
}

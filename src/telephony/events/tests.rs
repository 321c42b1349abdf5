use super::*;
use crate::genesys::model::{edge_topic, trunk_topic};

fn trunk_event(topic: &str, body: &str) -> Result<TrunkEvent, EventError> {
    let body: TrunkBody = serde_json::from_str(body).map_err(EventError::Body)?;
    TrunkTopics::event(topic, body)
}

fn edge_event(topic: &str, body: &str) -> Result<EdgeEvent, EventError> {
    let body: EdgeBody = serde_json::from_str(body).map_err(EventError::Body)?;
    EdgeTopics::event(topic, body)
}

#[test]
fn the_topics_are_told_apart_by_entity_and_kind() {
    let status = trunk_topic("t1", TelephonyTopic::Status);
    let metrics = trunk_topic("t1", TelephonyTopic::Metrics);
    assert_eq!(status, "v2.telephony.providers.edges.trunks.t1");
    assert!(TrunkTopics::owns(&status) && TrunkTopics::owns(&metrics));
    assert!(!EdgeTopics::owns(&status) && !EdgeTopics::owns(&metrics));
    let edge = edge_topic("e1", TelephonyTopic::Metrics);
    assert_eq!(edge, "v2.telephony.providers.edges.e1.metrics");
    assert!(EdgeTopics::owns(&edge) && !TrunkTopics::owns(&edge));
    for other in [
        "v2.telephony.providers.edges.e1.logicalinterfaces",
        "v2.telephony.providers.edges.phones.p1",
        "v2.telephony.providers.edges.",
        "v2.users.u1.activity",
    ] {
        assert!(!TrunkTopics::owns(other), "{other}");
        assert!(!EdgeTopics::owns(other), "{other}");
    }
}

#[test]
fn a_trunk_status_event_carries_its_checks_and_nothing_the_listing_alone_gives() {
    let topic = trunk_topic("t1", TelephonyTopic::Status);
    let body = r#"{"id":"t1","connectedStatus":{"connected":false,
        "connectedStateTime":"2026-12-07T10:00:00.000Z"},
        "optionsStatus":[{"proxyAddress":"sip1:5061","optionState":false}],
        "inService":true}"#;
    let Ok(TelephonyEvent::Status(trunk)) = trunk_event(&topic, body) else {
        panic!("not a status event");
    };
    assert_eq!(trunk.id, "t1");
    let connected = trunk.connected_status.and_then(|c| c.connected);
    assert_eq!(connected, Some(false));
    assert_eq!(trunk.options_status.unwrap()[0].option_state, Some(false));
    // NB: the topic has no inService; a body that sends one is not believed over the listing.
    assert_eq!((trunk.in_service, trunk.state), (None, None));
    let other = trunk_event(&topic, r#"{"id":"t2"}"#).unwrap_err();
    assert_eq!(other.kind(), "trunk_mismatch");
}

#[test]
fn a_trunk_metrics_event_is_held_to_its_trunk() {
    let topic = trunk_topic("t1", TelephonyTopic::Metrics);
    let body = |trunk: &str| {
        format!(
            r#"{{"eventTime":"2026-12-07T10:00:00.000Z","trunk":{{"id":"{trunk}"}},
                "calls":{{"inboundCallCount":3,"outboundCallCount":1}},"qos":{{"mismatchCount":2}}}}"#
        )
    };
    let Ok(TelephonyEvent::Metrics(metrics)) = trunk_event(&topic, &body("t1")) else {
        panic!("not a metrics event");
    };
    assert_eq!(metrics.calls.unwrap().inbound_call_count, Some(3));
    assert_eq!(metrics.qos.unwrap().mismatch_count, Some(2));
    let error = trunk_event(&topic, &body("t9")).unwrap_err();
    assert_eq!(error.kind(), "trunk_mismatch");
    let unnamed = trunk_event(&topic, r#"{"calls":{"inboundCallCount":1}}"#).unwrap();
    let TelephonyEvent::Metrics(unnamed) = unnamed else {
        panic!("not a metrics event");
    };
    assert_eq!(unnamed.trunk.unwrap().id, "t1");
}

#[test]
fn an_edge_reports_its_online_status_and_its_load_in_whole_numbers() {
    let status = edge_event(
        &edge_topic("e1", TelephonyTopic::Status),
        r#"{"id":"e1","onlineStatus":"OFFLINE"}"#,
    );
    let Ok(TelephonyEvent::Status(edge)) = status else {
        panic!("not a status event");
    };
    assert_eq!(edge.online_status.as_deref(), Some("OFFLINE"));
    assert_eq!(edge.status_code, None);
    let metrics = edge_event(
        &edge_topic("e1", TelephonyTopic::Metrics),
        r#"{"edge":{"id":"e1"},"upTimeMsec":5000,
            "processors":[{"cpuId":"total","activeTimePct":42}],
            "memory":[{"type":"physical","availableBytes":4,"totalBytes":16}]}"#,
    );
    let Ok(TelephonyEvent::Metrics(metrics)) = metrics else {
        panic!("not a metrics event");
    };
    assert_eq!(metrics.processors[0].active_time_pct, Some(42.0));
    assert_eq!(metrics.memory[0].total_bytes, Some(16.0));
    let error = edge_event(
        &edge_topic("e1", TelephonyTopic::Status),
        r#"{"id":"e2","onlineStatus":"ONLINE"}"#,
    );
    assert_eq!(error.unwrap_err().kind(), "edge_mismatch");
}

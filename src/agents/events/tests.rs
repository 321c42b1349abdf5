use super::*;

const AGGREGATES: &str = "v2.analytics.users.u1.aggregates";

/// The event `body` (JSON) makes on `topic`.
fn event(topic: &str, body: &str) -> Result<AgentEvent, EventError> {
    let body: Body = serde_json::from_str(body).map_err(EventError::Body)?;
    AgentTopics::event(topic, body)
}

#[test]
fn a_users_running_totals_are_read_and_must_be_about_the_topics_user() {
    let json = |body_user: &str| {
        format!(
            r#"{{"group":{{"userId":"{body_user}"}},
                 "data":[{{"interval":"2026-11-25T09:30:00.000Z/2026-11-25T10:00:00.000Z",
                           "metrics":[{{"metric":"tAgentRoutingStatus","qualifier":"IDLE",
                                        "stats":{{"sum":90000}}}}]}}]}}"#
        )
    };
    let Ok(AgentEvent::Time(body)) = event(AGGREGATES, &json("u1")) else {
        panic!("not a user aggregates event");
    };
    assert_eq!(body.group.get("userId").map(String::as_str), Some("u1"));
    assert_eq!(body.data[0].metrics[0].stats.sum, Some(90_000.0));
    let error = event(AGGREGATES, &json("u2")).unwrap_err();
    assert_eq!(error.kind(), "user_mismatch");
    assert_eq!(
        event(AGGREGATES, r#"{"data":7}"#).unwrap_err().kind(),
        "body"
    );
}

#[test]
fn an_activity_event_is_the_topics_user_s_state() {
    let body = r#"{"id":"u1","routingStatus":{"status":"IDLE","startTime":"2026-11-25T09:00:00.000Z"},
            "presence":{"presenceDefinition":{"id":"p","systemPresence":"AVAILABLE"},
                        "modifiedDate":"2026-11-25T09:00:00.000Z"}}"#;
    let Ok(AgentEvent::Activity(activity)) = event("v2.users.u1.activity", body) else {
        panic!("not an activity event");
    };
    assert_eq!(activity.id, "u1");
    assert!(activity.routing_status.is_some() && activity.presence.is_some());
    let other = event("v2.users.u2.activity", body).unwrap_err();
    assert_eq!(other.kind(), "user_mismatch");
}

#[test]
fn only_a_user_s_two_topics_are_an_agent_s() {
    assert!(AgentTopics::owns("v2.users.u1.activity"));
    assert!(AgentTopics::owns(AGGREGATES));
    assert!(!AgentTopics::owns("v2.users.u1.presence"));
    assert!(!AgentTopics::owns("v2.analytics.queues.q1.observations"));
}

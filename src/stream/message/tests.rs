use super::*;
use proptest::prelude::*;

const QUEUE: &str = "5b5ac0c6-d5f6-4a0f-8e4d-54f5b4b3f4a1";

fn observation_frame() -> String {
    format!(
        r#"{{"topicName":"v2.analytics.queues.{QUEUE}.observations","version":"2",
 "eventBody":{{"group":{{"queueId":"{QUEUE}","mediaType":"voice"}},
   "data":[{{"interval":"2026-11-25T09:46:54.839Z/2026-11-25T09:46:54.839Z",
            "metrics":[{{"metric":"oWaiting","stats":{{"count":3}}}},
                       {{"metric":"oAlerting","stats":{{"count":0}}}}]}}]}},
 "metadata":{{"CorrelationId":"0d6c7d4e-1111-2222-3333-444455556666"}}}}"#
    )
}

#[test]
fn heartbeat_and_pong_frames_are_recognised() {
    let heartbeat =
        r#"{"topicName":"channel.metadata","eventBody":{"message":"WebSocket Heartbeat"}}"#;
    assert_eq!(parse(heartbeat).unwrap(), Message::Heartbeat);
    let pong = r#"{"topicName":"channel.metadata","eventBody":{"message":"pong"}}"#;
    assert_eq!(parse(pong).unwrap(), Message::Pong);
}

#[test]
fn socket_closing_carries_its_message() {
    let frame = r#"{"topicName":"v2.system.socket_closing","eventBody":{"message":"maintenance"}}"#;
    assert_eq!(
        parse(frame).unwrap(),
        Message::SocketClosing("maintenance".into())
    );
}

fn queue_event(frame: &str) -> QueueEvent {
    match parse(frame).unwrap() {
        Message::Queue(event) => event,
        other => panic!("not a queue event: {other:?}"),
    }
}

#[test]
fn the_observation_event_of_the_api_page_parses_with_its_values() {
    let event = queue_event(&observation_frame());
    assert_eq!(event.queue_id, QUEUE);
    assert_eq!(event.aggregate, None);
    let body = event.observation.expect("an observation");
    assert_eq!(body.group.media_type.as_deref(), Some("voice"));
    let metrics = &body.data[0].metrics;
    assert_eq!(metrics[0].metric, "oWaiting");
    assert_eq!(metrics[0].stats.count, Some(3));
    assert_eq!(metrics[1].stats.count, Some(0));
}

#[test]
fn a_thirty_minute_interval_is_an_interval_aggregate() {
    let frame = format!(
        r#"{{"topicName":"v2.analytics.queues.{QUEUE}.observations","eventBody":{{
              "group":{{"mediaType":"chat"}},
              "data":[{{"interval":"2026-11-25T09:30:00.000Z/2026-11-25T10:00:00.000Z",
                "metrics":[{{"metric":"nOffered","stats":{{"count":12}}}},
                  {{"metric":"tHandle","stats":{{"max":412000,"min":61000,"count":9,"sum":1843000}}}}]}}]}}}}"#
    );
    let event = queue_event(&frame);
    assert_eq!(event.queue_id, QUEUE);
    assert_eq!(event.observation, None);
    let body = event.aggregate.expect("an aggregate");
    assert_eq!(
        body.group.queue_id.as_deref(),
        Some(QUEUE),
        "queue id filled from the topic"
    );
    assert_eq!(body.data[0].metrics[1].stats.sum, Some(1_843_000.0));
}

#[test]
fn an_event_with_both_interval_kinds_is_split_between_them() {
    let frame = format!(
        r#"{{"topicName":"v2.analytics.queues.{QUEUE}.observations","eventBody":{{
              "group":{{"mediaType":"voice"}},
              "data":[{{"interval":"2026-11-25T09:30:00.000Z/2026-11-25T10:00:00.000Z",
                        "metrics":[{{"metric":"nOffered","stats":{{"count":12}}}}]}},
                      {{"interval":"2026-11-25T09:46:54.839Z/2026-11-25T09:46:54.839Z",
                        "metrics":[{{"metric":"oWaiting","stats":{{"count":3}}}}]}}]}}}}"#
    );
    let event = queue_event(&frame);
    let observation = event.observation.expect("the observation part");
    let aggregate = event.aggregate.expect("the aggregate part");
    for part in [&observation, &aggregate] {
        assert_eq!(part.group.queue_id.as_deref(), Some(QUEUE));
        assert_eq!(part.group.media_type.as_deref(), Some("voice"));
        assert_eq!(part.data.len(), 1);
    }
    assert_eq!(observation.data[0].metrics[0].metric, "oWaiting");
    assert_eq!(aggregate.data[0].metrics[0].metric, "nOffered");
}

#[test]
fn an_event_without_data_has_neither_part() {
    let frame = format!(
        r#"{{"topicName":"v2.analytics.queues.{QUEUE}.observations","eventBody":{{"data":[]}}}}"#
    );
    let event = queue_event(&frame);
    assert_eq!((event.observation, event.aggregate), (None, None));
}

#[test]
fn a_users_running_totals_are_read_and_must_be_about_the_topics_user() {
    let frame = |body_user: &str| {
        format!(
            r#"{{"topicName":"v2.analytics.users.u1.aggregates","eventBody":{{
                  "group":{{"userId":"{body_user}"}},
                  "data":[{{"interval":"2026-11-25T09:30:00.000Z/2026-11-25T10:00:00.000Z",
                            "metrics":[{{"metric":"tAgentRoutingStatus","qualifier":"IDLE",
                                         "stats":{{"sum":90000}}}}]}}]}}}}"#
        )
    };
    let Message::UserAggregates(body) = parse(&frame("u1")).unwrap() else {
        panic!("not a user aggregates event");
    };
    assert_eq!(body.group.get("userId").map(String::as_str), Some("u1"));
    assert_eq!(body.data[0].metrics[0].stats.sum, Some(90_000.0));
    let error = parse(&frame("u2")).unwrap_err();
    assert_eq!(error.kind(), "user_mismatch");
    let broken = r#"{"topicName":"v2.analytics.users.u1.aggregates","eventBody":{"data":7}}"#;
    assert_eq!(parse(broken).unwrap_err().kind(), "body");
}

#[test]
fn unknown_topics_are_reported_whatever_their_body() {
    let presence =
        r#"{"topicName":"v2.users.u1.presence","eventBody":{"presenceDefinition":{"id":"x"}}}"#;
    assert_eq!(
        parse(presence).unwrap(),
        Message::UnknownTopic("v2.users.u1.presence".into())
    );
    let odd = r#"{"topicName":"v2.other","eventBody":{"data":"not a list"}}"#;
    assert_eq!(
        parse(odd).unwrap(),
        Message::UnknownTopic("v2.other".into())
    );
}

#[test]
fn socket_replies_without_topic_are_replies() {
    let reply = r#"{"result":"200","status":"subscribed","correlationId":"c1"}"#;
    assert_eq!(parse(reply).unwrap(), Message::Reply);
}

#[test]
fn broken_frames_are_typed_errors() {
    assert!(matches!(parse("not json"), Err(ParseError::Json(_))));
    assert!(matches!(parse("[1,2]"), Err(ParseError::Json(_))));
    assert!(matches!(
        parse(r#"{"eventBody":{}}"#),
        Err(ParseError::MissingTopic)
    ));
    let bad_body = format!(
        r#"{{"topicName":"v2.analytics.queues.{QUEUE}.observations","eventBody":{{"data":7}}}}"#
    );
    assert!(matches!(parse(&bad_body), Err(ParseError::Body { .. })));
    let no_body = format!(r#"{{"topicName":"v2.analytics.queues.{QUEUE}.observations"}}"#);
    assert!(matches!(
        parse(&no_body),
        Err(ParseError::MissingBody { .. })
    ));
    let mismatch = format!(
        r#"{{"topicName":"v2.analytics.queues.{QUEUE}.observations","eventBody":{{"group":{{"queueId":"other"}},"data":[]}}}}"#
    );
    assert_eq!(parse(&mismatch).unwrap_err().kind(), "queue_mismatch");
}

#[test]
fn escaped_topic_names_are_still_understood() {
    let frame = r#"{"topicName":"channel\u002emetadata","eventBody":{"message":"pong"}}"#;
    assert_eq!(parse(frame).unwrap(), Message::Pong);
}

proptest! {
    #[test]
    fn arbitrary_strings_never_panic(text in ".*") {
        let _ = parse(&text);
    }

    #[test]
    fn arbitrary_bodies_on_a_queue_topic_never_panic(body in ".*", interval in ".{0,60}") {
        let (body, interval) = (serde_json::to_string(&body).unwrap(), serde_json::to_string(&interval).unwrap());
        let frame = format!(
            r#"{{"topicName":"v2.analytics.queues.{QUEUE}.observations","eventBody":{{"data":[{{"interval":{interval},"metrics":[]}}],"x":{body}}}}}"#
        );
        prop_assert!(parse(&frame).is_ok());
    }
}

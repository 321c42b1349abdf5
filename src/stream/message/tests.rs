//! The envelope, read for a channel of queue topics (any source's topics read the same way).

use super::*;
use crate::queues::events::{QueueEvent, QueueTopics};
use proptest::prelude::*;

const QUEUE: &str = "5b5ac0c6-d5f6-4a0f-8e4d-54f5b4b3f4a1";

fn read(text: &str) -> Result<Message<QueueEvent>, ParseError> {
    parse::<QueueTopics>(text)
}

fn observation_frame() -> String {
    format!(
        r#"{{"topicName":"v2.analytics.queues.{QUEUE}.observations","version":"2",
 "eventBody":{{"group":{{"queueId":"{QUEUE}","mediaType":"voice"}},
   "data":[{{"interval":"2026-11-25T09:46:54.839Z/2026-11-25T09:46:54.839Z",
            "metrics":[{{"metric":"oWaiting","stats":{{"count":3}}}}]}}]}},
 "metadata":{{"CorrelationId":"0d6c7d4e-1111-2222-3333-444455556666"}}}}"#
    )
}

#[test]
fn heartbeat_and_pong_frames_are_recognised() {
    let heartbeat =
        r#"{"topicName":"channel.metadata","eventBody":{"message":"WebSocket Heartbeat"}}"#;
    assert_eq!(read(heartbeat).unwrap(), Message::Heartbeat);
    let pong = r#"{"topicName":"channel.metadata","eventBody":{"message":"pong"}}"#;
    assert_eq!(read(pong).unwrap(), Message::Pong);
}

#[test]
fn socket_closing_carries_its_message() {
    let frame = r#"{"topicName":"v2.system.socket_closing","eventBody":{"message":"maintenance"}}"#;
    assert_eq!(
        read(frame).unwrap(),
        Message::SocketClosing("maintenance".into())
    );
}

#[test]
fn an_event_is_read_by_the_source_in_the_same_pass() {
    let Message::Event(event) = read(&observation_frame()).unwrap() else {
        panic!("not an event");
    };
    assert_eq!(event.queue_id, QUEUE);
    let body = event.observation.expect("an observation");
    assert_eq!(body.data[0].metrics[0].stats.count, Some(3));
}

#[test]
fn a_body_before_its_topic_is_read_once_the_topic_is_known() {
    let frame = format!(
        r#"{{"eventBody":{{"data":[]}},"topicName":"v2.analytics.queues.{QUEUE}.observations"}}"#
    );
    let Message::Event(event) = read(&frame).unwrap() else {
        panic!("not an event");
    };
    assert_eq!(event.queue_id, QUEUE);
    let broken = format!(
        r#"{{"eventBody":{{"data":7}},"topicName":"v2.analytics.queues.{QUEUE}.observations"}}"#
    );
    assert_eq!(read(&broken).unwrap_err().kind(), "body");
    let metadata = r#"{"eventBody":{"message":"pong"},"topicName":"channel.metadata"}"#;
    assert_eq!(read(metadata).unwrap(), Message::Pong);
}

#[test]
fn topics_the_source_does_not_know_are_unknown_whatever_their_body() {
    let presence =
        r#"{"topicName":"v2.users.u1.presence","eventBody":{"presenceDefinition":{"id":"x"}}}"#;
    assert_eq!(
        read(presence).unwrap(),
        Message::UnknownTopic("v2.users.u1.presence".into())
    );
    let odd = r#"{"topicName":"v2.other","eventBody":{"data":"not a list"}}"#;
    assert_eq!(read(odd).unwrap(), Message::UnknownTopic("v2.other".into()));
    let agents = r#"{"topicName":"v2.users.u1.activity","eventBody":{"id":"u1"}}"#;
    assert_eq!(
        read(agents).unwrap(),
        Message::UnknownTopic("v2.users.u1.activity".into()),
        "another source's topic, on a queue channel"
    );
}

#[test]
fn socket_replies_without_topic_are_replies() {
    let reply = r#"{"result":"200","status":"subscribed","correlationId":"c1"}"#;
    assert_eq!(read(reply).unwrap(), Message::Reply);
}

#[test]
fn broken_frames_are_typed_errors() {
    assert!(matches!(read("not json"), Err(ParseError::Json(_))));
    assert!(matches!(read("[1,2]"), Err(ParseError::Json(_))));
    assert!(matches!(
        read(r#"{"eventBody":{}}"#),
        Err(ParseError::MissingTopic)
    ));
    let topic = format!("v2.analytics.queues.{QUEUE}.observations");
    let bad_body = format!(r#"{{"topicName":"{topic}","eventBody":{{"data":7}}}}"#);
    assert_eq!(read(&bad_body).unwrap_err().kind(), "body");
    let no_body = format!(r#"{{"topicName":"{topic}"}}"#);
    assert_eq!(read(&no_body).unwrap_err().kind(), "missing_body");
    let mismatch = format!(
        r#"{{"topicName":"{topic}","eventBody":{{"group":{{"queueId":"other"}},"data":[]}}}}"#
    );
    assert_eq!(read(&mismatch).unwrap_err().kind(), "queue_mismatch");
    let trailing = format!("{} x", observation_frame());
    assert!(matches!(read(&trailing), Err(ParseError::Json(_))));
    let metadata = r#"{"topicName":"channel.metadata","eventBody":{"message":5}}"#;
    assert_eq!(read(metadata).unwrap_err().kind(), "body");
}

#[test]
fn escaped_topic_names_are_still_understood() {
    let frame = r#"{"topicName":"channel\u002emetadata","eventBody":{"message":"pong"}}"#;
    assert_eq!(read(frame).unwrap(), Message::Pong);
}

proptest! {
    #[test]
    fn arbitrary_strings_never_panic(text in ".*") {
        let _ = read(&text);
    }

    #[test]
    fn arbitrary_bodies_on_a_queue_topic_never_panic(body in ".*", interval in ".{0,60}") {
        let (body, interval) = (serde_json::to_string(&body).unwrap(), serde_json::to_string(&interval).unwrap());
        let frame = format!(
            r#"{{"topicName":"v2.analytics.queues.{QUEUE}.observations","eventBody":{{"data":[{{"interval":{interval},"metrics":[]}}],"x":{body}}}}}"#
        );
        prop_assert!(read(&frame).is_ok());
    }
}

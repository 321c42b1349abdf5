//! One notification text frame (docs/genesys-api.md#the-notification-websocket) into a typed
//! message.
//!
//! Every frame is parsed once, in a single pass, into an envelope whose body has the union of
//! the shapes we care about (`group`/`data` of queue events, `message` of metadata), so queue
//! events are not scanned twice. Only when that fails is the topic peeked on its own (borrowed,
//! nothing else kept), to tell an unknown topic with an exotic body from a broken known one.

use std::borrow::Cow;

use serde::Deserialize;

use crate::genesys::model::{
    AggregateDataContainer, Group, HEARTBEAT_MESSAGE, StatisticalResponse, TOPIC_CHANNEL_METADATA,
    TOPIC_SOCKET_CLOSING, UserActivityEvent, UserAggregateDataContainer, UserPresence,
    UserRoutingStatus, queue_id_from_topic, user_id_from_aggregates_topic, user_id_from_topic,
    user_of_any_topic,
};
use crate::observations::is_instant_interval;

/// A parsed server frame.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Message {
    /// `channel.metadata` "WebSocket Heartbeat", about every 30 s.
    Heartbeat,
    /// `channel.metadata` "pong", the answer to our `{"message":"ping"}`.
    Pong,
    /// Any other `channel.metadata` message.
    Metadata(String),
    /// `v2.system.socket_closing`: the server closes this socket in about a minute.
    SocketClosing(String),
    /// An event on a queue's topic, split by interval kind, since one event may carry both.
    Queue(QueueEvent),
    /// An event on a user's activity topic: its routing status and presence.
    User(UserActivityEvent),
    /// An event on a user's aggregates topic: running time-in-status totals of the current
    /// 30-minute bucket.
    UserAggregates(UserAggregateDataContainer),
    /// An answer to a request sent on the socket (`{"result":"200",…}`), no topic.
    Reply,
    /// A topic we did not subscribe to or do not understand.
    UnknownTopic(String),
}

/// The two kinds of data a queue event carries (docs/genesys-api.md#queue-events), each with the
/// event's group and only its own intervals, so that each reaches its consumer whatever the other
/// holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QueueEvent {
    pub queue_id: String,
    /// Zero-width intervals (`t/t`): current values, for the gauges.
    pub observation: Option<AggregateDataContainer>,
    /// Other intervals: running totals of the current 30-minute bucket, for the ledger.
    pub aggregate: Option<AggregateDataContainer>,
}

/// Why a frame could not be used; every variant is counted as `malformed`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ParseError {
    #[error("frame is not a JSON object: {0}")]
    Json(#[source] serde_json::Error),
    #[error("frame has neither topicName nor result")]
    MissingTopic,
    #[error("body of {topic} does not have the expected shape: {source}")]
    Body {
        topic: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("frame on {topic} has no eventBody")]
    MissingBody { topic: String },
    #[error("event on the topic of queue {topic_queue} is about queue {body_queue}")]
    QueueMismatch {
        topic_queue: String,
        body_queue: String,
    },
    #[error("event on the topic of user {topic_user} is about user {body_user}")]
    UserMismatch {
        topic_user: String,
        body_user: String,
    },
}

impl ParseError {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Json(_) => "json",
            Self::MissingTopic => "missing_topic",
            Self::Body { .. } => "body",
            Self::MissingBody { .. } => "missing_body",
            Self::QueueMismatch { .. } => "queue_mismatch",
            Self::UserMismatch { .. } => "user_mismatch",
        }
    }
}

/// The union of the body shapes we read; unknown fields are ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    #[serde(default)]
    group: Group,
    #[serde(default)]
    data: Vec<StatisticalResponse>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    routing_status: Option<UserRoutingStatus>,
    #[serde(default)]
    presence: Option<UserPresence>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Frame<'a> {
    #[serde(borrow, default)]
    topic_name: Option<Cow<'a, str>>,
    #[serde(default)]
    event_body: Option<Body>,
    #[serde(default)]
    result: Option<serde::de::IgnoredAny>,
}

/// Only the topic; everything else is skipped without allocating.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TopicPeek<'a> {
    #[serde(borrow, default)]
    topic_name: Option<Cow<'a, str>>,
}

/// Parses one text frame. Never panics, whatever the input.
pub(crate) fn parse(text: &str) -> Result<Message, ParseError> {
    let frame: Frame<'_> = match serde_json::from_str(text) {
        Ok(frame) => frame,
        Err(error) => return reparse_failed(text, error),
    };
    let Some(topic) = frame.topic_name else {
        return if frame.result.is_some() {
            Ok(Message::Reply)
        } else {
            Err(ParseError::MissingTopic)
        };
    };
    match topic.as_ref() {
        TOPIC_CHANNEL_METADATA => {
            let message = frame.event_body.and_then(|b| b.message).unwrap_or_default();
            Ok(match message.as_str() {
                HEARTBEAT_MESSAGE => Message::Heartbeat,
                "pong" => Message::Pong,
                _ => Message::Metadata(message),
            })
        }
        TOPIC_SOCKET_CLOSING => {
            let message = frame.event_body.and_then(|b| b.message).unwrap_or_default();
            Ok(Message::SocketClosing(message))
        }
        other => {
            let body = |body: Option<Body>| {
                body.ok_or_else(|| ParseError::MissingBody {
                    topic: other.to_owned(),
                })
            };
            if let Some(queue_id) = queue_id_from_topic(other) {
                queue_event(queue_id, body(frame.event_body)?)
            } else if let Some(user_id) = user_id_from_topic(other) {
                user_event(user_id, body(frame.event_body)?)
            } else if let Some(user_id) = user_id_from_aggregates_topic(other) {
                user_aggregates_event(user_id, body(frame.event_body)?)
            } else {
                Ok(Message::UnknownTopic(other.to_owned()))
            }
        }
    }
}

fn user_event(user_id: &str, body: Body) -> Result<Message, ParseError> {
    match body.id {
        Some(body_user) if body_user != user_id => Err(ParseError::UserMismatch {
            topic_user: user_id.to_owned(),
            body_user,
        }),
        _ => Ok(Message::User(UserActivityEvent {
            id: user_id.to_owned(),
            routing_status: body.routing_status,
            presence: body.presence,
            active_queue_ids: None,
        })),
    }
}

fn user_aggregates_event(user_id: &str, body: Body) -> Result<Message, ParseError> {
    match body.group.user_id {
        Some(body_user) if body_user != user_id => Err(ParseError::UserMismatch {
            topic_user: user_id.to_owned(),
            body_user,
        }),
        _ => Ok(Message::UserAggregates(UserAggregateDataContainer {
            group: [("userId".to_owned(), user_id.to_owned())].into(),
            data: body.data,
        })),
    }
}

fn queue_event(queue_id: &str, body: Body) -> Result<Message, ParseError> {
    let mut group = body.group;
    match group.queue_id.as_deref() {
        Some(body_queue) if body_queue != queue_id => {
            return Err(ParseError::QueueMismatch {
                topic_queue: queue_id.to_owned(),
                body_queue: body_queue.to_owned(),
            });
        }
        Some(_) => {}
        None => group.queue_id = Some(queue_id.to_owned()),
    }
    let (instants, intervals): (Vec<_>, Vec<_>) = body
        .data
        .into_iter()
        .partition(|d| is_instant_interval(&d.interval));
    let part = |data: Vec<StatisticalResponse>| {
        (!data.is_empty()).then(|| AggregateDataContainer {
            group: group.clone(),
            data,
        })
    };
    Ok(Message::Queue(QueueEvent {
        queue_id: queue_id.to_owned(),
        observation: part(instants),
        aggregate: part(intervals),
    }))
}

/// The single pass failed: a body we do not model on a topic we do not know is fine, the same
/// on one of ours is malformed.
fn reparse_failed(text: &str, error: serde_json::Error) -> Result<Message, ParseError> {
    let Ok(peek) = serde_json::from_str::<TopicPeek<'_>>(text) else {
        return Err(ParseError::Json(error));
    };
    match peek.topic_name {
        Some(topic)
            if topic != TOPIC_CHANNEL_METADATA
                && topic != TOPIC_SOCKET_CLOSING
                && queue_id_from_topic(&topic).is_none()
                && user_of_any_topic(&topic).is_none() =>
        {
            Ok(Message::UnknownTopic(topic.into_owned()))
        }
        Some(topic) => Err(ParseError::Body {
            topic: topic.into_owned(),
            source: error,
        }),
        None => Err(ParseError::Json(error)),
    }
}

#[cfg(test)]
mod tests {
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
        let frame =
            r#"{"topicName":"v2.system.socket_closing","eventBody":{"message":"maintenance"}}"#;
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
}

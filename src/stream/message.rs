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
use crate::queues::observations::is_instant_interval;

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
mod tests;

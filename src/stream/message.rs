//! One notification text frame (docs/genesys-api.md#the-notification-websocket) into a typed
//! message, for a channel whose topics are one source's ([`Topics`]).
//!
//! The stream reads only what every channel shares: the topic, the channel's own topics
//! (heartbeats, pongs, a socket closing) and replies. An event's body is read by the source whose
//! topics the channel carries, in the same pass: once the topic is read (Genesys sends it first),
//! the body is deserialized straight into the source's shape, so no frame is scanned twice and
//! the stream knows no source's shapes. A body that comes before its topic is kept as raw JSON,
//! borrowed from the frame, and read once the topic is known. Only when the pass fails is the
//! topic peeked on its own, to tell a broken body on a known topic from broken JSON.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::genesys::model::{
    EventError, HEARTBEAT_MESSAGE, TOPIC_CHANNEL_METADATA, TOPIC_SOCKET_CLOSING, Topics,
};

/// A parsed server frame; `E` is an event of the channel's source.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Message<E> {
    /// `channel.metadata` "WebSocket Heartbeat", about every 30 s.
    Heartbeat,
    /// `channel.metadata` "pong", the answer to our `{"message":"ping"}`.
    Pong,
    /// Any other `channel.metadata` message.
    Metadata(String),
    /// `v2.system.socket_closing`: the server closes this socket in about a minute.
    SocketClosing(String),
    /// An event on one of the source's topics.
    Event(E),
    /// An answer to a request sent on the socket (`{"result":"200",…}`), no topic.
    Reply,
    /// A topic the source does not know, whatever its body.
    UnknownTopic(String),
}

impl<E> Message<E> {
    /// The same message, its event (if it is one) turned into what `f` makes of it.
    pub(crate) fn map<F>(self, f: impl FnOnce(E) -> F) -> Message<F> {
        match self {
            Self::Event(event) => Message::Event(f(event)),
            Self::Heartbeat => Message::Heartbeat,
            Self::Pong => Message::Pong,
            Self::Metadata(note) => Message::Metadata(note),
            Self::SocketClosing(note) => Message::SocketClosing(note),
            Self::Reply => Message::Reply,
            Self::UnknownTopic(topic) => Message::UnknownTopic(topic),
        }
    }
}

/// Why a frame could not be used; every variant is counted as `malformed`.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ParseError {
    #[error("frame is not a JSON object: {0}")]
    Json(#[source] serde_json::Error),
    #[error("frame has neither topicName nor result")]
    MissingTopic,
    #[error("body of {topic} does not have the expected shape: {source}")]
    Channel {
        topic: String,
        #[source]
        source: serde_json::Error,
    },
    /// The source could not read the body of an event on its topic.
    #[error("on {topic}: {source}")]
    Event {
        topic: String,
        #[source]
        source: EventError,
    },
}

impl ParseError {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::Json(_) => "json",
            Self::MissingTopic => "missing_topic",
            Self::Channel { .. } => "body",
            Self::Event { source, .. } => source.kind(),
        }
    }
}

/// A string borrowed from the frame unless it holds escapes.
#[derive(Deserialize)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

/// The body of the channel's own topics; unknown fields are ignored.
#[derive(Deserialize)]
struct ChannelBody {
    #[serde(default)]
    message: Option<String>,
}

/// A frame's body as the pass left it.
enum Body<'a, B> {
    Absent,
    Channel(ChannelBody),
    Source(B),
    /// On a topic neither the channel's nor the source's: skipped unread.
    Skipped,
    /// Before its topic: kept to be read once the topic is known.
    Raw(&'a RawValue),
}

struct Envelope<'a, B> {
    topic: Option<Cow<'a, str>>,
    body: Body<'a, B>,
    result: bool,
}

fn is_channel_topic(topic: &str) -> bool {
    topic == TOPIC_CHANNEL_METADATA || topic == TOPIC_SOCKET_CLOSING
}

/// Reads a frame's envelope, and its body in the shape its topic calls for.
struct EnvelopeSeed<T>(PhantomData<T>);

impl<'de, T: Topics> DeserializeSeed<'de> for EnvelopeSeed<T> {
    type Value = Envelope<'de, T::Body>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, T: Topics> Visitor<'de> for EnvelopeSeed<T> {
    type Value = Envelope<'de, T::Body>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a notification frame")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut envelope = Envelope {
            topic: None,
            body: Body::Absent,
            result: false,
        };
        while let Some(Text(key)) = map.next_key()? {
            match key.as_ref() {
                "topicName" => {
                    let topic: Option<Text<'de>> = map.next_value()?;
                    envelope.topic = topic.map(|Text(topic)| topic);
                }
                "eventBody" => {
                    envelope.body = body_of::<T, A>(envelope.topic.as_deref(), &mut map)?
                }
                "result" => {
                    map.next_value::<IgnoredAny>()?;
                    envelope.result = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(envelope)
    }
}

/// The body, read as `topic` calls for (kept raw while the topic is unknown).
fn body_of<'de, T: Topics, A: MapAccess<'de>>(
    topic: Option<&str>,
    map: &mut A,
) -> Result<Body<'de, T::Body>, A::Error> {
    let body = match topic {
        None => map.next_value::<Option<&RawValue>>()?.map(Body::Raw),
        Some(topic) if is_channel_topic(topic) => map.next_value::<Option<_>>()?.map(Body::Channel),
        Some(topic) if T::owns(topic) => map.next_value::<Option<_>>()?.map(Body::Source),
        Some(_) => map
            .next_value::<IgnoredAny>()
            .map(|_| Some(Body::Skipped))?,
    };
    Ok(body.unwrap_or(Body::Absent))
}

/// Parses one text frame for a channel of `T`'s topics. Never panics, whatever the input.
pub(crate) fn parse<T: Topics>(text: &str) -> Result<Message<T::Event>, ParseError> {
    let mut reader = serde_json::Deserializer::from_str(text);
    let envelope = EnvelopeSeed::<T>(PhantomData)
        .deserialize(&mut reader)
        .and_then(|envelope| reader.end().map(|()| envelope));
    match envelope {
        Ok(envelope) => message::<T>(envelope),
        Err(error) => reread::<T>(text, error),
    }
}

fn message<T: Topics>(envelope: Envelope<'_, T::Body>) -> Result<Message<T::Event>, ParseError> {
    let Some(topic) = envelope.topic else {
        return match envelope.result {
            true => Ok(Message::Reply),
            false => Err(ParseError::MissingTopic),
        };
    };
    match topic.as_ref() {
        TOPIC_CHANNEL_METADATA => Ok(match channel_message(&topic, envelope.body)?.as_str() {
            HEARTBEAT_MESSAGE => Message::Heartbeat,
            "pong" => Message::Pong,
            other => Message::Metadata(other.to_owned()),
        }),
        TOPIC_SOCKET_CLOSING => Ok(Message::SocketClosing(channel_message(
            &topic,
            envelope.body,
        )?)),
        other if T::owns(other) => {
            let malformed = |source| ParseError::Event {
                topic: other.to_owned(),
                source,
            };
            let body = match envelope.body {
                Body::Source(body) => body,
                Body::Raw(raw) => serde_json::from_str(raw.get())
                    .map_err(|error| malformed(EventError::Body(error)))?,
                Body::Absent | Body::Channel(_) | Body::Skipped => {
                    return Err(malformed(EventError::MissingBody));
                }
            };
            T::event(other, body).map(Message::Event).map_err(malformed)
        }
        other => Ok(Message::UnknownTopic(other.to_owned())),
    }
}

/// The message of a channel topic's body; empty without one.
fn channel_message<B>(topic: &str, body: Body<'_, B>) -> Result<String, ParseError> {
    let body = match body {
        Body::Channel(body) => body,
        Body::Raw(raw) => {
            serde_json::from_str(raw.get()).map_err(|source| ParseError::Channel {
                topic: topic.to_owned(),
                source,
            })?
        }
        Body::Absent | Body::Source(_) | Body::Skipped => return Ok(String::new()),
    };
    Ok(body.message.unwrap_or_default())
}

/// Only the topic; everything else is skipped without allocating.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TopicPeek<'a> {
    #[serde(borrow, default)]
    topic_name: Option<Cow<'a, str>>,
}

/// The single pass failed: if the frame is JSON with a topic whose body was read (the
/// channel's, or one of the source's), the body was broken; else the frame was.
fn reread<T: Topics>(
    text: &str,
    error: serde_json::Error,
) -> Result<Message<T::Event>, ParseError> {
    let Ok(TopicPeek {
        topic_name: Some(topic),
    }) = serde_json::from_str::<TopicPeek<'_>>(text)
    else {
        return Err(ParseError::Json(error));
    };
    let topic = topic.into_owned();
    if is_channel_topic(&topic) {
        Err(ParseError::Channel {
            topic,
            source: error,
        })
    } else if T::owns(&topic) {
        let source = EventError::Body(error);
        Err(ParseError::Event { topic, source })
    } else {
        Err(ParseError::Json(error))
    }
}

#[cfg(test)]
mod tests;

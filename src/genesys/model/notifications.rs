//! Notification channels, subscriptions and WebSocket frames
//! (docs/genesys-api.md#notification-channels, docs/genesys-api.md#the-notification-websocket).

use serde::{Deserialize, Serialize};

use super::analytics::AggregateDataContainer;

/// `POST /api/v2/notifications/channels` response.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Channel {
    pub connect_uri: String,
    pub id: String,
    /// ISO-8601; absent on some older responses, in which case we assume 24 h.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
}

/// A topic asked for, and as a subscription answers it: `state` `Permitted` or `Rejected`, with why
/// and which permissions are missing (docs/genesys-api.md#notification-topics).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase")]
pub struct ChannelTopic {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_permissions: Vec<String>,
}

impl ChannelTopic {
    pub fn named(id: &str) -> Self {
        Self {
            id: id.to_owned(),
            ..Self::default()
        }
    }

    /// Whether the subscription refused the topic (absent `state`: accepted, as before
    /// Genesys reported states).
    pub fn is_rejected(&self) -> bool {
        self.state
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("rejected"))
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ChannelTopicEntityListing {
    #[serde(default)]
    pub entities: Vec<ChannelTopic>,
}

/// Topics one channel may carry; more is a 400 upstream
/// (docs/genesys-api.md#notification-channels).
pub const MAX_TOPICS_PER_CHANNEL: usize = 1_000;

/// Notification channels one OAuth client may hold; every kind of channel shares them
/// (docs/genesys-api.md#notification-channels).
pub const CHANNELS_PER_CLIENT: usize = 20;

/// The topic carrying one queue's observations and running interval totals.
pub fn queue_observation_topic(queue_id: &str) -> String {
    format!("v2.analytics.queues.{queue_id}.observations")
}

/// The queue id in a queue observation topic name, or `None` for any other topic.
pub fn queue_id_from_topic(topic: &str) -> Option<&str> {
    topic
        .strip_prefix("v2.analytics.queues.")?
        .strip_suffix(".observations")
        .filter(|id| !id.is_empty() && !id.contains('.'))
}

/// The topic carrying one user's routing status and presence changes
/// (docs/genesys-api.md#notification-topics).
pub fn user_activity_topic(user_id: &str) -> String {
    format!("v2.users.{user_id}.activity")
}

/// The user id in a user activity topic name, or `None` for any other topic.
pub fn user_id_from_topic(topic: &str) -> Option<&str> {
    topic
        .strip_prefix("v2.users.")?
        .strip_suffix(".activity")
        .filter(|id| !id.is_empty() && !id.contains('.'))
}

/// The topic of a user's time-in-status running totals (the current 30-minute bucket).
pub fn user_aggregates_topic(user_id: &str) -> String {
    format!("v2.analytics.users.{user_id}.aggregates")
}

/// The user id in a user aggregates topic name, or `None` for any other topic.
pub fn user_id_from_aggregates_topic(topic: &str) -> Option<&str> {
    topic
        .strip_prefix("v2.analytics.users.")?
        .strip_suffix(".aggregates")
        .filter(|id| !id.is_empty() && !id.contains('.'))
}

/// The user id of either of a user's topics (activity, aggregates).
pub fn user_of_any_topic(topic: &str) -> Option<&str> {
    user_id_from_topic(topic).or_else(|| user_id_from_aggregates_topic(topic))
}

pub const TOPIC_CHANNEL_METADATA: &str = "channel.metadata";
pub const TOPIC_SOCKET_CLOSING: &str = "v2.system.socket_closing";
pub const HEARTBEAT_MESSAGE: &str = "WebSocket Heartbeat";

/// Every frame the server sends: the envelope around a topic's event body.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NotificationFrame<B> {
    pub topic_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub event_body: B,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<serde_json::Value>,
}

/// The body of `channel.metadata` and `v2.system.socket_closing` frames.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct MetadataBody {
    #[serde(default)]
    pub message: String,
}

/// A queue observation event: the same group + data shape as an aggregate result.
pub type QueueObservationEvent = NotificationFrame<AggregateDataContainer>;

/// Why a source could not read an event body on one of its topics; the stream counts every
/// one as `malformed`.
#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("the frame has no eventBody")]
    MissingBody,
    #[error("the body does not have the expected shape: {0}")]
    Body(#[source] serde_json::Error),
    /// The body names another entity than its topic (`entity`: `queue`, `user`, `trunk`, `Edge`,
    /// `flow`, `flow outcome`).
    #[error("the event on the topic of {entity} {topic_id} is about {entity} {body_id}")]
    Mismatch {
        entity: &'static str,
        topic_id: String,
        body_id: String,
    },
}

impl EventError {
    /// A fixed word per failure, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::MissingBody => "missing_body",
            Self::Body(_) => "body",
            Self::Mismatch {
                entity: "queue", ..
            } => "queue_mismatch",
            Self::Mismatch { entity: "user", .. } => "user_mismatch",
            Self::Mismatch {
                entity: "trunk", ..
            } => "trunk_mismatch",
            Self::Mismatch { entity: "Edge", .. } => "edge_mismatch",
            Self::Mismatch { entity: "flow", .. } => "flow_mismatch",
            Self::Mismatch {
                entity: "flow outcome",
                ..
            } => "flow_outcome_mismatch",
            Self::Mismatch { .. } => "mismatch",
        }
    }
}

/// What a source reads from its topics: which topics are its, the one body shape they send (as
/// the source reads it), and the event each body makes. The stream reads a frame's envelope and,
/// once it knows the topic, the body straight into the source's shape, in one pass.
pub trait Topics {
    /// The body of every topic of the source; unknown fields are ignored.
    type Body: serde::de::DeserializeOwned;
    type Event;

    /// Whether `topic` is one of the source's.
    fn owns(topic: &str) -> bool;

    /// The event `body` makes on `topic`, one the source owns.
    fn event(topic: &str, body: Self::Body) -> Result<Self::Event, EventError>;
}

#[cfg(test)]
mod tests;

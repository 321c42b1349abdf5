//! The agents' notification events (docs/genesys-api.md#user-events): a user's activity topic
//! and its aggregates topic, each body read and held to the topic's user.

use serde::Deserialize;

use crate::genesys::model::{
    EventError, Group, StatisticalResponse, Topics, UserActivityEvent, UserAggregateDataContainer,
    UserPresence, UserRoutingStatus, user_id_from_topic, user_of_any_topic,
};

/// An event on one of a user's topics.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum AgentEvent {
    /// `v2.users.{id}.activity`: its routing status and presence.
    Activity(UserActivityEvent),
    /// `v2.analytics.users.{id}.aggregates`: running time-in-status totals of the current
    /// bucket.
    Time(UserAggregateDataContainer),
}

/// The body of either topic of a user, as the agents read it; unknown fields are ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Body {
    /// Activity: the user.
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    routing_status: Option<UserRoutingStatus>,
    #[serde(default)]
    presence: Option<UserPresence>,
    /// Aggregates: the user, and the running totals.
    #[serde(default)]
    group: Group,
    #[serde(default)]
    data: Vec<StatisticalResponse>,
}

/// The agents' topics: each user's activity and, when time in status streams, its aggregates.
pub(crate) struct AgentTopics;

impl Topics for AgentTopics {
    type Body = Body;
    type Event = AgentEvent;

    fn owns(topic: &str) -> bool {
        user_of_any_topic(topic).is_some()
    }

    /// The body must be about the topic's user.
    fn event(topic: &str, body: Body) -> Result<AgentEvent, EventError> {
        match user_id_from_topic(topic) {
            Some(user_id) => activity(user_id, body),
            None => time(user_of_any_topic(topic).unwrap_or_default(), body),
        }
    }
}

fn mismatch(user_id: &str, body_user: String) -> EventError {
    EventError::Mismatch {
        entity: "user",
        topic_id: user_id.to_owned(),
        body_id: body_user,
    }
}

fn activity(user_id: &str, body: Body) -> Result<AgentEvent, EventError> {
    match body.id {
        Some(body_user) if body_user != user_id => Err(mismatch(user_id, body_user)),
        _ => Ok(AgentEvent::Activity(UserActivityEvent {
            id: user_id.to_owned(),
            routing_status: body.routing_status,
            presence: body.presence,
            active_queue_ids: None,
        })),
    }
}

fn time(user_id: &str, body: Body) -> Result<AgentEvent, EventError> {
    match body.group.user_id {
        Some(body_user) if body_user != user_id => Err(mismatch(user_id, body_user)),
        _ => Ok(AgentEvent::Time(UserAggregateDataContainer {
            group: [("userId".to_owned(), user_id.to_owned())].into(),
            data: body.data,
        })),
    }
}

#[cfg(test)]
mod tests;

//! Users with their presence and routing status (docs/genesys-api.md#users): the listing's
//! entities.

use serde::{Deserialize, Serialize};

use super::{ConversationAggregationQuery, DivisionRef};

/// A user as `GET /api/v2/users?expand=presence,routingStatus` lists one. `expand` is best
/// effort upstream: a user without `presence` or `routing_status` says nothing about them.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub division: Option<DivisionRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence: Option<UserPresence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_status: Option<UserRoutingStatus>,
}

/// A user's presence: which of the org's definitions, since when.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct UserPresence {
    pub presence_definition: PresenceRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified_date: Option<String>,
}

/// A presence definition by reference: its id and system presence (spelt either way).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PresenceRef {
    pub id: String,
    #[serde(default)]
    pub system_presence: String,
}

/// A user's routing status, since when.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct UserRoutingStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
}

pub type UserEntityListing = super::EntityListing<User>;

/// The event body of `v2.users.{id}.activity`: both status dimensions, each since when.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct UserActivityEvent {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_status: Option<UserRoutingStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence: Option<UserPresence>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_queue_ids: Option<Vec<String>>,
}

/// `POST /api/v2/analytics/users/aggregates/query`: the body has the conversation aggregates
/// query's shape (`interval`, `granularity`, `groupBy` of `userId`, a `userId` filter,
/// `metrics`).
pub type UserAggregationQuery = ConversationAggregationQuery;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct UserAggregateQueryResponse {
    #[serde(default)]
    pub results: Vec<UserAggregateDataContainer>,
}

/// One user's buckets; each metric entry's `qualifier` is the routing status, the system
/// presence or the org's presence definition id, `stats.sum` the milliseconds in it.
pub type UserAggregateDataContainer = super::KeyedAggregateDataContainer;

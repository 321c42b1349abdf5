//! The routing activity query (docs/genesys-api.md#routing-activity-query): who of each queue's
//! members is in which routing status and presence, since when, in one call per 100 queues.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{MetricName, QueryFilter};

/// `POST /api/v2/analytics/routing/activity/query`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RoutingActivityQuery {
    pub metrics: Vec<ActivityMetric>,
    #[serde(default)]
    pub group_by: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<QueryFilter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
}

/// A metric asked for; with `details`, its entity ids and each member's entity come back.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ActivityMetric {
    pub metric: String,
    #[serde(default)]
    pub details: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RoutingActivityResponse {
    #[serde(default)]
    pub results: Vec<RoutingActivityData>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity_id_dimension: Option<String>,
}

/// One group (a queue): its counts by metric and qualifier, and with details its members.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RoutingActivityData {
    #[serde(default)]
    pub group: BTreeMap<String, String>,
    #[serde(default)]
    pub data: Vec<ActivityMetricValue>,
    /// With details: whether `entities` lists only the oldest and the newest half.
    #[serde(default)]
    pub truncated: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entities: Vec<ActivityEntity>,
}

/// A count of members in one routing status (`qualifier`) or presence (`qualifier` the
/// definition id, `secondary_qualifier` its system presence).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ActivityMetricValue {
    pub metric: MetricName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualifier: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary_qualifier: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entity_ids: Vec<String>,
    #[serde(default)]
    pub count: u64,
}

/// One member of a queue, with its state and since when.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ActivityEntity {
    pub user_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_status_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_presence_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_presence: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_membership_status: Option<String>,
}

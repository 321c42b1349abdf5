//! Trunks and Edges (docs/genesys-api.md#trunks-and-edges): the telephony listings, their metrics
//! endpoints and the bodies of their topics. Every field is optional on read: a trunk reports what
//! it has, and what it does not report is absent, never read as down.

use serde::{Deserialize, Deserializer, Serialize};

use super::EntityListing;

/// `{id, name}` of a related entity (an Edge, a site, a trunk base).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct EntityRef {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Whether the trunk's signalling link is up, and since when.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TrunkConnectedStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connected: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connected_state_time: Option<String>,
}

/// Why a trunk's check failed, as Genesys reports it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TrunkErrorInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// One proxy's SIP OPTIONS ping: whether it answers, since when.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TrunkOptionsStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_address: Option<String>,
    #[serde(
        default,
        deserialize_with = "tolerant_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub option_state: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub option_state_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_info: Option<TrunkErrorInfo>,
}

/// One proxy's SIP REGISTER: whether the registration holds, since when.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TrunkRegistersStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_address: Option<String>,
    #[serde(
        default,
        deserialize_with = "tolerant_bool",
        skip_serializing_if = "Option::is_none"
    )]
    pub register_state: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub register_state_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_info: Option<TrunkErrorInfo>,
}

/// The trunk's IP address check.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TrunkIpStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_info: Option<TrunkErrorInfo>,
}

/// A trunk as the listing gives it; the statuses are also the body of its topic.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Trunk {
    pub id: String,
    #[serde(default)]
    pub name: String,
    /// `active`, `inactive` or `deleted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// `EXTERNAL`, `PHONE` or `EDGE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trunk_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_service: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge: Option<EntityRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge_group: Option<EntityRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trunk_base: Option<EntityRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logical_interface: Option<EntityRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connected_status: Option<TrunkConnectedStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options_status: Option<Vec<TrunkOptionsStatus>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registers_status: Option<Vec<TrunkRegistersStatus>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_status: Option<TrunkIpStatus>,
    /// `ENABLED`, `DISABLED` or `NOT_SUPPORTED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub options_enabled_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registers_enabled_status: Option<String>,
}

pub type TrunkEntityListing = EntityListing<Trunk>;

/// The calls up on a trunk now.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TrunkCalls {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inbound_call_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbound_call_count: Option<i64>,
}

/// Codec mismatches over Genesys's sliding 24 hours: a gauge, not a counter.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TrunkQos {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mismatch_count: Option<i64>,
}

/// One trunk's metrics, from the metrics endpoint (an array of them) or its metrics topic.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TrunkMetrics {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logical_interface: Option<EntityRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trunk: Option<EntityRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calls: Option<TrunkCalls>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qos: Option<TrunkQos>,
}

/// An Edge as the listing gives it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Edge {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// `ONLINE` or `OFFLINE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online_status: Option<String>,
    /// `ACTIVE`, `INACTIVE`, `RMA`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge_deployment_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site: Option<EntityRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge_group: Option<EntityRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_count: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed: Option<bool>,
}

pub type EdgeEntityListing = EntityListing<Edge>;

/// One processor's load; `cpuId` `total` is always there.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EdgeProcessor {
    #[serde(default)]
    pub cpu_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_time_pct: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle_time_pct: Option<f64>,
}

/// One kind of memory (`type`: physical, virtual).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EdgeMemory {
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_bytes: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_bytes: Option<f64>,
}

/// One disk partition.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EdgeDisk {
    #[serde(default)]
    pub partition_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub available_bytes: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_bytes: Option<f64>,
}

/// One subsystem's processing delay.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EdgeSubsystem {
    #[serde(default)]
    pub process_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<i64>,
}

/// One Edge's metrics, from the metrics endpoint (an array of them) or its metrics topic.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct EdgeMetrics {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edge: Option<EntityRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub up_time_msec: Option<i64>,
    #[serde(default)]
    pub processors: Vec<EdgeProcessor>,
    #[serde(default)]
    pub memory: Vec<EdgeMemory>,
    #[serde(default)]
    pub disks: Vec<EdgeDisk>,
    #[serde(default)]
    pub subsystems: Vec<EdgeSubsystem>,
}

/// The most trunk or Edge ids one metrics request names (Genesys states it for Edges; the
/// trunks' endpoint states none, and we keep to the same).
pub const MAX_IDS_PER_METRICS_REQUEST: usize = 100;

/// What one of a trunk's or an Edge's topics carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TelephonyTopic {
    /// Its statuses (`v2.telephony.providers.edges.trunks.{id}`, `v2.telephony.providers.edges.{id}`).
    Status,
    /// Its metrics (the same topic with `.metrics`).
    Metrics,
}

/// What every trunk's and Edge's topic begins with.
pub const TELEPHONY_TOPICS: &str = "v2.telephony.providers.edges.";
const EDGE_TOPICS: &str = TELEPHONY_TOPICS;
const TRUNK_TOPICS: &str = "v2.telephony.providers.edges.trunks.";

/// The topic of a trunk's statuses or its metrics.
pub fn trunk_topic(trunk_id: &str, topic: TelephonyTopic) -> String {
    match topic {
        TelephonyTopic::Status => format!("{TRUNK_TOPICS}{trunk_id}"),
        TelephonyTopic::Metrics => format!("{TRUNK_TOPICS}{trunk_id}.metrics"),
    }
}

/// The topic of an Edge's online status or its metrics.
pub fn edge_topic(edge_id: &str, topic: TelephonyTopic) -> String {
    match topic {
        TelephonyTopic::Status => format!("{EDGE_TOPICS}{edge_id}"),
        TelephonyTopic::Metrics => format!("{EDGE_TOPICS}{edge_id}.metrics"),
    }
}

/// The trunk and which of its topics `topic` is, or `None` for any other topic.
pub fn trunk_of_topic(topic: &str) -> Option<(&str, TelephonyTopic)> {
    split_telephony_topic(topic.strip_prefix(TRUNK_TOPICS)?)
}

/// The Edge and which of its topics `topic` is, or `None` for any other topic (a trunk's
/// included: `trunks` is no Edge).
pub fn edge_of_topic(topic: &str) -> Option<(&str, TelephonyTopic)> {
    let rest = topic.strip_prefix(EDGE_TOPICS)?;
    if rest.starts_with("trunks.") {
        return None;
    }
    split_telephony_topic(rest)
}

/// `{id}` or `{id}.metrics`; any other suffix (`.logicalinterfaces`, …) is not ours.
fn split_telephony_topic(rest: &str) -> Option<(&str, TelephonyTopic)> {
    let (id, topic) = match rest.strip_suffix(".metrics") {
        Some(id) => (id, TelephonyTopic::Metrics),
        None => (rest, TelephonyTopic::Status),
    };
    (!id.is_empty() && !id.contains('.')).then_some((id, topic))
}

/// A boolean as Genesys documents it, or as a string (`"true"`); anything else is unknown, never
/// an error, so one odd status cannot cost the trunk's other values.
fn tolerant_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Bool(b) => Some(b),
        serde_json::Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        serde_json::Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    })
}

#[cfg(test)]
mod tests;

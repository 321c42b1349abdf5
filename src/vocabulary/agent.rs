//! An agent as the exporter knows it (docs/metrics.md#agents): who (id, name, division, the
//! monitored queues it is a member of) and its two status dimensions, each with the instant it
//! began.

use super::labels::{LabelValue, RoutingStatus, SystemPresence};
use super::metric::GenesysMetric;

/// Who an agent is: the labels of `genesys_agent_info` and its queue membership.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentLabels {
    pub id: String,
    pub name: String,
    pub division_id: String,
    pub division: String,
    /// The monitored queues it is a member of, sorted; empty when it is watched for another
    /// reason (listed, or in a watched division).
    pub queue_ids: Vec<String>,
}

/// An agent's routing status, since when (Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RoutingState {
    pub status: RoutingStatus,
    pub since: f64,
}

/// An agent's presence: the org's definition (by id), its system presence, since when.
#[derive(Debug, Clone, PartialEq)]
pub struct PresenceState {
    pub presence_id: String,
    pub system: SystemPresence,
    pub since: f64,
}

/// An agent's time in status, one counter per metric of the users aggregates query, each split by
/// its qualifier: the routing status, the system presence, or the org's presence definition
/// (docs/genesys-api.md#users-aggregates-query).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AgentTime {
    RoutingStatus,
    SystemPresence,
    OrganizationPresence,
}

impl AgentTime {
    pub const ALL: [AgentTime; 3] = [
        Self::RoutingStatus,
        Self::SystemPresence,
        Self::OrganizationPresence,
    ];

    /// The Genesys metric that feeds it.
    pub fn metric(self) -> GenesysMetric {
        match self {
            Self::RoutingStatus => GenesysMetric::TAgentRoutingStatus,
            Self::SystemPresence => GenesysMetric::TSystemPresence,
            Self::OrganizationPresence => GenesysMetric::TOrganizationPresence,
        }
    }

    /// The counter `metric` feeds, if any.
    pub fn of(metric: GenesysMetric) -> Option<Self> {
        Self::ALL.into_iter().find(|time| time.metric() == metric)
    }

    /// Its series' name.
    pub fn series(self) -> &'static str {
        match self {
            Self::RoutingStatus => "genesys_agent_routing_status_seconds_total",
            Self::SystemPresence => "genesys_agent_system_presence_seconds_total",
            Self::OrganizationPresence => "genesys_agent_presence_seconds_total",
        }
    }

    /// Whether `qualifier` is one this counter can be split by: a routing status, a system
    /// presence; an org presence is checked against the org's definitions by the store.
    pub fn admits(self, qualifier: &str) -> bool {
        match self {
            Self::RoutingStatus => RoutingStatus::parse(qualifier).is_some(),
            Self::SystemPresence => SystemPresence::parse(qualifier).is_some(),
            Self::OrganizationPresence => !qualifier.is_empty(),
        }
    }
}

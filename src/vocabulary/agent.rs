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

/// What the agent series show beyond state: set once from config (`agents.*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AgentExport {
    /// `genesys_agent_info` carries the agent's `name` (some orgs keep names out).
    pub names: bool,
    /// `genesys_agent_queue_member` is exported.
    pub queue_membership: bool,
    /// Time in routing status and system presence is counted (`agents.time_in_status`).
    pub time_in_status: bool,
    /// And time in the org's presences (`agents.organization_presence_time`).
    pub organization_presence_time: bool,
}

impl Default for AgentExport {
    fn default() -> Self {
        Self {
            names: true,
            queue_membership: false,
            time_in_status: false,
            organization_presence_time: false,
        }
    }
}

impl AgentExport {
    /// The time-in-status counters exported.
    pub fn times(self) -> &'static [AgentTime] {
        match (self.time_in_status, self.organization_presence_time) {
            (false, _) => &[],
            (true, false) => &AgentTime::ALL[..2],
            (true, true) => &AgentTime::ALL,
        }
    }
}

/// Whose state is exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// Every member of a monitored queue (the default).
    QueueMembers,
    /// Every active user of these divisions, by id.
    Divisions(Vec<String>),
    /// These users, by id.
    Ids(Vec<String>),
}

impl Who {
    /// The setting that chose this, for messages.
    pub fn describe(&self) -> &'static str {
        match self {
            Self::QueueMembers => "members of the monitored queues",
            Self::Divisions(_) => "users of agents.divisions",
            Self::Ids(_) => "agents.ids",
        }
    }
}

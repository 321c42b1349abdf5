//! An agent as the exporter knows it (DESIGN.md §11): who (id, name, division, the monitored
//! queues it is a member of) and its two status dimensions, each with the instant it began.

use super::labels::{RoutingStatus, SystemPresence};

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

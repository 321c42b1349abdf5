//! One watched agent's entry and the agent families: routing status and system presence as
//! state sets, one series per possible value with exactly one at 1, as kube-state-metrics shows a
//! pod's phase; the org's own presence as one info series, its label from the allow-list of
//! definitions; each half with the instant it began.

use std::collections::HashMap;

use super::time::TimeSeries;
use crate::metrics::table::{Entry, Freshness};
use crate::metrics::text::{self, Kind};
use crate::vocabulary::agent::{AgentExport, AgentLabels, AgentTime, PresenceState, RoutingState};
use crate::vocabulary::labels::{LabelValue, RoutingStatus, SystemPresence};
use crate::vocabulary::presence::Presence;

/// The agent series families, in exposition order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AgentFamily {
    Info,
    RoutingStatus,
    RoutingStatusSince,
    SystemPresence,
    Presence,
    PresenceSince,
    QueueMember,
    ObservationTimestamp,
    Stale,
    /// Time in status (`agents.time_in_status`), one family per metric.
    Time(AgentTime),
}

impl AgentFamily {
    pub(super) const ALL: [AgentFamily; 12] = [
        Self::Info,
        Self::RoutingStatus,
        Self::RoutingStatusSince,
        Self::SystemPresence,
        Self::Presence,
        Self::PresenceSince,
        Self::QueueMember,
        Self::ObservationTimestamp,
        Self::Stale,
        Self::Time(AgentTime::RoutingStatus),
        Self::Time(AgentTime::SystemPresence),
        Self::Time(AgentTime::OrganizationPresence),
    ];

    pub(super) fn kind(self) -> Kind {
        match self {
            Self::Time(_) => Kind::Counter,
            _ => Kind::Gauge,
        }
    }

    pub(super) fn name(self) -> &'static str {
        match self {
            Self::Info => "genesys_agent_info",
            Self::RoutingStatus => "genesys_agent_routing_status",
            Self::RoutingStatusSince => "genesys_agent_routing_status_since_timestamp_seconds",
            Self::SystemPresence => "genesys_agent_system_presence",
            Self::Presence => "genesys_agent_presence_info",
            Self::PresenceSince => "genesys_agent_presence_since_timestamp_seconds",
            Self::QueueMember => "genesys_agent_queue_member",
            Self::ObservationTimestamp => "genesys_agent_observation_timestamp_seconds",
            Self::Stale => "genesys_exporter_agent_stale",
            Self::Time(time) => time.series(),
        }
    }

    pub(super) fn help(self) -> &'static str {
        match self {
            Self::Info => {
                "A watched agent (user), with its division and, unless agents.names is off, its name; always 1."
            }
            Self::RoutingStatus => {
                "The agent's routing status: 1 for the current one, 0 for the others."
            }
            Self::RoutingStatusSince => "Unix time when the agent's current routing status began.",
            Self::SystemPresence => {
                "The agent's system presence: 1 for the current one, 0 for the others."
            }
            Self::Presence => {
                "The agent's presence as the org defines it (the definition's label); always 1."
            }
            Self::PresenceSince => "Unix time when the agent's current presence began.",
            Self::QueueMember => {
                "A monitored queue the agent is a member of; always 1 (agents.queue_membership)."
            }
            Self::ObservationTimestamp => "Unix time when the agent's state was last known fresh.",
            Self::Stale => {
                "1 while the agent's state cannot be refreshed (stream down and resync failing)."
            }
            Self::Time(AgentTime::RoutingStatus) => {
                "Seconds the agent spent in each routing status (tAgentRoutingStatus)."
            }
            Self::Time(AgentTime::SystemPresence) => {
                "Seconds the agent spent in each system presence (tSystemPresence)."
            }
            Self::Time(AgentTime::OrganizationPresence) => {
                "Seconds the agent spent in each of the org's presences (tOrganizationPresence)."
            }
        }
    }

    /// The labels besides `user_id`, sorted, as written.
    pub(super) fn extra_labels(self, export: AgentExport) -> &'static [&'static str] {
        match self {
            Self::Info if export.names => &["division", "division_id", "name"],
            Self::Info => &["division", "division_id"],
            Self::RoutingStatus => &["routing_status"],
            Self::SystemPresence => &["system_presence"],
            Self::Presence => &["presence", "system_presence"],
            Self::QueueMember => &["queue", "queue_id"],
            Self::Time(AgentTime::RoutingStatus) => &["routing_status"],
            Self::Time(AgentTime::SystemPresence) => &["system_presence"],
            Self::Time(AgentTime::OrganizationPresence) => &["presence", "system_presence"],
            _ => &[],
        }
    }

    /// State values, hidden for a stale agent under `stale_gauges: remove`.
    fn is_state(self) -> bool {
        matches!(
            self,
            Self::RoutingStatus
                | Self::RoutingStatusSince
                | Self::SystemPresence
                | Self::Presence
                | Self::PresenceSince
        )
    }
}

/// One watched agent.
#[derive(Debug)]
pub(super) struct AgentEntry {
    pub(super) labels: AgentLabels,
    /// `user_id="…"`, escaped once.
    user_label: Box<str>,
    pub(super) routing: Option<RoutingState>,
    pub(super) presence: Option<PresenceState>,
    pub(super) freshness: Freshness,
    /// Time in status, one series per (metric, qualifier) the agent has had.
    pub(super) time: Vec<TimeSeries>,
}

impl Entry for AgentEntry {
    type Labels = AgentLabels;

    fn new(labels: &AgentLabels, now_seconds: f64) -> Self {
        Self {
            user_label: text::label_set(&[("user_id", &labels.id)]),
            labels: labels.clone(),
            routing: None,
            presence: None,
            freshness: Freshness::joined(now_seconds),
            time: Vec::new(),
        }
    }

    fn id(labels: &AgentLabels) -> &str {
        &labels.id
    }

    /// The agent keeps its state under its new labels (its name is an info series' label).
    fn relabel(&mut self, labels: &AgentLabels) -> bool {
        let renamed = labels.name != self.labels.name;
        self.labels = labels.clone();
        renamed
    }

    fn freshness(&mut self) -> &mut Freshness {
        &mut self.freshness
    }

    fn name(&self) -> &str {
        &self.labels.name
    }
}

impl AgentEntry {
    /// Takes each half that began no earlier than the one held.
    pub(super) fn apply(
        &mut self,
        routing: Option<RoutingState>,
        presence: Option<PresenceState>,
    ) -> bool {
        let mut took = false;
        if let Some(new) = routing
            && self.routing.is_none_or(|old| new.since >= old.since)
        {
            self.routing = Some(new);
            took = true;
        }
        if let Some(new) = presence
            && self
                .presence
                .as_ref()
                .is_none_or(|old| new.since >= old.since)
        {
            self.presence = Some(new);
            took = true;
        }
        took
    }

    pub(super) fn render(&self, family: AgentFamily, out: &mut Vec<u8>, ctx: &AgentRender<'_>) {
        if family.is_state() && self.freshness.is_stale() && ctx.hide_stale {
            return;
        }
        let name = family.name();
        let mut emit = |labels: &[(&str, &str)], value: f64| {
            text::sample(out, name, &self.user_label, labels, &[], value);
        };
        match family {
            AgentFamily::Info => {
                let l = &self.labels;
                let mut labels = vec![("division", l.division.as_str())];
                labels.push(("division_id", l.division_id.as_str()));
                if ctx.export.names {
                    labels.push(("name", l.name.as_str()));
                }
                emit(&labels, 1.0);
            }
            AgentFamily::RoutingStatus => {
                if let Some(routing) = self.routing {
                    for status in RoutingStatus::ALL {
                        let on = f64::from(u8::from(*status == routing.status));
                        emit(&[("routing_status", status.as_str())], on);
                    }
                }
            }
            AgentFamily::RoutingStatusSince => {
                if let Some(routing) = self.routing {
                    emit(&[], routing.since);
                }
            }
            AgentFamily::SystemPresence => {
                if let Some(presence) = &self.presence {
                    for system in SystemPresence::ALL {
                        let on = f64::from(u8::from(*system == presence.system));
                        emit(&[("system_presence", system.as_str())], on);
                    }
                }
            }
            AgentFamily::Presence => {
                let known = (self.presence.as_ref())
                    .and_then(|p| Some((ctx.presences.get(&p.presence_id)?, p.system)));
                if let Some((definition, system)) = known {
                    let labels = [
                        ("presence", definition.label.as_str()),
                        ("system_presence", system.as_str()),
                    ];
                    emit(&labels, 1.0);
                }
            }
            AgentFamily::PresenceSince => {
                if let Some(presence) = &self.presence {
                    emit(&[], presence.since);
                }
            }
            AgentFamily::QueueMember => {
                if ctx.export.queue_membership {
                    for id in &self.labels.queue_ids {
                        if let Some(queue) = ctx.queue_names.get(id.as_str()) {
                            emit(&[("queue", queue), ("queue_id", id)], 1.0);
                        }
                    }
                }
            }
            AgentFamily::ObservationTimestamp => {
                if let Some(fresh_at) = self.freshness.fresh_at() {
                    emit(&[], fresh_at);
                }
            }
            AgentFamily::Stale => emit(&[], f64::from(u8::from(self.freshness.is_stale()))),
            AgentFamily::Time(time) => {
                for series in self.time.iter().filter(|s| s.time == time) {
                    let counter = series.counter.as_ref();
                    let value = counter.and_then(|c| c.values.first().copied());
                    let value = value.unwrap_or(0.0);
                    let qualifier = &*series.qualifier;
                    if time != AgentTime::OrganizationPresence {
                        emit(&[(family.extra_labels(ctx.export)[0], qualifier)], value);
                    } else if let Some(definition) = ctx.presences.get(qualifier) {
                        let system = definition.system.as_str();
                        let labels = [
                            ("presence", definition.label.as_str()),
                            ("system_presence", system),
                        ];
                        emit(&labels, value);
                    }
                }
            }
        }
    }
}

/// What rendering an agent family needs besides the entry.
pub(super) struct AgentRender<'a> {
    pub(super) export: AgentExport,
    pub(super) hide_stale: bool,
    pub(super) presences: &'a HashMap<String, Presence>,
    pub(super) queue_names: HashMap<String, String>,
}

//! The agents' table in the store (docs/metrics.md#agents): one entry per watched agent,
//! rendered at scrape time by hand like the queues', because 10,000 agents are ~200,000 samples.
//!
//! **Architecture Invariant:** a value only replaces one that began no later, so events and
//! resyncs may arrive in any order and the newer state wins. Freshness and staleness are the
//! store's generic table's, as for queues.

use std::collections::HashMap;
use std::sync::Arc;

use prometheus::IntGauge;

mod entry;
mod time;

use entry::{AgentEntry, AgentFamily, AgentRender};

use crate::metrics::counted::Renders;
use crate::metrics::registry::{FamilyDoc, Registrar, SelfMetrics};
use crate::metrics::scrape::{Rendered, Scrape};
use crate::metrics::table::{Names, Table};
use crate::metrics::{Metrics, Presences};
use crate::sync::lock;
use crate::vocabulary::agent::{AgentExport, AgentLabels, PresenceState, RoutingState};
use crate::vocabulary::clock::Clock;
use crate::vocabulary::labels::{LabelValue, RoutingStatus, SystemPresence};

/// What applying a value did, for the event counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Applied {
    /// At least one half changed or was confirmed.
    Current,
    /// Both halves began before what is known: an older event, skipped.
    Older,
    /// The agent is not watched.
    Unwatched,
}

/// The watched agents' series.
pub struct AgentTable {
    table: Table<AgentEntry>,
    /// What the series show beyond state (names, queue membership, time in status).
    export: AgentExport,
    presences: Arc<Presences>,
    /// The monitored queues' names, for `genesys_agent_queue_member`.
    queue_names: Arc<dyn Names>,
    renders: Arc<Renders>,
    /// When an agent joins, by the store's clock.
    clock: Clock,
    watched: IntGauge,
}

#[derive(Clone)]
struct AgentTableMetrics {
    watched: IntGauge,
}

impl SelfMetrics for AgentTableMetrics {
    fn register(r: &Registrar) -> Self {
        Self {
            watched: r.gauge(
                "genesys_exporter_watched_agents",
                "Agents the exporter is watching (agents.enabled).",
            ),
        }
    }
}

impl AgentTable {
    /// A table of agents shown as `export` says, labelling their queues by `queue_names`,
    /// rendered by `metrics` from now on.
    pub fn register(
        metrics: &Metrics,
        export: AgentExport,
        queue_names: Arc<dyn Names>,
    ) -> Arc<Self> {
        let table = Arc::new(Self {
            table: Table::default(),
            export,
            presences: metrics.presences().clone(),
            queue_names,
            renders: metrics.renders(),
            clock: metrics.clock().clone(),
            watched: AgentTableMetrics::of(metrics).watched,
        });
        metrics.add_table(table.clone());
        table
    }

    /// Replaces the watched agents. An agent that left takes its series with it; one that
    /// stays keeps its state under its new labels.
    pub(crate) fn set_agents(&self, agents: &[AgentLabels]) {
        let (_, watched) = self.table.replace(agents, self.clock.now_seconds());
        self.watched.set(watched as i64);
    }

    /// Whether `id` is one of the org's presences.
    pub(crate) fn knows_presence(&self, id: &str) -> bool {
        self.presences.knows(id)
    }

    /// The monitored queues `ids` are members of, each once.
    pub(crate) fn agent_queue_ids(&self, ids: &[String]) -> Vec<String> {
        let agents = self.table.read();
        let mut queues: Vec<String> = (ids.iter().filter_map(|id| agents.get(id)))
            .flat_map(|entry| lock(entry).labels.queue_ids.clone())
            .collect();
        queues.sort();
        queues.dedup();
        queues
    }

    fn with_agent<T>(&self, id: &str, write: impl FnOnce(&mut AgentEntry) -> T) -> Option<T> {
        self.table.with(id, write)
    }

    /// An event's state of the agent, current as of `at_unix_seconds`.
    pub(crate) fn agent_event(
        &self,
        id: &str,
        routing: Option<RoutingState>,
        presence: Option<PresenceState>,
        at_unix_seconds: f64,
    ) -> Applied {
        let applied = self.with_agent(id, |entry| {
            let took = entry.apply(routing, presence);
            entry.freshness.observed(at_unix_seconds);
            if took {
                Applied::Current
            } else {
                Applied::Older
            }
        });
        applied.unwrap_or(Applied::Unwatched)
    }

    /// A REST read of the agent's state as of `at_unix_seconds`: a resync when both halves
    /// came. A read missing one (`expand` is best effort upstream) proves nothing: the agent is
    /// stale until a later read completes it if the read was to close a gap (`after_gap`) or
    /// the agent was never read whole; else the stream keeps it current meanwhile.
    pub(crate) fn agent_read(
        &self,
        id: &str,
        routing: Option<RoutingState>,
        presence: Option<PresenceState>,
        at_unix_seconds: f64,
        after_gap: bool,
    ) {
        self.with_agent(id, |entry| {
            let complete = routing.is_some() && presence.is_some();
            entry.apply(routing, presence);
            if complete {
                entry.freshness.resynced(at_unix_seconds);
            } else if after_gap || !entry.freshness.is_resynced() {
                entry.freshness.mark_stale();
            }
        });
    }

    /// A heartbeat on the healthy socket carrying these agents' topics.
    pub(crate) fn agents_observed<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a str>,
        at_unix_seconds: f64,
    ) {
        self.table.observed(ids, at_unix_seconds);
    }

    /// The agent's state could not be refreshed; cleared by its next complete resync.
    pub(crate) fn set_agent_stale(&self, id: &str) {
        self.table.set_stale(id);
    }

    /// The watched agents among `ids` that are stale.
    pub(crate) fn agents_stale(&self, ids: &[String]) -> Vec<String> {
        self.table.stale(ids)
    }

    /// The agent's state, once both halves are known; for tests.
    #[cfg(test)]
    pub(crate) fn agent_state(&self, id: &str) -> Option<(RoutingState, PresenceState)> {
        self.with_agent(id, |e| Some((e.routing?, e.presence.clone()?)))
            .flatten()
    }
}

impl Rendered for AgentTable {
    fn family_count(&self) -> usize {
        AgentFamily::ALL.len()
    }

    fn render_family(&self, index: usize, scrape: &Scrape) -> Vec<u8> {
        let Some(&family) = AgentFamily::ALL.get(index) else {
            return Vec::new();
        };
        if let AgentFamily::Time(time) = family
            && !self.export.times().contains(&time)
        {
            return Vec::new();
        }
        let presences = self.presences.current();
        let queue_names = match family {
            AgentFamily::QueueMember if self.table.len() > 0 => self.queue_names.names(),
            _ => HashMap::new(),
        };
        let ctx = AgentRender {
            export: self.export,
            hide_stale: scrape.hide_stale,
            presences: &presences,
            queue_names,
        };
        let name = family.name();
        let per_agent = match family {
            AgentFamily::RoutingStatus => RoutingStatus::COUNT,
            AgentFamily::SystemPresence => SystemPresence::ALL.len(),
            _ => 1,
        };
        let header = (name, family.help(), family.kind());
        (self.table).render_family(header, per_agent * (name.len() + 80), |entry, out| {
            entry.render(family, out, &ctx);
        })
    }

    fn release_pending(&self) {
        self.release_pending_agent_time();
    }

    fn sweep(&self, now_unix_seconds: f64, bound: f64) -> f64 {
        self.table.sweep(now_unix_seconds, bound)
    }

    fn docs(&self) -> Vec<FamilyDoc> {
        (AgentFamily::ALL.iter())
            .map(|family| {
                let labels = family.extra_labels(self.export).iter().copied();
                let labels = labels.chain(["user_id"]);
                FamilyDoc::of_table(family.name(), family.kind(), labels, family.help())
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;

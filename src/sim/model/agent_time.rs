//! The agents' time in status (docs/genesys-api.md#users-aggregates-query), for the users
//! aggregates query and the truth: every spell an agent spends in a routing status or a presence is
//! recorded when it ends, split over one-minute cells so any granularity of whole minutes sums them
//! exactly. What Genesys does not document, we chose: a spell shows once it ends, after the
//! reporting lag (a spell in progress is not reported yet), and its time counts in the buckets it
//! overlapped.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::lagged::{CELL_MS, Lagged};
use super::traffic::PRESENCES;
use crate::vocabulary::labels::{LabelValue, RoutingStatus};
use crate::vocabulary::metric::GenesysMetric;

/// Which of the three time-in-status metrics a spell counts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Dimension {
    /// `tAgentRoutingStatus`, qualified by the routing status (index of `RoutingStatus::ALL`).
    RoutingStatus,
    /// `tSystemPresence`, qualified by the system presence (index of `PRESENCES`).
    SystemPresence,
    /// `tOrganizationPresence`, qualified by the org's presence (index of `PRESENCES`, whose
    /// definition ids are `Sim::presence_ids`).
    OrganizationPresence,
}

impl Dimension {
    pub(crate) const ALL: [Dimension; 3] = [
        Self::RoutingStatus,
        Self::SystemPresence,
        Self::OrganizationPresence,
    ];

    pub(crate) fn metric(self) -> GenesysMetric {
        match self {
            Self::RoutingStatus => GenesysMetric::TAgentRoutingStatus,
            Self::SystemPresence => GenesysMetric::TSystemPresence,
            Self::OrganizationPresence => GenesysMetric::TOrganizationPresence,
        }
    }

    /// Qualifier `index` as Genesys writes it: the routing status, the system presence, or the
    /// org's presence definition id (`presence_ids`, one per `PRESENCES` entry).
    pub(crate) fn qualifier(self, index: usize, presence_ids: &[String]) -> Option<String> {
        Some(match self {
            Self::RoutingStatus => RoutingStatus::ALL.get(index)?.as_str().to_owned(),
            Self::SystemPresence => (*PRESENCES.get(index)?).to_owned(),
            Self::OrganizationPresence => presence_ids.get(index)?.clone(),
        })
    }
}

/// (queue slot, agent index in it): an agent, independent of ids.
pub(crate) type AgentSlot = (usize, usize);

/// (agent, dimension, qualifier index).
pub(crate) type SpellKey = (AgentSlot, Dimension, usize);

#[derive(Debug, Default)]
pub(crate) struct AgentTime {
    /// Spell key → milliseconds the users aggregates query sees.
    lagged: Lagged<SpellKey, u64>,
    /// Every spell's milliseconds, lagged or not, by agent: the truth. Kept per agent because
    /// the truth is read agent by agent (a flat map made that read quadratic in the agents).
    totals: HashMap<AgentSlot, HashMap<(Dimension, usize), u64>>,
}

impl AgentTime {
    /// A spell `[from_ms, to_ms)` of `key`, ended now, shown from `visible_ms`.
    pub(crate) fn record(&mut self, key: SpellKey, from_ms: i64, to_ms: i64, visible_ms: i64) {
        if to_ms <= from_ms {
            return;
        }
        let (agent, dimension, qualifier) = key;
        *(self.totals.entry(agent).or_default())
            .entry((dimension, qualifier))
            .or_default() += (to_ms - from_ms) as u64;
        let mut start = from_ms;
        while start < to_ms {
            let cell = start - start.rem_euclid(CELL_MS);
            let end = (cell + CELL_MS).min(to_ms);
            (self.lagged).hold(key, cell, (end - start) as u64, visible_ms);
            start = end;
        }
    }

    /// Makes the pieces whose lag has passed visible and forgets expired cells.
    pub(crate) fn flush(&mut self, now_ms: i64) {
        self.lagged.flush(now_ms);
    }

    /// Pieces still inside their reporting lag.
    pub(crate) fn pending(&self) -> usize {
        self.lagged.pending()
    }

    /// Visible milliseconds per (key, bucket index) of `agents` for `[start, end)` in
    /// `granularity` steps.
    pub(crate) fn query(
        &self,
        agents: &[AgentSlot],
        start_ms: i64,
        end_ms: i64,
        granularity_ms: i64,
    ) -> BTreeMap<(SpellKey, i64), u64> {
        let agents: HashSet<&AgentSlot> = agents.iter().collect();
        let window = (start_ms, end_ms, granularity_ms);
        (self.lagged).query(window, |key| agents.contains(&key.0).then_some(*key))
    }

    /// Every spell's milliseconds of one agent, lagged or not.
    pub(crate) fn totals_of(
        &self,
        agent: AgentSlot,
    ) -> impl Iterator<Item = (Dimension, usize, u64)> + '_ {
        (self.totals.get(&agent).into_iter().flatten())
            .map(|((dimension, qualifier), ms)| (*dimension, *qualifier, *ms))
    }
}

#[cfg(test)]
mod tests;

//! The agents' time in status (docs/genesys-api.md#users-aggregates-query), for the users
//! aggregates query and the truth: every spell an agent spends in a routing status or a presence is
//! recorded when it ends, split over one-minute cells so any granularity of whole minutes sums them
//! exactly. What Genesys does not document, we chose: a spell shows once it ends, after the
//! reporting lag (a spell in progress is not reported yet), and its time counts in the buckets it
//! overlapped.

use std::collections::{BTreeMap, HashMap};

use super::stats::CELL_MS;
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

/// Cells older than this are forgotten, as the conversation ledger's.
const RETENTION_MS: i64 = 36 * 3_600_000;

#[derive(Debug, Default)]
pub(crate) struct AgentTime {
    /// (cell start ms, spell key) → milliseconds visible so far.
    cells: BTreeMap<(i64, SpellKey), u64>,
    /// (visible from ms, cell start ms, key, milliseconds): pieces inside the reporting lag.
    pending: Vec<(i64, i64, SpellKey, u64)>,
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
            self.pending
                .push((visible_ms, cell, key, (end - start) as u64));
            start = end;
        }
    }

    /// Makes the pieces whose lag has passed visible and forgets expired cells.
    pub(crate) fn flush(&mut self, now_ms: i64) {
        let (due, keep) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|(visible, ..)| *visible <= now_ms);
        self.pending = keep;
        for (_, cell, key, ms) in due {
            *self.cells.entry((cell, key)).or_default() += ms;
        }
        let horizon = now_ms - RETENTION_MS;
        while let Some(entry) = self.cells.first_entry() {
            if entry.key().0 >= horizon {
                break;
            }
            entry.remove();
        }
    }

    /// Pieces still inside their reporting lag.
    pub(crate) fn pending(&self) -> usize {
        self.pending.len()
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
        let mut out = BTreeMap::new();
        let agents: std::collections::HashSet<&AgentSlot> = agents.iter().collect();
        for ((cell, key), ms) in self.cells.range((start_ms, FIRST)..(end_ms, FIRST)) {
            if agents.contains(&key.0) {
                let bucket = (cell - start_ms) / granularity_ms.max(1);
                *out.entry((*key, bucket)).or_default() += ms;
            }
        }
        out
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

/// The least key, to range over whole cells.
const FIRST: SpellKey = ((0, 0), Dimension::RoutingStatus, 0);

#[cfg(test)]
mod tests;

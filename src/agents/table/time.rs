//! The agents' time-in-status counters in their table, under the store's rule for counters
//! (`metrics/counted.rs`), per agent and (metric, qualifier). A series appears at 0, its
//! total held back until two renders have shown the zeros, unless an earlier process's scrape
//! showed it; a status the agent never had costs no series.

use super::AgentTable;
use crate::metrics::counted::CounterGroup;
use crate::sync::lock;
use crate::vocabulary::agent::AgentTime;

/// One (metric, qualifier) of an agent: the routing status, system presence or presence id.
#[derive(Debug)]
pub(super) struct TimeSeries {
    pub(super) time: AgentTime,
    pub(super) qualifier: Box<str>,
    /// In seconds, one value. Always `Some` once pushed: an `Option` only to share the
    /// conversation counters' slot setter (`Renders::set`).
    pub(super) counter: Option<CounterGroup>,
}

impl AgentTable {
    /// Whether `qualifier` may label `time`'s series: a routing status, a system presence, or
    /// one of the org's presence definitions (the allow-list).
    pub(crate) fn admits_agent_time(&self, time: AgentTime, qualifier: &str) -> bool {
        match time {
            AgentTime::OrganizationPresence => self.presences.knows(qualifier),
            _ => time.admits(qualifier),
        }
    }

    /// Sets the agent's time in `time` `qualifier` to `total_ms` (shown in seconds), with the
    /// conversation counters' rule for a new series and `shown_before`.
    pub(crate) fn set_agent_time(
        &self,
        user_id: &str,
        (time, qualifier): (AgentTime, &str),
        total_ms: f64,
        shown_before: bool,
    ) {
        self.with_agent_time(user_id, time, qualifier, |slot| {
            self.renders
                .set(slot, vec![total_ms / 1000.0], shown_before);
        });
    }

    /// Makes sure the series exists, at 0 if new.
    pub(crate) fn ensure_agent_time(&self, user_id: &str, time: AgentTime, qualifier: &str) {
        self.with_agent_time(user_id, time, qualifier, |slot| {
            self.renders.ensure(slot, 1);
        });
    }

    /// Whether a finished render has shown the series.
    pub(crate) fn agent_time_shown(&self, user_id: &str, time: AgentTime, qualifier: &str) -> bool {
        self.with_agent(user_id, |entry| {
            (entry.time.iter())
                .find(|s| s.time == time && &*s.qualifier == qualifier)
                .and_then(|s| s.counter.as_ref())
                .is_some_and(|counter| self.renders.first_values_shown(counter))
        })
        .unwrap_or(false)
    }

    /// Runs `write` on the slot of the series (`None` until created); unwatched agents and
    /// qualifiers outside the allow-lists are ignored.
    fn with_agent_time(
        &self,
        user_id: &str,
        time: AgentTime,
        qualifier: &str,
        write: impl FnOnce(&mut Option<CounterGroup>),
    ) {
        if !self.admits_agent_time(time, qualifier) {
            return;
        }
        self.with_agent(user_id, |entry| {
            let series =
                (entry.time.iter_mut()).find(|s| s.time == time && &*s.qualifier == qualifier);
            if let Some(series) = series {
                return write(&mut series.counter);
            }
            let mut counter = None;
            write(&mut counter);
            if counter.is_some() {
                let qualifier = qualifier.into();
                entry.time.push(TimeSeries {
                    time,
                    qualifier,
                    counter,
                });
            }
        });
    }

    /// Shows the held totals of agents' series whose first values two finished renders showed.
    pub(super) fn release_pending_agent_time(&self) {
        let agents = self.table.read();
        for entry in agents.values() {
            let mut entry = lock(entry);
            for counter in entry.time.iter_mut().filter_map(|s| s.counter.as_mut()) {
                self.renders.release(counter);
            }
        }
    }
}

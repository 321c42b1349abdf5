//! Agents' time in status (docs/metrics.md#agents, docs/genesys-api.md#users-aggregates-query) as
//! counters: the users aggregates query's `tAgentRoutingStatus`, `tSystemPresence` and (if asked
//! for) `tOrganizationPresence`, each qualified by the status, folded through a ledger of their own
//! with the conversation counters' rules: per-bucket high-water marks, a baseline when watching
//! begins, totals that show once saved, and a state file beside theirs in `state_dir`.
//!
//! A series is (user id, metric, qualifier); an agent that leaves the watched set takes its
//! series with it and starts again at 0 on a new baseline if it returns, as a queue does.

use tracing::{debug, warn};

use super::table::AgentTable;
use crate::aggregates::ledger::{Counter, KeyFields, Reader, Reading, SeriesKey};
use crate::aggregates::poller::{PollSettings, Polled};
use crate::aggregates::telemetry::{Telemetered, TelemetryNames};
use crate::aggregates::{Shelved, Totals};
use crate::genesys::client::{GenesysClient, MAX_USERS_PER_QUERY};
use crate::genesys::error::ApiError;
use crate::genesys::model::{AggregateMetricData, MetricName, UserAggregateDataContainer};
use crate::status::PollKind;
use crate::vocabulary::agent::AgentTime;
use crate::vocabulary::metric::GenesysMetric;

/// The agents' time-in-status counters.
pub(crate) type AgentTimeTotals = Totals<AgentTime>;

/// The state file of the agents' time in status, beside the conversation counters' one.
pub(crate) const STATE_FILE: &str = "agent-time.json";

impl Counter for AgentTime {
    type Key = AgentTimeKey;

    fn name(self) -> &'static str {
        self.metric().as_str()
    }
}

/// An agent's series: one per time-in-status metric and qualifier. Every entry the reader
/// counts has a qualifier, so a key without one would be a series no store shows.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AgentTimeKey {
    pub(crate) user_id: String,
    pub(crate) time: AgentTime,
    pub(crate) qualifier: String,
}

impl SeriesKey for AgentTimeKey {
    const FIELDS: KeyFields = KeyFields {
        owners: "agents",
        owner: "user",
        group: "metric",
        part: "qualifier",
    };

    type Group<'a> = (AgentTime, &'a str);

    fn new(user_id: &str, (time, qualifier): (AgentTime, &str)) -> Self {
        Self {
            user_id: user_id.to_owned(),
            time,
            qualifier: qualifier.to_owned(),
        }
    }

    fn owner(&self) -> &str {
        &self.user_id
    }

    fn is_of(&self, (time, qualifier): (AgentTime, &str)) -> bool {
        self.time == time && self.qualifier == qualifier
    }

    fn names(&self) -> (&str, Option<&str>) {
        (self.time.metric().as_str(), Some(&self.qualifier))
    }

    fn parse<'a>(metric: &'a str, qualifier: Option<&'a str>) -> Option<(AgentTime, &'a str)> {
        let time = GenesysMetric::parse(metric).and_then(AgentTime::of)?;
        Some((time, qualifier?))
    }
}

impl Telemetered for AgentTime {
    const TELEMETRY: TelemetryNames = TelemetryNames {
        polls: "genesys_exporter_agent_time_polls_total",
        last_poll: "genesys_exporter_agent_time_last_poll_timestamp_seconds",
        stale: "genesys_exporter_agent_time_stale",
        buckets_rejected: "genesys_exporter_agent_time_buckets_rejected_total",
        state_loads: "genesys_exporter_agent_time_state_loads_total",
        state_writes: "genesys_exporter_agent_time_state_writes_total",
        last_state_write: "genesys_exporter_agent_time_state_last_write_timestamp_seconds",
        polled: "Users aggregate (agents' time in status)",
        poll: "users aggregate",
        bucket: "Users aggregate",
        state: "time-in-status state",
        counters: "time-in-status counters",
    };
}

impl Shelved for AgentTime {
    type Shelf = AgentTable;

    fn show(agents: &AgentTable, key: &AgentTimeKey, totals: Vec<(Self, f64)>, shown_before: bool) {
        let total = totals.into_iter().find(|(t, _)| *t == key.time);
        let total_ms = total.map_or(0.0, |(_, ms)| ms);
        let series = (key.time, key.qualifier.as_str());
        agents.set_agent_time(&key.user_id, series, total_ms, shown_before);
    }

    fn ensure(agents: &AgentTable, key: &AgentTimeKey) {
        agents.ensure_agent_time(&key.user_id, key.time, &key.qualifier);
    }

    fn shown(agents: &AgentTable, key: &AgentTimeKey) -> bool {
        agents.agent_time_shown(&key.user_id, key.time, &key.qualifier)
    }
}

/// Reads a user's buckets: each entry of a counted metric, with a qualifier the labels allow,
/// is its milliseconds (`stats.sum`) in that status.
struct TimeReader<'a> {
    agents: &'a AgentTable,
}

impl Reader<AgentTime> for TimeReader<'_> {
    fn read<'e>(
        &'e self,
        entry: &'e AggregateMetricData,
        counters: &[AgentTime],
        out: &mut Vec<Reading<'e, AgentTime>>,
    ) -> bool {
        let MetricName::Known(metric) = entry.metric else {
            return false;
        };
        let Some(time) = AgentTime::of(metric).filter(|t| counters.contains(t)) else {
            return false;
        };
        let qualifier = (entry.qualifier.as_deref())
            .filter(|qualifier| self.agents.admits_agent_time(time, qualifier));
        let Some(qualifier) = qualifier else {
            return false;
        };
        out.push(Reading {
            group: (time, qualifier),
            counter: time,
            value: entry.stats.sum,
        });
        true
    }
}

impl AgentTimeTotals {
    /// Folds one user's buckets into the counters; returns how many increments it owes.
    /// Users not watched never reach the ledger's memory.
    pub(crate) fn fold_user(&self, container: &UserAggregateDataContainer) -> usize {
        let Some(user_id) = container.group.get("userId") else {
            debug!(group = ?container.group, "users aggregate group without userId ignored");
            return 0;
        };
        let reader = TimeReader {
            agents: self.shelf(),
        };
        let report = self.fold_owner(user_id, &reader, &container.data, None);
        if report.malformed + report.off_grid_buckets > 0 {
            warn!(
                user_id,
                malformed = report.malformed,
                off_grid = report.off_grid_buckets,
                "users aggregate buckets with unparseable intervals, invalid values or starts off \
                 the granularity grid ignored"
            );
        }
        if report.ignored > 0 {
            debug!(
                user_id,
                ignored = report.ignored,
                "time-in-status entries of other metrics or unknown qualifiers ignored"
            );
        }
        report.deltas.len()
    }
}

/// The users aggregates query: the counted metrics.
pub(crate) struct TimeQuery {
    metric_names: Vec<String>,
}

impl Polled for AgentTime {
    const BATCH: usize = MAX_USERS_PER_QUERY;
    const WHAT: &'static str = "time in status";
    /// The agents are found after the poller starts, and again with every queue refresh.
    const FOLLOWS_OWNERS: bool = true;
    const POLL: PollKind = PollKind::AgentTime;
    type Query = TimeQuery;

    fn query(times: &[Self], _: &PollSettings) -> TimeQuery {
        TimeQuery {
            metric_names: times
                .iter()
                .map(|t| t.metric().as_str().to_owned())
                .collect(),
        }
    }

    async fn read_and_fold(
        client: &GenesysClient,
        query: &TimeQuery,
        totals: &Totals<Self>,
        (interval, granularity): (&str, &str),
        batch: &[String],
    ) -> Result<usize, ApiError> {
        let response = client
            .query_user_aggregates(interval, granularity, batch, &query.metric_names)
            .await?;
        Ok((response.results.iter())
            .map(|container| totals.fold_user(container))
            .sum())
    }
}

#[cfg(test)]
mod tests;

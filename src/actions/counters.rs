//! The data actions' counters (docs/metrics.md#data-actions): the data action aggregates
//! query's executions and their time, by response status and error type, folded through a
//! ledger of their own with the conversation counters' rules and a state file beside theirs in
//! `state_dir`. A series is (action, counter, part), the part the response status, with the
//! error type of a failed execution after a `/`.

use std::collections::BTreeMap;

use super::table::ActionTable;
use crate::aggregates::ledger::{Counter, KeyFields, Reader, Reading};
use crate::aggregates::parts::{PartCounter, PartKey, part_of};
use crate::aggregates::poller::{PollSettings, Polled};
use crate::aggregates::telemetry::{Telemetered, TelemetryNames};
use crate::aggregates::{Shelved, Totals};
use crate::genesys::client::{GenesysClient, MAX_ACTIONS_PER_QUERY};
use crate::genesys::error::ApiError;
use crate::genesys::model::{AggregateMetricData, KeyedAggregateDataContainer, MetricName};
use crate::status::PollKind;
use crate::vocabulary::metric::GenesysMetric;

/// The data actions' counters.
pub(crate) type ActionTotals = Totals<ActionCounter>;

/// The state file of the data actions' counters, beside the conversation counters' one.
pub(crate) const STATE_FILE: &str = "actions.json";

/// What a data action counts, both from `tTotalExecution`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ActionCounter {
    /// Executions (its count).
    Executions,
    /// Their time (its sum, in milliseconds upstream).
    Seconds,
}

impl ActionCounter {
    pub const ALL: [ActionCounter; 2] = [Self::Executions, Self::Seconds];
}

impl Counter for ActionCounter {
    type Key = ActionKey;

    fn name(self) -> &'static str {
        match self {
            Self::Executions => "executions",
            Self::Seconds => "seconds",
        }
    }
}

/// An action's series: one per counter and response (`STATUS` or `STATUS/ERROR_TYPE`).
pub type ActionKey = PartKey<ActionCounter>;

impl PartCounter for ActionCounter {
    const ALL: &'static [Self] = &Self::ALL;
    const FIELDS: KeyFields = KeyFields {
        owners: "actions",
        owner: "action",
        group: "counter",
        part: "part",
    };
}

impl Telemetered for ActionCounter {
    const TELEMETRY: TelemetryNames = TelemetryNames {
        polls: "genesys_exporter_action_polls_total",
        last_poll: "genesys_exporter_action_last_poll_timestamp_seconds",
        stale: "genesys_exporter_actions_stale",
        buckets_rejected: "genesys_exporter_action_buckets_rejected_total",
        state_loads: "genesys_exporter_action_state_loads_total",
        state_writes: "genesys_exporter_action_state_writes_total",
        last_state_write: "genesys_exporter_action_state_last_write_timestamp_seconds",
        polled: "Data action aggregate",
        poll: "data action aggregate",
        bucket: "Data action aggregate",
        state: "data action counter state",
        counters: "data action counters",
    };
}

impl Shelved for ActionCounter {
    type Shelf = ActionTable;

    fn show(actions: &ActionTable, key: &ActionKey, totals: Vec<(Self, f64)>, shown_before: bool) {
        let total = totals.into_iter().find(|(c, _)| *c == key.counter);
        actions.set_counter(key, total.map_or(0.0, |(_, v)| v), shown_before);
    }

    fn ensure(actions: &ActionTable, key: &ActionKey) {
        actions.ensure_counter(key);
    }

    fn shown(actions: &ActionTable, key: &ActionKey) -> bool {
        actions.counter_shown(key)
    }
}

/// Reads one group's `tTotalExecution`: its count and its sum, for the group's response.
struct ResponseReader {
    response: Option<String>,
}

impl ResponseReader {
    fn of(group: &BTreeMap<String, String>) -> Self {
        let response = part_of(group, "responseStatus", "errorType");
        Self { response }
    }
}

impl Reader<ActionCounter> for ResponseReader {
    fn read<'e>(
        &'e self,
        entry: &'e AggregateMetricData,
        counters: &[ActionCounter],
        out: &mut Vec<Reading<'e, ActionCounter>>,
    ) -> bool {
        let (MetricName::Known(GenesysMetric::TTotalExecution), Some(response)) =
            (&entry.metric, &self.response)
        else {
            return false;
        };
        let part = Some(response.as_str());
        let count = entry.stats.count.map(|c| c as f64);
        for (counter, value) in [
            (ActionCounter::Executions, count),
            (ActionCounter::Seconds, entry.stats.sum),
        ] {
            if counters.contains(&counter) {
                out.push(Reading {
                    group: (counter, part),
                    counter,
                    value,
                });
            }
        }
        true
    }
}

impl ActionTotals {
    /// Folds one action's group into the counters; returns how many increments it owes.
    pub(super) fn fold_group(&self, container: &KeyedAggregateDataContainer) -> usize {
        self.fold_keyed("actionId", &ResponseReader::of(&container.group), container)
    }
}

impl Polled for ActionCounter {
    const BATCH: usize = MAX_ACTIONS_PER_QUERY;
    const WHAT: &'static str = "data actions";
    /// The actions are found after the poller starts, and again with every refresh.
    const FOLLOWS_OWNERS: bool = true;
    const POLL: PollKind = PollKind::Actions;
    type Query = ();

    fn query(_: &[Self], _: &PollSettings) {}

    async fn read_and_fold(
        client: &GenesysClient,
        (): &(),
        totals: &Totals<Self>,
        window: (&str, &str),
        batch: &[String],
    ) -> Result<usize, ApiError> {
        let response = client.query_action_aggregates(window, batch).await?;
        Ok((response.results.iter())
            .map(|container| totals.fold_group(container))
            .sum())
    }
}

//! The flows' counters (docs/metrics.md#ivr-flows): the flow aggregates query's entries, time,
//! exits, disconnects, outcomes and (with `flows.milestones`) milestones, folded through a ledger of their own with the conversation
//! counters' rules (per-bucket high-water marks, a baseline when watching begins, totals that
//! show once saved) and a state file beside theirs in `state_dir`.
//!
//! A series is (flow, counter, part): the part is the exit reason (with the transfer type of a
//! transfer) of an exit or a disconnect, the outcome of an outcome, the milestone of a
//! milestone. One poll asks three queries (four with milestones), each over every flow of the
//! watched types at once (`flowType` filter): a query per 100 flows would cost ten times as
//! many calls at 1,000 flows.

use std::collections::BTreeMap;

use super::table::FlowTable;
use crate::aggregates::ledger::{Counter, KeyFields, Reader, Reading};
use crate::aggregates::parts::{PartCounter, PartKey, part_of};
use crate::aggregates::poller::{PollSettings, Polled};
use crate::aggregates::telemetry::{Telemetered, TelemetryNames};
use crate::aggregates::{Shelved, Totals};
use crate::genesys::client::GenesysClient;
use crate::genesys::error::ApiError;
use crate::genesys::model::{AggregateMetricData, KeyedAggregateDataContainer, MetricName};
use crate::status::PollKind;
use crate::vocabulary::metric::GenesysMetric;

/// The flows' counters.
pub(crate) type FlowTotals = Totals<FlowCounter>;

/// The state file of the flows' counters, beside the conversation counters' one.
pub(crate) const STATE_FILE: &str = "flows.json";

/// What a flow counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FlowCounter {
    /// Conversations that entered the flow (`nFlow`).
    Entries,
    /// Time in the flow of the visits that ended (`tFlow`'s sum).
    Seconds,
    /// Visits that left the flow, by exit reason and transfer type (`tFlowExit`'s count).
    Exits,
    /// Visits that ended in the flow, by exit reason (`tFlowDisconnect`'s count).
    Disconnects,
    /// Outcomes reported as a success, by outcome (`nFlowOutcome` with `SUCCESS`).
    OutcomeSuccesses,
    /// Outcomes reported as a failure, by outcome (`nFlowOutcome` with `FAILURE`).
    OutcomeFailures,
    /// Milestones passed, by milestone (`nFlowMilestone`), with `flows.milestones`.
    Milestones,
}

impl FlowCounter {
    pub const ALL: [FlowCounter; 7] = [
        Self::Entries,
        Self::Seconds,
        Self::Exits,
        Self::Disconnects,
        Self::OutcomeSuccesses,
        Self::OutcomeFailures,
        Self::Milestones,
    ];

    /// Its name in the state file.
    fn name(self) -> &'static str {
        match self {
            Self::Entries => "entries",
            Self::Seconds => "seconds",
            Self::Exits => "exits",
            Self::Disconnects => "disconnects",
            Self::OutcomeSuccesses => "outcome_successes",
            Self::OutcomeFailures => "outcome_failures",
            Self::Milestones => "milestones",
        }
    }
}

impl Counter for FlowCounter {
    type Key = FlowKey;

    fn name(self) -> &'static str {
        FlowCounter::name(self)
    }
}

/// A flow's series: one per counter and part (the exit, `REASON` or `REASON/TRANSFER_TYPE`,
/// or the outcome id; none for entries and time).
pub type FlowKey = PartKey<FlowCounter>;

impl PartCounter for FlowCounter {
    const ALL: &'static [Self] = &Self::ALL;
    const FIELDS: KeyFields = KeyFields {
        owners: "flows",
        owner: "flow",
        group: "counter",
        part: "part",
    };
}

impl Telemetered for FlowCounter {
    const TELEMETRY: TelemetryNames = TelemetryNames {
        polls: "genesys_exporter_flow_polls_total",
        last_poll: "genesys_exporter_flow_last_poll_timestamp_seconds",
        stale: "genesys_exporter_flows_stale",
        buckets_rejected: "genesys_exporter_flow_buckets_rejected_total",
        state_loads: "genesys_exporter_flow_state_loads_total",
        state_writes: "genesys_exporter_flow_state_writes_total",
        last_state_write: "genesys_exporter_flow_state_last_write_timestamp_seconds",
        polled: "Flow aggregate (IVR flows)",
        poll: "flow aggregate",
        bucket: "Flow aggregate",
        state: "flow counter state",
        counters: "flow counters",
    };
}

impl Shelved for FlowCounter {
    type Shelf = FlowTable;

    fn show(flows: &FlowTable, key: &FlowKey, totals: Vec<(Self, f64)>, shown_before: bool) {
        let total = totals.into_iter().find(|(c, _)| *c == key.counter);
        let value = total.map_or(0.0, |(_, v)| v);
        flows.set_counter(key, value, shown_before);
    }

    fn ensure(flows: &FlowTable, key: &FlowKey) {
        flows.ensure_counter(key);
    }

    fn shown(flows: &FlowTable, key: &FlowKey) -> bool {
        flows.counter_shown(key)
    }
}

/// One query of a poll: what it groups by beyond the flow, and the metrics it asks for.
struct FlowQuery {
    group_by: &'static [&'static str],
    metrics: &'static [&'static str],
}

/// The queries of a poll; the last, milestones, only with `flows.milestones`.
const QUERIES: [FlowQuery; 4] = [
    FlowQuery {
        group_by: &[],
        metrics: &["nFlow", "tFlow"],
    },
    FlowQuery {
        group_by: &["exitReason", "transferType"],
        metrics: &["tFlowExit", "tFlowDisconnect"],
    },
    FlowQuery {
        group_by: &["flowOutcomeId", "flowOutcomeValue"],
        metrics: &["nFlowOutcome"],
    },
    FlowQuery {
        group_by: &["flowMilestoneId"],
        metrics: &["nFlowMilestone"],
    },
];

/// Reads one group's entries: which counter each metric feeds, with the group's part.
struct GroupReader<'g> {
    group: &'g BTreeMap<String, String>,
    /// The exit of the group, `REASON` or `REASON/TRANSFER_TYPE`.
    exit: Option<String>,
}

impl<'g> GroupReader<'g> {
    fn of(group: &'g BTreeMap<String, String>) -> Self {
        let exit = part_of(group, "exitReason", "transferType");
        Self { group, exit }
    }
}

impl Reader<FlowCounter> for GroupReader<'_> {
    fn read<'e>(
        &'e self,
        entry: &'e AggregateMetricData,
        counters: &[FlowCounter],
        out: &mut Vec<Reading<'e, FlowCounter>>,
    ) -> bool {
        let MetricName::Known(metric) = entry.metric else {
            return false;
        };
        let outcome = self.group.get("flowOutcomeId").map(String::as_str);
        // NB: a flow's entries and time are its whole group's: a group split further (by an
        // exit, as a topic may send them) holds a part of them, which would read as the whole.
        let whole = self.exit.is_none() && outcome.is_none();
        let (counter, part, value) = match metric {
            GenesysMetric::NFlow if whole => (
                FlowCounter::Entries,
                None,
                entry.stats.count.map(|c| c as f64),
            ),
            GenesysMetric::TFlow if whole => (FlowCounter::Seconds, None, entry.stats.sum),
            GenesysMetric::TFlowExit if self.exit.is_some() => {
                (FlowCounter::Exits, self.exit.as_deref(), count(entry))
            }
            GenesysMetric::TFlowDisconnect if self.exit.is_some() => {
                (FlowCounter::Disconnects, self.exit.as_deref(), count(entry))
            }
            GenesysMetric::NFlowOutcome if outcome.is_some() => {
                match self.group.get("flowOutcomeValue").map(String::as_str) {
                    Some("SUCCESS") => (FlowCounter::OutcomeSuccesses, outcome, count(entry)),
                    Some("FAILURE") => (FlowCounter::OutcomeFailures, outcome, count(entry)),
                    _ => return false,
                }
            }
            GenesysMetric::NFlowMilestone => match self.group.get("flowMilestoneId") {
                Some(milestone) => (
                    FlowCounter::Milestones,
                    Some(milestone.as_str()),
                    count(entry),
                ),
                None => return false,
            },
            _ => return false,
        };
        if !counters.contains(&counter) {
            return false;
        }
        out.push(Reading {
            group: (counter, part),
            counter,
            value,
        });
        true
    }
}

fn count(entry: &AggregateMetricData) -> Option<f64> {
    entry.stats.count.map(|c| c as f64)
}

impl FlowTotals {
    /// Folds one flow's group, of a poll or of a topic's running totals, into the counters;
    /// returns how many increments it owes.
    pub(crate) fn fold_group(&self, container: &KeyedAggregateDataContainer) -> usize {
        self.fold_keyed("flowId", &GroupReader::of(&container.group), container)
    }
}

impl Polled for FlowCounter {
    /// Every flow at once: the queries filter by type, not by flow.
    const BATCH: usize = usize::MAX;
    const WHAT: &'static str = "flows";
    /// The flows are found after the poller starts, and again with every refresh.
    const FOLLOWS_OWNERS: bool = true;
    const POLL: PollKind = PollKind::Flows;
    /// Nothing: the watched types, which every query filters by, are the table's.
    type Query = ();

    fn query(_: &[Self], _: &PollSettings) {}

    async fn read_and_fold(
        client: &GenesysClient,
        (): &(),
        totals: &Totals<Self>,
        window: (&str, &str),
        _: &[String],
    ) -> Result<usize, ApiError> {
        let (types, milestones) = (totals.shelf().types(), totals.shelf().milestones());
        let queries = &QUERIES[..QUERIES.len() - usize::from(!milestones)];
        let mut applied = 0;
        for query in queries {
            let fold = |container| applied += totals.fold_group(&container);
            (client.query_flow_aggregates(window, types, query.group_by, query.metrics, fold))
                .await?;
        }
        Ok(applied)
    }
}

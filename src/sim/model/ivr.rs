//! The IVR (docs/genesys-api.md#ivr-flows): every inbound call and chat meets a flow before any
//! queue. The queue traffic decides who reaches a queue; the IVR records, for each, the visit
//! of the flow that sent it there (a transfer to ACD), and besides those the conversations
//! that ended in the flow: served by it, or hung up. So a queue's voice and chat offered are
//! exactly its flow's transfers to it, and a trunk out of service takes both with it.
//!
//! A visit is recorded when it ends. One that sent its caller to a queue ended as the caller
//! reached it and began a while before; one that ends in the flow begins then and is in the
//! flow (`oFlow`) until it ends. Each flow calls its data actions, reports its outcomes (a success, or
//! a failure) and passes its milestones. A data action that fails fails the flow's first
//! outcome with it, and a visit that would have been served ends in a flow error instead.
//! Every draw comes from the IVR's own generator, so the queue traffic is the same as without
//! it. What Genesys does not document, we chose: `nFlow` counts at the entry
//! with no exit reason, `tFlow` and `tFlowExit` or `tFlowDisconnect` at the end with it.

use std::collections::{BTreeMap, HashMap, HashSet};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::lagged::{Lagged, Tally};
use super::stats::Stat;

/// The flow aggregate metrics the IVR records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum FlowMetric {
    NFlow,
    TFlow,
    TFlowExit,
    TFlowDisconnect,
    NFlowOutcome,
    NFlowOutcomeFailed,
    TFlowOutcome,
    NFlowMilestone,
}

impl FlowMetric {
    pub(crate) const ALL: [FlowMetric; 8] = [
        Self::NFlow,
        Self::TFlow,
        Self::TFlowExit,
        Self::TFlowDisconnect,
        Self::NFlowOutcome,
        Self::NFlowOutcomeFailed,
        Self::TFlowOutcome,
        Self::NFlowMilestone,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::NFlow => "nFlow",
            Self::TFlow => "tFlow",
            Self::TFlowExit => "tFlowExit",
            Self::TFlowDisconnect => "tFlowDisconnect",
            Self::NFlowOutcome => "nFlowOutcome",
            Self::NFlowOutcomeFailed => "nFlowOutcomeFailed",
            Self::TFlowOutcome => "tFlowOutcome",
            Self::NFlowMilestone => "nFlowMilestone",
        }
    }

    pub(crate) fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|metric| metric.name() == name)
    }

    /// Timers carry a millisecond sum besides their count.
    pub(crate) fn is_timer(self) -> bool {
        self.name().starts_with('t')
    }
}

/// One statistic per [`FlowMetric`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FlowStats(pub [Stat; 8]);

impl FlowStats {
    pub(crate) fn of(&self, metric: FlowMetric) -> &Stat {
        &self.0[metric as usize]
    }

    fn add(&mut self, metric: FlowMetric, value: u64) {
        self.0[metric as usize].merge(&Stat::of(value));
    }
}

impl Tally for FlowStats {
    fn merge(&mut self, other: &Self) {
        for (into, from) in self.0.iter_mut().zip(&other.0) {
            into.merge(from);
        }
    }
}

/// How a visit left its flow (`exitReason`, as Genesys spells them): to a queue, or ended in
/// the flow.
pub(crate) const TRANSFER: &str = "TRANSFER";
/// The flow ended the call once it had served the caller.
pub(crate) const FLOW_DISCONNECT: &str = "FLOW_DISCONNECT";
/// The flow ended the call on an error: a data action it needed failed.
pub(crate) const FLOW_ERROR_DISCONNECT: &str = "FLOW_ERROR_DISCONNECT";
/// The caller hung up in the menu.
pub(crate) const DISCONNECT: &str = "DISCONNECT";
/// A transfer's `transferType` when it went to a queue.
pub(crate) const ACD: &str = "ACD";

/// What a record of a flow is grouped by beyond the flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Facet {
    /// The entry (`nFlow`): how it will leave is not known yet.
    Entry,
    /// The end of a visit: its exit reason and, for a transfer, its transfer type.
    Left {
        reason: &'static str,
        transfer: Option<&'static str>,
    },
    /// An outcome the visit reported, by index, and whether it succeeded.
    Outcome { outcome: usize, success: bool },
    /// A milestone the visit passed, by index.
    Milestone(usize),
}

/// (flow index, facet).
pub(crate) type FlowKey = (usize, Facet);

/// The flow types Genesys has that the simulated org uses, as Genesys spells them: calls and
/// chats are measured, an in-queue flow and a bot never are.
pub(crate) const CALL_FLOW: &str = "INBOUNDCALL";
pub(crate) const CHAT_FLOW: &str = "INBOUNDCHAT";
const OTHER_FLOWS: [&str; 2] = ["INQUEUECALL", "BOT"];

/// One flow: its type, the outcomes it reports, the milestones it passes and the data actions
/// it calls (by index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FlowPlan {
    pub flow_type: &'static str,
    pub outcomes: Vec<usize>,
    pub milestones: Vec<usize>,
    pub actions: Vec<usize>,
}

/// One execution of a data action: (action index, response status).
pub(crate) type ActionKey = (usize, u16);

/// The `errorType` Genesys groups a failed execution by. **Simulator:** Genesys does not list
/// the values; these are ours.
pub(crate) fn error_type(status: u16) -> Option<&'static str> {
    match status {
        200..=299 => None,
        408 | 504 => Some("TIMEOUT"),
        400..=499 => Some("CLIENT_ERROR"),
        _ => Some("SERVER_ERROR"),
    }
}

/// How many flows, outcomes and milestones the simulated org has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowsSize {
    /// Inbound call flows; there is one inbound chat flow, one in-queue flow and one bot
    /// besides.
    pub call_flows: usize,
    pub outcomes: usize,
    pub milestones: usize,
    /// Data actions, over two integrations.
    pub actions: usize,
}

impl Default for FlowsSize {
    fn default() -> Self {
        Self {
            call_flows: 2,
            outcomes: 3,
            milestones: 4,
            actions: 3,
        }
    }
}

/// Mean time in a flow, milliseconds.
const MEAN_VISIT_MS: f64 = 40_000.0;
/// Conversations that end in the flow, per one that reaches a queue.
const CONTAINED_PER_TRANSFER: f64 = 0.6;
/// Of those, the share the flow served (the rest hung up).
const SERVED_SHARE: f64 = 0.7;
/// The share of outcomes that fail when nothing is wrong.
const OUTCOME_FAILURE: f64 = 0.1;
/// The share of milestones a visit passes.
const MILESTONE_PASSED: f64 = 0.6;
/// The share of data action executions that fail when nothing is wrong (with a 500).
const ACTION_FAILURE: f64 = 0.02;
/// Mean execution time of a data action, milliseconds.
const MEAN_EXECUTION_MS: f64 = 250.0;

#[derive(Debug)]
pub(crate) struct Ivr {
    rng: StdRng,
    pub size: FlowsSize,
    pub plans: Vec<FlowPlan>,
    /// What the flow aggregates query sees.
    pub lagged: Lagged<FlowKey, FlowStats>,
    /// Everything ever recorded, lagged or not: the truth.
    pub totals: HashMap<FlowKey, FlowStats>,
    /// Transfers to each (queue, media index), per flow: the truth's check on the queues.
    pub transfers: BTreeMap<(usize, usize, usize), u64>,
    /// Outcomes that fail every time (the `flow_outcome_failing` fault), by index.
    pub failing_outcomes: HashSet<usize>,
    /// What the data action aggregates query sees: each execution's milliseconds.
    pub executions: Lagged<ActionKey, Stat>,
    /// Every execution, lagged or not: the truth.
    pub execution_totals: HashMap<ActionKey, Stat>,
    /// Data actions that answer every execution with a status (`data_action_failing`).
    pub failing_actions: HashMap<usize, u16>,
    /// Visits that will end in their flow, not yet ended.
    in_progress: Vec<Visit>,
    lag_ms: u64,
}

/// A visit: in which flow, when, and whether it sent the caller to a queue.
#[derive(Debug, Clone, Copy)]
struct Visit {
    flow: usize,
    begun_ms: i64,
    end_ms: i64,
    transferred: bool,
}

impl Ivr {
    pub(crate) fn new(size: FlowsSize, seed: u64, lag_ms: u64) -> Self {
        let flows = size.call_flows.max(1) + 1 + OTHER_FLOWS.len();
        let plans = (0..flows)
            .map(|flow| FlowPlan {
                flow_type: match flow {
                    f if f < size.call_flows.max(1) => CALL_FLOW,
                    f if f == size.call_flows.max(1) => CHAT_FLOW,
                    f => OTHER_FLOWS[f - size.call_flows.max(1) - 1],
                },
                // NB: each measured flow reports two outcomes and passes two milestones, spread
                // so that every outcome and milestone is some flow's.
                outcomes: spread(flow, size.outcomes),
                milestones: spread(flow, size.milestones),
                actions: spread(flow, size.actions),
            })
            .collect();
        Self {
            rng: StdRng::seed_from_u64(seed ^ 0x1f10_ca11_f10e),
            size,
            plans,
            lagged: Lagged::default(),
            totals: HashMap::new(),
            transfers: BTreeMap::new(),
            failing_outcomes: HashSet::new(),
            executions: Lagged::default(),
            execution_totals: HashMap::new(),
            failing_actions: HashMap::new(),
            in_progress: Vec::new(),
            lag_ms,
        }
    }

    /// The flow that sends `media` conversations to `queue`, if that media meets one.
    pub(crate) fn flow_for(&self, queue: usize, media: &str) -> Option<usize> {
        let calls = self
            .plans
            .iter()
            .filter(|p| p.flow_type == CALL_FLOW)
            .count();
        match media {
            "voice" => Some(queue % calls.max(1)),
            "chat" => self.plans.iter().position(|p| p.flow_type == CHAT_FLOW),
            _ => None,
        }
    }

    /// A `media` conversation reached `queue` at `at` through its flow (its visit ended then);
    /// maybe another caller entered the same flow then, to end in it.
    pub(crate) fn reached(&mut self, queue: usize, (media, name): (usize, &str), at: (i64, i64)) {
        let Some(flow) = self.flow_for(queue, name) else {
            return;
        };
        let (at_ms, now_ms) = at;
        *self.transfers.entry((flow, queue, media)).or_default() += 1;
        let length = self.draw(MEAN_VISIT_MS) as i64;
        let transfer = Visit {
            flow,
            begun_ms: at_ms - length,
            end_ms: at_ms,
            transferred: true,
        };
        self.enter(&transfer, now_ms);
        self.visit(&transfer, now_ms);
        if self.rng.random_bool(CONTAINED_PER_TRANSFER) {
            let length = self.draw(MEAN_VISIT_MS) as i64;
            let contained = Visit {
                flow,
                begun_ms: at_ms,
                end_ms: at_ms + length,
                transferred: false,
            };
            self.enter(&contained, now_ms);
            self.in_progress.push(contained);
        }
    }

    /// Ends the visits in progress whose end has come by `now_ms`.
    pub(crate) fn advance(&mut self, now_ms: i64) {
        let (ended, going): (Vec<Visit>, Vec<Visit>) = std::mem::take(&mut self.in_progress)
            .into_iter()
            .partition(|visit| visit.end_ms <= now_ms);
        self.in_progress = going;
        for visit in ended {
            self.visit(&visit, now_ms);
        }
    }

    /// Moves the visits in progress by `delta_ms`, as the model's deadlines after a pause.
    pub(crate) fn shift(&mut self, delta_ms: i64) {
        for visit in &mut self.in_progress {
            visit.begun_ms += delta_ms;
            visit.end_ms += delta_ms;
        }
    }

    /// The conversations in `flow` now (`oFlow`).
    pub(crate) fn in_flow(&self, flow: usize) -> usize {
        self.in_progress
            .iter()
            .filter(|visit| visit.flow == flow)
            .count()
    }

    /// Records that `visit` entered its flow.
    fn enter(&mut self, visit: &Visit, now_ms: i64) {
        let entry = (visit.flow, Facet::Entry);
        self.record(entry, FlowMetric::NFlow, visit.begun_ms, 0, now_ms);
    }

    /// Records how `visit`, which has ended by `now_ms`, went.
    fn visit(&mut self, visit: &Visit, now_ms: i64) {
        let length = (visit.end_ms - visit.begun_ms).max(0) as u64;
        let action_failed = self.call_actions(visit, now_ms);
        let reason = match (visit.transferred, action_failed) {
            (true, _) => TRANSFER,
            (false, true) => FLOW_ERROR_DISCONNECT,
            (false, false) if self.rng.random_bool(SERVED_SHARE) => FLOW_DISCONNECT,
            (false, false) => DISCONNECT,
        };
        let transfer = visit.transferred.then_some(ACD);
        let left = Facet::Left { reason, transfer };
        let ended = if visit.transferred {
            FlowMetric::TFlowExit
        } else {
            FlowMetric::TFlowDisconnect
        };
        for metric in [FlowMetric::TFlow, ended] {
            self.record((visit.flow, left), metric, visit.end_ms, length, now_ms);
        }
        let first = self.plans[visit.flow].outcomes.first().copied();
        for outcome in self.plans[visit.flow].outcomes.clone() {
            let failed = self.failing_outcomes.contains(&outcome)
                || (action_failed && Some(outcome) == first)
                || self.rng.random_bool(OUTCOME_FAILURE);
            let success = !failed;
            let key = (visit.flow, Facet::Outcome { outcome, success });
            let metrics: &[FlowMetric] = if failed {
                &[
                    FlowMetric::NFlowOutcome,
                    FlowMetric::NFlowOutcomeFailed,
                    FlowMetric::TFlowOutcome,
                ]
            } else {
                &[FlowMetric::NFlowOutcome, FlowMetric::TFlowOutcome]
            };
            for &metric in metrics {
                self.record(key, metric, visit.end_ms, length / 2, now_ms);
            }
        }
        for milestone in self.plans[visit.flow].milestones.clone() {
            if self.rng.random_bool(MILESTONE_PASSED) {
                let key = (visit.flow, Facet::Milestone(milestone));
                self.record(key, FlowMetric::NFlowMilestone, visit.end_ms, 0, now_ms);
            }
        }
    }

    /// Calls the flow's data actions; whether one failed.
    fn call_actions(&mut self, visit: &Visit, now_ms: i64) -> bool {
        let mut failed = false;
        for action in self.plans[visit.flow].actions.clone() {
            let status = match self.failing_actions.get(&action) {
                Some(status) => *status,
                None if self.rng.random_bool(ACTION_FAILURE) => 500,
                None => 200,
            };
            failed |= error_type(status).is_some();
            let stat = Stat::of(self.draw(MEAN_EXECUTION_MS));
            let key = (action, status);
            self.execution_totals.entry(key).or_default().merge(&stat);
            let lag = self.rng.random_range(0..=self.lag_ms) as i64;
            let at = visit.end_ms;
            (self.executions).record(key, at, stat, at + lag, now_ms);
        }
        failed
    }

    /// Lets the visits and executions whose reporting lag has passed show.
    pub(crate) fn flush(&mut self, now_ms: i64) {
        self.lagged.flush(now_ms);
        self.executions.flush(now_ms);
    }

    /// Records inside their reporting lag.
    pub(crate) fn pending(&self) -> usize {
        self.lagged.pending() + self.executions.pending()
    }

    /// An exponential draw of mean `mean_ms`, at least a millisecond.
    fn draw(&mut self, mean_ms: f64) -> u64 {
        (-mean_ms * (1.0 - self.rng.random::<f64>()).ln()).max(1.0) as u64
    }

    fn record(&mut self, key: FlowKey, metric: FlowMetric, at_ms: i64, value: u64, now_ms: i64) {
        let mut stats = FlowStats::default();
        stats.add(metric, if metric.is_timer() { value } else { 0 });
        self.totals.entry(key).or_default().merge(&stats);
        let lag = self.rng.random_range(0..=self.lag_ms) as i64;
        (self.lagged).record(key, at_ms, stats, at_ms + lag, now_ms);
    }
}

/// Two of `count` items for `flow`, spread so that every item is some flow's.
fn spread(flow: usize, count: usize) -> Vec<usize> {
    if count == 0 {
        return Vec::new();
    }
    let mut items = vec![(2 * flow) % count, (2 * flow + 1) % count];
    items.dedup();
    items
}

#[cfg(test)]
mod tests;

//! The flows' table in the store (docs/metrics.md#ivr-flows): one entry per watched flow, its
//! counters under the store's rule for counters (`metrics/counted.rs`): a series appears at 0,
//! its total held back until two renders have shown the zeros, unless an earlier process's
//! scrape showed it; an exit or outcome a flow never had costs no series. The names are on
//! the info series (`genesys_flow_info`, `genesys_flow_outcome_info`), as kube-state-metrics
//! names its objects, so a rename moves no counter.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use prometheus::IntGauge;

use super::counters::{FlowCounter, FlowKey};
use crate::metrics::Metrics;
use crate::metrics::parted::{PartEntry, PartLabels, PartTable};
use crate::metrics::registry::{FamilyDoc, Registrar, SelfMetrics};
use crate::metrics::scrape::{Rendered, Scrape};
use crate::metrics::text::{self, Kind};
use crate::sync::lock;

/// A flow as the listing names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FlowLabels {
    pub id: String,
    pub name: String,
    pub flow_type: String,
}

impl PartLabels for FlowLabels {
    const OWN: &'static str = "flow_id";

    fn id(&self) -> &str {
        &self.id
    }

    fn name(&self) -> &str {
        &self.name
    }
}

type FlowEntry = PartEntry<FlowLabels, FlowCounter>;

/// The names of the outcomes and the milestones, id → name.
#[derive(Debug, Default)]
pub(crate) struct FlowNames {
    pub outcomes: HashMap<String, String>,
    pub milestones: HashMap<String, String>,
}

/// A family of the flows' table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FlowFamily {
    Info,
    Counted(FlowCounter),
    OutcomeInfo,
    MilestoneInfo,
    /// The conversations in the flow now (`oFlow`), polled.
    InFlow,
}

impl FlowFamily {
    const ALL: [FlowFamily; 11] = [
        Self::Info,
        Self::Counted(FlowCounter::Entries),
        Self::Counted(FlowCounter::Seconds),
        Self::Counted(FlowCounter::Exits),
        Self::Counted(FlowCounter::Disconnects),
        Self::Counted(FlowCounter::OutcomeSuccesses),
        Self::Counted(FlowCounter::OutcomeFailures),
        Self::Counted(FlowCounter::Milestones),
        Self::OutcomeInfo,
        Self::MilestoneInfo,
        Self::InFlow,
    ];

    /// Successes and failures are one family, told apart by `result`.
    fn name(self) -> &'static str {
        match self {
            Self::Info => "genesys_flow_info",
            Self::Counted(FlowCounter::Entries) => "genesys_flow_entries_total",
            Self::Counted(FlowCounter::Seconds) => "genesys_flow_seconds_total",
            Self::Counted(FlowCounter::Exits) => "genesys_flow_exits_total",
            Self::Counted(FlowCounter::Disconnects) => "genesys_flow_disconnects_total",
            Self::Counted(FlowCounter::OutcomeSuccesses | FlowCounter::OutcomeFailures) => {
                "genesys_flow_outcomes_total"
            }
            Self::Counted(FlowCounter::Milestones) => "genesys_flow_milestones_total",
            Self::OutcomeInfo => "genesys_flow_outcome_info",
            Self::MilestoneInfo => "genesys_flow_milestone_info",
            Self::InFlow => "genesys_flow_conversations",
        }
    }

    fn help(self) -> &'static str {
        match self {
            Self::Info => "A watched IVR flow, with its name and type; always 1.",
            Self::Counted(FlowCounter::Entries) => "Conversations that entered the flow (nFlow).",
            Self::Counted(FlowCounter::Seconds) => {
                "Time spent in the flow by the conversations that left it or ended in it, in \
                 seconds (tFlow)."
            }
            Self::Counted(FlowCounter::Exits) => {
                "Conversations that left the flow, by exit reason and, for a transfer, its type \
                 (ACD: to a queue) (tFlowExit)."
            }
            Self::Counted(FlowCounter::Disconnects) => {
                "Conversations that ended in the flow, by exit reason (DISCONNECT: the caller \
                 hung up; FLOW_DISCONNECT: the flow ended the call) (tFlowDisconnect)."
            }
            Self::Counted(FlowCounter::OutcomeSuccesses | FlowCounter::OutcomeFailures) => {
                "Flow outcomes the flow's conversations reported, by outcome and result \
                 (success, failure) (nFlowOutcome)."
            }
            Self::Counted(FlowCounter::Milestones) => {
                "Milestones the flow's conversations passed, by milestone (nFlowMilestone); with \
                 flows.milestones."
            }
            Self::OutcomeInfo => "A flow outcome, with its name; always 1.",
            Self::MilestoneInfo => "A flow milestone, with its name; always 1 (flows.milestones).",
            Self::InFlow => {
                "Conversations in the flow now (oFlow), as the last flow observations poll read \
                 them; absent while the poll fails."
            }
        }
    }

    fn kind(self) -> Kind {
        match self {
            Self::Info | Self::OutcomeInfo | Self::MilestoneInfo | Self::InFlow => Kind::Gauge,
            Self::Counted(_) => Kind::Counter,
        }
    }

    /// Its labels besides `flow_id`.
    fn labels(self) -> &'static [&'static str] {
        match self {
            Self::Info => &["flow", "flow_type"],
            Self::Counted(FlowCounter::Entries | FlowCounter::Seconds) | Self::InFlow => &[],
            Self::Counted(FlowCounter::Exits) => &["exit_reason", "transfer_type"],
            Self::Counted(FlowCounter::Disconnects) => &["exit_reason"],
            Self::Counted(FlowCounter::Milestones) => &["flow_milestone_id"],
            Self::Counted(_) => &["flow_outcome_id", "result"],
            Self::OutcomeInfo => &["flow_outcome", "flow_outcome_id"],
            Self::MilestoneInfo => &["flow_milestone", "flow_milestone_id"],
        }
    }
}

/// The watched flows' series.
pub(crate) struct FlowTable {
    parts: PartTable<FlowLabels, FlowCounter>,
    /// The flow types watched, which every query filters by.
    types: Vec<String>,
    /// Whether milestones are counted (`flows.milestones`).
    milestones: bool,
    /// Outcome id → name, from the outcomes listing, and milestone id → name.
    outcomes: Mutex<HashMap<String, String>>,
    milestone_names: Mutex<HashMap<String, String>>,
    /// Flow id → the conversations in it, as the last observations poll read them.
    in_flow: Mutex<HashMap<String, u64>>,
}

#[derive(Clone)]
struct FlowTableMetrics {
    watched: IntGauge,
}

impl SelfMetrics for FlowTableMetrics {
    fn register(r: &Registrar) -> Self {
        Self {
            watched: r.gauge(
                "genesys_exporter_watched_flows",
                "IVR flows the exporter is watching (flows.enabled).",
            ),
        }
    }
}

impl FlowTable {
    /// A table of the flows of `types`, their milestones counted if `milestones`, rendered by
    /// `metrics` from now on.
    pub(crate) fn register(metrics: &Metrics, types: Vec<String>, milestones: bool) -> Arc<Self> {
        let watched = FlowTableMetrics::of(metrics).watched;
        let table = Arc::new(Self {
            parts: PartTable::new(metrics, watched),
            types,
            milestones,
            outcomes: Mutex::default(),
            milestone_names: Mutex::default(),
            in_flow: Mutex::default(),
        });
        metrics.add_table(table.clone());
        table
    }

    pub(crate) fn types(&self) -> &[String] {
        &self.types
    }

    /// The outcomes' ids, sorted: what the outcome topics are subscribed for.
    pub(crate) fn outcome_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = lock(&self.outcomes).keys().cloned().collect();
        ids.sort();
        ids
    }

    pub(crate) fn milestones(&self) -> bool {
        self.milestones
    }

    /// Replaces the watched flows and the names of the outcomes and milestones (id → name). A
    /// flow that left takes its series with it.
    pub(crate) fn set_flows(&self, flows: &[FlowLabels], names: FlowNames) {
        self.parts.replace(flows);
        *lock(&self.outcomes) = names.outcomes;
        *lock(&self.milestone_names) = names.milestones;
    }

    /// Sets the series' total to `value` (seconds for time, from milliseconds), with the
    /// conversation counters' rule for a new series and `shown_before`.
    pub(crate) fn set_counter(&self, key: &FlowKey, value: f64, shown_before: bool) {
        let value = match key.counter {
            FlowCounter::Seconds => value / 1000.0,
            _ => value,
        };
        let series = (key.counter, key.part.as_deref());
        self.parts.set(&key.owner, series, value, shown_before);
    }

    /// Makes sure the series exists, at 0 if new.
    pub(crate) fn ensure_counter(&self, key: &FlowKey) {
        self.parts
            .ensure(&key.owner, (key.counter, key.part.as_deref()));
    }

    /// Whether a finished render has shown the series.
    pub(crate) fn counter_shown(&self, key: &FlowKey) -> bool {
        self.parts
            .shown(&key.owner, (key.counter, key.part.as_deref()))
    }

    /// The conversations in each flow now, by flow id: what one observations poll read (each
    /// flow it answered for); `None` after a failed poll, so no stale count is shown.
    pub(crate) fn set_in_flow(&self, counts: Option<HashMap<String, u64>>) {
        *lock(&self.in_flow) = counts.unwrap_or_default();
    }

    /// An info family of `names` (id → name), its labels `labels` (name, id).
    fn render_names(&self, family: FlowFamily, names: &Mutex<HashMap<String, String>>) -> Vec<u8> {
        let mut names: Vec<(String, String)> = lock(names).clone().into_iter().collect();
        if names.is_empty() || self.parts.len() == 0 {
            return Vec::new();
        }
        names.sort();
        let (name_label, id_label) = (family.labels()[0], family.labels()[1]);
        let mut out = Vec::new();
        text::header(&mut out, family.name(), family.help(), family.kind());
        for (id, name) in &names {
            let labels = text::label_set(&[(name_label, name), (id_label, id)]);
            text::sample(&mut out, family.name(), &labels, &[], &[], 1.0);
        }
        out
    }
}

/// Writes `entry`'s samples in `family`.
fn render(entry: &FlowEntry, family: FlowFamily, out: &mut Vec<u8>) {
    let name = family.name();
    let counter = match family {
        FlowFamily::Info => {
            let labels = &entry.labels;
            let extra = [
                ("flow", labels.name.as_str()),
                ("flow_type", &labels.flow_type),
            ];
            return entry.sample(out, name, &extra, 1.0);
        }
        FlowFamily::OutcomeInfo | FlowFamily::MilestoneInfo | FlowFamily::InFlow => return,
        FlowFamily::Counted(counter) => counter,
    };
    for (part, value) in entry.counters.of(counter) {
        let (reason, transfer) = part.split_once('/').unwrap_or((part, ""));
        let extra: &[(&str, &str)] = match counter {
            FlowCounter::Entries | FlowCounter::Seconds => &[],
            FlowCounter::Exits => &[("exit_reason", reason), ("transfer_type", transfer)],
            FlowCounter::Disconnects => &[("exit_reason", part)],
            FlowCounter::OutcomeSuccesses => &[("flow_outcome_id", part), ("result", "success")],
            FlowCounter::OutcomeFailures => &[("flow_outcome_id", part), ("result", "failure")],
            FlowCounter::Milestones => &[("flow_milestone_id", part)],
        };
        entry.sample(out, name, extra, value);
    }
}

impl Rendered for FlowTable {
    fn family_count(&self) -> usize {
        FlowFamily::ALL.len()
    }

    fn render_family(&self, index: usize, _: &Scrape) -> Vec<u8> {
        let Some(&family) = FlowFamily::ALL.get(index) else {
            return Vec::new();
        };
        match family {
            FlowFamily::OutcomeInfo => self.render_names(family, &self.outcomes),
            FlowFamily::MilestoneInfo => self.render_names(family, &self.milestone_names),
            FlowFamily::InFlow => {
                let in_flow = lock(&self.in_flow).clone();
                let header = (family.name(), family.help(), family.kind());
                self.parts.render_family(header, |entry, out| {
                    if let Some(count) = in_flow.get(&entry.labels.id) {
                        entry.sample(out, family.name(), &[], *count as f64);
                    }
                })
            }
            // NB: successes and failures are one family: written whole at the first.
            FlowFamily::Counted(FlowCounter::OutcomeFailures) => Vec::new(),
            FlowFamily::Counted(FlowCounter::OutcomeSuccesses) => {
                let header = (family.name(), family.help(), family.kind());
                self.parts.render_family(header, |entry, out| {
                    render(
                        entry,
                        FlowFamily::Counted(FlowCounter::OutcomeSuccesses),
                        out,
                    );
                    render(
                        entry,
                        FlowFamily::Counted(FlowCounter::OutcomeFailures),
                        out,
                    );
                })
            }
            _ => {
                let header = (family.name(), family.help(), family.kind());
                self.parts
                    .render_family(header, |entry, out| render(entry, family, out))
            }
        }
    }

    fn release_pending(&self) {
        self.parts.release_pending();
    }

    fn sweep(&self, _: f64, _: f64) -> f64 {
        // NB: polled counters are never stale by age; the poll's own freshness judges them.
        f64::INFINITY
    }

    fn docs(&self) -> Vec<FamilyDoc> {
        (FlowFamily::ALL.iter())
            .filter(|family| **family != FlowFamily::Counted(FlowCounter::OutcomeFailures))
            .map(|family| {
                let named = matches!(family, FlowFamily::OutcomeInfo | FlowFamily::MilestoneInfo);
                let own: &[&str] = if named { &[] } else { &["flow_id"] };
                let labels = family.labels().iter().chain(own).copied();
                FlowFamily::doc(*family, labels)
            })
            .collect()
    }
}

impl FlowFamily {
    fn doc<'a>(self, labels: impl Iterator<Item = &'a str>) -> FamilyDoc {
        FamilyDoc::of_table(self.name(), self.kind(), labels, self.help())
    }
}

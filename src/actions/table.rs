//! The data actions' table in the store (docs/metrics.md#data-actions): one entry per watched
//! action, its counters under the store's rule for counters (`metrics/counted.rs`), one series
//! per response it has had. The names are on the info series (`genesys_action_info`).

use std::sync::Arc;

use prometheus::IntGauge;

use super::counters::{ActionCounter, ActionKey};
use crate::metrics::Metrics;
use crate::metrics::parted::{PartEntry, PartLabels, PartTable};
use crate::metrics::registry::{FamilyDoc, Registrar, SelfMetrics};
use crate::metrics::scrape::{Rendered, Scrape};
use crate::metrics::text::Kind;

/// A data action as the listing names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ActionLabels {
    pub id: String,
    pub name: String,
    pub integration_id: String,
    pub category: String,
}

impl PartLabels for ActionLabels {
    const OWN: &'static str = "action_id";

    fn id(&self) -> &str {
        &self.id
    }

    fn name(&self) -> &str {
        &self.name
    }
}

type ActionEntry = PartEntry<ActionLabels, ActionCounter>;

/// The families: the info series, then each counter's, with their labels besides
/// `action_id`.
const FAMILIES: [(&str, &str, Kind, &[&str]); 3] = [
    (
        "genesys_action_info",
        "A watched data action, with its name, its integration and its category; always 1.",
        Kind::Gauge,
        &["action", "category", "integration_id"],
    ),
    (
        "genesys_action_executions_total",
        "Executions of the data action, by response status and, for a failed one, error type \
         (tTotalExecution count).",
        Kind::Counter,
        &["response_status", "error_type"],
    ),
    (
        "genesys_action_execution_seconds_total",
        "Time the data action's executions took, by response status and error type, in \
         seconds (tTotalExecution sum).",
        Kind::Counter,
        &["response_status", "error_type"],
    ),
];

/// The watched data actions' series.
pub(crate) struct ActionTable {
    parts: PartTable<ActionLabels, ActionCounter>,
}

#[derive(Clone)]
struct ActionTableMetrics {
    watched: IntGauge,
}

impl SelfMetrics for ActionTableMetrics {
    fn register(r: &Registrar) -> Self {
        Self {
            watched: r.gauge(
                "genesys_exporter_watched_actions",
                "Data actions the exporter is watching (actions.enabled).",
            ),
        }
    }
}

impl ActionTable {
    /// An empty table, rendered by `metrics` from now on.
    pub(crate) fn register(metrics: &Metrics) -> Arc<Self> {
        let watched = ActionTableMetrics::of(metrics).watched;
        let table = Arc::new(Self {
            parts: PartTable::new(metrics, watched),
        });
        metrics.add_table(table.clone());
        table
    }

    /// Replaces the watched actions; one that left takes its series with it.
    pub(crate) fn set_actions(&self, actions: &[ActionLabels]) {
        self.parts.replace(actions);
    }

    /// Sets the series' total to `value` (seconds for time, from milliseconds), with the
    /// conversation counters' rule for a new series and `shown_before`.
    pub(crate) fn set_counter(&self, key: &ActionKey, value: f64, shown_before: bool) {
        let value = match key.counter {
            ActionCounter::Seconds => value / 1000.0,
            ActionCounter::Executions => value,
        };
        let series = (key.counter, key.part.as_deref());
        self.parts.set(&key.owner, series, value, shown_before);
    }

    /// Makes sure the series exists, at 0 if new.
    pub(crate) fn ensure_counter(&self, key: &ActionKey) {
        self.parts
            .ensure(&key.owner, (key.counter, key.part.as_deref()));
    }

    /// Whether a finished render has shown the series.
    pub(crate) fn counter_shown(&self, key: &ActionKey) -> bool {
        self.parts
            .shown(&key.owner, (key.counter, key.part.as_deref()))
    }
}

/// Writes `entry`'s samples in the family at `index`.
fn render(entry: &ActionEntry, index: usize, out: &mut Vec<u8>) {
    let name = FAMILIES[index].0;
    let counter = match index {
        0 => {
            let labels = &entry.labels;
            let extra = [
                ("action", labels.name.as_str()),
                ("category", &labels.category),
                ("integration_id", &labels.integration_id),
            ];
            return entry.sample(out, name, &extra, 1.0);
        }
        1 => ActionCounter::Executions,
        _ => ActionCounter::Seconds,
    };
    for (part, value) in entry.counters.of(counter) {
        let (status, error) = part.split_once('/').unwrap_or((part, ""));
        entry.sample(
            out,
            name,
            &[("error_type", error), ("response_status", status)],
            value,
        );
    }
}

impl Rendered for ActionTable {
    fn family_count(&self) -> usize {
        FAMILIES.len()
    }

    fn render_family(&self, index: usize, _: &Scrape) -> Vec<u8> {
        let Some(&(name, help, kind, _)) = FAMILIES.get(index) else {
            return Vec::new();
        };
        (self.parts).render_family((name, help, kind), |entry, out| render(entry, index, out))
    }

    fn release_pending(&self) {
        self.parts.release_pending();
    }

    fn sweep(&self, _: f64, _: f64) -> f64 {
        // NB: polled counters are never stale by age; the poll's own freshness judges them.
        f64::INFINITY
    }

    fn docs(&self) -> Vec<FamilyDoc> {
        (FAMILIES.iter())
            .map(|(name, help, kind, labels)| {
                let labels = labels.iter().copied().chain(["action_id"]);
                FamilyDoc::of_table(name, *kind, labels, help)
            })
            .collect()
    }
}

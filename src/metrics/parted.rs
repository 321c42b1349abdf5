//! A table of entries whose counters are part series (`counted.rs`'s `PartCounters`): the
//! flows' and the data actions' tables, each entry named by an info series and its counters
//! set to the totals their ledger gives.

use std::sync::Arc;

use prometheus::IntGauge;

use super::Metrics;
use super::counted::{PartCounters, Renders};
use super::table::{Entry, Freshness, Table};
use super::text::{self, Kind};
use crate::sync::lock;
use crate::vocabulary::clock::Clock;

/// What names one entry.
pub(crate) trait PartLabels: Clone + PartialEq + Send + 'static {
    /// The label that names it on every series (`flow_id`).
    const OWN: &'static str;
    fn id(&self) -> &str;
    fn name(&self) -> &str;
}

pub(crate) struct PartEntry<L, C> {
    pub(crate) labels: L,
    /// `flow_id="…"`, escaped once.
    pub(crate) own: Box<str>,
    freshness: Freshness,
    pub(crate) counters: PartCounters<C>,
}

impl<L: PartLabels, C: Send> Entry for PartEntry<L, C> {
    type Labels = L;

    fn new(labels: &L, now_seconds: f64) -> Self {
        Self {
            own: text::label_set(&[(L::OWN, labels.id())]),
            labels: labels.clone(),
            freshness: Freshness::joined(now_seconds),
            counters: PartCounters::default(),
        }
    }

    fn id(labels: &L) -> &str {
        labels.id()
    }

    fn relabel(&mut self, labels: &L) -> bool {
        let renamed = self.labels != *labels;
        self.labels = labels.clone();
        renamed
    }

    fn freshness(&mut self) -> &mut Freshness {
        &mut self.freshness
    }

    fn name(&self) -> &str {
        self.labels.name()
    }
}

impl<L: PartLabels, C> PartEntry<L, C> {
    /// Writes one sample of the entry: its own label and `extra`, those without a value left
    /// out.
    pub(crate) fn sample(&self, out: &mut Vec<u8>, name: &str, extra: &[(&str, &str)], value: f64) {
        let extra: Vec<(&str, &str)> = extra
            .iter()
            .copied()
            .filter(|(_, v)| !v.is_empty())
            .collect();
        text::entry_sample(out, name, (L::OWN, &self.own), &extra, value);
    }
}

/// The entries, their counters under the store's rule, and how many are watched.
pub(crate) struct PartTable<L, C> {
    table: Table<PartEntry<L, C>>,
    renders: Arc<Renders>,
    clock: Clock,
    watched: IntGauge,
}

impl<L: PartLabels, C: Copy + PartialEq + Send> PartTable<L, C> {
    /// An empty table of `metrics`, counting its entries in `watched`.
    pub(crate) fn new(metrics: &Metrics, watched: IntGauge) -> Self {
        Self {
            table: Table::default(),
            renders: metrics.renders(),
            clock: metrics.clock().clone(),
            watched,
        }
    }

    /// Replaces the watched entries; one that left takes its series with it.
    pub(crate) fn replace(&self, entries: &[L]) {
        let (_, watched) = self.table.replace(entries, self.clock.now_seconds());
        self.watched.set(watched as i64);
    }

    pub(crate) fn len(&self) -> usize {
        self.table.len()
    }

    /// Sets `owner`'s series to `value`, with the store's rule for a new series and
    /// `shown_before`.
    pub(crate) fn set(
        &self,
        owner: &str,
        series: (C, Option<&str>),
        value: f64,
        shown_before: bool,
    ) {
        (self.table).with(owner, |e| {
            e.counters.set(&self.renders, series, value, shown_before)
        });
    }

    /// Makes sure the series exists, at 0 if new.
    pub(crate) fn ensure(&self, owner: &str, series: (C, Option<&str>)) {
        (self.table).with(owner, |e| e.counters.ensure(&self.renders, series));
    }

    /// Whether a finished render has shown the series.
    pub(crate) fn shown(&self, owner: &str, series: (C, Option<&str>)) -> bool {
        (self
            .table
            .with(owner, |e| e.counters.shown(&self.renders, series)))
        .unwrap_or(false)
    }

    /// Shows the held totals whose first values two finished renders showed.
    pub(crate) fn release_pending(&self) {
        for entry in self.table.read().values() {
            lock(entry).counters.release(&self.renders);
        }
    }

    /// One family: its header, then each entry's samples as `write` gives them.
    pub(crate) fn render_family(
        &self,
        header: (&str, &str, Kind),
        write: impl FnMut(&PartEntry<L, C>, &mut Vec<u8>),
    ) -> Vec<u8> {
        self.table.render_family(header, 160, write)
    }
}

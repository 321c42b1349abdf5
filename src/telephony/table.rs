//! The one table both telephony tables are (`TrunkTable`, `EdgeTable`): entries of one kind over
//! the store's generic table, their families from a static list, their count as a self-metric,
//! their rows on the status page. What differs is the entry's ([`TelephonyEntry`]).

use std::collections::{HashMap, HashSet};
use std::marker::PhantomData;
use std::sync::Arc;

use prometheus::IntGauge;

use super::Family;
use crate::metrics::Metrics;
use crate::metrics::registry::{FamilyDoc, Registrar, SelfMetrics};
use crate::metrics::scrape::{EntityStatus, Rendered, Scrape, SourceStatuses};
use crate::metrics::table::{Entry, Freshness, Table};
use crate::metrics::text::Kind;
use crate::sync::lock;
use crate::vocabulary::clock::Clock;

/// What one kind of telephony entry says of itself.
pub(crate) trait TelephonyEntry: Entry + 'static {
    /// What a listing (or a topic event) says of one: its statuses.
    type Status;
    /// What a metrics endpoint (or topic) says of one.
    type Metrics;

    /// Its families, in exposition order.
    const FAMILIES: &'static [Family];
    /// The label that names it on every series (`trunk_id`).
    const OWN: &'static str;
    /// The self-metric counting the watched ones, and its help.
    const WATCHED: (&'static str, &'static str);
    /// Its section on the status page: heading, HTML id, what its group column is.
    const PAGE: (&'static str, &'static str, &'static str);
    /// The most samples one entry has in a family, to size a part.
    const MOST_SAMPLES: usize;

    /// Its name and group (a trunk's type, an Edge's site), for the status page.
    fn page_row(&self) -> (&str, &str, &str);
    fn freshness_of(&self) -> &Freshness;
    fn marks(&mut self) -> &mut Marks;
    /// The id a status is about.
    fn status_id(status: &Self::Status) -> &str;
    /// The id metrics are about, if they say.
    fn metrics_id(metrics: &Self::Metrics) -> Option<&str>;
    /// Takes what a status reports; what it leaves out is unchanged. Returns whether what a
    /// status topic carries changed (a repeated event changes nothing).
    fn take_status(&mut self, status: &Self::Status) -> bool;
    /// Takes the metrics, read at `at` (Unix seconds).
    fn take_metrics(&mut self, metrics: &Self::Metrics, at: f64);
    /// Writes its samples in the family at `index`.
    fn render(&self, index: usize, out: &mut Vec<u8>, hide_stale: bool);
}

/// What the stream did to an entry since its last resync began.
#[derive(Debug, Default)]
pub(crate) struct Marks {
    /// Unix seconds of the last status and metrics event applied: a resync whose read began
    /// before them does not overwrite what they said.
    status_event_at: f64,
    metrics_event_at: f64,
    /// A status event came: what only the listing gives (a trunk's state and whether it is in
    /// service, an Edge's status code) may have changed with it, so the entry is due a resync.
    due: bool,
}

/// Entries of one telephony kind.
pub(crate) struct TelephonyTable<E> {
    table: Table<E>,
    clock: Clock,
    watched: IntGauge,
}

/// The count of watched entries of `E`: one registration per kind.
struct Watched<E>(IntGauge, PhantomData<fn() -> E>);

impl<E> Clone for Watched<E> {
    fn clone(&self) -> Self {
        Self(self.0.clone(), PhantomData)
    }
}

impl<E: TelephonyEntry> SelfMetrics for Watched<E> {
    fn register(r: &Registrar) -> Self {
        let (name, help) = E::WATCHED;
        Self(r.gauge(name, help), PhantomData)
    }
}

impl<E: TelephonyEntry> TelephonyTable<E> {
    /// A table rendered by `metrics` from now on.
    pub(crate) fn register(metrics: &Metrics) -> Arc<Self> {
        let table = Arc::new(Self {
            table: Table::default(),
            clock: metrics.clock().clone(),
            watched: Watched::<E>::of(metrics).0,
        });
        metrics.add_table(table.clone());
        table
    }

    /// Replaces the watched entries; one that left takes its series with it.
    pub(crate) fn watch(&self, labels: &[E::Labels]) {
        let (_, watched) = self.table.replace(labels, self.clock.now_seconds());
        self.watched.set(watched as i64);
    }

    /// A listing's statuses of one entry, read from `at` (Unix seconds): what an event said
    /// since is kept.
    pub(crate) fn listed(&self, status: &E::Status, at: f64) {
        self.table.with(E::status_id(status), |entry| {
            if entry.marks().status_event_at <= at {
                entry.take_status(status);
            }
        });
    }

    /// A status event, at `at`; `false` when the entry is not watched. One that changed
    /// something makes the entry due a resync; a repeat (Genesys may send one, the simulator
    /// sends every status after a pause) costs no REST call.
    pub(crate) fn status_event(&self, status: &E::Status, at: f64) -> bool {
        let applied = self.table.with(E::status_id(status), |entry| {
            let changed = entry.take_status(status);
            let marks = entry.marks();
            marks.status_event_at = at;
            marks.due |= changed;
            entry.freshness().observed(at);
        });
        applied.is_some()
    }

    /// A metrics event, at `at`; `false` when it names no watched entry.
    pub(crate) fn metrics_event(&self, metrics: &E::Metrics, at: f64) -> bool {
        let Some(id) = E::metrics_id(metrics) else {
            return false;
        };
        let applied = self.table.with(id, |entry| {
            entry.take_metrics(metrics, at);
            entry.marks().metrics_event_at = at;
            entry.freshness().observed(at);
        });
        applied.is_some()
    }

    /// A resync read from `at` (Unix seconds): the entry's metrics, if it has any and no
    /// event since said newer; its statuses were taken by [`Self::listed`].
    pub(crate) fn resynced(&self, id: &str, metrics: Option<&E::Metrics>, at: f64) {
        self.table.with(id, |entry| {
            let marks = entry.marks();
            let (evented, newer) = (marks.status_event_at > at, marks.metrics_event_at > at);
            marks.due &= evented;
            if let Some(metrics) = metrics.filter(|_| !newer) {
                entry.take_metrics(metrics, at);
            }
            entry.freshness().resynced(at);
        });
    }

    /// A resync of `ids` from one metrics read: each with its metrics, if the read had any.
    pub(crate) fn resynced_all(&self, ids: &[String], metrics: &[E::Metrics], at: f64) {
        let by_id: HashMap<&str, &E::Metrics> = (metrics.iter())
            .filter_map(|m| Some((E::metrics_id(m)?, m)))
            .collect();
        for id in ids {
            self.resynced(id, by_id.get(id.as_str()).copied(), at);
        }
    }

    /// A resync of `ids` read from `at`: the statuses of those among them a listing holds,
    /// then their metrics.
    pub(crate) fn resynced_from(
        &self,
        ids: &[String],
        statuses: &[E::Status],
        metrics: &[E::Metrics],
        at: f64,
    ) {
        let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
        let asked = statuses.iter().filter(|s| wanted.contains(E::status_id(s)));
        asked.for_each(|s| self.listed(s, at));
        self.resynced_all(ids, metrics, at);
    }

    /// The stream showed `ids` current as of `at` (a heartbeat on their healthy socket).
    pub(crate) fn observed<'a>(&self, ids: impl Iterator<Item = &'a str>, at: f64) {
        self.table.observed(ids, at);
    }

    /// The entries among `ids` due a resync: stale, or changed by a status event since.
    pub(crate) fn due(&self, ids: &[String]) -> Vec<String> {
        let entries = self.table.read();
        let due = |id: &&String| {
            (entries.get(id.as_str())).is_some_and(|entry| {
                let mut entry = lock(entry);
                entry.marks().due || entry.freshness_of().is_stale()
            })
        };
        ids.iter().filter(due).cloned().collect()
    }

    pub(crate) fn set_stale(&self, ids: &[String]) {
        ids.iter().for_each(|id| self.table.set_stale(id));
    }
}

impl<E: TelephonyEntry> Rendered for TelephonyTable<E> {
    fn family_count(&self) -> usize {
        E::FAMILIES.len()
    }

    fn render_family(&self, index: usize, scrape: &Scrape) -> Vec<u8> {
        let Some(spec) = E::FAMILIES.get(index) else {
            return Vec::new();
        };
        let header = (spec.name, spec.help, Kind::Gauge);
        let per_entry = E::MOST_SAMPLES * (spec.name.len() + 120);
        (self.table).render_family(header, per_entry, |entry, out| {
            entry.render(index, out, scrape.hide_stale);
        })
    }

    fn sweep(&self, now_unix_seconds: f64, bound: f64) -> f64 {
        self.table.sweep(now_unix_seconds, bound)
    }

    fn docs(&self) -> Vec<FamilyDoc> {
        E::FAMILIES.iter().map(|f| f.doc(E::OWN)).collect()
    }

    fn statuses(&self) -> Option<SourceStatuses> {
        let entries = self.table.read();
        let rows = (entries.values()).map(|entry| {
            let entry = lock(entry);
            let (id, name, group) = entry.page_row();
            EntityStatus::of(id, name, group, entry.freshness_of())
        });
        let (heading, id, group) = E::PAGE;
        Some(SourceStatuses::sorted(
            heading,
            id,
            group,
            None,
            rows.collect(),
        ))
    }
}

//! One scrape of `/metrics`, written a family at a time, and what a source's table does for it
//! ([`Rendered`]).
//!
//! At 5,000 queues the exposition is about 55 MB. Written whole it would sit in memory once
//! per scrape in flight; as parts, `/metrics` sends each family as soon as it is written and
//! only one (a few MB) is held at a time. Each part takes its table's lock only while it
//! is written, as the `prometheus` crate took each family's in turn, so a scrape is consistent
//! per family, not across families.

use std::ops::Deref;
use std::sync::Arc;

use prometheus::{Encoder, TextEncoder};

use super::Metrics;
use super::registry::FamilyDoc;
use super::table::Freshness;
use crate::status::PollKind;

/// A source's table as the store renders it: the store knows no source, only this.
pub(crate) trait Rendered: Send + Sync {
    /// How many families the table renders, in exposition order.
    fn family_count(&self) -> usize;
    /// The family at `index` as exposition text; empty when no entry has a series in it.
    fn render_family(&self, index: usize, scrape: &Scrape) -> Vec<u8>;
    /// Before a render: shows the held counter totals whose zeros two finished renders have
    /// shown (`counted.rs`).
    fn release_pending(&self) {}
    /// Marks stale every entry older than `bound` at `now_unix_seconds`; returns the Unix
    /// seconds up to which a sweep would judge every one the same.
    fn sweep(&self, now_unix_seconds: f64, bound: f64) -> f64;
    /// Every family the table can expose, for the docs.
    fn docs(&self) -> Vec<FamilyDoc>;
    /// The table's entries as the status page lists them, if it lists them.
    fn statuses(&self) -> Option<SourceStatuses> {
        None
    }
}

/// What one render asks of every table.
pub(crate) struct Scrape {
    pub(crate) now_ms: i64,
    /// This render's number (`counted.rs`): counter groups created after it started are left
    /// to later renders.
    pub(crate) render: u64,
    /// Whether a stale entry's observed values are left out (`stale_gauges: remove`).
    pub(crate) hide_stale: bool,
}

/// One source's entries on the status page.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SourceStatuses {
    /// The section's heading ("Queues") and its table's HTML id ("queues").
    pub heading: &'static str,
    pub id: &'static str,
    /// What `EntityStatus::group` is ("division").
    pub group: &'static str,
    /// The poll behind the source's counters, if it has any.
    pub poll: Option<PollKind>,
    /// Stale ones first, then by name.
    pub rows: Vec<EntityStatus>,
}

/// One entry's freshness as the status page shows it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EntityStatus {
    pub id: String,
    pub name: String,
    pub group: String,
    pub stale: bool,
    /// Unix seconds up to which its values are known current; `None` before the first resync.
    pub fresh_at: Option<f64>,
    pub resynced_at: Option<f64>,
}

impl EntityStatus {
    pub(crate) fn of(id: &str, name: &str, group: &str, freshness: &Freshness) -> Self {
        Self {
            id: id.to_owned(),
            name: name.to_owned(),
            group: group.to_owned(),
            stale: freshness.is_stale(),
            fresh_at: freshness.fresh_at(),
            resynced_at: freshness.resynced_at(),
        }
    }
}

impl SourceStatuses {
    /// A section of `rows`, stale ones first, then by name and id.
    pub(crate) fn sorted(
        heading: &'static str,
        id: &'static str,
        group: &'static str,
        poll: Option<PollKind>,
        mut rows: Vec<EntityStatus>,
    ) -> Self {
        rows.sort_by(|a, b| (!a.stale, &a.name, &a.id).cmp(&(!b.stale, &b.name, &b.id)));
        Self {
            heading,
            id,
            group,
            poll,
            rows,
        }
    }
}

/// The parts of one scrape, in order: each table's families with series, then the exporter's
/// own metrics. Dropped before the end (the scraper went away), it counts as not shown, so new
/// counter series keep waiting for a scrape that shows their zeros.
pub struct ScrapeParts<M: Deref<Target = Metrics>> {
    metrics: M,
    tables: Vec<Arc<dyn Rendered>>,
    scrape: Scrape,
    judgement: Judgement,
    /// The table and family written next.
    next: (usize, usize),
    done: bool,
}

impl<M: Deref<Target = Metrics>> ScrapeParts<M> {
    /// Starts a scrape at `now_ms`: held counter totals whose first values a finished scrape has
    /// shown are released and staleness is swept first, so this scrape shows both.
    pub fn new(metrics: M, now_ms: i64) -> Self {
        let render = metrics.renders.start();
        let tables = metrics.tables();
        for table in &tables {
            table.release_pending();
        }
        let alike_until = metrics.sweep_stale(now_ms as f64 / 1000.0);
        let hide_stale = metrics.hides_stale_gauges();
        Self {
            metrics,
            tables,
            scrape: Scrape {
                now_ms,
                render,
                hide_stale,
            },
            judgement: Judgement {
                at_ms: now_ms,
                alike_until,
            },
            next: (0, 0),
            done: false,
        }
    }

    /// Whether every part is written: the last, the exporter's own metrics, judges the polled
    /// counters' freshness as it is written.
    pub fn is_written(&self) -> bool {
        self.done
    }

    /// How this scrape judged staleness.
    pub fn judgement(&self) -> Judgement {
        self.judgement
    }

    /// The exporter's own metrics, the last part; writing it finishes the scrape.
    fn self_metrics(&self) -> Vec<u8> {
        let metrics = &*self.metrics;
        let mut out = Vec::new();
        // NB: the text encoder only fails on a writer error, and a Vec never fails.
        let _ = TextEncoder::new().encode(&metrics.registry.gather(), &mut out);
        metrics.renders.finish(self.scrape.render);
        out
    }
}

/// When a scrape judged every entry stale or fresh, and until when a later one would judge
/// them the same (unless something other than time marked one stale).
#[derive(Debug, Clone, Copy)]
pub struct Judgement {
    at_ms: i64,
    /// Unix seconds.
    alike_until: f64,
}

impl Judgement {
    /// Whether a scrape at `now_ms` would judge as this one did, so it may share its render;
    /// values that count time, such as the oldest wait, stay as of this one's start.
    pub fn alike_at(&self, now_ms: i64) -> bool {
        now_ms >= self.at_ms && now_ms as f64 / 1000.0 <= self.alike_until
    }
}

impl<M: Deref<Target = Metrics>> Iterator for ScrapeParts<M> {
    type Item = Vec<u8>;

    fn next(&mut self) -> Option<Vec<u8>> {
        while !self.done {
            let (table, family) = self.next;
            let Some(rendered) = self.tables.get(table) else {
                self.done = true;
                return Some(self.self_metrics());
            };
            if family >= rendered.family_count() {
                self.next = (table + 1, 0);
                continue;
            }
            self.next = (table, family + 1);
            let part = rendered.render_family(family, &self.scrape);
            if !part.is_empty() {
                return Some(part);
            }
        }
        None
    }
}

impl Metrics {
    /// The Prometheus text exposition, with waiting ages computed for `now_epoch_ms`.
    pub(crate) fn render(&self, now_epoch_ms: i64) -> String {
        // NB: every part is written from `&str`s and ASCII, so this never falls back.
        String::from_utf8(self.render_bytes(now_epoch_ms)).unwrap_or_default()
    }

    /// [`Metrics::render`] as bytes, in one piece.
    pub fn render_bytes(&self, now_epoch_ms: i64) -> Vec<u8> {
        ScrapeParts::new(self, now_epoch_ms).flatten().collect()
    }
}

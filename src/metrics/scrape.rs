//! One scrape of `/metrics`, written a family at a time.
//!
//! At 5,000 queues the exposition is about 55 MB. Written whole it would sit in memory once
//! per scrape in flight; as parts, `/metrics` sends each family as soon as it is written and
//! only one (a few MB) is held at a time. Each part takes the queue set's lock only while it
//! is written, as the `prometheus` crate took each family's in turn, so a scrape is consistent
//! per family, not across families.

use std::ops::Deref;
use std::sync::atomic::Ordering;

use prometheus::{Encoder, TextEncoder};

use super::agents::AgentFamily;
use super::store::Family;
use super::{Metrics, text};

/// The parts of one scrape, in order: each queue family with series, each agent family, then
/// the exporter's own
/// metrics. Dropped before the end (the scraper went away), it counts as not shown, so new
/// counter series keep waiting for a scrape that shows their zeros.
pub struct ScrapeParts<M: Deref<Target = Metrics>> {
    metrics: M,
    now_ms: i64,
    /// This render's number (see `conversations.rs`).
    render: u64,
    judgement: Judgement,
    next_family: usize,
    done: bool,
}

impl<M: Deref<Target = Metrics>> ScrapeParts<M> {
    /// Starts a scrape at `now_ms`: held counter totals whose first values a finished scrape has
    /// shown are released and staleness is swept first, so this scrape shows both.
    pub fn new(metrics: M, now_ms: i64) -> Self {
        let render = metrics.renders.fetch_add(1, Ordering::SeqCst);
        metrics.release_pending_conversations();
        metrics.release_pending_agent_time();
        let alike_until = metrics.sweep_stale(now_ms as f64 / 1000.0);
        Self {
            metrics,
            now_ms,
            render,
            judgement: Judgement {
                at_ms: now_ms,
                alike_until,
            },
            next_family: 0,
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

    /// One queue family as text; empty when no queue has a series in it.
    fn family(&self, family: Family) -> Vec<u8> {
        let metrics = &*self.metrics;
        let ctx = metrics.render_context(self.now_ms, self.render);
        let name = family.name(&metrics.counters);
        let queues = metrics.queues.read();
        // NB: sized for the most samples a queue can have in the family, so the part is
        // written without a copy; pages never written are never resident.
        let most =
            family.most_samples_per_queue(metrics.media_types.len(), metrics.directions.len());
        let mut out = Vec::with_capacity(1024 + queues.len() * most * (name.len() + 160));
        let help = family.help(&metrics.counters);
        text::header(&mut out, name, &help, family.kind());
        let header = out.len();
        for entry in queues.values() {
            crate::sync::lock(entry).render(family, name, &ctx, &mut out);
        }
        if out.len() == header {
            // NB: the `prometheus` crate leaves out a family without series; so do we.
            out.clear();
        }
        out
    }

    /// The exporter's own metrics, the last part; writing it finishes the scrape.
    fn self_metrics(&self) -> Vec<u8> {
        let metrics = &*self.metrics;
        let mut out = Vec::new();
        // NB: the text encoder only fails on a writer error, and a Vec never fails.
        let _ = TextEncoder::new().encode(&metrics.registry.gather(), &mut out);
        metrics
            .renders_finished
            .fetch_max(self.render + 1, Ordering::SeqCst);
        out
    }
}

/// When a scrape judged every queue and agent stale or fresh, and until when a later one would
/// judge them the same (unless something other than time marked one stale).
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
            let counters = self.metrics.counters.len();
            let queue_families = Family::all(counters).count();
            let index = self.next_family;
            self.next_family += 1;
            let part = match Family::all(counters).nth(index) {
                Some(family) => self.family(family),
                None => match AgentFamily::ALL.get(index - queue_families) {
                    Some(family) => self.metrics.render_agent_family(*family),
                    None => {
                        self.done = true;
                        return Some(self.self_metrics());
                    }
                },
            };
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

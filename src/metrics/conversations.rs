//! The conversation counters as Prometheus must see them.
//!
//! Prometheus takes the first sample of a series as its base: a counter series that appears
//! already at 3 hides those 3 conversations from `increase()`, and a restarted exporter whose
//! counter jumps from 0 straight past its old value is not even seen to reset. So a (queue,
//! media type) group's counters appear at 0, and what they owe is held back until at least one
//! render of `/metrics` has shown those zeros. A media type a queue has never had costs no
//! series at all.

use std::sync::atomic::Ordering;

use super::store::{CounterGroup, MediaGroup};
use super::{ConversationCounter, ConversationGroup, Metrics, Statistic, queues};

impl Metrics {
    /// The counters of the configured metric set.
    pub fn counters(&self) -> &[ConversationCounter] {
        &self.counters
    }

    /// Adds a ledger delta; `SumMillis` sources arrive in milliseconds and count in seconds.
    /// The first delta of a (queue, media type, direction) group creates its counters at 0 and
    /// waits for a render to have shown them.
    pub fn add_conversations<'g>(
        &self,
        queue_id: &str,
        group: impl Into<ConversationGroup<'g>>,
        counter: ConversationCounter,
        delta: f64,
    ) {
        let Some(index) = self.counters.iter().position(|c| *c == counter) else {
            return;
        };
        if delta <= 0.0 {
            return;
        }
        let value = match counter.source().1 {
            Statistic::SumMillis => delta / 1000.0,
            Statistic::Count | Statistic::Numerator | Statistic::Denominator => delta,
        };
        self.with_counter_group(queue_id, group.into(), |counters| {
            if self.zeros_shown(counters) {
                counters.values[index] += value;
            } else {
                counters.pending.push((index, value));
            }
        });
    }

    /// Makes sure the (queue, media type, direction) group's counters exist, at 0 if new: a
    /// group with data in the window keeps its series through a restart, so Prometheus sees
    /// the reset and a dashboard no gap.
    pub fn ensure_conversation_group<'g>(
        &self,
        queue_id: &str,
        group: impl Into<ConversationGroup<'g>>,
    ) {
        self.with_counter_group(queue_id, group.into(), |_| {});
    }

    /// Runs `write` on the counters of the queue's `group`, created at 0 if needed; groups
    /// outside the allow-lists are ignored.
    fn with_counter_group(
        &self,
        queue_id: &str,
        group: ConversationGroup<'_>,
        write: impl FnOnce(&mut CounterGroup),
    ) {
        let Some(slot) = self.direction_slot(group.direction) else {
            return;
        };
        self.with_media_group(queue_id, group.media_type, true, |media| {
            write(self.counter_group(media, slot));
        });
    }

    /// Whether a finished render has shown the group's zeros: every render numbered from its
    /// creation on writes it, and writes it after its creation.
    fn zeros_shown(&self, counters: &CounterGroup) -> bool {
        counters.created_at_render < self.renders_finished.load(Ordering::SeqCst)
    }

    /// The media group's counters of direction `slot`, created now at 0 if needed.
    fn counter_group<'g>(&self, group: &'g mut MediaGroup, slot: usize) -> &'g mut CounterGroup {
        if group.counters.len() <= slot {
            group.counters.resize_with(slot + 1, || None);
        }
        group.counters[slot].get_or_insert_with(|| CounterGroup {
            values: vec![0.0; self.counters.len()],
            // NB: read under the queue's lock, which a render takes to write the queue: any
            // render counted from here on writes the queue after this, so shows the zeros.
            created_at_render: self.renders.load(Ordering::SeqCst),
            pending: Vec::new(),
        })
    }

    /// Applies the held increments of groups whose zeros a finished render has shown.
    pub(super) fn release_pending_conversations(&self) {
        let queues = self.queues.read().unwrap_or_else(|e| e.into_inner());
        for entry in queues.values() {
            let mut entry = queues::lock(entry);
            let groups = entry.media.iter_mut().flatten();
            for counters in groups.flat_map(|g| g.counters.iter_mut().flatten()) {
                if self.zeros_shown(counters) {
                    for (index, value) in counters.pending.drain(..) {
                        counters.values[index] += value;
                    }
                }
            }
        }
    }

    /// The queue's own service-level target for `media`, as `oServiceLevel` reports it.
    pub fn set_service_level_target(&self, queue_id: &str, media: &str, target: f64) {
        self.with_media_group(queue_id, media, true, |group| {
            group.service_level_target = Some(target);
        });
    }
}

//! The conversation counters as Prometheus must see them.
//!
//! Prometheus takes the first sample of a series as its base: a counter series that appears
//! already at 3 hides those 3 conversations from `increase()`, and a restarted exporter whose
//! counter jumps from 0 straight past its old value is not even seen to reset. So a (queue,
//! media type) group's counters appear at 0, and what they owe is held back until at least one
//! render of `/metrics` has shown those zeros. A media type a queue has never had costs no
//! series at all.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use super::{ConversationCounter, Metrics, QueueLabels, Statistic};

/// (queue id, media type).
type Group = (String, String);

#[derive(Debug, Default)]
pub(super) struct ConversationSeries {
    /// Groups whose counters exist, with the render count when they were created.
    created: HashMap<Group, u64>,
    /// Increments held back until a render has shown the group's zeros, in exported units.
    pending: HashMap<Group, Vec<(ConversationCounter, f64)>>,
}

impl ConversationSeries {
    pub(super) fn forget_queue(&mut self, queue_id: &str) {
        self.created.retain(|(queue, _), _| queue != queue_id);
        self.pending.retain(|(queue, _), _| queue != queue_id);
    }
}

impl Metrics {
    /// The counters of the configured metric set.
    pub fn counters(&self) -> &[ConversationCounter] {
        &self.counters
    }

    pub(super) fn lock_conversation_series(&self) -> std::sync::MutexGuard<'_, ConversationSeries> {
        self.conversation_series
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a ledger delta; `SumMillis` sources arrive in milliseconds and count in seconds.
    /// The first delta of a (queue, media type) group creates its counters at 0 and waits for
    /// a render to have shown them.
    pub fn add_conversations(
        &self,
        queue_id: &str,
        media: &str,
        counter: ConversationCounter,
        delta: f64,
    ) {
        if delta <= 0.0 || !self.counters.contains(&counter) {
            return;
        }
        let value = match counter.source().1 {
            Statistic::SumMillis => delta / 1000.0,
            Statistic::Count | Statistic::Numerator | Statistic::Denominator => delta,
        };
        // NB: lock order is `queues`, then `conversation_series`, as in `render`.
        self.with_queue(queue_id, |name| {
            let mut series = self.lock_conversation_series();
            let group = (queue_id.to_owned(), media.to_owned());
            let created = self.create_group(&mut series, &group, name);
            if created < self.renders.load(Ordering::SeqCst) {
                if let Some(series) = self.counter_series(counter, queue_id, name, media) {
                    series.inc_by(value);
                }
            } else {
                series
                    .pending
                    .entry(group)
                    .or_default()
                    .push((counter, value));
            }
        });
    }

    /// Makes sure the (queue, media type) group's counters exist, at 0 if new: a group with
    /// data in the window keeps its series through a restart, so Prometheus sees the reset
    /// and a dashboard no gap.
    pub fn ensure_conversation_group(&self, queue_id: &str, media: &str) {
        self.with_queue(queue_id, |name| {
            let mut series = self.lock_conversation_series();
            let group = (queue_id.to_owned(), media.to_owned());
            self.create_group(&mut series, &group, name);
        });
    }

    /// The render count when `group`'s counters were created, creating them now if needed.
    fn create_group(&self, series: &mut ConversationSeries, group: &Group, name: &str) -> u64 {
        if let Some(created) = series.created.get(group) {
            return *created;
        }
        for counter in &self.counters {
            self.counter_series(*counter, &group.0, name, &group.1);
        }
        // NB: read after creating the series: any render counted from here on gathers them.
        let created = self.renders.load(Ordering::SeqCst);
        series.created.insert(group.clone(), created);
        created
    }

    /// Applies the increments of groups created before the render numbered `renders_before`
    /// started, which therefore has shown their zeros.
    pub(super) fn release_pending_conversations(&self, renders_before: u64) {
        let queues = self.queues.read().unwrap_or_else(|e| e.into_inner());
        let mut series = self.lock_conversation_series();
        let ConversationSeries { created, pending } = &mut *series;
        pending.retain(|group, increments| {
            let shown = created.get(group).is_some_and(|c| *c < renders_before);
            let Some(queue) = queues.get(&group.0).map(|e| &e.labels) else {
                return false;
            };
            if !shown {
                return true;
            }
            for (counter, value) in increments.drain(..) {
                if let Some(series) = self.counter_series(counter, &group.0, &queue.name, &group.1)
                {
                    series.inc_by(value);
                }
            }
            false
        });
    }

    /// Moves the queue's counters (and service-level targets) to its new name with their
    /// values, so a rename is no reset: the new series carries on from where the old ended.
    pub(super) fn rename_conversation_series(&self, old: &QueueLabels, new_name: &str) {
        let (id, name) = (old.id.as_str(), old.name.as_str());
        let series = self.lock_conversation_series();
        for (queue_id, media) in series.created.keys().filter(|(q, _)| q == id) {
            for counter in &self.counters {
                let (Some(from), Some(to)) = (
                    self.counter_series(*counter, queue_id, name, media),
                    self.counter_series(*counter, queue_id, new_name, media),
                ) else {
                    continue;
                };
                to.inc_by(from.get());
                if let Some(vec) = self.conversations.get(counter) {
                    let _ = vec.remove_label_values(&[id, name, media]);
                }
            }
            let target = self
                .service_level_target
                .with_label_values(&[id, name, media]);
            let value = target.get();
            let _ = self
                .service_level_target
                .remove_label_values(&[id, name, media]);
            if value > 0.0 {
                self.service_level_target
                    .with_label_values(&[id, new_name, media])
                    .set(value);
            }
        }
    }

    fn counter_series(
        &self,
        counter: ConversationCounter,
        queue_id: &str,
        name: &str,
        media: &str,
    ) -> Option<prometheus::Counter> {
        self.conversations
            .get(&counter)
            .map(|vec| vec.with_label_values(&[queue_id, name, media]))
    }

    /// The queue's own service-level target for `media`, as `oServiceLevel` reports it.
    pub fn set_service_level_target(&self, queue_id: &str, media: &str, target: f64) {
        self.with_queue(queue_id, |name| {
            self.service_level_target
                .with_label_values(&[queue_id, name, media])
                .set(target);
        });
    }
}

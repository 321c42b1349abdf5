//! The conversation counters as Prometheus must see them.
//!
//! Prometheus takes the first sample of a series as its base: a counter series that appears
//! already at 3 hides those 3 conversations from `increase()`, and a restarted exporter whose
//! counter jumps from 0 straight past its old value is not even seen to reset. So a (queue,
//! media type) group's counters appear at 0, and the totals it is given are held back until two
//! finished renders of `/metrics` have shown those zeros: a scrape Prometheus lost (one that
//! timed out under load) would otherwise let its first sample be the total, and the first
//! increase vanish from `increase()`. A media type a queue has never had
//! costs no series at all.
//!
//! The counters are set to totals, not incremented: the producer (the ledger's owner) decides
//! what a series has counted, and a restarted exporter resumes a series Prometheus already
//! holds at its saved total instead of 0. What is held back is one total per group, however
//! many increments arrive before a render, so it never grows without a scrape.

use std::sync::atomic::Ordering;

use super::Metrics;
use super::store::CounterGroup;
use crate::vocabulary::counters::{ConversationCounter, ConversationGroup, Statistic};

impl Metrics {
    /// How many counter groups hold totals back for the next render: at most one entry per
    /// group, however many totals arrived.
    pub(crate) fn pending_counter_groups(&self) -> usize {
        let queues = self.queues.read();
        (queues.values())
            .map(|entry| crate::sync::lock(entry).pending_counter_groups())
            .sum()
    }

    /// The counters of the configured metric set.
    pub(crate) fn counters(&self) -> &[ConversationCounter] {
        &self.counters
    }

    /// Sets the (queue, media type, direction) group's counters to `totals` (in the upstream
    /// unit: `SumMillis` sources arrive in milliseconds and count in seconds; a counter not
    /// given reads 0). Counters outside the metric set and groups outside the allow-lists
    /// are ignored.
    ///
    /// A group created here appears first at 0, the totals held back until a render has
    /// shown those zeros, unless `shown_before`: a scrape of an earlier process showed the
    /// series, so Prometheus holds a value for it and the group resumes at `totals` at once.
    /// Either way, later totals wait until two renders have shown the group's first values.
    pub fn set_conversation_totals<'g>(
        &self,
        queue_id: &str,
        group: impl Into<ConversationGroup<'g>>,
        totals: impl IntoIterator<Item = (ConversationCounter, f64)>,
        shown_before: bool,
    ) {
        let mut values = vec![0.0; self.counters.len()];
        for (counter, total) in totals {
            let Some(index) = self.counters.iter().position(|c| *c == counter) else {
                continue;
            };
            values[index] = match counter.source().1 {
                Statistic::SumMillis => total / 1000.0,
                Statistic::Count | Statistic::Numerator | Statistic::Denominator => total,
            };
        }
        self.with_counter_slot(queue_id, group.into(), |slot| {
            self.set_counter_slot(slot, values, shown_before);
        });
    }

    /// Sets a counter group to `values`, creating it (see
    /// [`Metrics::set_conversation_totals`]); agents' time in status shares the rule.
    pub(super) fn set_counter_slot(
        &self,
        slot: &mut Option<CounterGroup>,
        values: Vec<f64>,
        shown_before: bool,
    ) {
        match slot {
            Some(counters) => match self.shown_twice(counters) {
                true => {
                    counters.values = values;
                    counters.pending = None;
                }
                false => counters.pending = Some(values),
            },
            None if shown_before => *slot = Some(self.new_counter_group(values)),
            None => {
                let zeros = vec![0.0; values.len()];
                let counters = slot.insert(self.new_counter_group(zeros));
                counters.pending = Some(values);
            }
        }
    }

    /// Makes sure the (queue, media type, direction) group's counters exist, at 0 if new: a
    /// group with data in the window keeps its series through a restart, so Prometheus sees
    /// no gap.
    pub(crate) fn ensure_conversation_group<'g>(
        &self,
        queue_id: &str,
        group: impl Into<ConversationGroup<'g>>,
    ) {
        self.with_counter_slot(queue_id, group.into(), |slot| {
            if slot.is_none() {
                *slot = Some(self.new_counter_group(vec![0.0; self.counters.len()]));
            }
        });
    }

    /// Whether a finished render has shown the group's counters (so a restart may resume
    /// them where they were); `false` for a group that does not exist.
    pub(crate) fn conversation_group_shown<'g>(
        &self,
        queue_id: &str,
        group: impl Into<ConversationGroup<'g>>,
    ) -> bool {
        let group = group.into();
        let (Some(slot), Some(index)) = (
            self.direction_slot(group.direction),
            self.media_index(group.media_type),
        ) else {
            return false;
        };
        self.with_queue(queue_id, |entry| {
            let media = entry.media.get(index)?.as_ref()?;
            let counters = media.counters.get(slot)?.as_ref()?;
            Some(self.first_values_shown(counters))
        })
        .flatten()
        .unwrap_or(false)
    }

    /// Runs `write` on the slot of the queue's `group` counters (`None` until created);
    /// groups outside the allow-lists are ignored.
    fn with_counter_slot(
        &self,
        queue_id: &str,
        group: ConversationGroup<'_>,
        write: impl FnOnce(&mut Option<CounterGroup>),
    ) {
        let Some(slot) = self.direction_slot(group.direction) else {
            return;
        };
        self.with_media_group(queue_id, group.media_type, true, |media| {
            if media.counters.len() <= slot {
                media.counters.resize_with(slot + 1, || None);
            }
            write(&mut media.counters[slot]);
        });
    }

    /// Whether a finished render has shown the group's first values: every render numbered
    /// from its creation on writes it, and writes it after its creation.
    pub(super) fn first_values_shown(&self, counters: &CounterGroup) -> bool {
        counters.created_at_render < self.renders_finished.load(Ordering::SeqCst)
    }

    /// Whether two finished renders have shown the group's first values, so that one
    /// scrape Prometheus lost (a timeout under load) cannot hide them: the first time a
    /// finished render is seen to have shown them, the highest finished is marked; a render
    /// finished past the mark is a second one (numbered after its creation, so it showed them
    /// too while they were held).
    pub(super) fn shown_twice(&self, counters: &mut CounterGroup) -> bool {
        let finished = self.renders_finished.load(Ordering::SeqCst);
        if !self.first_values_shown(counters) {
            return false;
        }
        match counters.first_seen_shown {
            Some(mark) => mark < finished,
            None => {
                counters.first_seen_shown = Some(finished);
                false
            }
        }
    }

    /// A group whose first values are `values`.
    pub(super) fn new_counter_group(&self, values: Vec<f64>) -> CounterGroup {
        CounterGroup {
            values,
            // NB: called under the queue's lock, which a render takes to write the queue: any
            // render counted from here on writes the queue after this, so shows the values.
            created_at_render: self.renders.load(Ordering::SeqCst),
            pending: None,
            first_seen_shown: None,
        }
    }

    /// Shows the held totals of groups whose first values two finished renders have shown.
    pub(super) fn release_pending_conversations(&self) {
        let queues = self.queues.read();
        for entry in queues.values() {
            let mut entry = crate::sync::lock(entry);
            let groups = entry.media.iter_mut().flatten();
            for counters in groups.flat_map(|g| g.counters.iter_mut().flatten()) {
                // NB: every group is asked, so each is marked at the first render after one
                // showed it, and later totals of a long-shown group move at once.
                if self.shown_twice(counters)
                    && let Some(values) = counters.pending.take()
                {
                    counters.values = values;
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

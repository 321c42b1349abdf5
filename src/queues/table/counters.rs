//! The queues' conversation counters in their table, under the store's rule for counters
//! (`metrics/counted.rs`): a (queue, media type, direction) group appears at 0, its totals held
//! back until two finished renders have shown those zeros; a media type a queue has never had
//! costs no series.

use super::QueueTable;
use crate::metrics::counted::CounterGroup;
use crate::vocabulary::counters::{ConversationCounter, ConversationGroup, Statistic};
use crate::vocabulary::labels::LabelValue;

impl QueueTable {
    /// How many counter groups hold totals back for the next render: at most one entry per
    /// group, however many totals arrived.
    pub(crate) fn pending_counter_groups(&self) -> usize {
        let queues = self.table.read();
        (queues.values())
            .map(|entry| crate::sync::lock(entry).pending_counter_groups())
            .sum()
    }

    /// The counters of the configured metric set.
    pub(crate) fn counters(&self) -> &[ConversationCounter] {
        &self.series.counters
    }

    /// The counter slot of `direction` in a media group: 0 for no direction when none are
    /// configured, the configured position otherwise; `None` for any other.
    fn direction_slot(&self, direction: Option<&str>) -> Option<usize> {
        let directions = &self.series.directions;
        match direction {
            None if directions.is_empty() => Some(0),
            Some(direction) => directions.iter().position(|d| d.as_str() == direction),
            None => None,
        }
    }

    /// Whether a conversation group passes both allow-lists.
    pub(crate) fn knows_conversation_group(&self, group: ConversationGroup<'_>) -> bool {
        self.knows_media_type(group.media_type) && self.direction_slot(group.direction).is_some()
    }

    /// Sets the (queue, media type, direction) group's counters to `totals` (in the upstream
    /// unit: `SumMillis` sources arrive in milliseconds and count in seconds; a counter not
    /// given reads 0). Counters outside the metric set and groups outside the allow-lists
    /// are ignored. A new group shows its zeros first unless `shown_before`
    /// ([`Renders::set`](crate::metrics::counted::Renders::set)).
    pub fn set_conversation_totals<'g>(
        &self,
        queue_id: &str,
        group: impl Into<ConversationGroup<'g>>,
        totals: impl IntoIterator<Item = (ConversationCounter, f64)>,
        shown_before: bool,
    ) {
        let counters = &self.series.counters;
        let mut values = vec![0.0; counters.len()];
        for (counter, total) in totals {
            let Some(index) = counters.iter().position(|c| *c == counter) else {
                continue;
            };
            values[index] = match counter.source().1 {
                Statistic::SumMillis => total / 1000.0,
                Statistic::Count | Statistic::Numerator | Statistic::Denominator => total,
            };
        }
        self.with_counter_slot(queue_id, group.into(), |slot| {
            self.renders.set(slot, values, shown_before);
        });
    }

    /// Makes sure the (queue, media type, direction) group's counters exist, at 0 if new.
    pub(crate) fn ensure_conversation_group<'g>(
        &self,
        queue_id: &str,
        group: impl Into<ConversationGroup<'g>>,
    ) {
        let width = self.series.counters.len();
        self.with_counter_slot(queue_id, group.into(), |slot| {
            self.renders.ensure(slot, width);
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
            Some(self.renders.first_values_shown(counters))
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

    /// Shows the held totals of groups whose first values two finished renders have shown.
    pub(super) fn release_pending_conversations(&self) {
        let queues = self.table.read();
        for entry in queues.values() {
            let mut entry = crate::sync::lock(entry);
            let groups = entry.media.iter_mut().flatten();
            for counters in groups.flat_map(|g| g.counters.iter_mut().flatten()) {
                self.renders.release(counters);
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

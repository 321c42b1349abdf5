//! Holding a queue's stream events while a resync of it is in flight.
//!
//! A REST snapshot is taken when the query is answered but applied later; an event that
//! arrives in between is newer than the snapshot, and since events carry only changes, letting
//! the snapshot overwrite it would leave the gauge wrong until the metric changes again. So
//! from just before the query is sent until the snapshot is applied, events of the queues
//! being resynced are held, then replayed in arrival order. That is correct because events are
//! ordered per queue and the last event per metric carries its latest value.

use std::collections::{HashMap, HashSet};
use std::future::Future;

use tracing::warn;

use super::Observations;
use crate::genesys::error::ApiError;
use crate::genesys::model::{AggregateDataContainer, QueueObservationQueryResponse};

/// Held events beyond this are dropped (and their queues marked stale, so the supervisor's
/// retry resyncs them again): a hung query must not grow memory without bound. At the
/// documented rate of about one event per second per queue and media type, this covers a
/// thousand queues for several seconds; the query has a timeout anyway.
pub(super) const MAX_HELD_EVENTS: usize = 10_000;

/// Events of `queue_ids` are held while this lives; [`ResyncHold::finish`] applies the
/// snapshot, then replays them. Dropped unfinished (a cancelled resync), it replays them at
/// once, so no event is lost.
#[must_use = "events stay held until the hold is finished or dropped"]
pub(crate) struct ResyncHold<'a> {
    observations: &'a Observations,
    queue_ids: Vec<String>,
    finished: bool,
}

impl ResyncHold<'_> {
    /// Applies the resync result (a snapshot, or stale marks on failure) and replays the held
    /// events after it, both while no event can interleave.
    pub(crate) fn finish(
        mut self,
        result: Result<QueueObservationQueryResponse, ApiError>,
        now_ms: i64,
    ) -> Result<(), ApiError> {
        self.finished = true;
        let observations = self.observations;
        let mut holds = observations.lock_holds();
        let outcome = observations.finish_resync(&self.queue_ids, result, now_ms);
        observations.replay(holds.release(&self.queue_ids), now_ms);
        drop(holds);
        outcome
    }
}

impl Drop for ResyncHold<'_> {
    fn drop(&mut self) {
        if !self.finished {
            let observations = self.observations;
            let mut holds = observations.lock_holds();
            let released = holds.release(&self.queue_ids);
            observations.replay(released, chrono::Utc::now().timestamp_millis());
        }
    }
}

impl Observations {
    /// Starts holding the events of `queue_ids`; call just before their query is sent.
    pub(crate) fn hold(&self, queue_ids: &[String]) -> ResyncHold<'_> {
        self.lock_holds().begin(queue_ids);
        ResyncHold {
            observations: self,
            queue_ids: queue_ids.to_vec(),
            finished: false,
        }
    }

    /// Resyncs `queue_ids` from `query` (not yet polled, so not yet sent) while events may
    /// keep arriving: they are held from before the query is sent until the snapshot is
    /// applied, then replayed. Cancelling the returned future releases them too.
    pub(crate) async fn resync_with<Q>(
        &self,
        queue_ids: &[String],
        query: Q,
    ) -> Result<(), ApiError>
    where
        Q: Future<Output = Result<QueueObservationQueryResponse, ApiError>>,
    {
        let hold = self.hold(queue_ids);
        let result = if queue_ids.is_empty() {
            Ok(QueueObservationQueryResponse::default())
        } else {
            query.await
        };
        hold.finish(result, chrono::Utc::now().timestamp_millis())
    }

    /// Applies released events (their queues' snapshots are already in) and marks the queues
    /// that lost events stale, so the supervisor resyncs them again.
    fn replay(&self, released: Released, now_ms: i64) {
        for event in &released.events {
            if let Ok(queue_id) = self.check_event(event) {
                self.apply_checked(queue_id, event, now_ms);
            }
        }
        for queue_id in &released.overflowed {
            warn!(
                queue_id,
                "events dropped while a resync held them; queue marked stale"
            );
            self.metrics.set_queue_stale(queue_id);
        }
    }
}

/// The queues held and their events, in arrival order.
#[derive(Debug, Default)]
pub(super) struct Holds {
    /// How many resyncs in flight hold each queue; overlapping resyncs (several channels, or
    /// a queue handed between them) each release only their own hold.
    queues: HashMap<String, usize>,
    events: Vec<(String, AggregateDataContainer)>,
    /// Queues that lost an event at the bound since their hold began.
    overflowed: HashSet<String>,
}

/// What releasing a hold hands back to be applied.
#[derive(Debug, Default)]
pub(super) struct Released {
    /// Events of queues no longer held, in arrival order.
    pub events: Vec<AggregateDataContainer>,
    /// Queues no longer held that lost events, so their values cannot be trusted.
    pub overflowed: Vec<String>,
}

impl Holds {
    pub fn begin(&mut self, queue_ids: &[String]) {
        for queue_id in queue_ids {
            *self.queues.entry(queue_id.clone()).or_default() += 1;
        }
    }

    pub fn is_held(&self, queue_id: &str) -> bool {
        self.queues.contains_key(queue_id)
    }

    /// Keeps an event of a held queue; `false` when the bound dropped it.
    pub fn push(&mut self, queue_id: &str, event: &AggregateDataContainer) -> bool {
        if self.events.len() >= MAX_HELD_EVENTS {
            self.overflowed.insert(queue_id.to_owned());
            return false;
        }
        self.events.push((queue_id.to_owned(), event.clone()));
        true
    }

    /// Ends one hold of each of `queue_ids`; events of queues that no other hold keeps are
    /// handed back for replay.
    pub fn release(&mut self, queue_ids: &[String]) -> Released {
        for queue_id in queue_ids {
            if let Some(holders) = self.queues.get_mut(queue_id) {
                *holders -= 1;
                if *holders == 0 {
                    self.queues.remove(queue_id);
                }
            }
        }
        let (kept, freed) = std::mem::take(&mut self.events)
            .into_iter()
            .partition(|(queue_id, _)| self.queues.contains_key(queue_id));
        self.events = kept;
        let mut overflowed: Vec<String> = self
            .overflowed
            .iter()
            .filter(|queue_id| !self.queues.contains_key(*queue_id))
            .cloned()
            .collect();
        self.overflowed
            .retain(|queue_id| self.queues.contains_key(queue_id));
        overflowed.sort();
        Released {
            events: freed.into_iter().map(|(_, event)| event).collect(),
            overflowed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(queue_id: &str) -> AggregateDataContainer {
        serde_json::from_str(&format!(
            r#"{{"group":{{"queueId":"{queue_id}"}},"data":[]}}"#
        ))
        .unwrap()
    }

    fn ids(ids: &[&str]) -> Vec<String> {
        ids.iter().map(|id| (*id).to_owned()).collect()
    }

    fn queues_of(released: &Released) -> Vec<String> {
        let queue_of = |e: &AggregateDataContainer| e.group.queue_id.clone().unwrap();
        released.events.iter().map(queue_of).collect()
    }

    #[test]
    fn overlapping_holds_release_a_queue_only_when_the_last_one_ends() {
        let mut holds = Holds::default();
        holds.begin(&ids(&["q1", "q2"]));
        holds.begin(&ids(&["q2"]));
        assert!(holds.push("q2", &event("q2")));
        assert!(holds.push("q1", &event("q1")));
        assert!(holds.push("q2", &event("q2")));
        let first = holds.release(&ids(&["q1", "q2"]));
        assert_eq!(queues_of(&first), ids(&["q1"]));
        assert!(holds.is_held("q2") && !holds.is_held("q1"));
        let second = holds.release(&ids(&["q2"]));
        assert_eq!(queues_of(&second), ids(&["q2", "q2"]), "in arrival order");
        assert!(!holds.is_held("q2"));
        assert!(
            holds.release(&ids(&["q2"])).events.is_empty(),
            "no underflow"
        );
    }

    #[test]
    fn events_beyond_the_bound_are_dropped_and_their_queue_reported() {
        let mut holds = Holds::default();
        holds.begin(&ids(&["q1", "q2"]));
        for _ in 0..MAX_HELD_EVENTS {
            assert!(holds.push("q1", &event("q1")));
        }
        assert!(!holds.push("q2", &event("q2")));
        let released = holds.release(&ids(&["q1", "q2"]));
        assert_eq!(released.events.len(), MAX_HELD_EVENTS);
        assert_eq!(released.overflowed, ids(&["q2"]));
        assert!(holds.release(&[]).overflowed.is_empty(), "reported once");
    }
}

//! Recording a queue's stream events while a resync of it is in flight.
//!
//! A REST snapshot is taken when the query is answered but applied later; an event that
//! arrives in between is newer than the snapshot, and since events carry only changes, letting
//! the snapshot overwrite it would leave the gauge wrong until the metric changes again. So
//! events are applied as they arrive (the query may take minutes of retries; live gauges must
//! not freeze meanwhile) and, from just before the query is sent, also recorded. A snapshot is
//! applied together with a replay of its record, in arrival order, while no event can
//! interleave. That is correct because events are ordered per queue, events of different
//! queues touch disjoint state, and each event carries absolute values: replayed over the
//! snapshot they end where the stream already was. A failed resync just discards its record.

use std::collections::HashMap;
use std::future::Future;

use tracing::warn;

use super::Observations;
use crate::genesys::client::MAX_QUEUES_PER_QUERY;
use crate::genesys::error::ApiError;
use crate::genesys::model::{AggregateDataContainer, QueueObservationQueryResponse};

/// Events one record keeps per queue, so a record is bounded by its queue count (at most
/// [`MAX_QUEUES_PER_QUERY`]). A busy queue sends a few events a second (one per media type,
/// plus the user metrics), so this covers about a minute of one; beyond it the queue's record
/// is dropped and the queue marked stale after the resync, so the supervisor's retry resyncs
/// it again. Its gauges stay live meanwhile: the events themselves were applied.
pub(super) const MAX_RECORDED_EVENTS_PER_QUEUE: usize = 300;

/// Events of a resync's queues are recorded while this lives. [`ResyncRecord::finish`]
/// applies the snapshot and replays them; dropped (finished, failed, cancelled or unwound by a
/// panic), it discards the record: the events were applied when they arrived.
#[must_use = "a record is discarded when dropped; finish it with the resync's result"]
pub(crate) struct ResyncRecord<'a> {
    observations: &'a Observations,
    id: u64,
    queue_ids: Vec<String>,
}

impl ResyncRecord<'_> {
    /// Applies the resync result (a snapshot and the recorded events over it, or stale marks
    /// on failure) while no event can interleave.
    pub(crate) fn finish(
        self,
        result: Result<QueueObservationQueryResponse, ApiError>,
        now_ms: i64,
    ) -> Result<(), ApiError> {
        let observations = self.observations;
        let mut records = observations.lock_records();
        // NB: only this (consuming `self`) and `Drop` remove it, so it is there; were it not,
        // the default would just replay nothing.
        let mut record = records.in_flight.remove(&self.id).unwrap_or_default();
        let response = match result {
            Ok(response) => response,
            Err(error) => return observations.finish_resync(&self.queue_ids, Err(error), now_ms),
        };
        let unparsed = unparsed_queues(&self.queue_ids, &response);
        let mut fresh = Vec::with_capacity(self.queue_ids.len());
        let mut replays = Vec::with_capacity(self.queue_ids.len());
        let mut overflowed = Vec::new();
        for queue_id in &self.queue_ids {
            if unparsed.contains(queue_id.as_str()) {
                continue;
            }
            match record.queues.remove(queue_id) {
                Some(Recorded::Overflowed) => overflowed.push(queue_id),
                Some(Recorded::Events(events)) => {
                    fresh.push(queue_id.clone());
                    replays.push(events);
                }
                None => fresh.push(queue_id.clone()),
            }
        }
        // NB: a queue that outgrew its record is left out: its snapshot with only part of its
        // events replayed over it would move its gauges back in time, while the stream, whose
        // every event was applied, has them right.
        let outcome = observations.finish_resync(&fresh, Ok(response), now_ms);
        for events in &replays {
            observations.replay(events, now_ms);
        }
        for queue_id in unparsed {
            // NB: left out of the snapshot, which would read its absent result as all zeros.
            warn!(
                queue_id,
                "its resync result did not parse; queue marked stale"
            );
            observations.queues.set_queue_stale(queue_id);
        }
        for queue_id in overflowed {
            warn!(
                queue_id,
                "too many events during a resync to replay over its snapshot; queue marked stale"
            );
            observations.queues.set_queue_stale(queue_id);
        }
        drop(records);
        outcome
    }
}

/// The queues of `queue_ids` whose result did not parse: those it named, or, when one did not
/// even name its queue, every queue the response has no parsed result for.
pub(super) fn unparsed_queues<'q>(
    queue_ids: &'q [String],
    response: &QueueObservationQueryResponse,
) -> std::collections::BTreeSet<&'q str> {
    let named = |id: &str| response.malformed.iter().any(|m| m.as_deref() == Some(id));
    let anonymous = response.malformed.iter().any(Option::is_none);
    let parsed = |id: &str| {
        let results = response.results.iter();
        results
            .filter_map(|r| r.group.queue_id.as_deref())
            .any(|q| q == id)
    };
    let unparsed = queue_ids
        .iter()
        .filter(|id| named(id) || (anonymous && !parsed(id)));
    unparsed.map(String::as_str).collect()
}

impl Drop for ResyncRecord<'_> {
    fn drop(&mut self) {
        // NB: `finish` has already taken the record unless it was never called or unwound
        // before taking it; removing is idempotent, so no path leaves a record behind.
        self.observations.lock_records().in_flight.remove(&self.id);
    }
}

impl Observations {
    /// Starts recording the events of `queue_ids`; call just before their query is sent.
    pub(crate) fn record(&self, queue_ids: &[String]) -> ResyncRecord<'_> {
        let id = self.lock_records().begin(queue_ids);
        ResyncRecord {
            observations: self,
            id,
            queue_ids: queue_ids.to_vec(),
        }
    }

    /// Resyncs `queue_ids` in batches of at most [`MAX_QUEUES_PER_QUERY`], one after another,
    /// each from its own `query` (called just before it is sent) and with its own record, so
    /// no record outlives one request's retries. The first failed batch ends the resync; it
    /// and the batches not yet queried are marked stale. Events keep being applied throughout;
    /// cancelling the returned future discards the record in flight.
    pub(crate) async fn resync_with<'q, F, Q>(
        &self,
        queue_ids: &'q [String],
        mut query: F,
    ) -> Result<(), ApiError>
    where
        F: FnMut(&'q [String]) -> Q,
        Q: Future<Output = Result<QueueObservationQueryResponse, ApiError>>,
    {
        if queue_ids.is_empty() {
            let now_ms = self.clock.now_ms();
            return self.finish_resync(&[], Ok(QueueObservationQueryResponse::default()), now_ms);
        }
        for (i, batch) in queue_ids.chunks(MAX_QUEUES_PER_QUERY).enumerate() {
            let record = self.record(batch);
            let result = query(batch).await;
            let outcome = record.finish(result, self.clock.now_ms());
            if outcome.is_err() {
                for queue_id in queue_ids.iter().skip((i + 1) * MAX_QUEUES_PER_QUERY) {
                    self.queues.set_queue_stale(queue_id);
                }
                return outcome;
            }
        }
        Ok(())
    }

    /// Re-applies recorded events over their queue's snapshot.
    fn replay(&self, events: &[AggregateDataContainer], now_ms: i64) {
        for event in events {
            // NB: checked again because the queue may have left the monitored set meanwhile.
            if let Ok(queue_id) = self.check_event(event) {
                self.apply_checked(queue_id, event, now_ms);
            }
        }
    }
}

/// One queue's part of a record.
#[derive(Debug)]
enum Recorded {
    /// Its events since the record began, in arrival order.
    Events(Vec<AggregateDataContainer>),
    /// It outgrew the bound; its events were let go.
    Overflowed,
}

#[derive(Debug, Default)]
struct Record {
    queues: HashMap<String, Recorded>,
}

/// The records of the resyncs in flight: a few at a time (one per channel), so each event
/// looks at all of them.
#[derive(Debug, Default)]
pub(super) struct Records {
    next_id: u64,
    in_flight: HashMap<u64, Record>,
}

/// What recording one event did.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Recording {
    /// No resync of the queue is in flight, or every one in flight kept the event.
    Kept,
    /// A record of the queue is over its bound and let the event go.
    Overflowed,
}

impl Records {
    fn begin(&mut self, queue_ids: &[String]) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        let queues = queue_ids
            .iter()
            .map(|queue_id| (queue_id.clone(), Recorded::Events(Vec::new())))
            .collect();
        self.in_flight.insert(id, Record { queues });
        id
    }

    /// Adds an event of `queue_id` to every record of that queue; overlapping resyncs
    /// (several channels, or a queue handed between them) each keep their own copy.
    pub(crate) fn push(&mut self, queue_id: &str, event: &AggregateDataContainer) -> Recording {
        let mut recording = Recording::Kept;
        for record in self.in_flight.values_mut() {
            let Some(recorded) = record.queues.get_mut(queue_id) else {
                continue;
            };
            match recorded {
                Recorded::Events(events) if events.len() < MAX_RECORDED_EVENTS_PER_QUEUE => {
                    events.push(event.clone());
                }
                _ => {
                    *recorded = Recorded::Overflowed;
                    recording = Recording::Overflowed;
                }
            }
        }
        recording
    }

    /// How many resyncs are recording.
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.len()
    }
}

#[cfg(test)]
mod tests;

//! The state file as written: borrowed from the ledger and serialized as it is walked, so a
//! save holds the file's bytes and not also a copy of the ledger as owned strings (at 5,000
//! queues with five media types that copy was larger than the file).
//!
//! The layout is what `StateFile` in `state.rs` reads back.

use chrono::{DateTime, Utc};
use serde::ser::{Serialize, Serializer};

use super::{FORMAT, Identity, QueueState, VERSION};
use crate::aggregates::ledger::{Ledger, Marks, SeriesKey, SeriesTotal};
use crate::vocabulary::counters::ConversationCounter;

/// The whole file.
#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct StateOut<'a> {
    format: &'static str,
    version: u32,
    identity: &'a Identity,
    saved_at: DateTime<Utc>,
    forgotten_before: Option<DateTime<Utc>>,
    queues: Queues<'a>,
    buckets: Buckets<'a>,
    totals: Totals<'a>,
}

impl<'a> StateOut<'a> {
    pub(super) fn new(identity: &'a Identity, ledger: &'a Ledger, saved_at: DateTime<Utc>) -> Self {
        Self {
            format: FORMAT,
            version: VERSION,
            identity,
            saved_at,
            forgotten_before: ledger.forgotten_before,
            queues: Queues(ledger),
            buckets: Buckets(ledger),
            totals: Totals(ledger),
        }
    }
}

/// Queue id → since when it is watched, sorted by id.
struct Queues<'a>(&'a Ledger);

impl Serialize for Queues<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut watched: Vec<_> = self.0.watched.iter().collect();
        watched.sort_unstable_by_key(|(id, _)| *id);
        serializer.collect_map(watched.into_iter().map(|(id, watch)| {
            let state = QueueState {
                since: watch.since,
                established: watch.established,
            };
            (id, state)
        }))
    }
}

/// Each bucket's start and the marks of its series.
struct Buckets<'a>(&'a Ledger);

impl Serialize for Buckets<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.buckets.iter().map(|(start, series)| Bucket {
            start,
            series: SeriesMarks(series),
        }))
    }
}

#[derive(serde::Serialize)]
struct Bucket<'a> {
    start: &'a DateTime<Utc>,
    series: SeriesMarks<'a>,
}

struct SeriesMarks<'a>(&'a std::collections::HashMap<SeriesKey, Marks>);

impl Serialize for SeriesMarks<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.iter().map(|(key, marks)| Series {
            key: SeriesFields::of(key),
            marks: ByName(marks),
        }))
    }
}

#[derive(serde::Serialize)]
struct Series<'a> {
    #[serde(flatten)]
    key: SeriesFields<'a>,
    marks: ByName<'a>,
}

/// A series key as the file's `queue`, `media` and (when split by it) `direction`.
#[derive(serde::Serialize)]
struct SeriesFields<'a> {
    queue: &'a str,
    media: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    direction: Option<&'a str>,
}

impl<'a> SeriesFields<'a> {
    fn of((queue, media, direction): &'a SeriesKey) -> Self {
        Self {
            queue,
            media,
            direction: direction.as_deref(),
        }
    }
}

/// Marks by counter name, in the order of `ConversationCounter::ALL`.
struct ByName<'a>(&'a Marks);

impl Serialize for ByName<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let present = ConversationCounter::ALL.into_iter();
        serializer.collect_map(
            present.filter_map(|counter| Some((counter.name(), *self.0.get(&counter)?))),
        )
    }
}

/// Every series' total, sorted by series.
struct Totals<'a>(&'a Ledger);

impl Serialize for Totals<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let ledger = self.0;
        let mut totals: Vec<_> = ledger.totals.iter().collect();
        totals.sort_unstable_by_key(|(key, _)| *key);
        serializer.collect_seq(totals.into_iter().map(|(key, total)| Total {
            key: SeriesFields::of(key),
            shown: total.shown,
            values: TotalValues { ledger, total },
        }))
    }
}

#[derive(serde::Serialize)]
struct Total<'a> {
    #[serde(flatten)]
    key: SeriesFields<'a>,
    shown: bool,
    values: TotalValues<'a>,
}

/// A total's values by counter name; a counter at 0 is left out (it reads back as 0).
struct TotalValues<'a> {
    ledger: &'a Ledger,
    total: &'a SeriesTotal,
}

impl Serialize for TotalValues<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let values = self.ledger.values_of(self.total);
        serializer.collect_map(
            values
                .filter(|(_, value)| *value != 0.0)
                .map(|(counter, value)| (counter.name(), value)),
        )
    }
}

//! Version 2 as the releases before version 3 wrote it, unchanged but for its name: the tests
//! load what it writes, and weigh version 3 against it. Its bytes are pinned by
//! `testdata/v2-watched.json`, which that code wrote.

use chrono::{DateTime, Utc};
use serde::ser::{Serialize, Serializer};

use serde::ser::SerializeMap;

use crate::aggregates::ledger::{Counter, Ledger, Marks, SeriesKey, SeriesTotal};
use crate::aggregates::state::{FORMAT, Identity, QueueState};

const VERSION: u32 = 2;

/// `ledger` as a version 2 state of `identity`, stamped `saved_at`.
pub(super) fn encode<C: Counter>(
    identity: &Identity,
    ledger: &Ledger<C>,
    saved_at: DateTime<Utc>,
) -> Vec<u8> {
    serde_json::to_vec(&StateOut::new(identity, ledger, saved_at)).unwrap()
}

/// The whole file; what the ledger watches is named by its counter type (`queues`, `agents`).
pub(super) struct StateOut<'a, C: Counter> {
    identity: &'a Identity,
    saved_at: DateTime<Utc>,
    ledger: &'a Ledger<C>,
}

impl<'a, C: Counter> StateOut<'a, C> {
    pub(super) fn new(
        identity: &'a Identity,
        ledger: &'a Ledger<C>,
        saved_at: DateTime<Utc>,
    ) -> Self {
        Self {
            identity,
            saved_at,
            ledger,
        }
    }
}

impl<C: Counter> Serialize for StateOut<'_, C> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let ledger = self.ledger;
        let mut map = serializer.serialize_map(Some(8))?;
        map.serialize_entry("format", FORMAT)?;
        map.serialize_entry("version", &VERSION)?;
        map.serialize_entry("identity", self.identity)?;
        map.serialize_entry("savedAt", &self.saved_at)?;
        map.serialize_entry("forgottenBefore", &ledger.forgotten_before)?;
        map.serialize_entry(C::Key::FIELDS.owners, &Owners(ledger))?;
        map.serialize_entry("buckets", &Buckets(ledger))?;
        map.serialize_entry("totals", &Totals(ledger))?;
        map.end()
    }
}

/// Owner id → since when it is watched, sorted by id.
struct Owners<'a, C: Counter>(&'a Ledger<C>);

impl<C: Counter> Serialize for Owners<'_, C> {
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
struct Buckets<'a, C: Counter>(&'a Ledger<C>);

impl<C: Counter> Serialize for Buckets<'_, C> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let counters = self.0.counters();
        serializer.collect_seq(self.0.buckets.iter().map(|(start, series)| Bucket {
            start,
            series: SeriesMarks(counters, series),
        }))
    }
}

#[derive(serde::Serialize)]
#[serde(bound = "C: Counter")]
struct Bucket<'a, C: Counter> {
    start: &'a DateTime<Utc>,
    series: SeriesMarks<'a, C>,
}

struct SeriesMarks<'a, C: Counter>(&'a [C], &'a std::collections::HashMap<C::Key, Marks<C>>);

impl<C: Counter> Serialize for SeriesMarks<'_, C> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.1.iter().map(|(key, marks)| Series {
            key,
            marks: Some(ByName(self.0, marks)),
            total: None,
        }))
    }
}

/// One series: its key under the counter type's field names (the owner, the group and, when
/// present, the part), then its marks or its total.
struct Series<'a, C: Counter> {
    key: &'a C::Key,
    marks: Option<ByName<'a, C>>,
    total: Option<TotalValues<'a, C>>,
}

impl<C: Counter> Serialize for Series<'_, C> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let fields = C::Key::FIELDS;
        let (owner, (group, part)) = names::<C>(self.key);
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry(fields.owner, owner)?;
        map.serialize_entry(fields.group, group)?;
        if let Some(part) = part {
            map.serialize_entry(fields.part, part)?;
        }
        if let Some(marks) = &self.marks {
            map.serialize_entry("marks", marks)?;
        }
        if let Some(total) = &self.total {
            map.serialize_entry("shown", &total.total.shown)?;
            map.serialize_entry("values", total)?;
        }
        map.end()
    }
}

/// Marks by counter name, in the ledger's counter order.
struct ByName<'a, C>(&'a [C], &'a Marks<C>);

impl<C: Counter> Serialize for ByName<'_, C> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let present = self.0.iter().copied();
        serializer.collect_map(
            present.filter_map(|counter| Some((counter.name(), *self.1.get(&counter)?))),
        )
    }
}

/// Every series' total, sorted by series.
struct Totals<'a, C: Counter>(&'a Ledger<C>);

impl<C: Counter> Serialize for Totals<'_, C> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let ledger = self.0;
        let mut totals: Vec<_> = ledger.totals.iter().collect();
        totals.sort_unstable_by_key(|&(key, _)| names::<C>(key));
        serializer.collect_seq(totals.into_iter().map(|(key, total)| Series {
            key,
            marks: None,
            total: Some(TotalValues { ledger, total }),
        }))
    }
}

/// A key as the version 2 file spells it, (owner, (group, part)): the order totals were
/// written in, as they were once sorted by a key of strings.
fn names<C: Counter>(key: &C::Key) -> (&str, (&str, Option<&str>)) {
    (key.owner(), key.names())
}

/// A total's values by counter name; a counter at 0 is left out (it reads back as 0).
struct TotalValues<'a, C: Counter> {
    ledger: &'a Ledger<C>,
    total: &'a SeriesTotal,
}

impl<C: Counter> Serialize for TotalValues<'_, C> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let values = self.ledger.values_of(self.total);
        serializer.collect_map(
            values
                .filter(|(_, value)| *value != 0.0)
                .map(|(counter, value)| (counter.name(), value)),
        )
    }
}

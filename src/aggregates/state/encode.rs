//! The state file as written, version 3 as `state.rs` lays it out: borrowed from the ledger
//! and serialized as it is walked, so a save holds the file's bytes and not also a copy of the
//! ledger as owned strings (at 5,000 queues with five media types that copy was larger than
//! the file). All it builds is the index of what series refer to by position: the watched
//! owners and the (group, part) pairs, thousands of entries where the series are a hundred
//! thousand.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;

use chrono::{DateTime, Utc};
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::{FORMAT, Identity, QueueState, VERSION};
use crate::aggregates::ledger::{Counter, Ledger, Marks, SeriesKey, SeriesTotal, Watch};

/// The whole file; what the ledger watches is named by its counter type (`queues`, `agents`).
pub(super) struct StateOut<'a, C: Counter> {
    identity: &'a Identity,
    saved_at: DateTime<Utc>,
    ledger: &'a Ledger<C>,
    index: Index<'a, C>,
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
            index: Index::of(identity, ledger),
        }
    }
}

impl<C: Counter> Serialize for StateOut<'_, C> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (ledger, index) = (self.ledger, &self.index);
        let mut map = serializer.serialize_map(Some(9))?;
        map.serialize_entry("format", FORMAT)?;
        map.serialize_entry("version", &VERSION)?;
        map.serialize_entry("identity", self.identity)?;
        map.serialize_entry("savedAt", &self.saved_at)?;
        map.serialize_entry("forgottenBefore", &ledger.forgotten_before)?;
        map.serialize_entry(C::Key::FIELDS.owners, &Owners(index))?;
        map.serialize_entry("groups", &index.groups)?;
        map.serialize_entry("buckets", &Buckets(ledger, index))?;
        map.serialize_entry("totals", &Totals(ledger, index))?;
        map.end()
    }
}

/// A series key's group and part.
type Group<'a> = (&'a str, Option<&'a str>);

/// The positions series refer to.
struct Index<'a, C> {
    /// The watched owners, sorted by id.
    owners: Vec<(&'a String, &'a Watch)>,
    owner_at: HashMap<&'a str, usize>,
    /// Every (group, part) of a series, sorted.
    groups: Vec<Group<'a>>,
    group_at: HashMap<Group<'a>, usize>,
    /// The ledger's counter (with its position there) under each of the identity's, which
    /// lists the same counters sorted by name.
    columns: Vec<Option<(usize, C)>>,
}

impl<'a, C: Counter> Index<'a, C> {
    fn of(identity: &Identity, ledger: &'a Ledger<C>) -> Self {
        let mut owners: Vec<_> = ledger.watched.iter().collect();
        owners.sort_unstable_by_key(|(id, _)| *id);
        let keys = (ledger.buckets.values().flat_map(HashMap::keys)).chain(ledger.totals.keys());
        let groups: BTreeSet<Group> = keys.map(SeriesKey::names).collect();
        let groups: Vec<Group> = groups.into_iter().collect();
        let counters = ledger.counters();
        Self {
            owner_at: positions(owners.iter().map(|(id, _)| id.as_str())),
            group_at: positions(groups.iter().copied()),
            columns: (identity.counters.iter())
                .map(|name| (counters.iter().copied().enumerate()).find(|(_, c)| c.name() == name))
                .collect(),
            owners,
            groups,
        }
    }

    /// The positions of the series' owner and group. `None` only for a series of an owner no
    /// longer watched, which the ledger never keeps (and a load would refuse).
    fn key(&self, key: &C::Key) -> Option<(usize, usize)> {
        let owner = *self.owner_at.get(key.owner())?;
        let group = *self.group_at.get(&key.names())?;
        Some((owner, group))
    }
}

/// Each item → its position.
fn positions<T: Eq + Hash>(items: impl Iterator<Item = T>) -> HashMap<T, usize> {
    items.enumerate().map(|(at, item)| (item, at)).collect()
}

/// Owner id → since when it is watched, sorted by id.
struct Owners<'i, 'a, C>(&'i Index<'a, C>);

impl<C> Serialize for Owners<'_, '_, C> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.owners.iter().map(|(id, watch)| {
            let state = QueueState {
                since: watch.since,
                established: watch.established,
            };
            (id, state)
        }))
    }
}

/// Each bucket's start and the marks of its series.
struct Buckets<'i, 'a, C: Counter>(&'a Ledger<C>, &'i Index<'a, C>);

impl<C: Counter> Serialize for Buckets<'_, '_, C> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.buckets.iter().map(|(start, series)| Bucket {
            start,
            series: SeriesMarks(self.1, series),
        }))
    }
}

#[derive(serde::Serialize)]
#[serde(bound = "C: Counter")]
struct Bucket<'i, 'a, C: Counter> {
    start: &'a DateTime<Utc>,
    series: SeriesMarks<'i, 'a, C>,
}

/// A bucket's series, each `[owner, group, marks]`.
struct SeriesMarks<'i, 'a, C: Counter>(&'i Index<'a, C>, &'a HashMap<C::Key, Marks<C>>);

impl<C: Counter> Serialize for SeriesMarks<'_, '_, C> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let index = self.0;
        serializer.collect_seq(self.1.iter().filter_map(|(key, marks)| {
            let (owner, group) = index.key(key)?;
            Some((owner, group, MarksOut(index, marks)))
        }))
    }
}

/// Marks in the identity's counter order, `null` where a counter has none.
struct MarksOut<'i, 'a, C>(&'i Index<'a, C>, &'a Marks<C>);

impl<C: Counter> Serialize for MarksOut<'_, '_, C> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let marks = self.1;
        serializer.collect_seq(self.0.columns.iter().map(|column| {
            let (_, counter) = (*column)?;
            marks.get(&counter).copied().map(Amount)
        }))
    }
}

/// Every series' total, `[owner, group, shown, values]`, sorted by series.
struct Totals<'i, 'a, C: Counter>(&'a Ledger<C>, &'i Index<'a, C>);

impl<C: Counter> Serialize for Totals<'_, '_, C> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let index = self.1;
        let mut totals: Vec<_> = (self.0.totals.iter())
            .filter_map(|(key, total)| Some((index.key(key)?, total)))
            .collect();
        totals.sort_unstable_by_key(|(key, _)| *key);
        serializer.collect_seq(
            totals
                .into_iter()
                .map(|((owner, group), total)| (owner, group, total.shown, TotalOut(index, total))),
        )
    }
}

/// A total's values in the identity's counter order.
struct TotalOut<'i, 'a, C>(&'i Index<'a, C>, &'a SeriesTotal);

impl<C: Counter> Serialize for TotalOut<'_, '_, C> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let values = &self.1.values;
        serializer.collect_seq(self.0.columns.iter().map(|column| {
            let value = column.and_then(|(at, _)| values.get(at).copied());
            Amount(value.unwrap_or(0.0))
        }))
    }
}

/// An amount in the upstream unit. Upstream counts and milliseconds are whole numbers, written
/// without the `.0` a float gets; below 2^53 every whole number reads back as the same `f64`.
#[derive(Clone, Copy)]
struct Amount(f64);

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        const EXACT: f64 = 9_007_199_254_740_992.0;
        let value = self.0;
        if value.fract() == 0.0 && (0.0..=EXACT).contains(&value) {
            // NB: whole, not negative, and below 2^53, so the cast is exact.
            serializer.serialize_u64(value as u64)
        } else {
            serializer.serialize_f64(value)
        }
    }
}

//! Versions 1 and 2 as read: every series spells out its key and its marks and totals by
//! counter name. No longer written, still read, so that an upgrade resumes where the release
//! before it stopped.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{Contents, LoadError, StateFile, amount, group, parse};
use crate::aggregates::ledger::{Counter, Marks, SeriesKey, SeriesTotal};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BucketState {
    start: DateTime<Utc>,
    series: Vec<SeriesState>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SeriesState {
    #[serde(alias = "user")]
    queue: String,
    #[serde(alias = "metric")]
    media: String,
    #[serde(default, alias = "qualifier")]
    direction: Option<String>,
    /// Counter name → high-water mark in the upstream unit.
    marks: BTreeMap<String, f64>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct TotalState {
    #[serde(alias = "user")]
    queue: String,
    #[serde(alias = "metric")]
    media: String,
    #[serde(default, alias = "qualifier")]
    direction: Option<String>,
    /// Whether a scrape had shown the series.
    shown: bool,
    /// Counter name → the series' increments summed, in the upstream unit.
    values: BTreeMap<String, f64>,
}

/// The marks and totals of `state`, a version 1 or 2 state, for a ledger counting `counters`.
pub(super) fn read<C: Counter>(
    counters: &[C],
    state: &StateFile,
) -> Result<Contents<C>, LoadError> {
    if state.groups.is_some() {
        let version = state.version;
        return Err(LoadError::Corrupt(format!(
            "groups in a version {version} state"
        )));
    }
    let mut buckets = BTreeMap::new();
    for bucket in parse::<Vec<BucketState>>(state.buckets, "buckets")? {
        let mut series: HashMap<C::Key, Marks<C>> = HashMap::new();
        for one in bucket.series {
            watched(state, &one.queue, "marks")?;
            let marks = by_counter(counters, one.marks, "mark")?;
            let key = key_of::<C::Key>(&one.queue, &one.media, one.direction.as_deref())?;
            series.insert(key, marks);
        }
        buckets.insert(bucket.start, series);
    }
    let totals = match state.totals {
        Some(raw) => parse(raw, "totals")?,
        None => Vec::new(),
    };
    Ok(Contents {
        buckets,
        totals: read_totals(counters, state, totals)?,
    })
}

fn read_totals<C: Counter>(
    counters: &[C],
    state: &StateFile,
    totals: Vec<TotalState>,
) -> Result<HashMap<C::Key, SeriesTotal>, LoadError> {
    let mut out = HashMap::new();
    for one in totals {
        watched(state, &one.queue, "totals")?;
        let values = by_counter(counters, one.values, "total")?;
        let total = SeriesTotal {
            values: (counters.iter())
                .map(|counter| values.get(counter).copied().unwrap_or(0.0))
                .collect(),
            shown: one.shown,
        };
        let key = key_of::<C::Key>(&one.queue, &one.media, one.direction.as_deref())?;
        out.insert(key, total);
    }
    Ok(out)
}

/// The key of a series these versions spell out.
fn key_of<K: SeriesKey>(owner: &str, name: &str, part: Option<&str>) -> Result<K, LoadError> {
    Ok(K::new(owner, group::<K>(name, part)?))
}

/// Whether `queue` (or agent) is watched: marks and totals of others are corrupt.
fn watched(state: &StateFile, queue: &str, what: &str) -> Result<(), LoadError> {
    if state.queues.contains_key(queue) {
        Ok(())
    } else {
        Err(LoadError::Corrupt(format!(
            "{what} for queue {queue} that is not watched"
        )))
    }
}

/// `values` by counter; `what` names them in an error.
fn by_counter<C: Counter>(
    counters: &[C],
    values: BTreeMap<String, f64>,
    what: &str,
) -> Result<Marks<C>, LoadError> {
    let mut marks = Marks::new();
    for (name, value) in values {
        let value = amount(value, what, &name)?;
        let counter = (counters.iter().copied())
            .find(|c| c.name() == name)
            .ok_or_else(|| LoadError::Corrupt(format!("unknown counter {name}")))?;
        marks.insert(counter, value);
    }
    Ok(marks)
}

//! Version 3 as read (laid out as `state.rs` describes): series name their owner and their
//! (group, part) by position and carry their marks and totals in the identity's counter
//! order. Every position and length is checked, as a state that does not add up must not be
//! partly trusted, and no input can make the reading panic.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{Contents, LoadError, StateFile, amount, group, parse};
use crate::aggregates::ledger::{Counter, Marks, SeriesKey, SeriesTotal};

/// A bucket with its series still as text, so that one bucket's rows at a time are held
/// before they become marks.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Bucket<'a> {
    start: DateTime<Utc>,
    #[serde(borrow)]
    series: &'a RawValue,
}

/// `[owner, group, marks]`.
#[derive(Deserialize)]
struct SeriesRow(usize, usize, Vec<Option<f64>>);

/// `[owner, group, shown, values]`.
#[derive(Deserialize)]
struct TotalRow(usize, usize, bool, Vec<f64>);

/// The marks and totals of `state`, a version 3 state, for a ledger counting `counters`.
pub(super) fn read<C: Counter>(
    counters: &[C],
    state: &StateFile,
) -> Result<Contents<C>, LoadError> {
    let names = Names::of(counters, state)?;
    let mut buckets = BTreeMap::new();
    for bucket in parse::<Vec<Bucket>>(state.buckets, "buckets")? {
        let rows: Vec<SeriesRow> = parse(bucket.series, "series")?;
        let series = (rows.into_iter())
            .map(|SeriesRow(owner, group, marks)| {
                Ok((names.key(owner, group, "marks")?, names.marks(marks)?))
            })
            .collect::<Result<HashMap<_, _>, LoadError>>()?;
        buckets.insert(bucket.start, series);
    }
    let totals = state
        .totals
        .ok_or_else(|| LoadError::Corrupt("no totals".into()))?;
    let totals = (parse::<Vec<TotalRow>>(totals, "totals")?.into_iter())
        .map(|TotalRow(owner, group, shown, values)| {
            Ok((
                names.key(owner, group, "totals")?,
                names.total(values, shown)?,
            ))
        })
        .collect::<Result<_, LoadError>>()?;
    Ok(Contents { buckets, totals })
}

/// What the positions in a state refer to.
struct Names<'s, C: Counter> {
    /// The watched owners, sorted by id.
    owners: Vec<&'s String>,
    /// The listed groups, each parsed once however many series refer to it.
    groups: Vec<<C::Key as SeriesKey>::Group<'s>>,
    /// Each of the identity's counters: its name and its position among `counters`, if the
    /// ledger counts it.
    columns: Vec<(&'s str, Option<usize>)>,
    counters: &'s [C],
}

impl<'s, C: Counter> Names<'s, C> {
    fn of(counters: &'s [C], state: &'s StateFile) -> Result<Self, LoadError> {
        let groups =
            (state.groups.as_deref()).ok_or_else(|| LoadError::Corrupt("no groups".into()))?;
        let groups = (groups.iter())
            .map(|(name, part)| group::<C::Key>(name, part.as_deref()))
            .collect::<Result<_, _>>()?;
        let columns = (state.identity.counters.iter())
            .map(|name| {
                (
                    name.as_str(),
                    counters.iter().position(|c| c.name() == name),
                )
            })
            .collect();
        Ok(Self {
            owners: state.queues.keys().collect(),
            groups,
            columns,
            counters,
        })
    }

    /// The key of the series of the owner and group at those positions; `what` names its row.
    fn key(&self, owner: usize, group: usize, what: &str) -> Result<C::Key, LoadError> {
        let fields = C::Key::FIELDS;
        let Some(id) = self.owners.get(owner) else {
            let watched = self.owners.len();
            return Err(LoadError::Corrupt(format!(
                "{what} of {} #{owner}, which is not watched (the state watches {watched} {})",
                fields.owner, fields.owners
            )));
        };
        let Some(&group_of_series) = self.groups.get(group) else {
            let listed = self.groups.len();
            return Err(LoadError::Corrupt(format!(
                "{what} of group #{group}, which is not listed (the state lists {listed} groups)"
            )));
        };
        Ok(C::Key::new(id, group_of_series))
    }

    /// A row's marks by counter; `null` is a counter without one.
    fn marks(&self, values: Vec<Option<f64>>) -> Result<Marks<C>, LoadError> {
        self.fits(values.len(), "marks")?;
        let mut marks = Marks::new();
        for (&(name, at), value) in self.columns.iter().zip(values) {
            if let Some(value) = value {
                let value = amount(value, "mark", name)?;
                marks.insert(self.counters[self.counted(name, at)?], value);
            }
        }
        Ok(marks)
    }

    /// A row's total, its values in the ledger's counter order.
    fn total(&self, values: Vec<f64>, shown: bool) -> Result<SeriesTotal, LoadError> {
        self.fits(values.len(), "totals")?;
        let mut total = vec![0.0; self.counters.len()];
        for (&(name, at), value) in self.columns.iter().zip(values) {
            if amount(value, "total", name)? != 0.0 {
                total[self.counted(name, at)?] = value;
            }
        }
        Ok(SeriesTotal {
            values: total,
            shown,
        })
    }

    fn fits(&self, len: usize, what: &str) -> Result<(), LoadError> {
        let want = self.columns.len();
        if len == want {
            Ok(())
        } else {
            Err(LoadError::Corrupt(format!(
                "{what} of {len} counters, expected {want}"
            )))
        }
    }

    /// The position among the ledger's counters of a counter with a value.
    fn counted(&self, name: &str, at: Option<usize>) -> Result<usize, LoadError> {
        at.ok_or_else(|| LoadError::Corrupt(format!("unknown counter {name}")))
    }
}

//! Series of (owner, counter, part): the shape the flows' and the data actions' counters
//! share, where one counter has a series per part (an exit reason, a response status) and
//! every group the aggregates query answers is named by its dimensions.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::hash::Hash;

use tracing::{debug, warn};

use super::ledger::{Counter, KeyFields, Reader, SeriesKey};
use super::telemetry::{AggregateMetrics, Telemetered};
use super::{Shelved, Totals};
use crate::genesys::model::KeyedAggregateDataContainer;
use crate::metrics::registry::SelfMetrics;

/// A counter whose series are [`PartKey`]s.
pub trait PartCounter: Counter<Key = PartKey<Self>> + Ord {
    /// Every counter, in the state file's order.
    const ALL: &'static [Self];
    /// What the state file calls the owners and the parts of a key.
    const FIELDS: KeyFields;
}

/// One series: an owner's counter, and the part it is of.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PartKey<C> {
    pub(crate) owner: String,
    pub(crate) counter: C,
    pub(crate) part: Option<String>,
}

impl<C: PartCounter> SeriesKey for PartKey<C> {
    const FIELDS: KeyFields = C::FIELDS;

    type Group<'a> = (C, Option<&'a str>);

    fn new(owner: &str, (counter, part): (C, Option<&str>)) -> Self {
        Self {
            owner: owner.to_owned(),
            counter,
            part: part.map(str::to_owned),
        }
    }

    fn owner(&self) -> &str {
        &self.owner
    }

    fn is_of(&self, (counter, part): (C, Option<&str>)) -> bool {
        self.counter == counter && self.part.as_deref() == part
    }

    fn names(&self) -> (&str, Option<&str>) {
        (self.counter.name(), self.part.as_deref())
    }

    fn parse<'a>(counter: &'a str, part: Option<&'a str>) -> Option<(C, Option<&'a str>)> {
        let counter = C::ALL.iter().copied().find(|c| c.name() == counter)?;
        Some((counter, part))
    }
}

/// `dimension` of a group, and `then` after a `/` when the group has it too (`TRANSFER/ACD`,
/// `504/TIMEOUT`): one part of two dimensions.
pub(crate) fn part_of(
    group: &BTreeMap<String, String>,
    dimension: &str,
    then: &str,
) -> Option<String> {
    let first = group.get(dimension)?;
    Some(match group.get(then) {
        Some(second) => format!("{first}/{second}"),
        None => first.clone(),
    })
}

impl<C: PartCounter + Shelved + Telemetered> Totals<C>
where
    AggregateMetrics<C>: SelfMetrics,
    C::Key: Debug + Hash,
{
    /// Folds one group, its owner the group's `owner` dimension, read by `reader`; returns how
    /// many increments it owes. Owners not watched never reach the ledger's memory.
    pub(crate) fn fold_keyed(
        &self,
        owner: &str,
        reader: &impl Reader<C>,
        container: &KeyedAggregateDataContainer,
    ) -> usize {
        let what = C::TELEMETRY.bucket;
        let Some(id) = container.group.get(owner) else {
            debug!(group = ?container.group, what, "aggregate group without its owner ignored");
            return 0;
        };
        let report = self.fold_owner(id, reader, &container.data, None);
        if report.malformed + report.off_grid_buckets > 0 {
            warn!(
                id,
                what,
                malformed = report.malformed,
                off_grid = report.off_grid_buckets,
                "aggregate buckets with unparseable intervals, invalid values or starts off the \
                 granularity grid ignored"
            );
        }
        report.deltas.len()
    }
}

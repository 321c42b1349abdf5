//! What an aggregates query may see: records that show only once their reporting lag has
//! passed, summed in one-minute cells so that any granularity of whole minutes adds them up
//! exactly. The queues' conversations, the agents' time in status and the flows' visits each
//! keep one, keyed by what their query groups by.

use std::collections::{BTreeMap, HashMap};
use std::hash::Hash;

/// Cells are one minute wide, so any granularity of whole minutes maps onto them exactly.
pub(crate) const CELL_MS: i64 = 60_000;
/// Cells older than this are forgotten, so a long demo keeps bounded memory.
const RETENTION_MS: i64 = 36 * 3_600_000;

/// A value cells add up: a set of statistics, or milliseconds.
pub(crate) trait Tally: Default + Clone {
    fn merge(&mut self, other: &Self);
}

impl Tally for u64 {
    fn merge(&mut self, other: &Self) {
        *self += other;
    }
}

/// One record inside its reporting lag.
#[derive(Debug, Clone)]
struct Piece<K, V> {
    visible_ms: i64,
    cell: i64,
    key: K,
    value: V,
}

#[derive(Debug)]
pub(crate) struct Lagged<K, V> {
    /// Cell start ms → key → what is visible so far.
    cells: BTreeMap<i64, HashMap<K, V>>,
    pending: Vec<Piece<K, V>>,
}

impl<K, V> Default for Lagged<K, V> {
    fn default() -> Self {
        Self {
            cells: BTreeMap::new(),
            pending: Vec::new(),
        }
    }
}

impl<K: Copy + Eq + Hash + Ord, V: Tally> Lagged<K, V> {
    /// `value` of `key` at `at_ms`, visible from `visible_ms` (at once if that is not after
    /// `now_ms`).
    pub(crate) fn record(&mut self, key: K, at_ms: i64, value: V, visible_ms: i64, now_ms: i64) {
        if visible_ms <= now_ms {
            self.fold(Self::piece(key, at_ms, value, visible_ms));
        } else {
            self.hold(key, at_ms, value, visible_ms);
        }
    }

    /// `value` of `key` at `at_ms`, visible from `visible_ms` once a flush says so.
    pub(crate) fn hold(&mut self, key: K, at_ms: i64, value: V, visible_ms: i64) {
        (self.pending).push(Self::piece(key, at_ms, value, visible_ms));
    }

    fn piece(key: K, at_ms: i64, value: V, visible_ms: i64) -> Piece<K, V> {
        Piece {
            visible_ms,
            cell: at_ms - at_ms.rem_euclid(CELL_MS),
            key,
            value,
        }
    }

    fn fold(&mut self, piece: Piece<K, V>) {
        let cell = self.cells.entry(piece.cell).or_default();
        cell.entry(piece.key).or_default().merge(&piece.value);
    }

    /// Makes the records whose lag has passed visible and forgets expired cells.
    pub(crate) fn flush(&mut self, now_ms: i64) {
        let (due, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.pending)
            .into_iter()
            .partition(|piece| piece.visible_ms <= now_ms);
        self.pending = keep;
        for piece in due {
            self.fold(piece);
        }
        let horizon = now_ms - RETENTION_MS;
        while let Some(entry) = self.cells.first_entry() {
            if *entry.key() >= horizon {
                break;
            }
            entry.remove();
        }
    }

    /// How many records are still inside their reporting lag.
    pub(crate) fn pending(&self) -> usize {
        self.pending.len()
    }

    /// What is visible per (group, bucket index) for `[start_ms, end_ms)` in `granularity_ms`
    /// steps: each key counts in the group `grouped` maps it to (several keys may add up in
    /// one), or in none.
    pub(crate) fn query<G: Ord>(
        &self,
        (start_ms, end_ms, granularity_ms): (i64, i64, i64),
        grouped: impl Fn(&K) -> Option<G>,
    ) -> BTreeMap<(G, i64), V> {
        let mut out: BTreeMap<(G, i64), V> = BTreeMap::new();
        for (cell, keys) in self.cells.range(start_ms..end_ms) {
            let bucket = (cell - start_ms) / granularity_ms.max(1);
            for (key, value) in keys {
                if let Some(group) = grouped(key) {
                    out.entry((group, bucket)).or_default().merge(value);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;

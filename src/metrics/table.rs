//! One table of entries with freshness, the shape every source's table in the store shares
//! (docs/operations.md#fresh-and-stale): entries by id, so a scrape comes out in a stable
//! order, and the rules by which an entry's values turn fresh or stale.
//!
//! An entry's freshness is the instant up to which its values are known current. A successful
//! resync sets it; so do an event and a heartbeat on a healthy socket, but only once the entry
//! has been resynced at least once (before that its values are not known to be complete) and
//! only while it is not stale. An entry is stale from a failed resync, or from the moment its
//! freshness is older than the staleness bound, until its next successful resync.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, RwLock, RwLockReadGuard};

use super::text::{self, Kind};
use crate::sync::lock;

/// An entry's freshness.
#[derive(Debug, Clone)]
pub(crate) struct Freshness {
    /// Whether a resync has ever refreshed it; until then nothing else moves its freshness
    /// and its gauges are not shown.
    resynced: bool,
    stale: bool,
    /// Unix seconds up to which its values are known current; before the first resync, when
    /// it joined the table (so an entry that can never be resynced turns stale too).
    fresh_at: f64,
    /// Unix seconds of its last successful resync.
    resynced_at: Option<f64>,
}

impl Freshness {
    pub(crate) fn joined(now_seconds: f64) -> Self {
        Self {
            resynced: false,
            stale: false,
            fresh_at: now_seconds,
            resynced_at: None,
        }
    }

    /// The stream showed the values current as of `at_unix_seconds`; only a resync makes
    /// stale or never-resynced values fresh.
    pub(crate) fn observed(&mut self, at_unix_seconds: f64) {
        if self.resynced && !self.stale {
            self.fresh_at = self.fresh_at.max(at_unix_seconds);
        }
    }

    /// Turns stale if its values are older than `bound` at `now_unix_seconds`; returns the
    /// instant after which it would turn if nothing refreshed it (infinite once stale).
    fn sweep(&mut self, now_unix_seconds: f64, bound: f64) -> f64 {
        self.stale |= now_unix_seconds - self.fresh_at > bound;
        if self.stale {
            f64::INFINITY
        } else {
            self.fresh_at + bound
        }
    }

    pub(crate) fn resynced(&mut self, at_unix_seconds: f64) {
        self.resynced = true;
        self.stale = false;
        self.fresh_at = at_unix_seconds;
        self.resynced_at = Some(at_unix_seconds);
    }

    /// Its values could not be refreshed; cleared by its next resync.
    pub(crate) fn mark_stale(&mut self) {
        self.stale = true;
    }

    pub(crate) fn is_stale(&self) -> bool {
        self.stale
    }

    pub(crate) fn is_resynced(&self) -> bool {
        self.resynced
    }

    /// Unix seconds up to which its values are known current; `None` before the first resync.
    pub(crate) fn fresh_at(&self) -> Option<f64> {
        self.resynced.then_some(self.fresh_at)
    }

    /// Unix seconds of its last successful resync.
    pub(crate) fn resynced_at(&self) -> Option<f64> {
        self.resynced_at
    }
}

/// What a table needs of its entries.
pub(crate) trait Entry: Send {
    /// The labels an entry is created from and relabelled by (a queue's, an agent's).
    type Labels;

    fn new(labels: &Self::Labels, now_seconds: f64) -> Self;
    fn id(labels: &Self::Labels) -> &str;
    /// Takes new labels; returns whether that renames it (its values are kept).
    fn relabel(&mut self, labels: &Self::Labels) -> bool;
    fn freshness(&mut self) -> &mut Freshness;
    /// Its name, as a label of other sources' series (a queue's, on its members).
    fn name(&self) -> &str;
}

/// Entries' names by id: how one source's series label what another watches (an agent's
/// queues) without knowing that source.
pub trait Names: Send + Sync {
    fn names(&self) -> HashMap<String, String>;
}

/// Entries by id. One lock per entry under the set's lock: a scrape holds each entry only
/// while writing it, so a stream event never waits for a whole 5,000-queue scrape.
pub(crate) struct Table<E> {
    entries: RwLock<BTreeMap<String, Mutex<E>>>,
}

impl<E> Default for Table<E> {
    fn default() -> Self {
        Self {
            entries: RwLock::default(),
        }
    }
}

impl<E: Entry> Table<E> {
    /// Keeps exactly `wanted`: an entry that left takes its values with it, one that stays
    /// takes its new labels, a new one joins at `now_seconds`. Returns whether any was
    /// renamed, and how many entries there are now.
    pub(crate) fn replace(&self, wanted: &[E::Labels], now_seconds: f64) -> (bool, usize) {
        let ids: HashSet<&str> = wanted.iter().map(E::id).collect();
        let mut known = crate::sync::write(&self.entries);
        known.retain(|id, _| ids.contains(id.as_str()));
        let mut renamed = false;
        for labels in wanted {
            match known.get_mut(E::id(labels)) {
                Some(entry) => renamed |= crate::sync::get_mut(entry).relabel(labels),
                None => {
                    let entry = Mutex::new(E::new(labels, now_seconds));
                    known.insert(E::id(labels).to_owned(), entry);
                }
            }
        }
        (renamed, known.len())
    }

    /// Runs `write` on the entry; an id not in the table is ignored. Only this entry is
    /// locked, so a scrape rendering others does not hold the writer up.
    pub(crate) fn with<T>(&self, id: &str, write: impl FnOnce(&mut E) -> T) -> Option<T> {
        let entries = crate::sync::read(&self.entries);
        entries.get(id).map(|entry| write(&mut lock(entry)))
    }

    pub(crate) fn contains(&self, id: &str) -> bool {
        crate::sync::read(&self.entries).contains_key(id)
    }

    /// Every entry's name by id.
    pub(crate) fn names(&self) -> HashMap<String, String> {
        let entries = crate::sync::read(&self.entries);
        (entries.iter())
            .map(|(id, entry)| (id.clone(), lock(entry).name().to_owned()))
            .collect()
    }

    pub(crate) fn len(&self) -> usize {
        crate::sync::read(&self.entries).len()
    }

    /// Every entry, locked one at a time, in id order.
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, BTreeMap<String, Mutex<E>>> {
        crate::sync::read(&self.entries)
    }

    /// The stream showed these entries current as of `at_unix_seconds` (an event, or a
    /// heartbeat on their healthy socket).
    pub(crate) fn observed<'a>(&self, ids: impl IntoIterator<Item = &'a str>, at: f64) {
        let entries = crate::sync::read(&self.entries);
        for entry in ids.into_iter().filter_map(|id| entries.get(id)) {
            lock(entry).freshness().observed(at);
        }
    }

    /// The entry's values could not be refreshed; cleared by its next resync.
    pub(crate) fn set_stale(&self, id: &str) {
        self.with(id, |entry| entry.freshness().mark_stale());
    }

    /// The entries among `ids` that are marked stale.
    pub(crate) fn stale(&self, ids: &[String]) -> Vec<String> {
        let entries = crate::sync::read(&self.entries);
        let is_stale = |id: &&String| {
            (entries.get(*id)).is_some_and(|entry| lock(entry).freshness().is_stale())
        };
        ids.iter().filter(is_stale).cloned().collect()
    }

    /// One family as exposition text: its header, then each entry's samples as `write` gives
    /// them, in id order; empty when no entry has a sample (the `prometheus` crate leaves out
    /// a family without series; so do we). `per_entry` is the bytes one entry may take, so the
    /// part is written without a copy; pages never written are never resident.
    pub(crate) fn render_family(
        &self,
        (name, help, kind): (&str, &str, Kind),
        per_entry: usize,
        mut write: impl FnMut(&E, &mut Vec<u8>),
    ) -> Vec<u8> {
        let entries = crate::sync::read(&self.entries);
        if entries.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::with_capacity(1024 + entries.len() * per_entry);
        text::header(&mut out, name, help, kind);
        let header = out.len();
        for entry in entries.values() {
            write(&lock(entry), &mut out);
        }
        if out.len() == header {
            out.clear();
        }
        out
    }

    /// Marks stale every entry older than `bound` at `now`; returns the Unix seconds up to
    /// which a sweep would judge every one the same.
    pub(crate) fn sweep(&self, now_unix_seconds: f64, bound: f64) -> f64 {
        let entries = crate::sync::read(&self.entries);
        (entries.values())
            .map(|entry| lock(entry).freshness().sweep(now_unix_seconds, bound))
            .fold(f64::INFINITY, f64::min)
    }
}

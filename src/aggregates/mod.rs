//! Conversation aggregates: the poller and the bucket ledger (docs/metrics.md#counters).
//!
//! Two sources feed one [`ConversationTotals`]: the [`poller::Poller`] (a sliding window of the
//! aggregates query) and the stream supervisor (running totals of the current 30-minute
//! bucket). Both go through the same [`ledger::Ledger`], so whichever source reports a bucket
//! first moves the counters and the other only adds what it knows beyond that.

pub mod ledger;
pub mod parts;
pub(crate) mod poller;
pub mod state;
pub(crate) mod telemetry;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tracing::{error, info, warn};

use crate::aggregates::telemetry::AggregateMetrics;
use crate::genesys::model::StatisticalResponse;
use crate::metrics::Metrics;
use crate::metrics::registry::SelfMetrics;
use crate::vocabulary::counters::ConversationCounter;
use ledger::{Counter, FoldReport, Ledger, Reader};
use state::{LoadError, StateStore};

/// A counter the store shows: how its series reach `/metrics`, through its source's table.
pub(crate) trait Shelved: Counter {
    /// The table its series are shown in (the queues', the agents').
    type Shelf: Send + Sync;
    /// Sets the series' counters to `totals`; a series created here shows its zeros first
    /// unless `shown_before` (`metrics/counted.rs`).
    fn show(shelf: &Self::Shelf, key: &Self::Key, totals: Vec<(Self, f64)>, shown_before: bool);
    /// Makes sure the series' counters exist, at 0 if new.
    fn ensure(shelf: &Self::Shelf, key: &Self::Key);
    /// Whether a finished render has shown the series.
    fn shown(shelf: &Self::Shelf, key: &Self::Key) -> bool;
}

/// The queues' conversation counters.
pub(crate) type ConversationTotals = Totals<ConversationCounter>;

/// The ledger plus the counters it feeds; for conversations, shared by the poller and the
/// stream supervisor (whose running 30-minute totals feed the same ledger). Agents' time in
/// status has one of its own.
///
/// The counters show each series' total as the ledger keeps it. With a state store, a total
/// shows only once it is on disk, so whatever a scrape has shown, a restart resumes at least
/// there: a crash loses nothing and never counts a conversation twice.
pub(crate) struct Totals<C: Shelved> {
    inner: Mutex<Inner<C>>,
    shelf: Arc<C::Shelf>,
    telemetry: AggregateMetrics<C>,
    store: Option<StateStore>,
    /// Serializes saves, so states reach the disk in the order they were taken.
    saving: tokio::sync::Mutex<()>,
}

struct Inner<C: Counter> {
    ledger: Ledger<C>,
    /// Series whose totals moved since the counters last showed them (with a store: waiting
    /// for the next save). One entry per series, however many increments.
    unpublished: HashSet<C::Key>,
    /// Totals loaded from the state that the counters do not show yet: their owners were not
    /// being watched when the state loaded. Taken over by the first fold or watch of their
    /// owner, or by a save.
    resumed: HashMap<C::Key, Vec<f64>>,
    /// The ledger changed since the last save.
    dirty: bool,
}

impl<C: Shelved> Totals<C>
where
    AggregateMetrics<C>: SelfMetrics,
{
    /// Totals shown in `shelf`, with self-metrics on `metrics`. `granularity` is the only
    /// bucket width folded (see [`Ledger::new`]); `counters` are the configured set, in the
    /// order of every total's values.
    pub(crate) fn new(
        metrics: &Metrics,
        shelf: Arc<C::Shelf>,
        granularity: Duration,
        counters: Vec<C>,
    ) -> Self {
        let ledger = Ledger::new(granularity, counters);
        Self {
            inner: Mutex::new(Inner {
                ledger,
                unpublished: HashSet::new(),
                resumed: HashMap::new(),
                dirty: false,
            }),
            telemetry: AggregateMetrics::of(metrics),
            shelf,
            store: None,
            saving: tokio::sync::Mutex::new(()),
        }
    }

    /// Like [`Totals::new`], persisted in `store`, whose state (if it is a valid baseline at
    /// `now`) is where counting resumes, every counter at its saved total.
    pub(crate) fn with_store(
        (metrics, shelf): (&Metrics, Arc<C::Shelf>),
        granularity: Duration,
        counters: Vec<C>,
        store: StateStore,
        now: DateTime<Utc>,
    ) -> Self {
        let mut totals = Self::new(metrics, shelf, granularity, counters.clone());
        let result = store.load_into(&mut totals.lock().ledger, now);
        let path = store.path().display().to_string();
        match &result {
            Ok(()) => {
                let inner = &mut *totals.lock();
                inner.resumed = inner
                    .ledger
                    .totals
                    .iter()
                    .map(|(key, total)| (key.clone(), total.values.clone()))
                    .collect();
                info!(
                    %path,
                    watched = inner.ledger.watched.len(),
                    buckets = inner.ledger.bucket_count(),
                    series = inner.resumed.len(),
                    "counter state loaded: counting resumes where it stopped"
                );
            }
            Err(LoadError::Missing) => info!(%path, "no counter state yet; starting a baseline"),
            Err(error) => warn!(
                %path,
                reason = error.as_str(),
                %error,
                "counter state ignored; starting a fresh baseline"
            ),
        }
        if result.is_err() {
            // NB: a partly restored ledger must not survive a failed load.
            let fresh = Ledger::new(granularity, counters);
            totals.lock().ledger = fresh;
        }
        totals.telemetry.state_loaded(result.as_ref().copied());
        totals.store = Some(store);
        totals
    }

    /// What the ledger holds: bounded by the window and the watched series.
    pub(crate) fn holdings(&self) -> LedgerHoldings {
        let inner = self.lock();
        let ledger = &inner.ledger;
        LedgerHoldings {
            buckets: ledger.buckets.len(),
            marks: ledger.buckets.values().map(HashMap::len).sum(),
            series_totals: ledger.totals.len(),
            unpublished_series: inner.unpublished.len(),
        }
    }

    /// The table its counters are shown in, for a counter type's reader.
    pub(crate) fn shelf(&self) -> &C::Shelf {
        &self.shelf
    }

    pub(crate) fn granularity(&self) -> Duration {
        self.lock().ledger.granularity()
    }

    /// The counters folded, in the order of every total's values.
    pub(crate) fn counters(&self) -> Vec<C> {
        self.lock().ledger.counters().to_vec()
    }

    /// Folds `owner`'s buckets as `reader` reads them. `group`: the one series every reading
    /// belongs to (a queue's media type), made to exist once the window has data for it, so
    /// it keeps its series through a restart; without one, each series exists once moved.
    pub(crate) fn fold_owner(
        &self,
        owner: &str,
        reader: &impl Reader<C>,
        buckets: &[StatisticalResponse],
        group: Option<&C::Key>,
    ) -> FoldReport<C> {
        let report = {
            let mut inner = self.lock();
            let report = inner.ledger.fold(owner, reader, buckets);
            inner.dirty |= report.baselined > 0 || !report.deltas.is_empty();
            if let Some(key) = group {
                let resumed = self.resume(&mut inner, key);
                if !resumed && report.admitted > 0 {
                    C::ensure(&self.shelf, key);
                }
            }
            for delta in &report.deltas {
                // NB: without one group, each series a delta moves shows its zeros first.
                if group.is_none() && !self.resume(&mut inner, &delta.key) {
                    C::ensure(&self.shelf, &delta.key);
                }
                inner.unpublished.insert(delta.key.clone());
            }
            if !report.deltas.is_empty() && self.store.is_none() {
                self.show_unpublished(&mut inner);
            }
            report
        };
        for (reason, n) in report.rejected() {
            self.telemetry.buckets_rejected(reason, n);
        }
        report
    }

    /// Makes `ids` the counted set: new owners start at 0 on a baseline taken from `now`;
    /// loaded series of these owners resume at their saved totals.
    pub(crate) fn watch(&self, ids: &[String], now: DateTime<Utc>) {
        let mut guard = self.lock();
        let inner = &mut *guard;
        inner.dirty |= inner.ledger.watch(ids, now);
        let ledger = &inner.ledger;
        // NB: the ledger dropped the totals of owners no longer watched.
        inner.resumed.retain(|key, _| ledger.total(key).is_some());
        let keys: Vec<C::Key> = inner.resumed.keys().cloned().collect();
        for key in keys {
            self.resume(inner, &key);
        }
    }

    /// A successful poll read the whole window of `ids`.
    pub(crate) fn establish(&self, ids: &[String]) {
        let mut inner = self.lock();
        inner.ledger.establish(ids);
        // NB: saved after every successful poll even if nothing changed, so that a quiet
        // night does not age the state past the window and lose the next downtime.
        inner.dirty = true;
    }

    /// Drops buckets that start before `cutoff` (bounded memory); they are refused afterwards.
    pub(crate) fn forget_before(&self, cutoff: DateTime<Utc>) {
        self.lock().ledger.forget_before(cutoff);
    }

    /// Whether a save would write anything.
    pub(crate) fn has_unsaved(&self) -> bool {
        if self.store.is_none() {
            return false;
        }
        let inner = self.lock();
        inner.dirty || (inner.unpublished.iter()).any(|key| self.is_shown(&inner.ledger, key))
    }

    /// Writes the ledger to the store (if any), then shows the totals it holds of series a
    /// scrape has shown.
    ///
    /// A series no scrape has shown yet shows its zeros only: its totals wait until a save
    /// has recorded that its zeros were shown. So a restart resumes a series at its total
    /// only if Prometheus may hold a value for it, and through its zeros only if Prometheus
    /// holds at most those.
    ///
    /// A failed write is logged and counted, and the totals are shown anyway, because
    /// counters that freeze on a full disk would hide the contact centre; the state file it
    /// could not replace is removed instead, since a restart resuming below what was shown
    /// would read to Prometheus as a reset and count it all again.
    pub(crate) async fn save(&self, now: DateTime<Utc>) {
        let Some(store) = &self.store else {
            return;
        };
        let _order = self.saving.lock().await;
        let (bytes, due) = {
            let mut inner = self.lock();
            self.note_shown(&mut inner.ledger);
            let due: Vec<C::Key> = (inner.unpublished.iter())
                .filter(|key| inner.ledger.is_shown(key))
                .cloned()
                .collect();
            if !inner.dirty && due.is_empty() {
                return;
            }
            inner.dirty = false;
            let bytes = store.encode(&inner.ledger, now);
            // NB: what shows after the write is what it wrote, not totals moved since.
            let due: Vec<(C::Key, Vec<f64>)> = (due.into_iter())
                .filter_map(|key| {
                    inner.unpublished.remove(&key);
                    let values = inner.ledger.total(&key)?.values.clone();
                    Some((key, values))
                })
                .collect();
            (bytes, due)
        };
        let writer = store.clone();
        let written = tokio::task::spawn_blocking(move || writer.write(&bytes)).await;
        let error = match written {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e.to_string()),
            Err(e) => Some(e.to_string()),
        };
        if let Some(error) = &error {
            let path = store.path().display();
            match store.discard() {
                Ok(()) => warn!(
                    %path, %error,
                    "could not write the counter state; removed the previous one, so a restart \
                     now starts on a fresh baseline"
                ),
                Err(discard) => error!(
                    %path, %error, %discard,
                    "could not write the counter state, nor remove the previous one: a restart \
                     now would resume below the counters shown and count them again"
                ),
            }
            self.lock().dirty = true;
        }
        self.telemetry
            .state_written(error.is_none(), now.timestamp());
        let mut inner = self.lock();
        for (key, values) in due {
            self.show(&mut inner, &key, values);
        }
    }

    /// Shows `values` as the series' counters. Called under the lock, so totals reach the
    /// counters in the order they were taken and a series never shows an older one after a
    /// newer.
    fn show(&self, inner: &mut Inner<C>, key: &C::Key, values: Vec<f64>) {
        inner.resumed.remove(key);
        let shown = inner.ledger.is_shown(key);
        let totals = inner
            .ledger
            .counters()
            .iter()
            .copied()
            .zip(values)
            .collect();
        C::show(&self.shelf, key, totals, shown);
    }

    /// Shows the series' loaded total if the counters do not show it yet; returns whether it
    /// did.
    fn resume(&self, inner: &mut Inner<C>, key: &C::Key) -> bool {
        let Some(values) = inner.resumed.remove(key) else {
            return false;
        };
        if inner.ledger.is_shown(key) {
            self.show(inner, key, values);
        } else {
            // NB: no scrape had shown it, so its zeros come first, as for a new series.
            C::ensure(&self.shelf, key);
            inner.unpublished.insert(key.clone());
        }
        true
    }

    /// Whether a scrape has shown the series: recorded in the ledger, or seen now.
    fn is_shown(&self, ledger: &Ledger<C>, key: &C::Key) -> bool {
        ledger.is_shown(key) || C::shown(&self.shelf, key)
    }

    /// Without a store: shows every moved total at once.
    fn show_unpublished(&self, inner: &mut Inner<C>) {
        for key in std::mem::take(&mut inner.unpublished) {
            if let Some(total) = inner.ledger.total(&key) {
                let values = total.values.clone();
                self.show(inner, &key, values);
            }
        }
    }

    /// Records in the ledger which series a scrape has shown since, so the state says which
    /// a restart may resume where they were.
    fn note_shown(&self, ledger: &mut Ledger<C>) {
        let unshown: Vec<C::Key> = (ledger.totals.iter())
            .filter(|(_, total)| !total.shown)
            .map(|(key, _)| key.clone())
            .collect();
        for key in unshown {
            if C::shown(&self.shelf, &key) {
                ledger.mark_shown(&key);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<C>> {
        crate::sync::lock(&self.inner)
    }
}

/// Fixtures the aggregates tests share.
#[cfg(test)]
pub(crate) mod test_support {
    use std::sync::Arc;

    use crate::metrics::Metrics;
    use crate::queues::table::{QueueSeries, QueueTable};
    use crate::vocabulary::labels::{LabelValue, MediaType};
    use crate::vocabulary::queue::QueueLabels;

    /// A store monitoring queue `q1` ("Support"), read as the store, and its queue table.
    pub(crate) struct Support {
        pub(crate) metrics: Arc<Metrics>,
        pub(crate) queues: Arc<QueueTable>,
    }

    impl std::ops::Deref for Support {
        type Target = Arc<Metrics>;

        fn deref(&self) -> &Arc<Metrics> {
            &self.metrics
        }
    }

    /// Queue `q1` ("Support") monitored, every counter exported for `media_types`.
    pub(crate) fn support_metrics(media_types: &[&str]) -> Support {
        let metrics = Arc::new(Metrics::new());
        let media = (media_types.iter()).filter_map(|m| MediaType::parse(m));
        let queues = QueueTable::register(&metrics, QueueSeries::new(media.collect()));
        queues.set_queues(&[QueueLabels {
            id: "q1".into(),
            name: "Support".into(),
            division: "Home".into(),
        }]);
        Support { metrics, queues }
    }

    /// The value of `series` once a scrape has shown new series at 0, or `None` if the series
    /// does not exist.
    pub(crate) fn sample(metrics: &Metrics, series: &str) -> Option<f64> {
        let prefix = format!("{series} ");
        // NB: two renders show new series at 0 before their totals move.
        metrics.render(0);
        metrics.render(0);
        metrics
            .render(0)
            .lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .map(|v| v.parse().unwrap())
    }
}

/// What a ledger holds, for the memory checks of long runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LedgerHoldings {
    pub buckets: usize,
    /// High-water marks: one per bucket and counter series.
    pub marks: usize,
    pub series_totals: usize,
    /// Series whose totals moved since the counters last showed them.
    pub unpublished_series: usize,
}

#[cfg(test)]
mod tests;

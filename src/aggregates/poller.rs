//! The aggregates pollers: each re-reads a sliding window of aggregates every cycle and folds
//! it through its ledger, so late revisions of earlier buckets reach the counters. One polls
//! the queues' conversation aggregates, one (with agents) the users aggregates.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::telemetry::{AggregateMetrics, Telemetered};
use super::{Shelved, Totals};
use crate::genesys::client::{AggregateScope, GenesysClient};
use crate::genesys::error::ApiError;
use crate::genesys::time::{bucket_start, format_interval, format_iso_duration};
use crate::metrics::Metrics;
use crate::metrics::registry::SelfMetrics;
use crate::status::{PollFreshness, PollKind, SharedFreshness};
use crate::sync::lock;
use crate::vocabulary::clock::Clock;
use crate::vocabulary::counters::ConversationCounter;

/// What a poller polls: the query its counters come from.
pub(crate) trait Polled: Shelved + Telemetered + Sized {
    /// The most owners (queues, users) one query may name.
    const BATCH: usize;
    /// What the poller is called in logs.
    const WHAT: &'static str;
    /// Polls at once when the owners change, not only every interval: owners found after the
    /// poller started are watched (their baseline taken) without waiting a whole interval.
    const FOLLOWS_OWNERS: bool;
    /// What every query needs beyond the window and the owners, built once.
    type Query: Send + Sync;

    /// `counters` are the ledger's (the configured set).
    fn query(counters: &[Self], settings: &PollSettings) -> Self::Query;

    /// Reads one batch's window (interval, granularity) and folds it; returns the increments
    /// owed.
    fn read_and_fold(
        client: &GenesysClient,
        query: &Self::Query,
        totals: &Totals<Self>,
        window: (&str, &str),
        batch: &[String],
    ) -> impl Future<Output = Result<usize, ApiError>> + Send;

    /// What the status page calls these polls.
    const POLL: PollKind;
}

/// Polls in a row that may fail before their counters are stale. One failed or slow poll is
/// noise the next one repairs (it re-reads the whole window); three intervals without a
/// success are an outage, and alerts judging the counters would judge frozen values.
const STALE_AFTER_POLL_INTERVALS: u32 = 3;

/// How the poller reads aggregates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PollSettings {
    /// Time between polls; each poll re-reads the whole window.
    pub poll_interval: Duration,
    /// How far back late revisions are still picked up; older buckets are forgotten.
    pub window: Duration,
    /// Bucket width of the query; must equal the ledger's, or every bucket is skipped.
    pub granularity: Duration,
    /// How often increments from the stream are saved (and so shown) with a state store.
    pub state_flush_interval: Duration,
    /// The media types and directions the conversation query asks for (those exported:
    /// upstream counts no others for us); the users query has none.
    pub scope: AggregateScope,
}

/// Polls the conversation aggregates query for the monitored queues, or the users aggregates
/// query for the watched agents.
pub(crate) struct Poller<C: Polled = ConversationCounter> {
    client: GenesysClient,
    totals: Arc<Totals<C>>,
    telemetry: AggregateMetrics<C>,
    /// Whether the counters are current, as the stale gauge and the status page read it.
    freshness: SharedFreshness,
    /// The owners polled (monitored queues, watched agents), kept current by their refresh.
    queues: watch::Receiver<Vec<String>>,
    settings: PollSettings,
    query: C::Query,
    clock: Clock,
}

impl<C: Polled> Poller<C>
where
    AggregateMetrics<C>: SelfMetrics,
{
    pub(crate) fn new(
        client: GenesysClient,
        totals: Arc<Totals<C>>,
        metrics: Arc<Metrics>,
        queues: watch::Receiver<Vec<String>>,
        settings: PollSettings,
        clock: Clock,
    ) -> Self {
        if settings.granularity != totals.granularity() {
            warn!(
                poll_granularity = %format_iso_duration(settings.granularity),
                ledger_granularity = %format_iso_duration(totals.granularity()),
                "aggregate poll granularity differs from the ledger's; polled buckets will be skipped"
            );
        }
        let telemetry = AggregateMetrics::of(&metrics);
        let bound = staleness_bound(&settings, &clock);
        let freshness = Arc::new(std::sync::Mutex::new(PollFreshness::new(bound)));
        telemetry.watch(freshness.clone(), clock.clone());
        metrics.status().watch_poll(C::POLL, freshness.clone());
        Self {
            client,
            query: C::query(&totals.counters(), &settings),
            totals,
            telemetry,
            freshness,
            clock,
            queues,
            settings,
        }
    }

    /// One cycle: forget buckets before the window, query the window, fold every group, save.
    /// Returns how many counter increments were owed. Counts the outcome in
    /// `genesys_exporter_aggregate_polls_total`. A failed poll changes no counter: nothing of
    /// a response is folded unless all of it arrived (the flows', read group by group, fold
    /// the groups read before a malformed one: high-water marks, so never twice).
    pub(crate) async fn poll_once(&self, now: DateTime<Utc>) -> Result<usize, ApiError> {
        crate::failpoint::hit("poller");
        let result = self.query_and_fold(now).await;
        self.totals.save(now).await;
        self.telemetry.polled(result.is_ok(), now);
        if result.is_ok() {
            lock(&self.freshness).succeeded(now);
        }
        result
    }

    async fn query_and_fold(&self, now: DateTime<Utc>) -> Result<usize, ApiError> {
        let queue_ids = self.queues.borrow().clone();
        let (start, end) = window(now, &self.settings);
        // NB: forgetting comes first, whatever the query does: the stream keeps adding buckets
        // while polls fail (a missing permission fails every one), and the ledger must stay
        // bounded. No bucket of this window is lost, and window starts only move forward, so
        // no later poll reports what is forgotten here.
        self.totals.forget_before(start);
        self.totals.watch(&queue_ids, now);
        if queue_ids.is_empty() {
            debug!(poll = C::WHAT, "nothing to poll; poll skipped");
            return Ok(0);
        }
        let interval = format_interval(start, end);
        let granularity = format_iso_duration(self.settings.granularity);
        let mut applied = 0;
        // NB: each batch is folded before the next is asked for: the whole org's response at
        // once held about 90 MB at 5,000 queues. A batch folded is a batch read whole, so its
        // queues are established even if a later batch fails.
        for batch in queue_ids.chunks(C::BATCH) {
            let window = (interval.as_str(), granularity.as_str());
            applied +=
                C::read_and_fold(&self.client, &self.query, &self.totals, window, batch).await?;
            self.totals.establish(batch);
        }
        debug!(poll = C::WHAT, %interval, owners = queue_ids.len(), applied, "aggregates polled");
        Ok(applied)
    }

    /// Polls now, then every `poll_interval` until `cancel`; failures are logged and counted,
    /// never fatal, since the next cycle re-reads the whole window anyway.
    pub(crate) async fn run(mut self, cancel: CancellationToken) {
        // NB: `interval` panics on a zero period; config validation should already forbid it.
        let period = self.settings.poll_interval.max(Duration::from_millis(1));
        let mut ticker = tokio::time::interval(period);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let flush_period = self
            .settings
            .state_flush_interval
            .max(Duration::from_millis(1));
        let mut flush = tokio::time::interval(flush_period);
        flush.set_missed_tick_behavior(MissedTickBehavior::Delay);
        info!(
            poll = C::WHAT,
            poll_interval = %humantime::format_duration(period),
            window = %humantime::format_duration(self.settings.window),
            granularity = %format_iso_duration(self.settings.granularity),
            "aggregate poller started"
        );
        loop {
            tokio::select! {
                biased;
                () = cancel.cancelled() => break,
                _ = ticker.tick() => {}
                // NB: the next regular poll is a whole interval after this one.
                Ok(()) = self.queues.changed(), if C::FOLLOWS_OWNERS => ticker.reset(),
                _ = flush.tick() => {
                    // NB: the stream's increments wait for a save; a save is one file write,
                    // which cancellation must not cut short.
                    if self.totals.has_unsaved() {
                        self.totals.save(self.clock.now()).await;
                    }
                    continue;
                }
            }
            self.queues.mark_unchanged();
            tokio::select! {
                biased;
                () = cancel.cancelled() => break,
                result = self.poll_once(self.clock.now()) => {
                    if let Err(error) = result {
                        warn!(poll = C::WHAT, kind = error.kind(), %error, "aggregate poll failed");
                    }
                }
            }
        }
        self.totals.save(self.clock.now()).await;
        info!(poll = C::WHAT, "aggregate poller stopped");
    }
}

/// How long the counters may go without a successful poll before they are stale, in the
/// clock's time (which runs faster than the poll timer in accelerated tests).
fn staleness_bound(settings: &PollSettings, clock: &Clock) -> TimeDelta {
    let real = settings.poll_interval * STALE_AFTER_POLL_INTERVALS;
    TimeDelta::from_std(clock.span_of(real)).unwrap_or(TimeDelta::MAX)
}

/// The query window `[bucket_start(now − window), bucket_start(now) + granularity)`: a whole
/// number of buckets (as the API requires) that includes the current, still-growing bucket.
pub(crate) fn window(
    now: DateTime<Utc>,
    settings: &PollSettings,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let granularity = settings.granularity;
    let back = TimeDelta::from_std(settings.window).unwrap_or(TimeDelta::MAX);
    let earliest = now
        .checked_sub_signed(back)
        .unwrap_or(DateTime::<Utc>::MIN_UTC);
    let start = bucket_start(earliest, granularity);
    let current = bucket_start(now, granularity);
    let width = TimeDelta::from_std(granularity).unwrap_or(TimeDelta::zero());
    let end = current.checked_add_signed(width).unwrap_or(current);
    (start, end)
}

#[cfg(test)]
mod tests;

//! The bucket ledger: turns repeated, revised, out-of-order snapshots of interval aggregates into
//! increments of monotonic counters (docs/metrics.md#counters).
//!
//! Genesys revises earlier buckets as late data arrives, the poll lags the stream, and the
//! sliding window re-reports every bucket on every cycle. Remembering the highest value seen
//! per bucket and adding only `max(0, new − seen)` makes every snapshot safe to fold: a repeat
//! adds nothing, a revision adds its difference, and a lagging lower value cannot make us
//! re-add what the stream already counted.
//!
//! A queue's counters start at 0 when the ledger starts watching it (at start-up, or when the
//! queue joins the monitored set). What its window already holds then is the **baseline**: a
//! value first seen for a bucket that began before watching began is recorded without being
//! counted, until the queue's first successful poll has read the whole window. Otherwise a
//! restart would count the window again, and Prometheus would read that as new conversations.
//!
//! Each series' increments add up to its **total**, the value its counters show once saved. The
//! state file carries the totals beside the marks, so a restarted exporter resumes every counter
//! where it was shown and Prometheus sees no reset (see `state.rs`).

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;
use std::hash::Hash;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::genesys::model::{AggregateMetricData, MetricName, StatisticalResponse, Stats};
use crate::genesys::time::parse_interval;
use crate::vocabulary::counters::{ConversationCounter, ConversationGroup, Statistic};
use crate::vocabulary::labels::LabelValue;

/// What the ledger counts: the conversation counters, or the time-in-status metrics.
pub trait Counter: Copy + Eq + Hash + Debug + Send + Sync + 'static {
    /// The series its values belong to.
    type Key: SeriesKey;

    /// Its name in the state file.
    fn name(self) -> &'static str;
}

/// One series of the ledger: its owner (what is watched, the queue or the agent) and its
/// group within the owner. Typed, so that showing a series reads its parts rather than parsing
/// names; only a load parses, once per group the state file lists.
pub trait SeriesKey: Clone + Eq + Hash + Debug + Send + Sync + 'static {
    /// What the state file calls the owners and the parts of a key.
    const FIELDS: KeyFields;

    /// The key but its owner, borrowed from the data read, so that a reading allocates no
    /// key of its own.
    type Group<'a>: Copy + Debug;

    fn new(owner: &str, group: Self::Group<'_>) -> Self;

    fn owner(&self) -> &str;

    /// Whether the key is of `group`, its owner aside; lets one key serve a run of readings.
    fn is_of(&self, group: Self::Group<'_>) -> bool;

    /// The group as the state file names it, (group, part): strings, so that the file does not
    /// change with the types.
    fn names(&self) -> (&str, Option<&str>);

    /// The group those names stand for; `None` if none of ours, which makes a state corrupt.
    fn parse<'a>(group: &'a str, part: Option<&'a str>) -> Option<Self::Group<'a>>;
}

/// The state file's names for the watched owners and a series key's three parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyFields {
    pub owners: &'static str,
    pub owner: &'static str,
    pub group: &'static str,
    pub part: &'static str,
}

impl Counter for ConversationCounter {
    type Key = ConversationKey;

    fn name(self) -> &'static str {
        ConversationCounter::name(self)
    }
}

/// A queue's series: one per media type, and per direction when the counters are split by it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ConversationKey {
    pub(crate) queue_id: String,
    pub(crate) media_type: String,
    pub(crate) direction: Option<String>,
}

impl ConversationKey {
    pub(crate) fn group(&self) -> ConversationGroup<'_> {
        ConversationGroup {
            media_type: &self.media_type,
            direction: self.direction.as_deref(),
        }
    }
}

impl SeriesKey for ConversationKey {
    const FIELDS: KeyFields = KeyFields {
        owners: "queues",
        owner: "queue",
        group: "media",
        part: "direction",
    };

    type Group<'a> = ConversationGroup<'a>;

    fn new(queue_id: &str, group: ConversationGroup<'_>) -> Self {
        Self {
            queue_id: queue_id.to_owned(),
            media_type: group.media_type.to_owned(),
            direction: group.direction.map(str::to_owned),
        }
    }

    fn owner(&self) -> &str {
        &self.queue_id
    }

    fn is_of(&self, group: ConversationGroup<'_>) -> bool {
        self.group() == group
    }

    fn names(&self) -> (&str, Option<&str>) {
        (&self.media_type, self.direction.as_deref())
    }

    fn parse<'a>(media_type: &'a str, direction: Option<&'a str>) -> Option<ConversationGroup<'a>> {
        Some(ConversationGroup {
            media_type,
            direction,
        })
    }
}

/// One value a metric entry reports, and the series (of the owner read) and counter it
/// belongs to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reading<'e, C: Counter> {
    pub group: <C::Key as SeriesKey>::Group<'e>,
    pub counter: C,
    /// `None`: the entry lacks the statistic.
    pub value: Option<f64>,
}

/// How one kind of aggregate data becomes readings.
pub(crate) trait Reader<C: Counter> {
    /// Appends what `entry` reports of `counters` to `out`; returns whether the entry is of
    /// any counter of ours (if not, it is counted as ignored).
    fn read<'e>(
        &'e self,
        entry: &'e AggregateMetricData,
        counters: &[C],
        out: &mut Vec<Reading<'e, C>>,
    ) -> bool;
}

/// A conversation group reads every statistic that feeds a counter of the metric set.
impl Reader<ConversationCounter> for ConversationGroup<'_> {
    fn read<'e>(
        &'e self,
        entry: &'e AggregateMetricData,
        counters: &[ConversationCounter],
        out: &mut Vec<Reading<'e, ConversationCounter>>,
    ) -> bool {
        read_conversation(*self, entry, counters, out)
    }
}

/// Every statistic of `entry` that feeds a counter of `counters`, for `group`.
fn read_conversation<'e>(
    group: ConversationGroup<'e>,
    entry: &AggregateMetricData,
    counters: &[ConversationCounter],
    out: &mut Vec<Reading<'e, ConversationCounter>>,
) -> bool {
    let MetricName::Known(metric) = entry.metric else {
        return false;
    };
    let mut known = false;
    for statistic in Statistic::ALL {
        let counter = ConversationCounter::for_source(metric, statistic);
        let Some(counter) = counter.filter(|c| counters.contains(c)) else {
            continue;
        };
        known = true;
        out.push(Reading {
            group,
            counter,
            value: value_of(&entry.stats, statistic),
        });
    }
    known
}

/// One counter increment owed to a series.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Delta<C: Counter = ConversationCounter> {
    pub key: C::Key,
    /// Which bucket owes it; lets tests and logs attribute every increment.
    pub bucket_start: DateTime<Utc>,
    pub counter: C,
    /// In the upstream unit: a count, or milliseconds for `SumMillis` sources (the metrics
    /// layer converts to seconds).
    pub amount: f64,
}

/// What one fold did, so callers can count and log what upstream sent that we did not use.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct FoldReport<C: Counter = ConversationCounter> {
    pub deltas: Vec<Delta<C>>,
    /// Buckets folded (with data inside the window).
    pub admitted: usize,
    /// Values first seen while the queue's baseline was being taken: remembered, not counted.
    pub baselined: usize,
    /// Buckets whose width is not the ledger's granularity (e.g. zero-width observation
    /// events, or a poll at another granularity).
    pub skipped_buckets: usize,
    /// Buckets of the right width whose start is off the granularity grid (UTC): never a key
    /// of their own, since they would overlap the buckets on the grid.
    pub off_grid_buckets: usize,
    /// Buckets that start before the last `forget_before` cutoff: counting them again would
    /// double count, since their high-water marks are gone.
    pub expired_buckets: usize,
    /// Groups of queues the ledger is not watching.
    pub unwatched: usize,
    /// Metric entries we do not export (`o*` observations, metrics outside the metric set).
    pub ignored: usize,
    /// Unparseable intervals and negative or non-finite values.
    pub malformed: usize,
    /// The queue's own service-level target (`oServiceLevel`'s `target`), when reported.
    pub service_level_target: Option<f64>,
}

impl<C: Counter> Default for FoldReport<C> {
    fn default() -> Self {
        Self {
            deltas: Vec::new(),
            admitted: 0,
            baselined: 0,
            skipped_buckets: 0,
            off_grid_buckets: 0,
            expired_buckets: 0,
            unwatched: 0,
            ignored: 0,
            malformed: 0,
            service_level_target: None,
        }
    }
}

impl<C: Counter> FoldReport<C> {
    fn absorb(&mut self, other: FoldReport<C>) {
        self.deltas.extend(other.deltas);
        self.admitted += other.admitted;
        self.baselined += other.baselined;
        self.skipped_buckets += other.skipped_buckets;
        self.off_grid_buckets += other.off_grid_buckets;
        self.expired_buckets += other.expired_buckets;
        self.unwatched += other.unwatched;
        self.ignored += other.ignored;
        self.malformed += other.malformed;
        self.service_level_target = other.service_level_target.or(self.service_level_target);
    }

    /// Buckets refused, by reason (`genesys_exporter_aggregate_buckets_rejected_total`).
    pub(crate) fn rejected(&self) -> [(Rejection, usize); 4] {
        [
            (Rejection::OtherWidth, self.skipped_buckets),
            (Rejection::OffGrid, self.off_grid_buckets),
            (Rejection::Expired, self.expired_buckets),
            (Rejection::Malformed, self.malformed),
        ]
    }
}

/// Why a bucket was not folded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejection {
    /// Not of the configured granularity.
    OtherWidth,
    /// Its start is off the UTC granularity grid.
    OffGrid,
    /// Older than the window.
    Expired,
    Malformed,
}

impl LabelValue for Rejection {
    const ALL: &'static [Self] = &[
        Self::OtherWidth,
        Self::OffGrid,
        Self::Expired,
        Self::Malformed,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Self::OtherWidth => "other_width",
            Self::OffGrid => "off_grid",
            Self::Expired => "expired",
            Self::Malformed => "malformed",
        }
    }
}

/// High-water marks of one series within one bucket.
pub(crate) type Marks<C = ConversationCounter> = HashMap<C, f64>;

/// Since when a queue is watched, and whether a successful poll has read its whole window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Watch {
    pub since: DateTime<Utc>,
    pub established: bool,
}

impl Watch {
    /// Whether a value first seen for the bucket starting at `start` is baseline, not news.
    fn is_baseline(&self, start: DateTime<Utc>) -> bool {
        !self.established && start < self.since
    }
}

/// What one series has counted since its baseline: its deltas summed, per counter.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SeriesTotal {
    /// In the upstream unit, like the marks, one per counter of the ledger (in its order):
    /// a `Vec` rather than a map, as every series of a large org has one.
    pub values: Vec<f64>,
    /// A scrape has shown the series (in this process, or in the one whose state was loaded),
    /// so Prometheus holds a value for it and a restart may resume it at `values`. The ledger
    /// only keeps it; the owner of the counters sets it.
    pub shown: bool,
}

/// High-water marks per bucket start, then per series, then per counter; and each series'
/// total. One ledger counts conversations per queue; another, agents' time in status.
///
/// Keyed by bucket start first so that forgetting old buckets is one `split_off`.
#[derive(Debug, Clone)]
pub struct Ledger<C: Counter = ConversationCounter> {
    granularity: Duration,
    /// The counters folded (the configured metric set); other statistics are ignored.
    counters: Vec<C>,
    pub(crate) buckets: BTreeMap<DateTime<Utc>, HashMap<C::Key, Marks<C>>>,
    /// Every series that has been owed an increment; forgetting buckets keeps them.
    pub(crate) totals: HashMap<C::Key, SeriesTotal>,
    /// The latest `forget_before` cutoff; buckets before it are refused from then on.
    pub(crate) forgotten_before: Option<DateTime<Utc>>,
    pub(crate) watched: HashMap<String, Watch>,
}

impl<C: Counter> PartialEq for Ledger<C> {
    fn eq(&self, other: &Self) -> bool {
        self.granularity == other.granularity
            && self.counters == other.counters
            && self.buckets == other.buckets
            && self.totals == other.totals
            && self.forgotten_before == other.forgotten_before
            && self.watched == other.watched
    }
}

impl<C: Counter> Ledger<C> {
    /// Only buckets exactly `granularity` wide and on its grid are folded, so that a ledger fed
    /// by both the poll and the stream's 30-minute totals never mixes overlapping buckets
    /// (which would count the same conversations twice).
    pub fn new(granularity: Duration, counters: Vec<C>) -> Self {
        Self {
            granularity,
            counters,
            buckets: BTreeMap::new(),
            totals: HashMap::new(),
            forgotten_before: None,
            watched: HashMap::new(),
        }
    }

    pub(crate) fn granularity(&self) -> Duration {
        self.granularity
    }

    /// The counters folded, in the order of every [`SeriesTotal`]'s values.
    pub(crate) fn counters(&self) -> &[C] {
        &self.counters
    }

    /// Each counter with its value in `total`; the version 2 state writer the tests keep
    /// walks totals this way.
    #[cfg(test)]
    pub(crate) fn values_of<'t>(
        &'t self,
        total: &'t SeriesTotal,
    ) -> impl Iterator<Item = (C, f64)> + 't {
        self.counters
            .iter()
            .copied()
            .zip(total.values.iter().copied())
    }

    /// How many buckets are remembered; bounded by `forget_before`.
    pub fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    /// Makes `queue_ids` (or agents' ids) the watched set: a new queue is watched from `now`
    /// (its window so far becomes its baseline); a queue that left is forgotten with its marks
    /// and totals, so if it returns, its counters start again at 0 on a new baseline. Returns
    /// whether the set changed.
    pub(crate) fn watch(&mut self, queue_ids: &[String], now: DateTime<Utc>) -> bool {
        let before = self.watched.len();
        self.watched.retain(|id, _| queue_ids.contains(id));
        let mut changed = self.watched.len() != before;
        for id in queue_ids {
            self.watched.entry(id.clone()).or_insert_with(|| {
                changed = true;
                Watch {
                    since: now,
                    established: false,
                }
            });
        }
        for series in self.buckets.values_mut() {
            series.retain(|key, _| self.watched.contains_key(key.owner()));
        }
        self.buckets.retain(|_, series| !series.is_empty());
        self.totals
            .retain(|key, _| self.watched.contains_key(key.owner()));
        changed
    }

    /// The series' total, if it has been owed anything.
    pub(crate) fn total(&self, key: &C::Key) -> Option<&SeriesTotal> {
        self.totals.get(key)
    }

    /// Whether the series' total is recorded as shown by a scrape.
    pub(crate) fn is_shown(&self, key: &C::Key) -> bool {
        self.total(key).is_some_and(|total| total.shown)
    }

    /// Records that a scrape has shown the series.
    pub(crate) fn mark_shown(&mut self, key: &C::Key) {
        if let Some(total) = self.totals.get_mut(key) {
            total.shown = true;
        }
    }

    /// A successful poll read the whole window of `queue_ids`: from now on a value first seen
    /// for any bucket is news.
    pub(crate) fn establish(&mut self, queue_ids: &[String]) {
        for id in queue_ids {
            if let Some(watch) = self.watched.get_mut(id) {
                watch.established = true;
            }
        }
    }

    fn watch_of(&self, queue_id: &str) -> Option<Watch> {
        self.watched.get(queue_id).copied()
    }

    /// Folds one owner's buckets, read by `reader`, and returns the increments now owed.
    pub(crate) fn fold(
        &mut self,
        owner: &str,
        reader: &impl Reader<C>,
        buckets: &[StatisticalResponse],
    ) -> FoldReport<C> {
        let mut report = FoldReport::default();
        let Some(watch) = self.watch_of(owner) else {
            report.unwatched += 1;
            return report;
        };
        for bucket in buckets {
            let one = self.fold_bucket(owner, reader, watch, bucket);
            report.absorb(one);
        }
        report
    }

    fn fold_bucket(
        &mut self,
        owner: &str,
        reader: &impl Reader<C>,
        watch: Watch,
        bucket: &StatisticalResponse,
    ) -> FoldReport<C> {
        let mut report = FoldReport::default();
        let Some(start) = self.admit(&bucket.interval, &mut report) else {
            return report;
        };
        report.admitted += 1;
        let baseline = watch.is_baseline(start);
        let mut readings = Vec::new();
        for entry in &bucket.metrics {
            if !reader.read(entry, &self.counters, &mut readings) {
                report.ignored += 1;
            } else if let Some(target) = entry.stats.target.filter(|t| t.is_finite()) {
                report.service_level_target = Some(target);
            }
        }
        let series = self.buckets.entry(start).or_default();
        let mut key: Option<C::Key> = None;
        for reading in readings {
            let Some(value) = reading.value else {
                continue;
            };
            if !value.is_finite() || value < 0.0 {
                report.malformed += 1;
                continue;
            }
            let key = match &mut key {
                Some(k) if k.is_of(reading.group) => &*k,
                slot => &*slot.insert(C::Key::new(owner, reading.group)),
            };
            let marks = match series.get_mut(key) {
                Some(marks) => marks,
                None => series.entry(key.clone()).or_default(),
            };
            let counter = reading.counter;
            let seen = marks.get(&counter).copied();
            if seen.is_none() && baseline {
                marks.insert(counter, value);
                report.baselined += 1;
                continue;
            }
            let seen = seen.unwrap_or(0.0);
            if value > seen {
                marks.insert(counter, value);
                let amount = value - seen;
                add_to_total(&mut self.totals, &self.counters, key, counter, amount);
                report.deltas.push(Delta {
                    key: key.clone(),
                    bucket_start: start,
                    counter,
                    amount,
                });
            }
        }
        if series.is_empty() {
            self.buckets.remove(&start);
        }
        report
    }

    /// The start of `interval` if it is one bucket of ours that may still be folded.
    fn admit(&self, interval: &str, report: &mut FoldReport<C>) -> Option<DateTime<Utc>> {
        let Some((start, end)) = parse_interval(interval) else {
            report.malformed += 1;
            return None;
        };
        let width_ms = (end - start).num_milliseconds();
        let granularity_ms = i64::try_from(self.granularity.as_millis()).unwrap_or(i64::MAX);
        if width_ms != granularity_ms {
            report.skipped_buckets += 1;
            return None;
        }
        // NB: Genesys buckets lie on the UTC grid of their width (whole minutes from midnight,
        // which for every granularity dividing a day is the epoch grid too).
        if start.timestamp_millis().rem_euclid(granularity_ms.max(1)) != 0 {
            report.off_grid_buckets += 1;
            return None;
        }
        if self.forgotten_before.is_some_and(|cutoff| start < cutoff) {
            report.expired_buckets += 1;
            return None;
        }
        Some(start)
    }

    /// Drops buckets that start before `cutoff` and refuses them from now on. Callers pass
    /// the start of their window, which only moves forward.
    pub(crate) fn forget_before(&mut self, cutoff: DateTime<Utc>) {
        self.buckets = self.buckets.split_off(&cutoff);
        if self.forgotten_before.is_none_or(|old| cutoff > old) {
            self.forgotten_before = Some(cutoff);
        }
    }
}

/// Adds `amount` of `counter` to the series' total.
fn add_to_total<C: Counter>(
    totals: &mut HashMap<C::Key, SeriesTotal>,
    counters: &[C],
    key: &C::Key,
    counter: C,
    amount: f64,
) {
    // NB: a reading's counter passed the metric-set filter, so it has a position.
    let Some(index) = counters.iter().position(|c| *c == counter) else {
        return;
    };
    let total = match totals.get_mut(key) {
        Some(total) => total,
        None => totals.entry(key.clone()).or_insert_with(|| SeriesTotal {
            values: vec![0.0; counters.len()],
            shown: false,
        }),
    };
    total.values[index] += amount;
}

fn value_of(stats: &Stats, statistic: Statistic) -> Option<f64> {
    match statistic {
        // NB: counts beyond 2^53 lose precision as f64; no queue gets near that in a bucket.
        Statistic::Count => stats.count.map(|n| n as f64),
        Statistic::SumMillis => stats.sum,
        Statistic::Numerator => stats.numerator,
        Statistic::Denominator => stats.denominator,
    }
}

#[cfg(test)]
mod tests;

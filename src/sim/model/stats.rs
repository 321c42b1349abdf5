//! The simulator's record of what happened: every conversation metric the traffic model emits,
//! kept three ways because three readers need different views of the same facts — the
//! aggregates query (lagged, per cell), the stream's running 30-minute totals (real time) and the
//! ground truth (everything ever recorded).

use std::collections::{BTreeMap, HashMap, HashSet};

use super::lagged::{Lagged, Tally};

/// The aggregate metrics the model records (docs/genesys-api.md#conversation-aggregates-query).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Metric {
    NOffered,
    NConnected,
    NTransferred,
    NOverSla,
    TAnswered,
    TAbandon,
    TWait,
    TTalk,
    THeld,
    TAcw,
    THandle,
    NError,
    NStateTransitionError,
    /// Answered within the queue's service-level threshold: the numerator of `oServiceLevel`,
    /// recorded per event so it adds up over buckets like the denominator does. Not a Genesys
    /// metric, so it is never reported under its own name.
    AnsweredInServiceLevel,
}

pub(crate) const METRIC_COUNT: usize = 14;

impl Metric {
    /// The metrics reported by name, in the order they are listed.
    pub(crate) const REPORTED: [Metric; METRIC_COUNT - 1] = [
        Self::NOffered,
        Self::NConnected,
        Self::NTransferred,
        Self::NOverSla,
        Self::TAnswered,
        Self::TAbandon,
        Self::TWait,
        Self::TTalk,
        Self::THeld,
        Self::TAcw,
        Self::THandle,
        Self::NError,
        Self::NStateTransitionError,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::NOffered => "nOffered",
            Self::NConnected => "nConnected",
            Self::NTransferred => "nTransferred",
            Self::NOverSla => "nOverSla",
            Self::TAnswered => "tAnswered",
            Self::TAbandon => "tAbandon",
            Self::TWait => "tWait",
            Self::TTalk => "tTalk",
            Self::THeld => "tHeld",
            Self::TAcw => "tAcw",
            Self::THandle => "tHandle",
            Self::NError => "nError",
            Self::NStateTransitionError => "nStateTransitionError",
            Self::AnsweredInServiceLevel => "sim.answeredInServiceLevel",
        }
    }

    /// Timers carry sum/min/max in milliseconds; `n*` metrics only a count.
    pub(crate) fn is_timer(self) -> bool {
        self.name().starts_with('t')
    }

    /// Whether the queue topic's running totals carry it. Genesys does not say whether they
    /// carry the error counts, so the simulator leaves them to the aggregates query: the
    /// exporter is shown to count them from its polls alone.
    pub(crate) fn streamed(self) -> bool {
        !matches!(self, Self::NError | Self::NStateTransitionError)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Count, and for timers the millisecond sum, min and max.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Stat {
    pub count: u64,
    pub sum: u64,
    pub min: u64,
    pub max: u64,
}

impl Stat {
    /// One value's statistics.
    pub(crate) fn of(value: u64) -> Self {
        Self {
            count: 1,
            sum: value,
            min: value,
            max: value,
        }
    }

    /// As an aggregates answer writes it: the count, and for a timer its milliseconds' sum,
    /// min and max.
    pub(crate) fn to_wire(self, timer: bool) -> crate::genesys::model::Stats {
        let millis = |ms: u64| timer.then_some(ms as f64);
        crate::genesys::model::Stats {
            count: Some(self.count),
            sum: millis(self.sum),
            min: millis(self.min),
            max: millis(self.max),
            ..Default::default()
        }
    }

    fn add(&mut self, value: u64) {
        self.min = if self.count == 0 {
            value
        } else {
            self.min.min(value)
        };
        self.max = self.max.max(value);
        self.count += 1;
        self.sum += value;
    }

    pub(crate) fn merge(&mut self, other: &Stat) {
        if other.count == 0 {
            return;
        }
        self.min = if self.count == 0 {
            other.min
        } else {
            self.min.min(other.min)
        };
        self.max = self.max.max(other.max);
        self.count += other.count;
        self.sum += other.sum;
    }
}

/// One value per metric, indexed by [`Metric`].
pub(crate) type StatSet = [Stat; METRIC_COUNT];

impl Tally for Stat {
    fn merge(&mut self, other: &Self) {
        Stat::merge(self, other);
    }
}

impl Tally for StatSet {
    fn merge(&mut self, other: &Self) {
        for (into, from) in self.iter_mut().zip(other) {
            into.merge(from);
        }
    }
}

pub(crate) fn stat_of(set: &StatSet, metric: Metric) -> &Stat {
    &set[metric.index()]
}

/// `oServiceLevel`'s (numerator, denominator). Genesys lets an org choose the formula; we use
/// answered within the threshold over answered plus abandoned. Both add up over buckets; the
/// ratio does not.
pub(crate) fn service_level(set: &StatSet) -> (u64, u64) {
    let answered = stat_of(set, Metric::TAnswered).count;
    let abandoned = stat_of(set, Metric::TAbandon).count;
    let within = stat_of(set, Metric::AnsweredInServiceLevel).count;
    (within, answered + abandoned)
}

/// A metric event: `value` is milliseconds for timers and ignored for counts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Record {
    pub queue: usize,
    pub media: usize,
    /// An index into `traffic::DIRECTIONS`.
    pub direction: usize,
    pub metric: Metric,
    pub at_ms: i64,
    pub value: u64,
    /// When the aggregates query may first see it (the reporting lag).
    pub visible_ms: i64,
}

/// The stream's running totals are for 30-minute buckets (docs/genesys-api.md#queue-events).
pub(crate) const RUNNING_BUCKET_MS: i64 = 30 * 60_000;

/// (queue, media, bucket start ms) of a running total.
pub(crate) type RunningKey = (usize, usize, i64);

#[derive(Debug, Default)]
pub(crate) struct Ledger {
    /// (queue, media, direction) → what the aggregates query sees.
    lagged: Lagged<(usize, usize, usize), StatSet>,
    /// (queue, media) → everything ever recorded, lagged or not.
    totals: HashMap<(usize, usize), StatSet>,
    /// The same by direction too: (queue, media, direction).
    directed_totals: HashMap<(usize, usize, usize), StatSet>,
    /// Running totals of recent 30-minute buckets with a "changed since published" flag.
    running: HashMap<RunningKey, (StatSet, bool)>,
    /// The oldest bucket `running` may still hold, once one was dropped: a bucket is never
    /// recreated after it was dropped, because its total would start again from zero and the
    /// published running total would go backwards.
    running_floor: Option<i64>,
}

impl Ledger {
    pub(crate) fn record(&mut self, record: Record, now_ms: i64) {
        let key = (record.queue, record.media);
        add(
            self.totals.entry(key).or_default(),
            record.metric,
            record.value,
        );
        let directed = (record.queue, record.media, record.direction);
        add(
            self.directed_totals.entry(directed).or_default(),
            record.metric,
            record.value,
        );
        let bucket = floor(record.at_ms, RUNNING_BUCKET_MS);
        if bucket >= self.oldest_running(now_ms) {
            let entry = self
                .running
                .entry((record.queue, record.media, bucket))
                .or_default();
            add(&mut entry.0, record.metric, record.value);
            entry.1 = true;
        }
        let mut set = StatSet::default();
        add(&mut set, record.metric, record.value);
        let key = (record.queue, record.media, record.direction);
        (self.lagged).record(key, record.at_ms, set, record.visible_ms, now_ms);
    }

    /// Makes lagged records whose time has come visible and forgets expired cells.
    pub(crate) fn flush(&mut self, now_ms: i64) {
        self.lagged.flush(now_ms);
    }

    /// Visible stats per (queue, media, direction, bucket index) for `[start, end)` in
    /// `granularity` steps.
    pub(crate) fn query(
        &self,
        queues: &[usize],
        start_ms: i64,
        end_ms: i64,
        granularity_ms: i64,
    ) -> BTreeMap<(usize, usize, usize, i64), StatSet> {
        let queues: HashSet<usize> = queues.iter().copied().collect();
        let window = (start_ms, end_ms, granularity_ms);
        let cells = self.lagged.query(window, |key| {
            let (queue, ..) = key;
            queues.contains(queue).then_some(*key)
        });
        (cells.into_iter())
            .map(|(((queue, media, direction), bucket), set)| {
                ((queue, media, direction, bucket), set)
            })
            .collect()
    }

    /// How many records are still inside their reporting lag (invisible to the query).
    pub(crate) fn pending(&self) -> usize {
        self.lagged.pending()
    }

    pub(crate) fn totals(&self, queue: usize, media: usize) -> Option<&StatSet> {
        self.totals.get(&(queue, media))
    }

    /// Everything ever recorded for one direction of a queue's media type.
    pub(crate) fn directed_totals(
        &self,
        queue: usize,
        media: usize,
        direction: usize,
    ) -> Option<&StatSet> {
        self.directed_totals.get(&(queue, media, direction))
    }

    /// The oldest running bucket at `now_ms`: the current one and the one before, which late
    /// events (a step that runs just after the bucket ended) may still add to.
    fn oldest_running(&self, now_ms: i64) -> i64 {
        let previous = floor(now_ms, RUNNING_BUCKET_MS).saturating_sub(RUNNING_BUCKET_MS);
        self.running_floor
            .map_or(previous, |kept| kept.max(previous))
    }

    /// Running totals changed since the last call, and drops buckets no event can reach any
    /// more (older than the previous one).
    pub(crate) fn take_changed_running(&mut self, now_ms: i64) -> Vec<(RunningKey, StatSet)> {
        let changed = self
            .running
            .iter_mut()
            .filter(|(_, (_, dirty))| *dirty)
            .map(|(key, (set, dirty))| {
                *dirty = false;
                (*key, *set)
            })
            .collect();
        let oldest = self.oldest_running(now_ms);
        self.running_floor = Some(oldest);
        self.running.retain(|(_, _, bucket), _| *bucket >= oldest);
        changed
    }

    /// Marks every current running total as changed, so the next publish repeats them all.
    pub(crate) fn mark_running_changed(&mut self) {
        for (_, dirty) in self.running.values_mut() {
            *dirty = true;
        }
    }
}

fn add(set: &mut StatSet, metric: Metric, value: u64) {
    let value = if metric.is_timer() { value } else { 0 };
    set[metric.index()].add(value);
}

pub(crate) fn floor(ms: i64, width: i64) -> i64 {
    ms - ms.rem_euclid(width)
}

#[cfg(test)]
mod tests;

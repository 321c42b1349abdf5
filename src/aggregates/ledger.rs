//! The bucket ledger: turns repeated, revised, out-of-order snapshots of interval aggregates
//! into increments of monotonic counters (DESIGN.md §5).
//!
//! Genesys revises earlier buckets as late data arrives, the poll lags the stream, and the
//! sliding window re-reports every bucket on every cycle. Remembering the highest value seen
//! per bucket and adding only `max(0, new − seen)` makes every snapshot safe to fold: a repeat
//! adds nothing, a revision adds its difference, and a lagging lower value cannot make us
//! re-add what the stream already counted.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::genesys::model::{StatisticalResponse, Stats};
use crate::genesys::time::parse_interval;
use crate::metrics::{ConversationCounter, Statistic};

/// One counter increment owed to a (queue, media type) series.
#[derive(Debug, Clone, PartialEq)]
pub struct Delta {
    pub queue_id: String,
    pub media_type: String,
    /// Which bucket owes it; lets tests and logs attribute every increment.
    pub bucket_start: DateTime<Utc>,
    pub counter: ConversationCounter,
    /// In the upstream unit: a count, or milliseconds for `SumMillis` sources (the metrics
    /// layer converts to seconds).
    pub amount: f64,
}

/// What one fold did, so callers can count and log what upstream sent that we did not use.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FoldReport {
    pub deltas: Vec<Delta>,
    /// Buckets whose width is not the ledger's granularity (e.g. zero-width observation
    /// events, or a poll at another granularity).
    pub skipped_buckets: usize,
    /// Buckets that start before the last `forget_before` cutoff: counting them again would
    /// double count, since their high-water marks are gone.
    pub expired_buckets: usize,
    /// Metric entries we do not export (`oServiceLevel`, `o*` observations, new metrics).
    pub ignored: usize,
    /// Unparseable intervals and negative or non-finite values.
    pub malformed: usize,
}

impl FoldReport {
    fn absorb(&mut self, other: FoldReport) {
        self.deltas.extend(other.deltas);
        self.skipped_buckets += other.skipped_buckets;
        self.expired_buckets += other.expired_buckets;
        self.ignored += other.ignored;
        self.malformed += other.malformed;
    }
}

/// High-water marks of one (queue, media type) series within one bucket.
type Marks = HashMap<ConversationCounter, f64>;

/// High-water marks per bucket start, then per (queue id, media type), then per counter.
///
/// Keyed by bucket start first so that forgetting old buckets is one `split_off`.
#[derive(Debug)]
pub struct Ledger {
    granularity: Duration,
    buckets: BTreeMap<DateTime<Utc>, HashMap<(String, String), Marks>>,
    /// The latest `forget_before` cutoff; buckets before it are refused from then on.
    forgotten_before: Option<DateTime<Utc>>,
}

impl Ledger {
    /// Only buckets exactly `granularity` wide are folded, so that a ledger fed by both the
    /// poll and the stream's 30-minute totals never mixes overlapping buckets of different
    /// widths (which would count the same conversations twice).
    pub fn new(granularity: Duration) -> Self {
        Self {
            granularity,
            buckets: BTreeMap::new(),
            forgotten_before: None,
        }
    }

    pub fn granularity(&self) -> Duration {
        self.granularity
    }

    /// How many buckets are remembered; bounded by `forget_before`.
    pub fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    /// Folds one group's buckets and returns the increments now owed.
    pub fn fold(
        &mut self,
        queue_id: &str,
        media_type: &str,
        buckets: &[StatisticalResponse],
    ) -> FoldReport {
        let mut report = FoldReport::default();
        for bucket in buckets {
            let one = self.fold_bucket(queue_id, media_type, bucket);
            report.absorb(one);
        }
        report
    }

    fn fold_bucket(
        &mut self,
        queue_id: &str,
        media_type: &str,
        bucket: &StatisticalResponse,
    ) -> FoldReport {
        let mut report = FoldReport::default();
        let Some((start, end)) = parse_interval(&bucket.interval) else {
            report.malformed += 1;
            return report;
        };
        let width_ms = (end - start).num_milliseconds();
        if u128::try_from(width_ms).ok() != Some(self.granularity.as_millis()) {
            report.skipped_buckets += 1;
            return report;
        }
        if self.forgotten_before.is_some_and(|cutoff| start < cutoff) {
            report.expired_buckets += 1;
            return report;
        }
        let marks = self
            .buckets
            .entry(start)
            .or_default()
            .entry((queue_id.to_owned(), media_type.to_owned()))
            .or_default();
        for entry in &bucket.metrics {
            let mut known = false;
            for statistic in [Statistic::Count, Statistic::SumMillis] {
                let Some(counter) = ConversationCounter::for_source(&entry.metric, statistic)
                else {
                    continue;
                };
                known = true;
                let Some(value) = value_of(&entry.stats, statistic) else {
                    continue;
                };
                if !value.is_finite() || value < 0.0 {
                    report.malformed += 1;
                    continue;
                }
                let seen = marks.entry(counter).or_insert(0.0);
                if value > *seen {
                    report.deltas.push(Delta {
                        queue_id: queue_id.to_owned(),
                        media_type: media_type.to_owned(),
                        bucket_start: start,
                        counter,
                        amount: value - *seen,
                    });
                    *seen = value;
                }
            }
            if !known {
                report.ignored += 1;
            }
        }
        report
    }

    /// Drops buckets that start before `cutoff` and refuses them from now on. Callers pass
    /// the start of their window, which only moves forward.
    pub fn forget_before(&mut self, cutoff: DateTime<Utc>) {
        self.buckets = self.buckets.split_off(&cutoff);
        if self.forgotten_before.is_none_or(|old| cutoff > old) {
            self.forgotten_before = Some(cutoff);
        }
    }
}

fn value_of(stats: &Stats, statistic: Statistic) -> Option<f64> {
    match statistic {
        // NB: counts beyond 2^53 lose precision as f64; no queue gets near that in a bucket.
        Statistic::Count => stats.count.map(|n| n as f64),
        Statistic::SumMillis => stats.sum,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::genesys::model::AggregateMetricData;
    use crate::genesys::time::parse_instant;

    const HALF_HOUR: Duration = Duration::from_secs(1800);

    fn metric(name: &str, count: Option<u64>, sum: Option<f64>) -> AggregateMetricData {
        AggregateMetricData {
            metric: name.into(),
            qualifier: None,
            stats: Stats {
                count,
                sum,
                ..Stats::default()
            },
        }
    }

    fn bucket(interval: &str, metrics: Vec<AggregateMetricData>) -> StatisticalResponse {
        StatisticalResponse {
            interval: interval.into(),
            metrics,
        }
    }

    const B0930: &str = "2026-11-25T09:30:00.000Z/2026-11-25T10:00:00.000Z";
    const B1000: &str = "2026-11-25T10:00:00.000Z/2026-11-25T10:30:00.000Z";

    fn amounts(report: &FoldReport) -> Vec<(ConversationCounter, f64)> {
        report
            .deltas
            .iter()
            .map(|d| (d.counter, d.amount))
            .collect()
    }

    #[test]
    fn first_sight_of_a_bucket_owes_its_whole_value() {
        let mut ledger = Ledger::new(HALF_HOUR);
        let report = ledger.fold(
            "q1",
            "voice",
            &[bucket(
                B0930,
                vec![
                    metric("nOffered", Some(12), None),
                    metric("tHandle", Some(9), Some(1_843_000.0)),
                ],
            )],
        );
        assert_eq!(
            amounts(&report),
            vec![
                (ConversationCounter::Offered, 12.0),
                (ConversationCounter::Handled, 9.0),
                (ConversationCounter::HandleSeconds, 1_843_000.0),
            ]
        );
        assert_eq!(report.deltas[0].queue_id, "q1");
        assert_eq!(report.deltas[0].media_type, "voice");
    }

    #[test]
    fn repeats_and_lower_values_owe_nothing_and_revisions_owe_the_difference() {
        let mut ledger = Ledger::new(HALF_HOUR);
        let snapshot = |n| [bucket(B0930, vec![metric("nOffered", Some(n), None)])];
        assert_eq!(
            amounts(&ledger.fold("q1", "voice", &snapshot(10))),
            vec![(ConversationCounter::Offered, 10.0)]
        );
        assert!(ledger.fold("q1", "voice", &snapshot(10)).deltas.is_empty());
        assert!(ledger.fold("q1", "voice", &snapshot(7)).deltas.is_empty());
        assert_eq!(
            amounts(&ledger.fold("q1", "voice", &snapshot(13))),
            vec![(ConversationCounter::Offered, 3.0)]
        );
    }

    #[test]
    fn series_and_buckets_are_tracked_separately() {
        let mut ledger = Ledger::new(HALF_HOUR);
        let data = |interval| [bucket(interval, vec![metric("nOffered", Some(5), None)])];
        assert_eq!(ledger.fold("q1", "voice", &data(B0930)).deltas.len(), 1);
        assert_eq!(ledger.fold("q1", "chat", &data(B0930)).deltas.len(), 1);
        assert_eq!(ledger.fold("q2", "voice", &data(B0930)).deltas.len(), 1);
        assert_eq!(ledger.fold("q1", "voice", &data(B1000)).deltas.len(), 1);
        assert_eq!(ledger.bucket_count(), 2);
    }

    #[test]
    fn buckets_of_another_width_are_skipped() {
        let mut ledger = Ledger::new(HALF_HOUR);
        let report = ledger.fold(
            "q1",
            "voice",
            &[
                bucket(
                    "2026-11-25T09:46:54.839Z/2026-11-25T09:46:54.839Z",
                    vec![metric("oWaiting", Some(3), None)],
                ),
                bucket(
                    "2026-11-25T09:30:00.000Z/2026-11-25T09:35:00.000Z",
                    vec![metric("nOffered", Some(3), None)],
                ),
            ],
        );
        assert!(report.deltas.is_empty());
        assert_eq!(report.skipped_buckets, 2);
        assert_eq!(ledger.bucket_count(), 0);
    }

    #[test]
    fn unknown_metrics_are_ignored_and_bad_values_counted_as_malformed() {
        let mut ledger = Ledger::new(HALF_HOUR);
        let report = ledger.fold(
            "q1",
            "voice",
            &[
                bucket(
                    B0930,
                    vec![
                        metric("oServiceLevel", None, None),
                        metric("nSomethingNew", Some(1), None),
                        metric("tHandle", Some(2), Some(-5.0)),
                        metric("tWait", None, Some(f64::NAN)),
                    ],
                ),
                bucket("not an interval", vec![metric("nOffered", Some(1), None)]),
            ],
        );
        assert_eq!(amounts(&report), vec![(ConversationCounter::Handled, 2.0)]);
        assert_eq!(report.ignored, 2);
        assert_eq!(report.malformed, 3);
    }

    #[test]
    fn forgotten_buckets_are_dropped_and_never_counted_again() {
        let mut ledger = Ledger::new(HALF_HOUR);
        let data = |interval| [bucket(interval, vec![metric("nOffered", Some(5), None)])];
        ledger.fold("q1", "voice", &data(B0930));
        ledger.fold("q1", "voice", &data(B1000));
        ledger.forget_before(parse_instant("2026-11-25T10:00:00.000Z").unwrap());
        assert_eq!(ledger.bucket_count(), 1);
        let report = ledger.fold("q1", "voice", &data(B0930));
        assert!(report.deltas.is_empty());
        assert_eq!(report.expired_buckets, 1);
        // An earlier cutoff never un-forgets.
        ledger.forget_before(parse_instant("2026-11-25T09:00:00.000Z").unwrap());
        assert!(ledger.fold("q1", "voice", &data(B0930)).deltas.is_empty());
        assert!(ledger.fold("q1", "voice", &data(B1000)).deltas.is_empty());
    }
}

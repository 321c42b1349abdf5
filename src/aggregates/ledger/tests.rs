use super::*;
use crate::genesys::model::AggregateMetricData;
use crate::genesys::time::parse_instant;

const HALF_HOUR: Duration = Duration::from_secs(1800);

fn media(media_type: &str) -> ConversationGroup<'_> {
    ConversationGroup::from(media_type)
}

/// A ledger watching q1 and q2 since before any test bucket, so every value counts.
fn counting_ledger() -> Ledger {
    let mut ledger = Ledger::new(HALF_HOUR, ConversationCounter::ALL.to_vec());
    ledger.watch(&["q1".into(), "q2".into()], DateTime::<Utc>::MIN_UTC);
    ledger
}

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
const B1030: &str = "2026-11-25T10:30:00.000Z/2026-11-25T11:00:00.000Z";

fn amounts(report: &FoldReport) -> Vec<(ConversationCounter, f64)> {
    report
        .deltas
        .iter()
        .map(|d| (d.counter, d.amount))
        .collect()
}

#[test]
fn first_sight_of_a_bucket_owes_its_whole_value() {
    let mut ledger = counting_ledger();
    let report = ledger.fold(
        "q1",
        &media("voice"),
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
    assert_eq!(report.deltas[0].key.queue_id, "q1");
    assert_eq!(report.deltas[0].key.media_type, "voice");
}

#[test]
fn repeats_and_lower_values_owe_nothing_and_revisions_owe_the_difference() {
    let mut ledger = counting_ledger();
    let snapshot = |n| [bucket(B0930, vec![metric("nOffered", Some(n), None)])];
    assert_eq!(
        amounts(&ledger.fold("q1", &media("voice"), &snapshot(10))),
        vec![(ConversationCounter::Offered, 10.0)]
    );
    assert!(
        ledger
            .fold("q1", &media("voice"), &snapshot(10))
            .deltas
            .is_empty()
    );
    assert!(
        ledger
            .fold("q1", &media("voice"), &snapshot(7))
            .deltas
            .is_empty()
    );
    assert_eq!(
        amounts(&ledger.fold("q1", &media("voice"), &snapshot(13))),
        vec![(ConversationCounter::Offered, 3.0)]
    );
}

#[test]
fn series_and_buckets_are_tracked_separately() {
    let mut ledger = counting_ledger();
    let data = |interval| [bucket(interval, vec![metric("nOffered", Some(5), None)])];
    assert_eq!(
        ledger
            .fold("q1", &media("voice"), &data(B0930))
            .deltas
            .len(),
        1
    );
    assert_eq!(
        ledger.fold("q1", &media("chat"), &data(B0930)).deltas.len(),
        1
    );
    assert_eq!(
        ledger
            .fold("q2", &media("voice"), &data(B0930))
            .deltas
            .len(),
        1
    );
    assert_eq!(
        ledger
            .fold("q1", &media("voice"), &data(B1000))
            .deltas
            .len(),
        1
    );
    assert_eq!(ledger.bucket_count(), 2);
}

#[test]
fn buckets_of_another_width_are_skipped() {
    let mut ledger = counting_ledger();
    let report = ledger.fold(
        "q1",
        &media("voice"),
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
    let mut ledger = counting_ledger();
    let report = ledger.fold(
        "q1",
        &media("voice"),
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
    assert_eq!(
        report.ignored, 1,
        "nSomethingNew; oServiceLevel is ours, if empty"
    );
    assert_eq!(report.malformed, 3);
}

#[test]
fn forgotten_buckets_are_dropped_and_never_counted_again() {
    let mut ledger = counting_ledger();
    let data = |interval| [bucket(interval, vec![metric("nOffered", Some(5), None)])];
    ledger.fold("q1", &media("voice"), &data(B0930));
    ledger.fold("q1", &media("voice"), &data(B1000));
    ledger.forget_before(parse_instant("2026-11-25T10:00:00.000Z").unwrap());
    assert_eq!(ledger.bucket_count(), 1);
    let report = ledger.fold("q1", &media("voice"), &data(B0930));
    assert!(report.deltas.is_empty());
    assert_eq!(report.expired_buckets, 1);
    // An earlier cutoff never un-forgets.
    ledger.forget_before(parse_instant("2026-11-25T09:00:00.000Z").unwrap());
    assert!(
        ledger
            .fold("q1", &media("voice"), &data(B0930))
            .deltas
            .is_empty()
    );
    assert!(
        ledger
            .fold("q1", &media("voice"), &data(B1000))
            .deltas
            .is_empty()
    );
}

/// Half an hour after `at`.
fn later(at: DateTime<Utc>) -> DateTime<Utc> {
    at + chrono::TimeDelta::minutes(30)
}

fn offered(interval: &str, n: u64) -> [StatisticalResponse; 1] {
    [bucket(interval, vec![metric("nOffered", Some(n), None)])]
}

#[test]
fn what_the_window_holds_when_watching_begins_is_baseline_not_news() {
    let mut ledger = Ledger::new(HALF_HOUR, ConversationCounter::ALL.to_vec());
    let since = parse_instant("2026-11-25T10:10:00.000Z").unwrap();
    ledger.watch(&["q1".into()], since);
    // The bucket that began before watching: remembered, not counted ...
    let report = ledger.fold("q1", &media("voice"), &offered(B0930, 40));
    assert!(report.deltas.is_empty());
    assert_eq!(report.baselined, 1);
    // ... while the bucket that began after watching began counts in full.
    let report = ledger.fold("q1", &media("voice"), &offered(B1030, 3));
    assert_eq!(amounts(&report), vec![(ConversationCounter::Offered, 3.0)]);
    // What the baseline bucket gains afterwards is news.
    let report = ledger.fold("q1", &media("voice"), &offered(B0930, 42));
    assert_eq!(amounts(&report), vec![(ConversationCounter::Offered, 2.0)]);
    // Once a poll has read the whole window, a value first seen in an old bucket is news.
    ledger.establish(&["q1".into()]);
    let report = ledger.fold("q1", &media("chat"), &offered(B0930, 5));
    assert_eq!(amounts(&report), vec![(ConversationCounter::Offered, 5.0)]);
}

#[test]
fn unwatched_queues_are_refused_and_a_queue_that_leaves_starts_again_on_a_new_baseline() {
    let mut ledger = Ledger::new(HALF_HOUR, ConversationCounter::ALL.to_vec());
    let early = parse_instant("2026-11-25T09:00:00.000Z").unwrap();
    let report = ledger.fold("q1", &media("voice"), &offered(B0930, 4));
    assert_eq!((report.unwatched, report.deltas.len()), (1, 0));
    assert!(ledger.watch(&["q1".into()], early), "q1 joined");
    assert!(
        !ledger.watch(&["q1".into()], later(early)),
        "nothing changed"
    );
    assert_eq!(
        ledger.watch_of("q1").unwrap().since,
        early,
        "its baseline stays"
    );
    ledger.establish(&["q1".into()]);
    assert_eq!(
        ledger
            .fold("q1", &media("voice"), &offered(B0930, 4))
            .deltas
            .len(),
        1
    );
    assert!(ledger.watch(&[], early), "q1 left");
    assert_eq!(ledger.bucket_count(), 0, "its marks went with it");
    let back = parse_instant("2026-11-25T10:40:00.000Z").unwrap();
    ledger.watch(&["q1".into()], back);
    let report = ledger.fold("q1", &media("voice"), &offered(B0930, 6));
    assert_eq!((report.baselined, report.deltas.len()), (1, 0));
}

#[test]
fn a_bucket_off_the_granularity_grid_is_rejected_and_never_a_key() {
    let mut ledger = counting_ledger();
    let off_grid = "2026-11-25T09:40:00.000Z/2026-11-25T10:10:00.000Z";
    let report = ledger.fold("q1", &media("voice"), &offered(off_grid, 7));
    assert!(report.deltas.is_empty());
    assert_eq!(report.off_grid_buckets, 1);
    assert_eq!(ledger.bucket_count(), 0);
    assert_eq!(report.rejected()[1], (Rejection::OffGrid, 1));
}

#[test]
fn service_level_numerator_and_denominator_are_counted_and_the_target_reported() {
    let mut ledger = counting_ledger();
    let sl = |numerator: f64, denominator: f64| AggregateMetricData {
        metric: "oServiceLevel".into(),
        qualifier: None,
        stats: Stats {
            ratio: Some(numerator / denominator),
            numerator: Some(numerator),
            denominator: Some(denominator),
            target: Some(0.8),
            ..Stats::default()
        },
    };
    let report = ledger.fold("q1", &media("voice"), &[bucket(B0930, vec![sl(8.0, 10.0)])]);
    assert_eq!(
        amounts(&report),
        vec![
            (ConversationCounter::ServiceLevelNumerator, 8.0),
            (ConversationCounter::ServiceLevelDenominator, 10.0),
        ]
    );
    assert_eq!(report.service_level_target, Some(0.8));
    let report = ledger.fold("q1", &media("voice"), &[bucket(B0930, vec![sl(9.0, 12.0)])]);
    assert_eq!(
        amounts(&report),
        vec![
            (ConversationCounter::ServiceLevelNumerator, 1.0),
            (ConversationCounter::ServiceLevelDenominator, 2.0),
        ]
    );
}

#[test]
fn statistics_outside_the_metric_set_are_ignored() {
    let mut ledger = Ledger::new(HALF_HOUR, vec![ConversationCounter::Offered]);
    ledger.watch(&["q1".into()], DateTime::<Utc>::MIN_UTC);
    let report = ledger.fold(
        "q1",
        &media("voice"),
        &[bucket(
            B0930,
            vec![
                metric("nOffered", Some(3), None),
                metric("tHandle", Some(2), Some(9.0)),
            ],
        )],
    );
    assert_eq!(amounts(&report), vec![(ConversationCounter::Offered, 3.0)]);
    assert_eq!(report.ignored, 1);
}

mod props;

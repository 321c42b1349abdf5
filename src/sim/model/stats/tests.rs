use super::*;
use crate::sim::model::lagged::CELL_MS;

fn rec(metric: Metric, at_ms: i64, value: u64, visible_ms: i64) -> Record {
    Record {
        queue: 0,
        media: 1,
        direction: 0,
        metric,
        at_ms,
        value,
        visible_ms,
    }
}

#[test]
fn lagged_records_count_in_totals_at_once_but_in_queries_only_when_visible() {
    let mut ledger = Ledger::default();
    ledger.record(rec(Metric::THandle, 1_000, 500, 5_000), 1_000);
    ledger.record(rec(Metric::NOffered, 2_000, 0, 2_000), 2_000);
    assert_eq!(
        stat_of(ledger.totals(0, 1).unwrap(), Metric::THandle).sum,
        500
    );
    let before = ledger.query(&[0], 0, 60_000, 60_000);
    assert_eq!(stat_of(&before[&(0, 1, 0, 0)], Metric::THandle).count, 0);
    ledger.flush(5_000);
    let after = ledger.query(&[0], 0, 60_000, 60_000);
    let handle = stat_of(&after[&(0, 1, 0, 0)], Metric::THandle);
    assert_eq!(
        (handle.count, handle.sum, handle.min, handle.max),
        (1, 500, 500, 500)
    );
}

#[test]
fn queries_split_cells_into_buckets_and_skip_other_queues() {
    let mut ledger = Ledger::default();
    for minute in 0..10 {
        ledger.record(rec(Metric::NOffered, minute * CELL_MS, 0, 0), 0);
    }
    let result = ledger.query(&[0], 0, 10 * CELL_MS, 5 * CELL_MS);
    assert_eq!(result.len(), 2);
    assert_eq!(stat_of(&result[&(0, 1, 0, 1)], Metric::NOffered).count, 5);
    assert!(ledger.query(&[3], 0, 10 * CELL_MS, 5 * CELL_MS).is_empty());
}

#[test]
fn running_totals_are_reported_once_per_change() {
    let mut ledger = Ledger::default();
    ledger.record(rec(Metric::TWait, 10, 40, 10_000), 10);
    let changed = ledger.take_changed_running(20);
    assert_eq!(changed.len(), 1);
    assert_eq!(stat_of(&changed[0].1, Metric::TWait).sum, 40);
    assert!(ledger.take_changed_running(20).is_empty());
}

#[test]
fn an_event_processed_after_its_bucket_ended_adds_to_the_published_total() {
    let mut ledger = Ledger::default();
    let end = RUNNING_BUCKET_MS;
    ledger.record(rec(Metric::NOffered, 1_000, 0, 0), 1_000);
    ledger.record(rec(Metric::NOffered, 2_000, 0, 0), 2_000);
    let published = ledger.take_changed_running(end + 100);
    assert_eq!(stat_of(&published[0].1, Metric::NOffered).count, 2);
    // 09:59:59.9, handled by the first step after the 10:00:00.1 publish.
    ledger.record(rec(Metric::NOffered, end - 100, 0, 0), end + 200);
    let published = ledger.take_changed_running(end + 300);
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].0, (0, 1, 0));
    assert_eq!(stat_of(&published[0].1, Metric::NOffered).count, 3);
}

#[test]
fn a_dropped_bucket_is_never_recreated_even_if_the_clock_steps_back() {
    let mut ledger = Ledger::default();
    ledger.record(rec(Metric::NOffered, 1_000, 0, 0), 1_000);
    ledger.take_changed_running(2 * RUNNING_BUCKET_MS + 1);
    ledger.record(rec(Metric::NOffered, 2_000, 0, 0), RUNNING_BUCKET_MS);
    assert!(ledger.take_changed_running(RUNNING_BUCKET_MS).is_empty());
}

proptest::proptest! {
    /// Steps move the wall clock on and handle events up to a few seconds old, publishes
    /// come in between: each bucket's published count only grows.
    #[test]
    fn published_running_totals_never_decrease(
        steps in proptest::collection::vec(
            (0i64..10_000, 0i64..5_000, proptest::bool::ANY),
            1..400,
        ),
    ) {
        let mut ledger = Ledger::default();
        let mut now = RUNNING_BUCKET_MS - 60_000;
        let mut published: HashMap<RunningKey, u64> = HashMap::new();
        for (advance, age, publish) in steps {
            now += advance;
            ledger.record(rec(Metric::NOffered, now - age, 0, 0), now);
            if publish {
                for (key, set) in ledger.take_changed_running(now) {
                    let count = stat_of(&set, Metric::NOffered).count;
                    let last = published.insert(key, count).unwrap_or(0);
                    proptest::prop_assert!(count >= last, "{key:?}: {last} then {count}");
                }
            }
        }
    }
}

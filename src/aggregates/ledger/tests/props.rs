//! Property tests for the ledger: whatever order, repetition or lag snapshots arrive in, the
//! counters end at the per-bucket maxima, never decrease, and never count a bucket twice; each
//! series' total is its increments summed.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use proptest::prelude::*;

use crate::aggregates::ledger::{ConversationKey, Ledger, SeriesKey};
use crate::genesys::model::{AggregateMetricData, StatisticalResponse, Stats};
use crate::genesys::time::{format_interval, parse_instant};
use crate::vocabulary::counters::{ConversationCounter, ConversationGroup};

const BUCKETS: usize = 4;
const QUEUES: [&str; 2] = ["q1", "q2"];

#[derive(Debug, Clone)]
struct Snapshot {
    bucket: usize,
    queue: usize,
    offered: u64,
    handled: u64,
    handle_ms: u32,
    /// Delivered as a bucket twice the ledger's width, which must be skipped.
    wrong_width: bool,
}

#[derive(Debug, Clone)]
enum Op {
    /// One fold call; several snapshots may share it, as in a real response.
    Fold(Vec<Snapshot>),
    /// Forget buckets before this index.
    Forget(usize),
}

fn snapshot() -> impl Strategy<Value = Snapshot> {
    // Small value ranges make repeats and lagging lower values common.
    (
        0..BUCKETS,
        0..QUEUES.len(),
        0u64..12,
        0u64..12,
        0u32..50_000,
        prop::bool::weighted(0.1),
    )
        .prop_map(
            |(bucket, queue, offered, handled, handle_ms, wrong_width)| Snapshot {
                bucket,
                queue,
                offered,
                handled,
                handle_ms,
                wrong_width,
            },
        )
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        10 => prop::collection::vec(snapshot(), 1..4).prop_map(Op::Fold),
        1 => (0..=BUCKETS).prop_map(Op::Forget),
    ]
}

const GRANULARITY: Duration = Duration::from_secs(900);

fn bucket_start(index: usize) -> DateTime<Utc> {
    let base = parse_instant("2026-11-25T08:00:00.000Z").unwrap();
    base + TimeDelta::minutes(15 * index as i64)
}

fn response(s: &Snapshot) -> StatisticalResponse {
    let start = bucket_start(s.bucket);
    let width = if s.wrong_width {
        TimeDelta::minutes(30)
    } else {
        TimeDelta::minutes(15)
    };
    let metric = |name: &str, count, sum| AggregateMetricData {
        metric: name.into(),
        qualifier: None,
        stats: Stats {
            count: Some(count),
            sum,
            ..Stats::default()
        },
    };
    StatisticalResponse {
        interval: format_interval(start, start + width),
        metrics: vec![
            metric("nOffered", s.offered, None),
            metric("tHandle", s.handled, Some(f64::from(s.handle_ms))),
            metric("oServiceLevel", 1, None),
        ],
    }
}

type Key = (usize, String, ConversationCounter);

proptest! {
    #[test]
    fn counters_end_at_the_sum_of_per_bucket_maxima_whatever_the_order(
        ops in prop::collection::vec(op(), 1..60)
    ) {
        let mut ledger = Ledger::new(GRANULARITY, ConversationCounter::ALL.to_vec());
        let everyone: Vec<String> = QUEUES.iter().map(|q| (*q).to_owned()).collect();
        ledger.watch(&everyone, DateTime::<Utc>::MIN_UTC);
        let mut totals: HashMap<Key, f64> = HashMap::new();
        let mut maxima: HashMap<Key, f64> = HashMap::new();
        let mut cutoff = 0usize;
        for op in &ops {
            match op {
                Op::Fold(snapshots) => {
                    for s in snapshots {
                        if s.wrong_width || s.bucket < cutoff {
                            continue;
                        }
                        let queue = QUEUES[s.queue].to_owned();
                        for (counter, value) in [
                            (ConversationCounter::Offered, s.offered as f64),
                            (ConversationCounter::Handled, s.handled as f64),
                            (ConversationCounter::HandleSeconds, f64::from(s.handle_ms)),
                        ] {
                            let max = maxima.entry((s.bucket, queue.clone(), counter)).or_insert(0.0);
                            *max = max.max(value);
                        }
                    }
                    // A fold call carries one group, so split snapshots by queue as upstream does.
                    for (queue_index, queue) in QUEUES.iter().enumerate() {
                        let buckets: Vec<_> = snapshots
                            .iter()
                            .filter(|s| s.queue == queue_index)
                            .map(response)
                            .collect();
                        let report = ledger.fold(queue, &ConversationGroup::from("voice"), &buckets);
                        for delta in report.deltas {
                            prop_assert!(delta.amount > 0.0, "counters never decrease: {delta:?}");
                            let index = (0..BUCKETS).find(|i| bucket_start(*i) == delta.bucket_start);
                            prop_assert!(index.is_some(), "delta for an unknown bucket: {delta:?}");
                            let key = (index.unwrap_or(usize::MAX), delta.key.queue_id, delta.counter);
                            *totals.entry(key).or_insert(0.0) += delta.amount;
                        }
                    }
                }
                Op::Forget(index) => {
                    ledger.forget_before(bucket_start(*index));
                    cutoff = cutoff.max(*index);
                }
            }
            // After every step, each bucket has contributed exactly its highest value seen
            // (so never twice), and the counters therefore equal the maxima summed.
            let nonzero = |map: &HashMap<Key, f64>| -> HashMap<Key, f64> {
                map.iter().filter(|(_, v)| **v > 0.0).map(|(k, v)| (k.clone(), *v)).collect()
            };
            prop_assert_eq!(nonzero(&totals), nonzero(&maxima));
            // Each series' total, which a restart resumes at, is its increments summed.
            for queue in QUEUES {
                for counter in [ConversationCounter::Offered, ConversationCounter::Handled, ConversationCounter::HandleSeconds] {
                    let summed: f64 = totals
                        .iter()
                        .filter(|((_, q, c), _)| q == queue && *c == counter)
                        .map(|(_, v)| v)
                        .sum();
                    let key = ConversationKey::new(queue, ConversationGroup::from("voice"));
                    let total = (ledger.total(&key).into_iter())
                        .flat_map(|t| ledger.values_of(t))
                        .find_map(|(c, v)| (c == counter).then_some(v))
                        .unwrap_or(0.0);
                    prop_assert_eq!(total, summed, "{} {:?}", queue, counter);
                }
            }
            prop_assert!(ledger.bucket_count() <= BUCKETS - cutoff);
        }
    }
}

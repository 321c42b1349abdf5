//! The store against the `prometheus` crate's encoder, and what a queue costs in series.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use prometheus::{Encoder, TextEncoder};
use proptest::prelude::*;

use super::Store;
use crate::queues::table::{MediaSnapshot, QueueSnapshot};
use crate::vocabulary::counters::{ConversationCounter, ConversationGroup};
use crate::vocabulary::labels::{
    Direction, InteractionState, LabelValue, MediaType, RoutingStatus, SystemPresence,
};
use crate::vocabulary::presence::Presence;
use crate::vocabulary::queue::{QueueLabels, StaleGauges, StalePolicy};

const MEDIA: [&str; 5] = ["voice", "chat", "email", "callback", "message"];

/// A scrape's queue series as (series, value) and its header lines.
#[derive(Debug, PartialEq)]
struct Exposition {
    series: BTreeMap<String, String>,
    headers: BTreeSet<String>,
}

/// Every line where the two differ; empty when they are equal.
fn differences(fast: &Exposition, reference: &Exposition) -> Vec<String> {
    let keys: BTreeSet<&String> = fast.series.keys().chain(reference.series.keys()).collect();
    let mut lines: Vec<String> = keys
        .into_iter()
        .filter(|k| fast.series.get(*k) != reference.series.get(*k))
        .map(|k| {
            format!(
                "{k}: fast {:?}, crate {:?}",
                fast.series.get(k),
                reference.series.get(k)
            )
        })
        .collect();
    let headers = fast.headers.symmetric_difference(&reference.headers);
    lines.extend(headers.map(|h| format!("header only in one: {h}")));
    lines
}

fn parse(text: &str, keep: impl Fn(&str) -> bool) -> Exposition {
    let mut series = BTreeMap::new();
    let mut headers = BTreeSet::new();
    for line in text.lines() {
        if let Some(header) = line.strip_prefix("# ") {
            let name = header.split(' ').nth(1).unwrap_or_default();
            if keep(name) {
                headers.insert(line.to_owned());
            }
        } else if let Some((key, value)) = line.rsplit_once(' ') {
            let name = key.split('{').next().unwrap_or_default();
            if keep(name) {
                let previous = series.insert(key.to_owned(), value.to_owned());
                assert!(previous.is_none(), "{key} twice");
            }
        }
    }
    Exposition { series, headers }
}

/// The fast path and the `prometheus` crate's text encoder on the same state. NB: rendering
/// first, as a render releases held increments and sweeps staleness before it writes.
fn both_paths(metrics: &Store, now_ms: i64) -> (Exposition, Exposition) {
    let rendered = metrics.render(now_ms);
    let reference = metrics.reference(now_ms);
    let mut encoded = Vec::new();
    TextEncoder::new()
        .encode(&reference.gather(), &mut encoded)
        .unwrap();
    let encoded = String::from_utf8(encoded).unwrap();
    let names: BTreeSet<String> = reference
        .gather()
        .iter()
        .map(|f| f.name().to_owned())
        .collect();
    let fast = parse(&rendered, |name| names.contains(name));
    (fast, parse(&encoded, |_| true))
}

/// Two presences of the org share one label and system presence (their members add up in one
/// series); the snapshots also report an id that is none of them (left out).
fn five_media() -> Store {
    let metrics = Store::new(MEDIA.iter().filter_map(|m| MediaType::parse(m)).collect());
    metrics.presences().set(&[
        Presence::new("p-queue", "On Queue", SystemPresence::OnQueue),
        Presence::new("p-lunch", "Lunch \"long\"", SystemPresence::Meal),
        Presence::new("p-lunch-2", "Lunch \"long\"", SystemPresence::Meal),
    ]);
    metrics
}

fn queue(id: &str, name: &str) -> QueueLabels {
    QueueLabels {
        id: id.into(),
        name: name.into(),
        division: "Home \"HQ\"".into(),
    }
}

fn busy_snapshot(waiting: i64) -> QueueSnapshot {
    let mut snapshot = QueueSnapshot {
        media: HashMap::new(),
        users: [1, 2, 3, 0, 4],
        user_counts: [10, 6, 8],
        presences: [
            ("p-queue", 6),
            ("p-lunch", 2),
            ("p-lunch-2", 1),
            ("p-unknown", 5),
        ]
        .map(|(id, n)| (id.to_owned(), n))
        .to_vec(),
    };
    let busy = MediaSnapshot {
        interactions: [waiting, 2, 0],
        waiting_since_ms: Some(1_000_000),
    };
    snapshot.media.insert(MEDIA[0].to_owned(), busy);
    snapshot
}

#[test]
fn the_store_renders_what_the_prometheus_crate_renders_series_by_series() {
    let metrics = five_media().with_stale_policy(StalePolicy {
        bound_seconds: Some(60.0),
        gauges: StaleGauges::Remove,
    });
    metrics.set_queues(&[
        queue("q1", "Sales \"EU\" \\ desk\nnight"),
        queue("q2", "Support ünicode"),
        queue("q3", "Never resynced"),
        queue("q4", "Stale"),
    ]);
    metrics.apply_snapshot("q1", 1_000.0, &busy_snapshot(3));
    metrics.set_interactions("q1", "chat", InteractionState::Alerting, 1);
    metrics.set_longest_waiting("q2", "email", Some(1_020_000));
    metrics.set_conversation_totals("q1", "voice", [(ConversationCounter::Offered, 7.0)], false);
    let handle = [(ConversationCounter::HandleSeconds, 1_234.5)];
    metrics.set_conversation_totals("q2", "callback", handle, false);
    metrics.set_service_level_target("q1", "voice", 0.8);
    metrics.set_users_in_status("q3", RoutingStatus::Idle, 2);
    metrics.apply_snapshot("q4", 1_000.0, &busy_snapshot(1));
    metrics.set_queue_stale("q4");
    metrics.render(1_030_000);
    metrics.render(1_030_000);
    metrics.set_conversation_totals("q1", "voice", [(ConversationCounter::Offered, 9.0)], false);
    metrics.queue_observed("q1", 1_010.25);

    let (fast, reference) = both_paths(&metrics, 1_042_500);
    assert_eq!(differences(&fast, &reference), Vec::<String>::new());
    assert!(fast.series.len() > 40, "{:#?}", fast.series);
    assert_eq!(
        fast.series[r#"genesys_conversations_offered_total{media_type="voice",queue="Sales \"EU\" \\ desk\nnight",queue_id="q1"}"#],
        "9"
    );
}

/// Operations a property test applies, one queue of three and one media type of five each.
#[derive(Debug, Clone)]
enum Op {
    Interactions(usize, usize, usize, i64),
    Users(usize, usize, i64),
    Waiting(usize, usize, Option<i64>),
    Conversations(usize, usize, usize, f64),
    Target(usize, usize, f64),
    Snapshot(usize, i64),
    Stale(usize),
    Render,
    Rename(usize, String),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..3usize, 0..5usize, 0..3usize, -2i64..5)
            .prop_map(|(q, m, s, n)| Op::Interactions(q, m, s, n)),
        (0..3usize, 0..5usize, 0i64..50).prop_map(|(q, s, n)| Op::Users(q, s, n)),
        (0..3usize, 0..5usize, proptest::option::of(0i64..2_000_000))
            .prop_map(|(q, m, w)| Op::Waiting(q, m, w)),
        (0..3usize, 0..5usize, 0..20usize, 0.0f64..5_000.0)
            .prop_map(|(q, m, c, d)| Op::Conversations(q, m, c, d)),
        (0..3usize, 0..5usize, 0.0f64..1.0).prop_map(|(q, m, t)| Op::Target(q, m, t)),
        (0..3usize, 0i64..4).prop_map(|(q, n)| Op::Snapshot(q, n)),
        (0..3usize).prop_map(Op::Stale),
        Just(Op::Render),
        (0..3usize, "\\PC{0,12}").prop_map(|(q, name)| Op::Rename(q, name)),
    ]
}

const IDS: [&str; 3] = ["a1", "b2", "c3"];

fn apply(metrics: &Store, names: &mut [String; 3], op: &Op) {
    match op {
        Op::Interactions(q, m, s, n) => {
            metrics.set_interactions(IDS[*q], MEDIA[*m], InteractionState::ALL[*s], *n)
        }
        Op::Users(q, s, n) => metrics.set_users_in_status(IDS[*q], RoutingStatus::ALL[*s], *n),
        Op::Waiting(q, m, w) => metrics.set_longest_waiting(IDS[*q], MEDIA[*m], *w),
        Op::Conversations(q, m, c, total) => {
            let totals = [(ConversationCounter::ALL[*c], *total)];
            metrics.set_conversation_totals(IDS[*q], MEDIA[*m], totals, false)
        }
        Op::Target(q, m, t) => metrics.set_service_level_target(IDS[*q], MEDIA[*m], *t),
        Op::Snapshot(q, n) => metrics.apply_snapshot(IDS[*q], 1_000.0, &busy_snapshot(*n)),
        Op::Stale(q) => metrics.set_queue_stale(IDS[*q]),
        Op::Render => {
            metrics.render(1_500_000);
        }
        Op::Rename(q, name) => {
            names[*q] = name.clone();
            let labels: Vec<QueueLabels> = IDS
                .iter()
                .zip(names.iter())
                .map(|(id, n)| queue(id, n))
                .collect();
            metrics.set_queues(&labels);
        }
    }
}

proptest! {
    #[test]
    fn any_state_renders_the_same_through_both_paths(
        ops in proptest::collection::vec(op(), 0..60),
        remove in proptest::bool::ANY,
    ) {
        let gauges = if remove { StaleGauges::Remove } else { StaleGauges::Keep };
        let metrics = five_media().with_stale_policy(StalePolicy { bound_seconds: None, gauges });
        let mut names = [String::from("A"), String::from("B"), String::from("C")];
        apply(&metrics, &mut names, &Op::Rename(0, "A".into()));
        for op in &ops {
            apply(&metrics, &mut names, op);
        }
        let (fast, reference) = both_paths(&metrics, 2_000_000);
        prop_assert_eq!(differences(&fast, &reference), Vec::<String>::new());
    }
}

fn series_of_queue(metrics: &Store, id: &str) -> usize {
    let needle = format!("queue_id=\"{id}\"");
    metrics
        .render(0)
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains(&needle))
        .count()
}

#[test]
fn counters_split_by_direction_render_as_the_prometheus_crate_does_and_others_are_dropped() {
    let metrics = five_media().with_directions(vec![Direction::Inbound, Direction::Outbound]);
    metrics.set_queues(&[queue("q1", "Support")]);
    let group = |direction| ConversationGroup {
        media_type: "voice",
        direction,
    };
    for (direction, offered) in [
        (Some("outbound"), 2.0),
        (Some("inbound"), 5.0),
        (None, 9.0),
        (Some("sideways"), 9.0),
    ] {
        let totals = [(ConversationCounter::Offered, offered)];
        metrics.set_conversation_totals("q1", group(direction), totals, false);
    }
    metrics.render(0);
    metrics.render(0);
    let (fast, reference) = both_paths(&metrics, 0);
    assert_eq!(differences(&fast, &reference), Vec::<String>::new());
    let offered: Vec<(&String, &String)> = fast
        .series
        .iter()
        .filter(|(name, _)| name.starts_with("genesys_conversations_offered_total"))
        .collect();
    let series = |direction: &str| {
        format!(
            r#"genesys_conversations_offered_total{{direction="{direction}",media_type="voice",queue="Support",queue_id="q1"}}"#
        )
    };
    assert_eq!(
        offered,
        [
            (&series("inbound"), &"5".to_owned()),
            (&series("outbound"), &"2".to_owned())
        ]
    );
}

#[test]
fn a_media_type_a_queue_never_had_costs_no_series() {
    let counters = ConversationCounter::for_metrics(crate::config::DEFAULT_AGGREGATE_METRICS);
    let media = MEDIA.iter().filter_map(|m| MediaType::parse(m)).collect();
    let metrics = Store::with_counters(media, counters.clone());
    metrics.set_queues(&[queue("q1", "Voice and chat")]);
    let mut snapshot = busy_snapshot(2);
    let chat = MediaSnapshot {
        interactions: [0, 1, 0],
        waiting_since_ms: None,
    };
    snapshot.media.insert("chat".to_owned(), chat);
    // NB: outside the allow-list: never shown.
    snapshot.media.insert("fax".to_owned(), chat);
    metrics.apply_snapshot("q1", 1_000.0, &snapshot);
    metrics.set_interactions("q1", "email", InteractionState::Waiting, 0);
    metrics.set_longest_waiting("q1", "message", None);
    for media in ["voice", "chat"] {
        let totals = counters.iter().map(|counter| (*counter, 1.0));
        metrics.set_conversation_totals("q1", media, totals, false);
        metrics.set_service_level_target("q1", media, 0.8);
    }
    let text = metrics.render(0);
    for absent in ["email", "callback", "message"] {
        assert!(
            !text.contains(&format!("media_type=\"{absent}\"")),
            "{absent}: {text}"
        );
    }
    // info, stale, timestamp, 5 routing statuses, 3 user counts; per media type 3
    // interaction states, the oldest waiting, 10 counters and the service-level target.
    let per_queue = series_of_queue(&metrics, "q1");
    assert_eq!(per_queue, 11 + 2 * 15, "{text}");
    assert!(per_queue <= 50);
}

#[test]
fn a_slow_scrape_overtaken_by_others_never_shows_a_new_counter_group_past_zero() {
    let metrics = five_media();
    metrics.set_queues(&[queue("q1", "Support")]);
    let slow = crate::metrics::ScrapeParts::new(&metrics.metrics, 0);
    metrics.set_conversation_totals("q1", "voice", [(ConversationCounter::Offered, 3.0)], false);
    let offered =
        r#"genesys_conversations_offered_total{media_type="voice",queue="Support",queue_id="q1"}"#;
    let value = |text: &str| {
        text.lines().find_map(|l| {
            l.strip_prefix(offered)?
                .strip_prefix(' ')
                .map(str::to_owned)
        })
    };
    assert_eq!(value(&metrics.render(0)).as_deref(), Some("0"));
    assert_eq!(value(&metrics.render(0)).as_deref(), Some("0"));
    assert_eq!(value(&metrics.render(0)).as_deref(), Some("3"));
    let slow: Vec<u8> = slow.flatten().collect();
    assert_eq!(
        value(&String::from_utf8(slow).unwrap()),
        None,
        "began before the group existed"
    );
}

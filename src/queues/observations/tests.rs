use super::*;
use crate::genesys::model::{AggregateMetricData, Group, StatisticalResponse};
use crate::queues::table::{QueueSeries, QueueTable};
use crate::vocabulary::labels::{MediaType, SystemPresence};
use crate::vocabulary::presence::Presence;
use crate::vocabulary::queue::QueueLabels;

const NOW: i64 = 1_764_064_014_839;

/// Applies an event as a new frame (a fresh fingerprint each time), as the stream does.
trait ApplyUnique {
    fn apply_event_unique(
        &self,
        container: &AggregateDataContainer,
        now_ms: i64,
    ) -> Result<usize, ObservationIssue>;
}

impl ApplyUnique for Observations {
    fn apply_event_unique(
        &self,
        container: &AggregateDataContainer,
        now_ms: i64,
    ) -> Result<usize, ObservationIssue> {
        static FRAMES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let fingerprint = FRAMES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.apply_event(container, fingerprint, now_ms)
    }
}

fn setup() -> (Observations, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::new());
    let queues = QueueTable::register(
        &metrics,
        QueueSeries::new(vec![MediaType::Voice, MediaType::Chat]),
    );
    queues.set_queues(&[QueueLabels {
        id: "q1".into(),
        name: "Support".into(),
        division: "Home".into(),
    }]);
    (
        Observations::new(&metrics, queues.clone(), Clock::system()),
        metrics,
    )
}

fn event(media: Option<&str>, values: &[(&str, Option<&str>, Stats)]) -> AggregateDataContainer {
    let metrics = values
        .iter()
        .map(|(metric, qualifier, stats)| AggregateMetricData {
            metric: (*metric).into(),
            qualifier: qualifier.map(str::to_owned),
            stats: stats.clone(),
        })
        .collect();
    AggregateDataContainer {
        group: Group {
            queue_id: Some("q1".into()),
            media_type: media.map(str::to_owned),
            ..Group::default()
        },
        data: vec![StatisticalResponse {
            interval: "2026-11-25T09:46:54.839Z/2026-11-25T09:46:54.839Z".into(),
            metrics,
        }],
    }
}

fn n(count: u64) -> Stats {
    Stats {
        count: Some(count),
        ..Stats::default()
    }
}

fn value(text: &str, series: &str) -> Option<String> {
    text.lines().find_map(|line| {
        line.strip_prefix(series)?
            .strip_prefix(' ')
            .map(str::to_owned)
    })
}

#[test]
fn an_event_sets_only_the_metrics_it_carries() {
    let (observations, metrics) = setup();
    let stamp = r#"genesys_queue_observation_timestamp_seconds{queue="Support",queue_id="q1"}"#;
    observations
        .apply_event_unique(&event(Some("voice"), &[("oWaiting", None, n(9))]), NOW)
        .unwrap();
    assert_eq!(
        value(&metrics.render(NOW), stamp),
        None,
        "before its first resync an event does not make a queue fresh"
    );
    observations
        .finish_resync(&["q1".to_owned()], Ok(Default::default()), NOW - 5_000)
        .unwrap();
    let first = event(
        Some("voice"),
        &[("oWaiting", None, n(3)), ("oInteracting", None, n(2))],
    );
    assert_eq!(observations.apply_event_unique(&first, NOW), Ok(2));
    let second = event(Some("voice"), &[("oWaiting", None, n(1))]);
    observations.apply_event_unique(&second, NOW).unwrap();
    let text = metrics.render(NOW);
    let series =
        r#"genesys_queue_interactions{media_type="voice",queue="Support",queue_id="q1",state="#;
    assert_eq!(
        value(&text, &format!(r#"{series}"waiting"}}"#)).as_deref(),
        Some("1")
    );
    assert_eq!(
        value(&text, &format!(r#"{series}"interacting"}}"#)).as_deref(),
        Some("2")
    );
    assert_eq!(value(&text, stamp).as_deref(), Some("1764064014.839"));
}

#[test]
fn longest_waiting_is_an_instant_and_zero_waiting_clears_it() {
    let (observations, metrics) = setup();
    let since = Stats {
        calculated_metric_value: Some(NOW - 42_000),
        ..Stats::default()
    };
    observations
        .apply_event_unique(
            &event(Some("voice"), &[("oLongestWaiting", None, since)]),
            NOW,
        )
        .unwrap();
    let series =
        r#"genesys_queue_oldest_waiting_seconds{media_type="voice",queue="Support",queue_id="q1"}"#;
    assert_eq!(value(&metrics.render(NOW), series).as_deref(), Some("42"));
    assert_eq!(
        value(&metrics.render(NOW + 8_000), series).as_deref(),
        Some("50"),
        "grows between events"
    );
    observations
        .apply_event_unique(&event(Some("voice"), &[("oWaiting", None, n(0))]), NOW)
        .unwrap();
    assert_eq!(
        value(&metrics.render(NOW + 9_000), series).as_deref(),
        Some("0")
    );
}

#[test]
fn on_queue_users_are_the_sum_of_the_statuses_seen_so_far() {
    let (observations, metrics) = setup();
    let both = event(
        None,
        &[
            ("oOnQueueUsers", Some("IDLE"), n(4)),
            ("oOnQueueUsers", Some("INTERACTING"), n(3)),
        ],
    );
    observations.apply_event_unique(&both, NOW).unwrap();
    observations
        .apply_event_unique(&event(None, &[("oOnQueueUsers", Some("IDLE"), n(1))]), NOW)
        .unwrap();
    let users = event(
        None,
        &[
            ("oUserRoutingStatuses", Some("IDLE"), n(1)),
            ("oMemberUsers", None, n(9)),
            ("oActiveUsers", None, n(8)),
        ],
    );
    observations.apply_event_unique(&users, NOW).unwrap();
    let text = metrics.render(NOW);
    assert_eq!(
        value(
            &text,
            r#"genesys_queue_on_queue_users{queue="Support",queue_id="q1"}"#
        )
        .as_deref(),
        Some("4")
    );
    assert_eq!(
        value(
            &text,
            r#"genesys_queue_users{queue="Support",queue_id="q1",routing_status="IDLE"}"#
        )
        .as_deref(),
        Some("1")
    );
    assert_eq!(
        value(
            &text,
            r#"genesys_queue_members{queue="Support",queue_id="q1"}"#
        )
        .as_deref(),
        Some("9")
    );
    assert_eq!(
        value(
            &text,
            r#"genesys_queue_active_users{queue="Support",queue_id="q1"}"#
        )
        .as_deref(),
        Some("8")
    );
}

#[test]
fn values_outside_the_allow_lists_are_ignored_and_counted() {
    let (observations, metrics) = setup();
    let fax = event(Some("fax"), &[("oWaiting", None, n(5))]);
    assert_eq!(
        observations.apply_event_unique(&fax, NOW),
        Err(ObservationIssue::UnknownMediaType("fax".into()))
    );
    let odd = event(
        None,
        &[
            ("oUserRoutingStatuses", Some("DANCING"), n(2)),
            ("oSomethingNew", None, n(1)),
            ("oUserPresences", Some("p"), n(1)),
        ],
    );
    assert_eq!(observations.apply_event_unique(&odd, NOW), Ok(0));
    assert_eq!(observations.ignored_values(), 4);
    let text = metrics.render(NOW);
    assert!(!text.contains("fax") && !text.contains("DANCING"), "{text}");
    assert!(!text.contains("genesys_queue_presence_users{"), "{text}");
    let counted = [
        ("media_type", 1),
        ("routing_status", 1),
        ("presence", 1),
        ("metric", 1),
    ];
    for (what, n) in counted {
        let line = format!("genesys_exporter_ignored_values_total{{what=\"{what}\"}} {n}\n");
        assert!(text.contains(&line), "{line}{text}");
    }
}

#[test]
fn events_that_are_not_observations_of_a_monitored_queue_are_issues() {
    let (observations, _) = setup();
    let mut other = event(Some("voice"), &[("oWaiting", None, n(1))]);
    other.group.queue_id = Some("q2".into());
    assert_eq!(
        observations.apply_event_unique(&other, NOW),
        Err(ObservationIssue::UnmonitoredQueue("q2".into()))
    );
    let mut aggregate = event(Some("voice"), &[("nOffered", None, n(1))]);
    aggregate.data[0].interval = "2026-11-25T09:30:00.000Z/2026-11-25T10:00:00.000Z".into();
    assert_eq!(
        observations.apply_event_unique(&aggregate, NOW),
        Err(ObservationIssue::NotAnObservation)
    );
}

#[test]
fn a_resync_sets_every_series_with_missing_meaning_zero() {
    let (observations, metrics) = setup();
    observations
        .apply_event_unique(&event(Some("chat"), &[("oWaiting", None, n(7))]), NOW)
        .unwrap();
    observations
        .apply_event_unique(&event(None, &[("oOnQueueUsers", Some("IDLE"), n(5))]), NOW)
        .unwrap();
    let response: QueueObservationQueryResponse = serde_json::from_str(r#"{"results":[
      {"group":{"queueId":"q1","mediaType":"voice"},"data":[
        {"metric":"oWaiting","stats":{"count":2},"truncated":false,"observations":[
          {"observationDate":"2025-11-25T09:46:24.839Z","conversationId":"c1"},
          {"observationDate":"2025-11-25T09:46:50.839Z","conversationId":"c2"}]},
        {"metric":"oInteracting","stats":{"count":1}}]},
      {"group":{"queueId":"q1","mediaType":"fax"},"data":[{"metric":"oWaiting","stats":{"count":9}}]},
      {"group":{"queueId":"q1"},"data":[
        {"metric":"oOnQueueUsers","qualifier":"INTERACTING","stats":{"count":2}},
        {"metric":"oUserRoutingStatuses","qualifier":"INTERACTING","stats":{"count":2}},
        {"metric":"oMemberUsers","stats":{"count":6}}]},
      {"group":{"queueId":"elsewhere"},"data":[{"metric":"oMemberUsers","stats":{"count":1}}]}]}"#).unwrap();
    observations.apply_resync(&["q1".to_owned()], &response, NOW);
    let text = metrics.render(NOW);
    let q = r#"queue="Support",queue_id="q1""#;
    for (series, expected) in [
        (
            format!(r#"genesys_queue_interactions{{media_type="voice",{q},state="waiting"}}"#),
            "2",
        ),
        (
            format!(r#"genesys_queue_interactions{{media_type="voice",{q},state="interacting"}}"#),
            "1",
        ),
        (
            format!(r#"genesys_queue_interactions{{media_type="voice",{q},state="alerting"}}"#),
            "0",
        ),
        (
            format!(r#"genesys_queue_interactions{{media_type="chat",{q},state="waiting"}}"#),
            "0",
        ),
        (
            format!(r#"genesys_queue_oldest_waiting_seconds{{media_type="voice",{q}}}"#),
            "30",
        ),
        (
            format!(r#"genesys_queue_oldest_waiting_seconds{{media_type="chat",{q}}}"#),
            "0",
        ),
        (format!(r#"genesys_queue_on_queue_users{{{q}}}"#), "2"),
        (
            format!(r#"genesys_queue_users{{{q},routing_status="INTERACTING"}}"#),
            "2",
        ),
        (
            format!(r#"genesys_queue_users{{{q},routing_status="IDLE"}}"#),
            "0",
        ),
        (format!(r#"genesys_queue_members{{{q}}}"#), "6"),
        (format!(r#"genesys_queue_active_users{{{q}}}"#), "0"),
    ] {
        assert_eq!(
            value(&text, &series).as_deref(),
            Some(expected),
            "{series}\n{text}"
        );
    }
    assert!(!text.contains("elsewhere") && !text.contains("fax"));
    observations
        .apply_event_unique(&event(None, &[("oOnQueueUsers", Some("IDLE"), n(1))]), NOW)
        .unwrap();
    let text = metrics.render(NOW);
    assert_eq!(
        value(&text, &format!(r#"genesys_queue_on_queue_users{{{q}}}"#)).as_deref(),
        Some("3"),
        "parts restart from the snapshot"
    );
}

#[test]
fn a_resync_carrying_both_forms_of_on_queue_users_counts_the_qualified_parts_once() {
    let series = r#"genesys_queue_on_queue_users{queue="Support",queue_id="q1"}"#;
    let unqualified = r#"{"metric":"oOnQueueUsers","stats":{"count":5}}"#;
    let qualified = r#"{"metric":"oOnQueueUsers","qualifier":"IDLE","stats":{"count":2}},
        {"metric":"oOnQueueUsers","qualifier":"INTERACTING","stats":{"count":3}}"#;
    for data in [
        format!("{unqualified},{qualified}"),
        format!("{qualified},{unqualified}"),
    ] {
        let (observations, metrics) = setup();
        let response: QueueObservationQueryResponse = serde_json::from_str(&format!(
            r#"{{"results":[{{"group":{{"queueId":"q1"}},"data":[{data}]}}]}}"#
        ))
        .unwrap();
        observations.apply_resync(&["q1".to_owned()], &response, NOW);
        assert_eq!(
            value(&metrics.render(NOW), series).as_deref(),
            Some("5"),
            "{data}"
        );
        observations
            .apply_event_unique(&event(None, &[("oOnQueueUsers", Some("IDLE"), n(4))]), NOW)
            .unwrap();
        assert_eq!(
            value(&metrics.render(NOW), series).as_deref(),
            Some("7"),
            "events build on the qualified parts: {data}"
        );
    }
    let (observations, metrics) = setup();
    let response: QueueObservationQueryResponse = serde_json::from_str(&format!(
        r#"{{"results":[{{"group":{{"queueId":"q1"}},"data":[{unqualified}]}}]}}"#
    ))
    .unwrap();
    observations.apply_resync(&["q1".to_owned()], &response, NOW);
    assert_eq!(
        value(&metrics.render(NOW), series).as_deref(),
        Some("5"),
        "the unqualified form alone is the total"
    );
}

/// Members by presence, under the definition's label and system presence: set by events, and
/// by a resync, which also zeroes a presence it no longer reports.
#[test]
fn members_by_presence_follow_events_and_resyncs_under_the_definitions_label() {
    let (observations, metrics) = setup();
    metrics.presences().set(&[
        Presence::new("p-lunch", "Lunch", SystemPresence::Meal),
        Presence::new("p-queue", "On Queue", SystemPresence::OnQueue),
    ]);
    let series = |label: &str, system: &str| {
        format!(
            r#"genesys_queue_presence_users{{presence="{label}",queue="Support",queue_id="q1",system_presence="{system}"}}"#
        )
    };
    let lunch = series("Lunch", "MEAL");
    let on_queue = series("On Queue", "ON_QUEUE");
    let event = event(None, &[("oUserPresences", Some("p-lunch"), n(2))]);
    assert_eq!(observations.apply_event_unique(&event, NOW), Ok(1));
    assert_eq!(value(&metrics.render(NOW), &lunch).as_deref(), Some("2"));

    let response: QueueObservationQueryResponse = serde_json::from_str(
        r#"{"results":[{"group":{"queueId":"q1"},"data":[
            {"metric":"oUserPresences","qualifier":"p-queue","stats":{"count":4}}]}]}"#,
    )
    .unwrap();
    observations.apply_resync(&["q1".to_owned()], &response, NOW);
    let text = metrics.render(NOW);
    assert_eq!(value(&text, &on_queue).as_deref(), Some("4"), "{text}");
    assert_eq!(value(&text, &lunch).as_deref(), Some("0"), "{text}");
}

#[test]
fn a_failed_resync_marks_the_queues_stale() {
    let (observations, metrics) = setup();
    let error = ApiError::Status {
        endpoint: "observations",
        status: 503,
        message: "down".into(),
        correlation_id: "x".into(),
    };
    assert!(
        observations
            .finish_resync(&["q1".to_owned()], Err(error), NOW)
            .is_err()
    );
    let text = metrics.render(NOW);
    assert_eq!(
        value(
            &text,
            r#"genesys_exporter_queue_stale{queue="Support",queue_id="q1"}"#
        )
        .as_deref(),
        Some("1")
    );
    assert_eq!(
        value(&text, r#"genesys_exporter_resyncs_total{result="failure"}"#).as_deref(),
        Some("1")
    );
    observations
        .finish_resync(&["q1".to_owned()], Ok(Default::default()), NOW)
        .unwrap();
    let text = metrics.render(NOW);
    assert_eq!(
        value(
            &text,
            r#"genesys_exporter_queue_stale{queue="Support",queue_id="q1"}"#
        )
        .as_deref(),
        Some("0")
    );
}

#[test]
fn zero_width_intervals_are_recognised_even_when_spelled_differently() {
    assert!(is_instant_interval(
        "2026-11-25T09:46:54.839Z/2026-11-25T09:46:54.839Z"
    ));
    assert!(is_instant_interval(
        "2026-11-25T09:46:54.839Z/2026-11-25T09:46:54.839+00:00"
    ));
    assert!(!is_instant_interval(
        "2026-11-25T09:30:00.000Z/2026-11-25T10:00:00.000Z"
    ));
    assert!(!is_instant_interval("garbage"));
}

fn snapshot(json: &str) -> QueueObservationQueryResponse {
    serde_json::from_str(json).unwrap()
}

const WAITING_VOICE: &str = r#"genesys_queue_interactions{media_type="voice",queue="Support",queue_id="q1",state="waiting"}"#;
const ON_QUEUE: &str = r#"genesys_queue_on_queue_users{queue="Support",queue_id="q1"}"#;
const STALE: &str = r#"genesys_exporter_queue_stale{queue="Support",queue_id="q1"}"#;

thread_local! {
    /// Makes the next snapshot written on this thread panic: a bug a resync must survive.
    static PANIC_IN_SNAPSHOT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

pub(super) fn panic_if_injected() {
    if PANIC_IN_SNAPSHOT.replace(false) {
        panic!("injected: writing a snapshot failed");
    }
}

fn api_error() -> ApiError {
    ApiError::Status {
        endpoint: "observations",
        status: 503,
        message: "down".into(),
        correlation_id: "x".into(),
    }
}

fn waiting_snapshot(queue_id: &str, count: u64) -> QueueObservationQueryResponse {
    snapshot(&format!(
        r#"{{"results":[{{"group":{{"queueId":"{queue_id}","mediaType":"voice"}},"data":[{{"metric":"oWaiting","stats":{{"count":{count}}}}}]}}]}}"#
    ))
}

#[tokio::test]
async fn events_during_a_resync_query_are_applied_at_once_and_replayed_over_its_snapshot() {
    let (observations, metrics) = setup();
    let ids = ["q1".to_owned()];
    let older = snapshot(
        r#"{"results":[
          {"group":{"queueId":"q1","mediaType":"voice"},"data":[{"metric":"oWaiting","stats":{"count":5}}]},
          {"group":{"queueId":"q1"},"data":[{"metric":"oOnQueueUsers","qualifier":"IDLE","stats":{"count":3}}]}]}"#,
    );
    let query = |_| async {
        let older = older.clone();
        // Sent, answered with the older state; then the queue changes and its events arrive.
        let newer = event(Some("voice"), &[("oWaiting", None, n(2))]);
        assert_eq!(
            observations.apply_event_unique(&newer, NOW),
            Ok(1),
            "applied"
        );
        let parts = event(None, &[("oOnQueueUsers", Some("INTERACTING"), n(1))]);
        assert_eq!(
            observations.apply_event_unique(&parts, NOW),
            Ok(1),
            "applied"
        );
        let text = metrics.render(NOW);
        assert_eq!(value(&text, WAITING_VOICE).as_deref(), Some("2"), "at once");
        assert_eq!(value(&text, ON_QUEUE).as_deref(), Some("1"));
        Ok(older)
    };
    observations.resync_with(&ids, query).await.unwrap();
    let text = metrics.render(NOW);
    assert_eq!(
        value(&text, WAITING_VOICE).as_deref(),
        Some("2"),
        "the newer event wins over the older snapshot"
    );
    assert_eq!(
        value(&text, ON_QUEUE).as_deref(),
        Some("4"),
        "replayed parts build on the snapshot's"
    );
    assert_eq!(value(&text, STALE).as_deref(), Some("0"));
    assert_eq!(observations.records_in_flight(), 0);
    let later = event(Some("voice"), &[("oWaiting", None, n(6))]);
    assert_eq!(observations.apply_event_unique(&later, NOW), Ok(1));
    assert_eq!(
        value(&metrics.render(NOW), WAITING_VOICE).as_deref(),
        Some("6")
    );
}

#[test]
fn a_failed_or_abandoned_resync_discards_its_record_and_keeps_the_applied_events() {
    let (observations, metrics) = setup();
    let ids = ["q1".to_owned()];
    let record = observations.record(&ids);
    observations
        .apply_event_unique(&event(Some("voice"), &[("oWaiting", None, n(3))]), NOW)
        .unwrap();
    assert_eq!(
        value(&metrics.render(NOW), WAITING_VOICE).as_deref(),
        Some("3"),
        "applied while the query is in flight"
    );
    assert!(record.finish(Err(api_error()), NOW).is_err());
    let text = metrics.render(NOW);
    assert_eq!(value(&text, WAITING_VOICE).as_deref(), Some("3"));
    assert_eq!(value(&text, STALE).as_deref(), Some("1"), "still stale");
    assert_eq!(observations.records_in_flight(), 0);

    let record = observations.record(&ids);
    observations
        .apply_event_unique(&event(Some("voice"), &[("oWaiting", None, n(4))]), NOW)
        .unwrap();
    assert_eq!(observations.records_in_flight(), 1);
    drop(record);
    assert_eq!(observations.records_in_flight(), 0, "a cancelled resync");
    assert_eq!(
        value(&metrics.render(NOW), WAITING_VOICE).as_deref(),
        Some("4")
    );
}

#[test]
fn a_queue_that_outgrows_its_record_keeps_its_live_values_and_is_left_stale() {
    let (observations, metrics) = setup();
    let record = observations.record(&["q1".to_owned()]);
    let last = record::MAX_RECORDED_EVENTS_PER_QUEUE as u64 + 4;
    for i in 0..=last {
        let waiting = event(Some("voice"), &[("oWaiting", None, n(i))]);
        assert_eq!(observations.apply_event_unique(&waiting, NOW), Ok(1));
    }
    assert_eq!(observations.unrecorded_events(), 5);
    record.finish(Ok(waiting_snapshot("q1", 999)), NOW).unwrap();
    let text = metrics.render(NOW);
    assert_eq!(
        value(&text, WAITING_VOICE),
        Some(last.to_string()),
        "neither the older snapshot nor part of the events replayed over it"
    );
    assert_eq!(
        value(&text, STALE).as_deref(),
        Some("1"),
        "the snapshot was not applied; the stream resyncs again"
    );
}

fn two_queues() -> (Observations, Arc<Metrics>) {
    let (observations, metrics) = setup();
    let labels = ["q1", "q2"].map(|id| QueueLabels {
        id: id.into(),
        name: format!("Queue {id}"),
        division: "Home".into(),
    });
    observations.table().set_queues(&labels);
    (observations, metrics)
}

#[test]
fn a_busy_queue_outgrowing_its_record_costs_no_other_resync_its_record() {
    let (observations, metrics) = two_queues();
    let busy = observations.record(&["q1".to_owned()]);
    let quiet = observations.record(&["q2".to_owned()]);
    for _ in 0..20_000 {
        let flood = event(Some("voice"), &[("oWaiting", None, n(1))]);
        observations.apply_event_unique(&flood, NOW).unwrap();
    }
    let mut other = event(Some("voice"), &[("oWaiting", None, n(2))]);
    other.group.queue_id = Some("q2".into());
    observations.apply_event_unique(&other, NOW).unwrap();
    quiet.finish(Ok(waiting_snapshot("q2", 5)), NOW).unwrap();
    busy.finish(Ok(waiting_snapshot("q1", 5)), NOW).unwrap();
    let text = metrics.render(NOW);
    let q2 = r#"queue="Queue q2",queue_id="q2""#;
    assert_eq!(
        value(
            &text,
            &format!(r#"genesys_queue_interactions{{media_type="voice",{q2},state="waiting"}}"#)
        )
        .as_deref(),
        Some("2"),
        "its event replayed over its snapshot"
    );
    assert_eq!(
        value(&text, &format!("genesys_exporter_queue_stale{{{q2}}}")).as_deref(),
        Some("0")
    );
    let q1 = r#"queue="Queue q1",queue_id="q1""#;
    assert_eq!(
        value(&text, &format!("genesys_exporter_queue_stale{{{q1}}}")).as_deref(),
        Some("1")
    );
}

#[test]
fn a_panic_while_a_snapshot_is_applied_still_lets_its_record_go() {
    let (observations, metrics) = setup();
    let record = observations.record(&["q1".to_owned()]);
    PANIC_IN_SNAPSHOT.set(true);
    let finish = std::panic::AssertUnwindSafe(|| record.finish(Ok(waiting_snapshot("q1", 5)), NOW));
    assert!(std::panic::catch_unwind(finish).is_err());
    assert_eq!(observations.records_in_flight(), 0);
    let waiting = event(Some("voice"), &[("oWaiting", None, n(7))]);
    assert_eq!(observations.apply_event_unique(&waiting, NOW), Ok(1));
    assert_eq!(
        value(&metrics.render(NOW), WAITING_VOICE).as_deref(),
        Some("7")
    );
}

#[tokio::test]
async fn a_resync_queries_and_records_one_batch_of_at_most_100_queues_at_a_time() {
    let (observations, metrics) = setup();
    let labels: Vec<QueueLabels> = (0..250)
        .map(|i| QueueLabels {
            id: format!("q{i}"),
            name: format!("Queue {i}"),
            division: "Home".into(),
        })
        .collect();
    observations.table().set_queues(&labels);
    let ids: Vec<String> = labels.iter().map(|q| q.id.clone()).collect();
    let batches = Mutex::new(Vec::new());
    let query = |batch: &[String]| {
        batches.lock().unwrap().push(batch.to_vec());
        let observations = &observations;
        let first = batches.lock().unwrap().len() == 1;
        async move {
            assert_eq!(observations.records_in_flight(), 1);
            if first {
                Ok(QueueObservationQueryResponse::default())
            } else {
                Err(api_error())
            }
        }
    };
    assert!(observations.resync_with(&ids, query).await.is_err());
    let batches = batches.into_inner().unwrap();
    assert_eq!(
        batches.iter().map(Vec::len).collect::<Vec<_>>(),
        [100, 100],
        "the first failed batch ends the resync"
    );
    assert_eq!(batches[0][..], ids[..100]);
    assert_eq!(batches[1][..], ids[100..200]);
    assert_eq!(observations.records_in_flight(), 0);
    let text = metrics.render(NOW);
    let stale = |i: usize| {
        value(
            &text,
            &format!(r#"genesys_exporter_queue_stale{{queue="Queue {i}",queue_id="q{i}"}}"#),
        )
    };
    assert_eq!(stale(99).as_deref(), Some("0"), "its batch succeeded");
    assert_eq!(stale(100).as_deref(), Some("1"), "its batch failed");
    assert_eq!(stale(249).as_deref(), Some("1"), "its batch never ran");
}

#[test]
fn what_is_kept_per_queue_goes_when_the_queue_leaves() {
    let (observations, _) = setup();
    let newer = event(Some("voice"), &[("oWaiting", None, n(2))]);
    observations.apply_event_unique(&newer, NOW).unwrap();
    let labels = QueueLabels {
        id: "q1".into(),
        name: "Support".into(),
        division: "Home".into(),
    };
    observations.table().set_queues(&[]);
    observations.forget_departed();
    observations.table().set_queues(&[labels]);
    let mut older = event(Some("voice"), &[("oWaiting", None, n(1))]);
    older.data[0].interval = "2026-11-25T09:40:00.000Z/2026-11-25T09:40:00.000Z".into();
    assert_eq!(
        observations.apply_event_unique(&older, NOW),
        Ok(1),
        "a returning queue starts a new order, not the one it left with"
    );
}

/// A queue whose result does not parse is left stale at its old values, never zeroed; the
/// other queue of the batch is resynced.
#[tokio::test]
async fn a_result_that_does_not_parse_costs_its_queue_only() {
    let (observations, metrics) = setup();
    observations.table().set_queues(&[
        QueueLabels {
            id: "q1".into(),
            name: "Support".into(),
            division: "Home".into(),
        },
        QueueLabels {
            id: "q2".into(),
            name: "Sales".into(),
            division: "Home".into(),
        },
    ]);
    let ids = ["q1".to_owned(), "q2".to_owned()];
    observations
        .resync_with(&ids, |_| async { Ok(waiting_snapshot("q1", 4)) })
        .await
        .unwrap();
    let hostile = snapshot(
        r#"{"results":[
          {"group":{"queueId":"q1","mediaType":"voice"},"data":[{"metric":"oWaiting","stats":{"count":-3}}]},
          {"group":{"queueId":"q2","mediaType":"voice"},"data":[{"metric":"oWaiting","stats":{"count":7}}]}]}"#,
    );
    assert_eq!(hostile.malformed, [Some("q1".to_owned())]);
    observations
        .resync_with(&ids, |_| async { Ok(hostile.clone()) })
        .await
        .unwrap();
    let text = metrics.render(NOW);
    assert_eq!(
        value(&text, WAITING_VOICE).as_deref(),
        Some("4"),
        "not zeroed"
    );
    assert_eq!(value(&text, STALE).as_deref(), Some("1"));
    let sales = r#"genesys_queue_interactions{media_type="voice",queue="Sales",queue_id="q2",state="waiting"}"#;
    assert_eq!(value(&text, sales).as_deref(), Some("7"));
}

#[test]
fn a_result_naming_no_queue_leaves_out_every_queue_without_a_parsed_result() {
    let response = snapshot(
        r#"{"results":[{"group":{"queueId":"q2","mediaType":"voice"},"data":[]},{"group":7}]}"#,
    );
    assert_eq!(response.results.len(), 1);
    assert_eq!(response.malformed, [None]);
    let ids = ["q1".to_owned(), "q2".to_owned(), "q3".to_owned()];
    let unparsed = super::record::unparsed_queues(&ids, &response);
    assert_eq!(unparsed.into_iter().collect::<Vec<_>>(), ["q1", "q3"]);
}

use std::ops::Deref;

use super::*;
use crate::vocabulary::queue::{QueueLabels, StaleGauges, StalePolicy};

/// A store with only a queue table, driven as the producers and the scrape drive them.
pub(super) struct Store {
    metrics: Metrics,
    queues: Arc<QueueTable>,
    series: QueueSeries,
    /// Whether the store's policy leaves a stale queue's gauges out.
    hide_stale: bool,
}

impl Deref for Store {
    type Target = QueueTable;

    fn deref(&self) -> &QueueTable {
        &self.queues
    }
}

impl Store {
    pub(super) fn new(media_types: Vec<MediaType>) -> Self {
        Self::of(QueueSeries::new(media_types))
    }

    pub(super) fn with_counters(
        media_types: Vec<MediaType>,
        counters: Vec<ConversationCounter>,
    ) -> Self {
        let mut series = QueueSeries::new(media_types);
        series.counters = counters;
        Self::of(series)
    }

    fn of(series: QueueSeries) -> Self {
        Self::in_store(Metrics::new(), series)
    }

    fn in_store(metrics: Metrics, series: QueueSeries) -> Self {
        let queues = QueueTable::register(&metrics, series.clone());
        Self {
            metrics,
            queues,
            series,
            hide_stale: false,
        }
    }

    /// The same store anew (its presences kept), under `policy`.
    pub(super) fn with_stale_policy(self, policy: StalePolicy) -> Self {
        let metrics = Metrics::new().with_stale_policy(policy);
        let presences: Vec<_> = self
            .metrics
            .presences()
            .current()
            .values()
            .cloned()
            .collect();
        metrics.presences().set(&presences);
        Self {
            hide_stale: policy.gauges == StaleGauges::Remove,
            ..Self::in_store(metrics, self.series)
        }
    }

    /// The queue series through the `prometheus` crate, under the store's policy.
    pub(super) fn reference(&self, now_ms: i64) -> prometheus::Registry {
        self.queues.reference_registry(now_ms, self.hide_stale)
    }

    /// The same store anew (its presences kept), counters split by `directions`.
    pub(super) fn with_directions(self, directions: Vec<Direction>) -> Self {
        let presences: Vec<_> = self
            .metrics
            .presences()
            .current()
            .values()
            .cloned()
            .collect();
        let series = QueueSeries {
            directions,
            ..self.series
        };
        let store = Self::of(series);
        store.metrics.presences().set(&presences);
        store
    }

    pub(super) fn presences(&self) -> &Arc<Presences> {
        self.metrics.presences()
    }

    pub(super) fn render(&self, now_ms: i64) -> String {
        self.metrics.render(now_ms)
    }
}

fn metrics_with_queue() -> Store {
    let metrics = Store::new(vec![MediaType::Voice, MediaType::Chat]);
    metrics.set_queues(&[QueueLabels {
        id: "q1".into(),
        name: "Support".into(),
        division: "Home".into(),
    }]);
    metrics
}

#[test]
fn oldest_waiting_age_is_computed_at_scrape_time() {
    let metrics = metrics_with_queue();
    metrics.set_longest_waiting("q1", "voice", Some(1_000_000));
    let text = metrics.render(1_042_500);
    assert!(text.contains(r#"genesys_queue_oldest_waiting_seconds{media_type="voice",queue="Support",queue_id="q1"} 42.5"#), "{text}");
    let later = metrics.render(1_062_500);
    assert!(later.contains(r#"queue_id="q1"} 62.5"#), "{later}");
}

#[test]
fn timer_sums_are_exported_in_seconds() {
    let metrics = metrics_with_queue();
    let totals = [
        (ConversationCounter::HandleSeconds, 1500.0),
        (ConversationCounter::Handled, 2.0),
    ];
    metrics.set_conversation_totals("q1", "voice", totals, false);
    metrics.render(0);
    metrics.render(0);
    let text = metrics.render(0);
    assert!(text.contains(r#"genesys_conversation_handle_seconds_total{media_type="voice",queue="Support",queue_id="q1"} 1.5"#), "{text}");
    assert!(text.contains(r#"genesys_conversations_handled_total{media_type="voice",queue="Support",queue_id="q1"} 2"#), "{text}");
}

const OFFERED_VOICE: &str =
    r#"genesys_conversations_offered_total{media_type="voice",queue="Support",queue_id="q1"}"#;

/// Sets q1's voice `offered` total.
fn offered(metrics: &Store, total: f64) {
    let totals = [(ConversationCounter::Offered, total)];
    metrics.set_conversation_totals("q1", "voice", totals, false);
}

fn value(text: &str, series: &str) -> Option<f64> {
    let prefix = format!("{series} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|v| v.parse().unwrap())
}

#[test]
fn new_counter_series_are_shown_at_zero_by_two_scrapes_before_they_move() {
    let metrics = Store::with_counters(
        vec![MediaType::Voice, MediaType::Chat],
        vec![ConversationCounter::Offered, ConversationCounter::Abandoned],
    );
    metrics.set_queues(&[labels("q1", "Support", "Home")]);
    let totals = [
        (ConversationCounter::Offered, 3.0),
        (ConversationCounter::Handled, 3.0),
    ];
    metrics.set_conversation_totals("q1", "voice", totals, false);
    let first = metrics.render(0);
    assert_eq!(value(&first, OFFERED_VOICE), Some(0.0), "{first}");
    assert!(first.contains(r#"genesys_conversations_abandoned_total{media_type="voice",queue="Support",queue_id="q1"} 0"#), "{first}");
    assert!(
        !first.contains("handled"),
        "outside the metric set: {first}"
    );
    assert!(
        !first.contains(r#"media_type="chat""#),
        "a media type never had costs nothing: {first}"
    );
    offered(&metrics, 5.0);
    let second = metrics.render(0);
    assert_eq!(
        value(&second, OFFERED_VOICE),
        Some(0.0),
        "a second scrape shows the zeros too, in case Prometheus lost the first: {second}"
    );
    let third = metrics.render(0);
    assert_eq!(value(&third, OFFERED_VOICE), Some(5.0), "{third}");
    offered(&metrics, 6.0);
    assert_eq!(value(&metrics.render(0), OFFERED_VOICE), Some(6.0));
}

#[test]
fn a_queue_that_leaves_takes_its_held_totals_with_it() {
    let metrics = metrics_with_queue();
    offered(&metrics, 3.0);
    metrics.set_queues(&[]);
    metrics.set_queues(&[labels("q1", "Support", "Home")]);
    metrics.render(0);
    assert_eq!(value(&metrics.render(0), OFFERED_VOICE), None);
}

#[test]
fn process_metrics_show_when_the_process_started() {
    let text = Store::new(vec![MediaType::Voice]).render(0);
    if cfg!(target_os = "linux") {
        let started = value(&text, "process_start_time_seconds").expect("exported");
        assert!(started > 1.7e9, "{started}");
    }
}

#[test]
fn unmonitored_queues_are_ignored_and_departed_queues_removed() {
    let metrics = metrics_with_queue();
    metrics.set_interactions("other", "voice", InteractionState::Waiting, 3);
    metrics.set_interactions("q1", "voice", InteractionState::Waiting, 3);
    assert!(!metrics.render(0).contains("other"));
    assert!(metrics.render(0).contains(r#"state="waiting"} 3"#));
    metrics.set_queues(&[]);
    assert!(!metrics.render(0).contains("q1"));
}

#[test]
fn every_counter_has_a_unique_source_and_name() {
    for counter in ConversationCounter::ALL {
        let (metric, statistic) = counter.source();
        assert_eq!(
            ConversationCounter::for_source(metric, statistic),
            Some(counter)
        );
    }
    let mut names: Vec<_> = ConversationCounter::ALL.iter().map(|c| c.name()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), ConversationCounter::ALL.len());
}

fn labels(id: &str, name: &str, division: &str) -> QueueLabels {
    QueueLabels {
        id: id.into(),
        name: name.into(),
        division: division.into(),
    }
}

#[test]
fn a_division_change_keeps_every_series_but_the_info() {
    let metrics = metrics_with_queue();
    metrics.set_interactions("q1", "voice", InteractionState::Waiting, 4);
    offered(&metrics, 50.0);
    metrics.render(0);
    metrics.render(0);
    let renamed = metrics.set_queues(&[labels("q1", "Support", "Sales")]);
    assert!(!renamed);
    let text = metrics.render(0);
    assert!(text.contains(r#"state="waiting"} 4"#), "{text}");
    assert!(text.contains(r#"genesys_conversations_offered_total{media_type="voice",queue="Support",queue_id="q1"} 50"#), "{text}");
    assert!(
        text.contains(r#"genesys_queue_info{division="Sales",queue="Support",queue_id="q1"} 1"#),
        "{text}"
    );
    assert!(!text.contains(r#"division="Home""#), "{text}");
}

#[test]
fn a_rename_moves_the_series_to_the_new_name_and_asks_for_a_resync() {
    let metrics = metrics_with_queue();
    metrics.set_interactions("q1", "voice", InteractionState::Waiting, 4);
    assert!(metrics.set_queues(&[labels("q1", "Helpdesk", "Home")]));
    let text = metrics.render(0);
    assert!(!text.contains(r#"queue="Support""#), "{text}");
    metrics.set_interactions("q1", "voice", InteractionState::Waiting, 5);
    assert!(
        metrics
            .render(0)
            .contains(r#"queue="Helpdesk",queue_id="q1",state="waiting"} 5"#)
    );
}

#[test]
fn only_a_full_resync_clears_staleness() {
    let metrics = metrics_with_queue();
    let ids = vec!["q1".to_owned()];
    metrics.queue_resynced("q1", 100.0);
    metrics.set_queue_stale("q1");
    metrics.queue_observed("q1", 200.0);
    assert!(!metrics.queues_stale(&ids).is_empty());
    let text = metrics.render(0);
    assert!(
        text.contains(
            r#"genesys_queue_observation_timestamp_seconds{queue="Support",queue_id="q1"} 100"#
        ),
        "{text}"
    );
    metrics.queue_resynced("q1", 300.0);
    assert!(metrics.queues_stale(&ids).is_empty());
    metrics.queue_observed("q1", 400.0);
    assert!(metrics.render(0).contains(r#"queue_id="q1"} 400"#));
}

/// A scrape and a queue refresh at once used to take the two locks in opposite orders.
#[test]
fn scrapes_and_queue_changes_never_deadlock() {
    use std::sync::Arc;
    use std::time::Duration;

    let metrics = Arc::new(metrics_with_queue());
    let (done, finished) = std::sync::mpsc::channel();
    let writer = {
        let metrics = metrics.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            for _ in 0..2_000 {
                metrics.set_queues(&[
                    labels("q1", "Support", "Home"),
                    labels("q2", "Sales", "Home"),
                ]);
                metrics.set_longest_waiting("q2", "voice", Some(1));
                metrics.set_queues(&[labels("q1", "Support", "Home")]);
            }
            let _ = done.send(());
        })
    };
    let reader = {
        let metrics = metrics.clone();
        std::thread::spawn(move || {
            for _ in 0..2_000 {
                metrics.render(10);
            }
            let _ = done.send(());
        })
    };
    for _ in 0..2 {
        finished
            .recv_timeout(Duration::from_secs(20))
            .expect("no deadlock between scrape and queue refresh");
    }
    writer.join().unwrap();
    reader.join().unwrap();
}

fn stamp_of(text: &str) -> Option<f64> {
    value(
        text,
        r#"genesys_queue_observation_timestamp_seconds{queue="Support",queue_id="q1"}"#,
    )
}

fn stale_of(text: &str) -> Option<f64> {
    value(
        text,
        r#"genesys_exporter_queue_stale{queue="Support",queue_id="q1"}"#,
    )
}

const WAITING_VOICE: &str = r#"genesys_queue_interactions{media_type="voice",queue="Support",queue_id="q1",state="waiting"}"#;

fn bounded(gauges: StaleGauges) -> Store {
    let metrics = Store::new(vec![MediaType::Voice]).with_stale_policy(StalePolicy {
        bound_seconds: Some(10.0),
        gauges,
    });
    metrics.set_queues(&[labels("q1", "Support", "Home")]);
    metrics
}

#[test]
fn nothing_but_a_resync_makes_a_new_queue_fresh() {
    let metrics = metrics_with_queue();
    metrics.queue_observed("q1", 200.0);
    metrics.queues_observed(["q1"], 300.0);
    let text = metrics.render(0);
    assert_eq!(stamp_of(&text), None, "{text}");
    metrics.queue_resynced("q1", 400.0);
    metrics.queues_observed(["q1", "unknown"], 500.0);
    metrics.queue_observed("q1", 450.0);
    assert_eq!(stamp_of(&metrics.render(0)), Some(500.0), "never backwards");
}

#[test]
fn a_queue_not_refreshed_within_the_bound_turns_stale_until_a_resync() {
    let metrics = bounded(StaleGauges::Keep);
    metrics.queue_resynced("q1", 100.0);
    metrics.set_interactions("q1", "voice", InteractionState::Waiting, 4);
    assert_eq!(stale_of(&metrics.render(110_000)), Some(0.0));
    let text = metrics.render(110_001);
    assert_eq!(stale_of(&text), Some(1.0), "{text}");
    assert_eq!(
        value(&text, WAITING_VOICE),
        Some(4.0),
        "kept, flagged stale"
    );
    metrics.queues_observed(["q1"], 111.0);
    assert_eq!(stamp_of(&metrics.render(111_000)), Some(100.0));
    metrics.queue_resynced("q1", 112.0);
    assert_eq!(stale_of(&metrics.render(112_000)), Some(0.0));
}

#[test]
fn a_queue_never_resynced_turns_stale_a_bound_after_it_joined() {
    let metrics = bounded(StaleGauges::Keep);
    let now_ms = chrono::Utc::now().timestamp_millis();
    assert_eq!(stale_of(&metrics.render(now_ms)), Some(0.0));
    assert_eq!(stale_of(&metrics.render(now_ms + 11_000)), Some(1.0));
}

#[test]
fn removed_stale_gauges_come_back_only_with_a_resync() {
    let metrics = bounded(StaleGauges::Remove);
    metrics.queue_resynced("q1", 100.0);
    metrics.set_interactions("q1", "voice", InteractionState::Waiting, 4);
    metrics.set_queue_stale("q1");
    metrics.set_interactions("q1", "voice", InteractionState::Waiting, 5);
    let text = metrics.render(100_000);
    assert_eq!(value(&text, WAITING_VOICE), None, "{text}");
    assert_eq!(stale_of(&text), Some(1.0));
    assert!(
        text.contains("genesys_queue_info{"),
        "the queue itself stays listed"
    );
    metrics.queue_resynced("q1", 101.0);
    metrics.set_interactions("q1", "voice", InteractionState::Waiting, 6);
    assert_eq!(value(&metrics.render(101_000), WAITING_VOICE), Some(6.0));
}

#[test]
fn a_renamed_queue_keeps_its_counter_values_under_the_new_name() {
    let metrics = metrics_with_queue();
    offered(&metrics, 3.0);
    metrics.render(0);
    metrics.render(0);
    offered(&metrics, 7.0);
    metrics.set_service_level_target("q1", "voice", 0.8);
    assert_eq!(value(&metrics.render(0), OFFERED_VOICE), Some(7.0));
    assert!(metrics.set_queues(&[labels("q1", "Helpdesk", "Home")]));
    let text = metrics.render(0);
    assert_eq!(value(&text, OFFERED_VOICE), None, "{text}");
    let renamed =
        r#"genesys_conversations_offered_total{media_type="voice",queue="Helpdesk",queue_id="q1"}"#;
    assert_eq!(value(&text, renamed), Some(7.0), "no reset: {text}");
    let target =
        r#"genesys_queue_service_level_target{media_type="voice",queue="Helpdesk",queue_id="q1"}"#;
    assert_eq!(value(&text, target), Some(0.8));
    offered(&metrics, 8.0);
    assert_eq!(value(&metrics.render(0), renamed), Some(8.0));
}

#[test]
fn a_series_shown_before_a_restart_resumes_at_its_total_and_later_totals_wait_for_a_render() {
    let metrics = metrics_with_queue();
    metrics.set_conversation_totals("q1", "voice", [(ConversationCounter::Offered, 12.0)], true);
    offered(&metrics, 15.0);
    assert!(!metrics.conversation_group_shown("q1", "voice"));
    assert_eq!(
        value(&metrics.render(0), OFFERED_VOICE),
        Some(12.0),
        "no zeros: Prometheus holds a value for the series"
    );
    assert!(metrics.conversation_group_shown("q1", "voice"));
    assert_eq!(value(&metrics.render(0), OFFERED_VOICE), Some(12.0));
    assert_eq!(value(&metrics.render(0), OFFERED_VOICE), Some(15.0));
}

#[test]
fn a_series_never_shown_before_a_restart_shows_its_zeros_first() {
    let metrics = metrics_with_queue();
    metrics.set_conversation_totals("q1", "voice", [(ConversationCounter::Offered, 3.0)], false);
    assert_eq!(value(&metrics.render(0), OFFERED_VOICE), Some(0.0));
    assert_eq!(value(&metrics.render(0), OFFERED_VOICE), Some(0.0));
    assert_eq!(value(&metrics.render(0), OFFERED_VOICE), Some(3.0));
    assert!(!metrics.conversation_group_shown("q1", "chat"));
    assert!(!metrics.conversation_group_shown("q2", "voice"));
}

#[test]
fn totals_held_before_a_render_are_one_per_group_however_many_arrive() {
    let metrics = metrics_with_queue();
    for total in 1..=10_000 {
        offered(&metrics, f64::from(total));
    }
    assert_eq!(metrics.pending_counter_groups(), 1);
    metrics.render(0);
    metrics.render(0);
    assert_eq!(value(&metrics.render(0), OFFERED_VOICE), Some(10_000.0));
}

mod store;

use super::*;

fn metrics_with_queue() -> Metrics {
    let metrics = Metrics::new(vec!["voice".into(), "chat".into()]);
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
    metrics.add_conversations("q1", "voice", ConversationCounter::HandleSeconds, 1500.0);
    metrics.add_conversations("q1", "voice", ConversationCounter::Handled, 2.0);
    let text = metrics.render(0);
    assert!(text.contains(r#"genesys_conversation_handle_seconds_total{media_type="voice",queue="Support",queue_id="q1"} 1.5"#), "{text}");
    assert!(text.contains(r#"genesys_conversations_handled_total{media_type="voice",queue="Support",queue_id="q1"} 2"#), "{text}");
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

use super::*;
use crate::genesys::model::AggregateDataContainer;

const HALF_HOUR: Duration = Duration::from_secs(1800);
const B0930: &str = "2026-11-25T09:30:00.000Z/2026-11-25T10:00:00.000Z";

fn totals() -> (ConversationTotals, test_support::Support) {
    let metrics = test_support::support_metrics(&["voice", "chat"]);
    let totals = ConversationTotals::new(
        &metrics,
        metrics.queues.clone(),
        HALF_HOUR,
        metrics.queues.counters().to_vec(),
    );
    totals.watch(&["q1".into()], DateTime::<Utc>::MIN_UTC);
    (totals, metrics)
}

fn container(queue: &str, media: &str, interval: &str, metrics: &str) -> AggregateDataContainer {
    let json = format!(
        r#"{{"group":{{"queueId":"{queue}","mediaType":"{media}"}},
                "data":[{{"interval":"{interval}","metrics":[{metrics}]}}]}}"#
    );
    serde_json::from_str(&json).unwrap()
}

fn offered(n: u64) -> String {
    format!(r#"{{"metric":"nOffered","stats":{{"count":{n}}}}}"#)
}

/// The value of `name` for q1 and `media` once a scrape has shown new series at 0, or
/// `None` if the series does not exist.
fn value(metrics: &Metrics, name: &str, media: &str) -> Option<f64> {
    let series = format!(r#"{name}{{media_type="{media}",queue="Support",queue_id="q1"}}"#);
    test_support::sample(metrics, &series)
}

const OFFERED: &str = "genesys_conversations_offered_total";

#[test]
fn a_late_revision_adds_only_the_difference() {
    let (totals, metrics) = totals();
    assert_eq!(
        totals.fold(&container("q1", "voice", B0930, &offered(10))),
        1
    );
    assert_eq!(value(&metrics, OFFERED, "voice"), Some(10.0));
    assert_eq!(
        totals.fold(&container("q1", "voice", B0930, &offered(10))),
        0
    );
    assert_eq!(
        totals.fold(&container("q1", "voice", B0930, &offered(14))),
        1
    );
    assert_eq!(value(&metrics, OFFERED, "voice"), Some(14.0));
}

#[test]
fn a_stream_total_higher_than_a_later_lagging_poll_is_not_double_counted() {
    let (totals, metrics) = totals();
    // The stream's running total for the current bucket arrives first ...
    totals.fold(&container("q1", "voice", B0930, &offered(8)));
    // ... then a lagging poll reports less, and later catches up past it.
    assert_eq!(
        totals.fold(&container("q1", "voice", B0930, &offered(5))),
        0
    );
    assert_eq!(value(&metrics, OFFERED, "voice"), Some(8.0));
    totals.fold(&container("q1", "voice", B0930, &offered(9)));
    assert_eq!(value(&metrics, OFFERED, "voice"), Some(9.0));
}

#[test]
fn an_off_granularity_bucket_is_skipped() {
    let (totals, metrics) = totals();
    let five_minutes = "2026-11-25T09:30:00.000Z/2026-11-25T09:35:00.000Z";
    assert_eq!(
        totals.fold(&container("q1", "voice", five_minutes, &offered(3))),
        0
    );
    let observation = "2026-11-25T09:46:54.839Z/2026-11-25T09:46:54.839Z";
    let waiting = r#"{"metric":"oWaiting","stats":{"count":3}}"#;
    assert_eq!(
        totals.fold(&container("q1", "voice", observation, waiting)),
        0
    );
    assert_eq!(value(&metrics, OFFERED, "voice"), None);
}

#[test]
fn unmonitored_queues_unknown_media_and_incomplete_groups_are_ignored() {
    let (totals, metrics) = totals();
    assert_eq!(
        totals.fold(&container("q2", "voice", B0930, &offered(3))),
        0
    );
    assert_eq!(totals.fold(&container("q1", "fax", B0930, &offered(3))), 0);
    let no_media: AggregateDataContainer = serde_json::from_str(&format!(
        r#"{{"group":{{"queueId":"q1"}},"data":[{{"interval":"{B0930}","metrics":[{}]}}]}}"#,
        offered(3)
    ))
    .unwrap();
    assert_eq!(totals.fold(&no_media), 0);
    let text = metrics.render(0);
    assert!(!text.contains("q2") && !text.contains("fax"), "{text}");
    assert_eq!(value(&metrics, OFFERED, "voice"), None);
    assert_eq!(totals.lock().ledger.bucket_count(), 0);
}

#[test]
fn a_handle_time_sum_in_milliseconds_becomes_seconds() {
    let (totals, metrics) = totals();
    let handle =
        r#"{"metric":"tHandle","stats":{"max":412000,"min":61000,"count":9,"sum":1843000}}"#;
    assert_eq!(totals.fold(&container("q1", "chat", B0930, handle)), 2);
    assert_eq!(
        value(
            &metrics,
            "genesys_conversation_handle_seconds_total",
            "chat"
        ),
        Some(1843.0)
    );
    assert_eq!(
        value(&metrics, "genesys_conversations_handled_total", "chat"),
        Some(9.0)
    );
}

#[test]
fn forgotten_buckets_do_not_count_again() {
    let (totals, metrics) = totals();
    totals.fold(&container("q1", "voice", B0930, &offered(4)));
    totals.forget_before(crate::genesys::time::parse_instant("2026-11-25T10:00:00.000Z").unwrap());
    assert_eq!(
        totals.fold(&container("q1", "voice", B0930, &offered(6))),
        0
    );
    assert_eq!(value(&metrics, OFFERED, "voice"), Some(4.0));
    assert_eq!(totals.granularity(), HALF_HOUR);
}

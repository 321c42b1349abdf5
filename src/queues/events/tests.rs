use super::*;

const QUEUE: &str = "5b5ac0c6-d5f6-4a0f-8e4d-54f5b4b3f4a1";

fn topic() -> String {
    format!("v2.analytics.queues.{QUEUE}.observations")
}

/// The event `body` (JSON) makes on the queue's topic.
fn event(body: &str) -> Result<QueueEvent, EventError> {
    let body: Body = serde_json::from_str(body).map_err(EventError::Body)?;
    QueueTopics::event(&topic(), body)
}

#[test]
fn the_observation_event_of_the_api_page_parses_with_its_values() {
    let event = event(&format!(
        r#"{{"group":{{"queueId":"{QUEUE}","mediaType":"voice"}},
   "data":[{{"interval":"2026-11-25T09:46:54.839Z/2026-11-25T09:46:54.839Z",
            "metrics":[{{"metric":"oWaiting","stats":{{"count":3}}}},
                       {{"metric":"oAlerting","stats":{{"count":0}}}}]}}]}}"#
    ))
    .unwrap();
    assert_eq!(event.queue_id, QUEUE);
    assert_eq!(event.aggregate, None);
    let body = event.observation.expect("an observation");
    assert_eq!(body.group.media_type.as_deref(), Some("voice"));
    let metrics = &body.data[0].metrics;
    assert_eq!(metrics[0].metric, "oWaiting");
    assert_eq!(metrics[0].stats.count, Some(3));
    assert_eq!(metrics[1].stats.count, Some(0));
}

#[test]
fn a_thirty_minute_interval_is_an_interval_aggregate() {
    let event = event(
        r#"{"group":{"mediaType":"chat"},
            "data":[{"interval":"2026-11-25T09:30:00.000Z/2026-11-25T10:00:00.000Z",
              "metrics":[{"metric":"nOffered","stats":{"count":12}},
                {"metric":"tHandle","stats":{"max":412000,"min":61000,"count":9,"sum":1843000}}]}]}"#,
    )
    .unwrap();
    assert_eq!(event.queue_id, QUEUE);
    assert_eq!(event.observation, None);
    let body = event.aggregate.expect("an aggregate");
    assert_eq!(
        body.group.queue_id.as_deref(),
        Some(QUEUE),
        "queue id filled from the topic"
    );
    assert_eq!(body.data[0].metrics[1].stats.sum, Some(1_843_000.0));
}

#[test]
fn an_event_with_both_interval_kinds_is_split_between_them() {
    let event = event(
        r#"{"group":{"mediaType":"voice"},
            "data":[{"interval":"2026-11-25T09:30:00.000Z/2026-11-25T10:00:00.000Z",
                     "metrics":[{"metric":"nOffered","stats":{"count":12}}]},
                    {"interval":"2026-11-25T09:46:54.839Z/2026-11-25T09:46:54.839Z",
                     "metrics":[{"metric":"oWaiting","stats":{"count":3}}]}]}"#,
    )
    .unwrap();
    let observation = event.observation.expect("the observation part");
    let aggregate = event.aggregate.expect("the aggregate part");
    for part in [&observation, &aggregate] {
        assert_eq!(part.group.queue_id.as_deref(), Some(QUEUE));
        assert_eq!(part.group.media_type.as_deref(), Some("voice"));
        assert_eq!(part.data.len(), 1);
    }
    assert_eq!(observation.data[0].metrics[0].metric, "oWaiting");
    assert_eq!(aggregate.data[0].metrics[0].metric, "nOffered");
}

#[test]
fn an_event_without_data_has_neither_part() {
    let event = event(r#"{"data":[]}"#).unwrap();
    assert_eq!((event.observation, event.aggregate), (None, None));
}

#[test]
fn a_body_about_another_queue_is_refused_and_other_topics_are_not_ours() {
    let other = r#"{"group":{"queueId":"other"},"data":[]}"#;
    assert_eq!(event(other).unwrap_err().kind(), "queue_mismatch");
    assert!(QueueTopics::owns(&topic()));
    assert!(!QueueTopics::owns("v2.users.u1.activity"));
    assert!(!QueueTopics::owns("v2.analytics.queues..observations"));
}

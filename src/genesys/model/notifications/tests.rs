use super::*;

#[test]
fn topic_round_trips_through_queue_id() {
    let topic = queue_observation_topic("abc-123");
    assert_eq!(queue_id_from_topic(&topic), Some("abc-123"));
    assert_eq!(queue_id_from_topic("v2.users.abc.presence"), None);
    assert_eq!(
        queue_id_from_topic("v2.analytics.queues..observations"),
        None
    );
}

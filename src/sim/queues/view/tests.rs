use super::*;
use crate::sim::config::SimConfig;

#[test]
fn views_stay_consistent_with_agents_and_interactions_as_traffic_flows() {
    let config = SimConfig::fast_for_tests(7);
    let mut model = Model::new(&config, 0);
    let mut saw_waiting = false;
    for step in 1..400 {
        model.step(step * 20);
        for queue in 0..model.queues.len() {
            let view = queue_view(&model, queue);
            let users = &view.users;
            assert_eq!(users.statuses.iter().sum::<u64>(), users.members);
            assert_eq!(
                users.on_queue.iter().sum::<u64>() + users.statuses[4],
                users.members
            );
            assert!(users.off_queue + users.on_queue.iter().sum::<u64>() <= users.active);
            let busy_agents = users.statuses[Status::Interacting as usize];
            let engaged: u64 = view.media.iter().map(|m| m.alerting + m.interacting).sum();
            assert!(engaged <= busy_agents);
            for media in &view.media {
                assert_eq!(media.waiting as usize, media.waiting_since.len());
                saw_waiting |= media.waiting > 0;
            }
        }
    }
    assert!(
        saw_waiting,
        "a busy fast config should make customers wait sometimes"
    );
}

#[test]
fn rest_data_orders_waiting_details_oldest_first() {
    let view = MediaView {
        waiting: 2,
        waiting_since: vec![(1_000, "a".into()), (2_000, "b".into())],
        ..MediaView::default()
    };
    let wanted = ["oWaiting".to_owned(), "oLongestWaiting".to_owned()];
    let data = rest_media_data(&view, &wanted, &["oWaiting".to_owned()]);
    assert_eq!(data.len(), 2);
    let details = data[0].observations.as_ref().unwrap();
    assert_eq!(details[0].observation_date, "1970-01-01T00:00:01.000Z");
    assert_eq!(data[1].stats.calculated_metric_value, Some(1_000));
}

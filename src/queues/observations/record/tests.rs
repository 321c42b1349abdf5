use super::*;

fn event(queue_id: &str) -> AggregateDataContainer {
    serde_json::from_str(&format!(
        r#"{{"group":{{"queueId":"{queue_id}"}},"data":[]}}"#
    ))
    .unwrap()
}

fn ids(ids: &[&str]) -> Vec<String> {
    ids.iter().map(|id| (*id).to_owned()).collect()
}

fn recorded(records: &Records, id: u64, queue_id: &str) -> Option<usize> {
    match &records.in_flight[&id].queues[queue_id] {
        Recorded::Events(events) => Some(events.len()),
        Recorded::Overflowed => None,
    }
}

#[test]
fn overlapping_records_each_keep_their_own_copy() {
    let mut records = Records::default();
    let both = records.begin(&ids(&["q1", "q2"]));
    let second = records.begin(&ids(&["q2"]));
    assert_eq!(records.push("q2", &event("q2")), Recording::Kept);
    assert_eq!(records.push("q1", &event("q1")), Recording::Kept);
    assert_eq!(records.push("q3", &event("q3")), Recording::Kept);
    assert_eq!(recorded(&records, both, "q1"), Some(1));
    assert_eq!(recorded(&records, both, "q2"), Some(1));
    assert_eq!(recorded(&records, second, "q2"), Some(1));
    assert!(!records.in_flight[&second].queues.contains_key("q1"));
}

#[test]
fn the_bound_is_per_queue_so_a_busy_queue_costs_no_other_its_record() {
    let mut records = Records::default();
    let id = records.begin(&ids(&["busy", "quiet"]));
    for _ in 0..MAX_RECORDED_EVENTS_PER_QUEUE {
        assert_eq!(records.push("busy", &event("busy")), Recording::Kept);
    }
    assert_eq!(records.push("busy", &event("busy")), Recording::Overflowed);
    assert_eq!(records.push("quiet", &event("quiet")), Recording::Kept);
    assert_eq!(recorded(&records, id, "busy"), None, "its events let go");
    assert_eq!(recorded(&records, id, "quiet"), Some(1));
    assert_eq!(
        records.push("busy", &event("busy")),
        Recording::Overflowed,
        "stays overflowed"
    );
}

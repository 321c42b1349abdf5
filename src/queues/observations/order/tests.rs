use super::*;

#[test]
fn older_events_and_exact_repeats_are_told_apart_per_group() {
    let mut order = EventOrder::default();
    assert_eq!(order.arrive("q1", Some("voice"), 1_000, 7), Arrival::New);
    assert_eq!(
        order.arrive("q1", Some("voice"), 1_000, 7),
        Arrival::Duplicate
    );
    assert_eq!(
        order.arrive("q1", Some("voice"), 999, 8),
        Arrival::OutOfOrder
    );
    assert_eq!(
        order.arrive("q1", Some("voice"), 1_000, 9),
        Arrival::New,
        "same instant, other content"
    );
    assert_eq!(
        order.arrive("q1", Some("chat"), 500, 1),
        Arrival::New,
        "another group"
    );
    assert_eq!(
        order.arrive("q1", None, 500, 1),
        Arrival::New,
        "the user metrics"
    );
    assert_eq!(order.arrive("q2", Some("voice"), 10, 1), Arrival::New);
    order.forget("q1");
    assert_eq!(order.arrive("q1", Some("voice"), 999, 8), Arrival::New);
    assert_eq!(order.arrive("q2", Some("voice"), 9, 1), Arrival::OutOfOrder);
}

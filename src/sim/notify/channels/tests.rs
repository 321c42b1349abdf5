use tokio::sync::mpsc;

use super::*;

#[test]
fn due_channels_go_with_their_socket_closed_and_a_shortened_one_is_due_early() {
    let mut registry = Registry::new(Duration::from_millis(1_000));
    let (first, expires) = registry.create("client", 0);
    assert_eq!(expires, 1_000);
    let (second, _) = registry.create("client", 500);
    let (tx, mut rx) = mpsc::unbounded_channel();
    assert!(registry.attach(&first, 1, tx, 10));
    assert!(registry.expire_due(999).is_empty());
    assert_eq!(registry.expire_due(1_000), std::slice::from_ref(&first));
    assert!(matches!(rx.try_recv(), Ok(Outbound::Close)));
    assert!(!registry.is_valid(&first, 0), "gone, not merely expired");
    let (tx, _rx) = mpsc::unbounded_channel();
    assert!(!registry.attach(&first, 2, tx, 0));

    registry.shorten(1_000, 100);
    assert!(registry.expire_due(1_099).is_empty());
    registry
        .subscribe(&second, Vec::new(), true, 1_050)
        .unwrap();
    assert!(
        registry.expire_due(1_100).is_empty(),
        "a PUT extends it again"
    );
    assert_eq!(registry.expire_due(2_050), [second]);
}

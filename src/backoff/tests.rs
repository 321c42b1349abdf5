use super::*;

#[test]
fn delays_stay_under_a_doubling_ceiling_that_is_capped() {
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
    for expected_ceiling in [100, 200, 400, 800, 1000, 1000] {
        assert_eq!(backoff.ceiling(), Duration::from_millis(expected_ceiling));
        assert!(backoff.next_delay() <= Duration::from_millis(expected_ceiling));
    }
    backoff.reset();
    assert_eq!(backoff.ceiling(), Duration::from_millis(100));
}

#[test]
fn a_huge_attempt_count_does_not_overflow() {
    let mut backoff = Backoff::new(Duration::from_secs(1), Duration::from_secs(60));
    for _ in 0..200 {
        assert!(backoff.next_delay() <= Duration::from_secs(60));
    }
}

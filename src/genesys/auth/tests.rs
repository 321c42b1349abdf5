use super::*;

#[test]
fn refresh_is_due_at_ninety_percent_of_the_lifetime() {
    let fetched = Instant::now();
    let due = refresh_due_at(fetched, Duration::from_secs(2));
    assert_eq!(due - fetched, Duration::from_millis(1800));
    let day = refresh_due_at(fetched, Duration::from_secs(86_400));
    assert_eq!(day - fetched, Duration::from_secs(77_760));
}

#[test]
fn tokens_stop_being_sent_a_margin_before_they_expire() {
    let requested = Instant::now();
    let day = usable_until(requested, Duration::from_secs(86_400));
    assert_eq!(day - requested, Duration::from_secs(86_370));
    let short = usable_until(requested, Duration::from_secs(2));
    assert_eq!(short - requested, Duration::from_millis(1900));
    assert_eq!(usable_until(requested, Duration::ZERO), requested);
}

#[test]
fn a_zero_lifetime_is_due_immediately() {
    let fetched = Instant::now();
    assert_eq!(refresh_due_at(fetched, Duration::ZERO), fetched);
}

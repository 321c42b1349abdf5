use super::*;

#[test]
fn the_system_clock_is_utc_now() {
    let clock = Clock::system();
    let drift = (clock.now() - Utc::now()).num_milliseconds().abs();
    assert!(drift < 1_000, "{drift} ms");
}

#[test]
fn a_scaled_clock_runs_faster_and_its_clones_agree() {
    let clock = Clock::scaled(1_000.0);
    let copy = clock.clone();
    let start = clock.now();
    std::thread::sleep(std::time::Duration::from_millis(20));
    let elapsed = (copy.now() - start).num_milliseconds();
    assert!(
        elapsed >= 20_000,
        "20 ms real is at least 20 s simulated: {elapsed}"
    );
    assert!(copy.now() >= clock.now() - TimeDelta::seconds(1));
    assert_eq!(
        clock.timer_for(Duration::from_secs(3_600)),
        Duration::from_millis(3_600)
    );
    assert_eq!(
        Clock::system().timer_for(Duration::from_secs(5)),
        Duration::from_secs(5)
    );
    assert_eq!(
        clock.span_of(Duration::from_millis(3_600)),
        Duration::from_secs(3_600)
    );
    assert_eq!(
        Clock::system().span_of(Duration::from_secs(5)),
        Duration::from_secs(5)
    );
}

use super::*;

fn channel(expires: Option<String>) -> Channel {
    Channel {
        connect_uri: "ws://127.0.0.1:1/channels/c".into(),
        id: "c".into(),
        expires,
    }
}

#[test]
fn rotation_is_scheduled_before_expiry_with_a_floor() {
    let clock = Clock::system();
    let in_an_hour = clock.now() + chrono::Duration::hours(1);
    let expires = crate::genesys::time::format_instant(in_an_hour);
    let state = ChannelState::new(channel(Some(expires)), Duration::from_secs(600), &clock);
    let rotate_in = state.rotate_at - Instant::now();
    assert!(rotate_in <= Duration::from_secs(3_000) && rotate_in > Duration::from_secs(2_990));

    let state = ChannelState::new(channel(None), Duration::from_secs(25 * 3_600), &clock);
    let rotate_in = state.rotate_at - Instant::now();
    assert!(rotate_in <= MIN_CHANNEL_USE && rotate_in > MIN_CHANNEL_USE - Duration::from_secs(5));
}

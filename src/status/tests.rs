use super::*;

fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(seconds, 0).unwrap()
}

#[test]
fn requests_are_counted_per_endpoint_over_the_last_minutes_only() {
    let board = StatusBoard::default();
    board.request("token", true, false, at(0));
    board.request("queue_observations", false, true, at(61));
    board.request("queue_observations", true, false, at(119));
    let recent = board.recent_requests(at(120));
    assert_eq!(
        recent["token"],
        RequestCounts {
            requests: 1,
            failed: 0,
            rate_limited: 0
        }
    );
    assert_eq!(recent["queue_observations"].rate_limited, 1);
    assert_eq!(recent["queue_observations"].requests, 2);
    let later = board.recent_requests(at(60 * 5 + 30));
    assert!(!later.contains_key("token"), "older than five minutes");
    assert_eq!(later["queue_observations"].requests, 2);
    for minute in 0..20 {
        board.request("token", true, false, at(600 + minute * 60));
    }
    assert!(lock(&board.requests).len() <= REQUEST_MINUTES, "bounded");
}

#[test]
fn polled_data_is_stale_until_a_poll_succeeds_then_past_its_bound() {
    let mut poll = PollFreshness::new(TimeDelta::seconds(180));
    assert!(poll.is_stale(at(1_000)), "nothing polled yet");
    poll.succeeded(at(1_200));
    assert!(!poll.is_stale(at(1_380)));
    poll.succeeded(at(1_100));
    assert_eq!(
        poll.last_success,
        Some(at(1_200)),
        "an earlier poll ends later"
    );
    assert!(
        poll.is_stale(at(1_381)),
        "past the bound since the last success"
    );
}

#[test]
fn channels_keep_what_each_change_set() {
    let board = StatusBoard::default();
    board.channel("0", |c| c.phase = "creating");
    board.channel("0", |c| {
        c.phase = "streaming";
        c.topics = 3;
    });
    board.channel("1", |c| c.reconnects += 1);
    let channels = board.channels();
    assert_eq!(
        (channels["0"].phase, channels["0"].topics),
        ("streaming", 3)
    );
    assert_eq!(channels["1"].reconnects, 1);
}

#[test]
fn warnings_and_errors_reach_the_recent_log_and_info_does_not() {
    use tracing_subscriber::layer::SubscriberExt;
    let subscriber = tracing_subscriber::registry().with(RecentLog);
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!("not kept");
        tracing::warn!(channel = "0", "status-test stream not established");
        tracing::error!("status-test task stopped");
    });
    let lines = recent_log();
    let mine: Vec<&LogLine> = lines
        .iter()
        .filter(|l| l.text.contains("status-test"))
        .collect();
    assert_eq!(mine.len(), 2);
    assert_eq!(mine[0].level, "warn");
    assert!(mine[0].text.contains("channel=\"0\""), "{}", mine[0].text);
    assert_eq!(mine[1].level, "error");
    assert!(!lines.iter().any(|l| l.text.contains("not kept")));
}

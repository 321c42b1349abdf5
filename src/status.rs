//! What the status page (`/`) shows beyond the metrics: each channel's phase and history, API
//! calls over the last minutes, and the last warnings and errors. For the operator asking "why
//! is this queue stale?" before opening Grafana; nothing here is a Prometheus series.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, TimeDelta, Utc};

pub(crate) use crate::sync::lock;

/// Minutes of API calls the page shows.
pub(crate) const REQUEST_MINUTES: usize = 5;
/// Warnings and errors the page keeps.
const RECENT_LOG_LINES: usize = 20;

/// One channel as the page shows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ChannelView {
    /// The upstream channel id, once one was created.
    pub id: Option<String>,
    /// The state machine's phase (`streaming`, `reconnecting`, …).
    pub phase: &'static str,
    pub topics: usize,
    pub connected_since: Option<DateTime<Utc>>,
    pub last_heartbeat: Option<DateTime<Utc>>,
    pub reconnects: u64,
}

/// API calls of one endpoint in one minute.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RequestCounts {
    pub requests: u64,
    /// Answered with something other than 2xx (or not answered).
    pub failed: u64,
    pub rate_limited: u64,
}

/// One warning or error from the log.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LogLine {
    pub at: DateTime<Utc>,
    pub level: &'static str,
    pub text: String,
}

/// What a poller polls, as the page names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum PollKind {
    /// The conversation aggregates behind the conversation counters.
    Conversations,
    /// The users aggregates behind the agents' time-in-status counters.
    AgentTime,
}

impl PollKind {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Conversations => "conversation counters",
            Self::AgentTime => "agents' time in status",
        }
    }
}

/// How fresh a poller's data is. Polled counters do not age visibly: a failed poll leaves
/// them where they were, so a frozen counter looks like a quiet queue. They are stale until a
/// poll first succeeds (a restarted exporter's resumed counters are not current yet), then
/// whenever none has succeeded for longer than `bound`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PollFreshness {
    pub last_success: Option<DateTime<Utc>>,
    pub bound: TimeDelta,
}

impl PollFreshness {
    pub(crate) fn new(bound: TimeDelta) -> Self {
        Self {
            last_success: None,
            bound,
        }
    }

    /// A poll that began at `at` succeeded: its data is current as of then.
    pub(crate) fn succeeded(&mut self, at: DateTime<Utc>) {
        self.last_success = self.last_success.max(Some(at));
    }

    pub(crate) fn is_stale(&self, now: DateTime<Utc>) -> bool {
        self.last_success.is_none_or(|at| now - at > self.bound)
    }
}

/// A poller's freshness, held once: the poller updates it, the stale gauge and the page read it.
pub(crate) type SharedFreshness = Arc<Mutex<PollFreshness>>;

#[derive(Debug, Default)]
pub(crate) struct StatusBoard {
    channels: Mutex<BTreeMap<String, ChannelView>>,
    /// Per minute (Unix minutes), per endpoint; the last `REQUEST_MINUTES` minutes.
    requests: Mutex<VecDeque<(i64, BTreeMap<&'static str, RequestCounts>)>>,
    /// Each running poller's freshness.
    polls: Mutex<BTreeMap<PollKind, SharedFreshness>>,
}

impl StatusBoard {
    /// A poller starts: the page shows its freshness from now on.
    pub(crate) fn watch_poll(&self, kind: PollKind, freshness: SharedFreshness) {
        lock(&self.polls).insert(kind, freshness);
    }

    /// Each running poller's freshness, as of now.
    pub(crate) fn polls(&self) -> BTreeMap<PollKind, PollFreshness> {
        let polls = lock(&self.polls);
        polls
            .iter()
            .map(|(kind, poll)| (*kind, *lock(poll)))
            .collect()
    }

    /// Changes the view of `channel` (creating it).
    pub(crate) fn channel(&self, channel: &str, change: impl FnOnce(&mut ChannelView)) {
        change(lock(&self.channels).entry(channel.to_owned()).or_default());
    }

    pub(crate) fn channels(&self) -> BTreeMap<String, ChannelView> {
        lock(&self.channels).clone()
    }

    /// Counts one API call of `endpoint` at `now`.
    pub(crate) fn request(
        &self,
        endpoint: &'static str,
        ok: bool,
        rate_limited: bool,
        now: DateTime<Utc>,
    ) {
        let minute = now.timestamp().div_euclid(60);
        let mut window = lock(&self.requests);
        if window.back().is_none_or(|(m, _)| *m < minute) {
            window.push_back((minute, BTreeMap::new()));
        }
        while window.len() > REQUEST_MINUTES {
            window.pop_front();
        }
        if let Some((_, counts)) = window.iter_mut().rev().find(|(m, _)| *m == minute) {
            let entry = counts.entry(endpoint).or_default();
            entry.requests += 1;
            entry.failed += u64::from(!ok);
            entry.rate_limited += u64::from(rate_limited);
        }
    }

    /// API calls per endpoint over the last `REQUEST_MINUTES` minutes before `now`.
    pub(crate) fn recent_requests(
        &self,
        now: DateTime<Utc>,
    ) -> BTreeMap<&'static str, RequestCounts> {
        let oldest = now.timestamp().div_euclid(60) - REQUEST_MINUTES as i64 + 1;
        let window = lock(&self.requests);
        let mut totals: BTreeMap<&'static str, RequestCounts> = BTreeMap::new();
        for (_, counts) in window.iter().filter(|(m, _)| *m >= oldest) {
            for (endpoint, c) in counts {
                let total = totals.entry(endpoint).or_default();
                total.requests += c.requests;
                total.failed += c.failed;
                total.rate_limited += c.rate_limited;
            }
        }
        totals
    }
}

/// The last warnings and errors of the process, newest last; filled by [`RecentLog`], the
/// tracing layer `main` installs (tests without it see none).
pub(crate) fn recent_log() -> Vec<LogLine> {
    lock(log_lines()).iter().cloned().collect()
}

fn log_lines() -> &'static Mutex<VecDeque<LogLine>> {
    static LINES: OnceLock<Mutex<VecDeque<LogLine>>> = OnceLock::new();
    LINES.get_or_init(Mutex::default)
}

/// A tracing layer keeping the last warnings and errors for the status page.
pub struct RecentLog;

/// Writes an event's message and fields as `message key=value …`.
#[derive(Default)]
struct Text(String);

impl tracing::field::Visit for Text {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        use std::fmt::Write;
        let separator = if self.0.is_empty() { "" } else { " " };
        let _ = if field.name() == "message" {
            write!(self.0, "{separator}{value:?}")
        } else {
            write!(self.0, "{separator}{}={value:?}", field.name())
        };
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for RecentLog {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        let level = *event.metadata().level();
        if level > tracing::Level::WARN {
            return;
        }
        let mut text = Text::default();
        event.record(&mut text);
        let line = LogLine {
            at: Utc::now(),
            level: if level == tracing::Level::ERROR {
                "error"
            } else {
                "warn"
            },
            text: text.0,
        };
        let mut lines = lock(log_lines());
        lines.push_back(line);
        while lines.len() > RECENT_LOG_LINES {
            lines.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
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
}

//! What the status page (`/`) shows beyond the metrics: each channel's phase and history, API
//! calls over the last minutes, and the last warnings and errors. For the operator asking "why
//! is this queue stale?" before opening Grafana; nothing here is a Prometheus series.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

use chrono::{DateTime, TimeDelta, Utc};

use crate::sync::lock;

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
    /// The flow aggregates behind the flows' counters.
    Flows,
    /// The data action aggregates behind the data actions' counters.
    Actions,
}

impl PollKind {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Conversations => "conversation counters",
            Self::AgentTime => "agents' time in status",
            Self::Flows => "IVR flows",
            Self::Actions => "data actions",
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
mod tests;

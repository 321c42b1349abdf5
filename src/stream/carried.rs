//! What a channel's topics are about, as one enum whose variants carry their parts: the
//! supervisor and the session are written once, and ask the kind only for what differs
//! (topics, events, the REST resync, which ids are stale). A new source is a variant here, its
//! parts in its own module.

use std::sync::Arc;

use super::connection::{AgentTimeSink, AggregateSink, FlowSink, Outcome};
use super::message::{self, Message, ParseError};
use super::upstream::Upstream;
use crate::agents::Agents;
use crate::agents::events::{AgentEvent, AgentTopics};
use crate::agents::table::Applied;
use crate::flows::events::FlowTopics;
use crate::genesys::model::{
    MAX_TOPICS_PER_CHANNEL, UserActivityEvent, UserAggregateDataContainer, queue_observation_topic,
    user_activity_topic, user_aggregates_topic,
};
use crate::genesys::model::{
    TelephonyTopic, edge_topic, flow_aggregates_topic, flow_outcome_aggregates_topic, trunk_topic,
};
use crate::queues::events::{QueueEvent, QueueTopics};
use crate::queues::observations::{ObservationIssue, Observations};
use crate::telephony::Telephony;
use crate::telephony::events::{EdgeTopics, TrunkTopics};

/// A channel's kind. Each kind keeps channels of its own.
#[derive(Clone)]
pub enum Carried {
    /// Queue observation topics: observation events onto the gauges, running interval
    /// totals into the conversation ledger.
    Queues {
        observations: Arc<Observations>,
        totals: AggregateSink,
    },
    /// Agent activity topics, with each agent's running time-in-status totals when they fit.
    Agents {
        agents: Arc<Agents>,
        time_in_status: TimeInStatus,
    },
    /// Each trunk's status and metrics topics.
    Trunks(Arc<Telephony>),
    /// Each Edge's status and metrics topics.
    Edges(Arc<Telephony>),
    /// Each flow's running totals (its ids flows), or each flow outcome's (`outcomes`: its ids
    /// outcomes), into the flow counters' ledger. Counters need no resync: the poll closes
    /// every gap.
    Flows { totals: FlowSink, outcomes: bool },
}

/// How an agent channel's agents' time in status is kept.
#[derive(Clone)]
pub enum TimeInStatus {
    /// A second topic per agent (`v2.analytics.users.{id}.aggregates`), its running totals
    /// folded by the sink; the poll still runs for late revisions.
    Streamed(AgentTimeSink),
    /// By the poll alone: the channel subscribes to activity topics only.
    Polled,
}

impl Carried {
    /// A channel of queue topics.
    pub fn queues(observations: Arc<Observations>, totals: AggregateSink) -> Self {
        Self::Queues {
            observations,
            totals,
        }
    }

    /// A channel of agent activity topics.
    pub fn agents(agents: Arc<Agents>, time_in_status: TimeInStatus) -> Self {
        Self::Agents {
            agents,
            time_in_status,
        }
    }

    /// How many ids one channel holds: its topic limit over the topics each id takes.
    pub(crate) fn ids_per_channel(&self) -> usize {
        MAX_TOPICS_PER_CHANNEL / self.topics_per_id()
    }

    fn topics_per_id(&self) -> usize {
        match self {
            Self::Agents {
                time_in_status: TimeInStatus::Streamed(_),
                ..
            }
            | Self::Trunks(_)
            | Self::Edges(_) => 2,
            Self::Queues { .. } | Self::Agents { .. } | Self::Flows { .. } => 1,
        }
    }

    /// How many of an id's topics (its first, then its second) must be permitted for it to
    /// stream: a rejection among them makes it polled instead. An agent's second topic is
    /// polled anyway; a trunk's or an Edge's statuses and metrics both need their topic.
    pub(crate) fn topics_needed(&self) -> usize {
        match self {
            Self::Trunks(_) | Self::Edges(_) => 2,
            Self::Queues { .. } | Self::Agents { .. } | Self::Flows { .. } => 1,
        }
    }

    /// The topics for `ids`: first one per id, in order, then any second topics in the same
    /// order (`topics[k * ids.len() + i]` is `ids[i]`'s `k`th).
    pub(crate) fn topics(&self, ids: &[String]) -> Vec<String> {
        let mut topics = Vec::with_capacity(ids.len() * self.topics_per_id());
        match self {
            Self::Queues { .. } => topics.extend(ids.iter().map(|id| queue_observation_topic(id))),
            Self::Agents { time_in_status, .. } => {
                topics.extend(ids.iter().map(|id| user_activity_topic(id)));
                // NB: an agent whose running totals are rejected keeps them by the poll.
                if let TimeInStatus::Streamed(_) = time_in_status {
                    topics.extend(ids.iter().map(|id| user_aggregates_topic(id)));
                }
            }
            Self::Trunks(_) | Self::Edges(_) => {
                let name = match self {
                    Self::Trunks(_) => trunk_topic,
                    _ => edge_topic,
                };
                for kind in [TelephonyTopic::Status, TelephonyTopic::Metrics] {
                    topics.extend(ids.iter().map(|id| name(id, kind)));
                }
            }
            Self::Flows { outcomes, .. } => {
                let name = match outcomes {
                    true => flow_outcome_aggregates_topic,
                    false => flow_aggregates_topic,
                };
                topics.extend(ids.iter().map(|id| name(id)));
            }
        }
        topics
    }

    /// Reads `text` as a frame of the channel's source, and applies its event if it is one:
    /// what the frame was, with the event's outcome in place of the event.
    pub(crate) fn read(&self, text: &str, now_ms: i64) -> Result<Message<Outcome>, ParseError> {
        match self {
            Self::Queues {
                observations,
                totals,
            } => {
                let message = message::parse::<QueueTopics>(text)?;
                let fingerprint = || fingerprint(text);
                Ok(message
                    .map(|event| queue_event(observations, totals, event, fingerprint, now_ms)))
            }
            Self::Agents {
                agents,
                time_in_status,
            } => {
                let message = message::parse::<AgentTopics>(text)?;
                Ok(message.map(|event| match event {
                    AgentEvent::Activity(event) => activity(agents, &event, now_ms),
                    AgentEvent::Time(body) => agent_time(time_in_status, &body),
                }))
            }
            Self::Trunks(telephony) => {
                let message = message::parse::<TrunkTopics>(text)?;
                Ok(message.map(|event| applied(telephony.trunk_event(&event, now_ms))))
            }
            Self::Edges(telephony) => {
                let message = message::parse::<EdgeTopics>(text)?;
                Ok(message.map(|event| applied(telephony.edge_event(&event, now_ms))))
            }
            Self::Flows { totals, .. } => {
                let message = message::parse::<FlowTopics>(text)?;
                Ok(message.map(|body| {
                    totals(&body);
                    Outcome::IntervalAggregate
                }))
            }
        }
    }

    /// A heartbeat: no event since the last one means no change up to `at`, for `ids`.
    pub(crate) fn observed<'a>(&self, ids: impl Iterator<Item = &'a str>, at: f64) {
        match self {
            Self::Queues { observations, .. } => observations.table().queues_observed(ids, at),
            Self::Agents { agents, .. } => agents.table().agents_observed(ids, at),
            Self::Trunks(telephony) => telephony.trunks().observed(ids, at),
            Self::Edges(telephony) => telephony.edges().observed(ids, at),
            Self::Flows { .. } => {}
        }
    }

    /// Reads `ids`' current values over REST; `true` when it succeeded.
    pub(crate) async fn resync(&self, ids: &[String], upstream: &impl Upstream) -> bool {
        match self {
            Self::Queues { observations, .. } => {
                let query = |batch| upstream.query_observations(batch);
                observations.resync_with(ids, query).await.is_ok()
            }
            Self::Agents { agents, .. } => agents.resync(ids, upstream).await.is_ok(),
            Self::Trunks(telephony) => telephony.resync_trunks(ids, upstream).await.is_ok(),
            Self::Edges(telephony) => telephony.resync_edges(ids, upstream).await.is_ok(),
            Self::Flows { .. } => true,
        }
    }

    /// The ids among `ids` due a resync: their values are stale (or, for trunks and Edges, an
    /// event said something changed that only a resync reads).
    pub(crate) fn stale(&self, ids: &[String]) -> Vec<String> {
        match self {
            Self::Queues { observations, .. } => observations.table().queues_stale(ids),
            Self::Agents { agents, .. } => agents.table().agents_stale(ids),
            Self::Trunks(telephony) => telephony.trunks().due(ids),
            Self::Edges(telephony) => telephony.edges().due(ids),
            Self::Flows { .. } => Vec::new(),
        }
    }
}

/// Sends each part of a queue event to its consumer. The frame counts once: as an observation
/// if its observation part was applied, as out of order or duplicate if it was skipped as such,
/// else as an interval aggregate if it had one, else as ignored.
fn queue_event(
    observations: &Observations,
    totals: &AggregateSink,
    event: QueueEvent,
    fingerprint: impl FnOnce() -> u64,
    now_ms: i64,
) -> Outcome {
    let observed = event.observation.map(|body| {
        (observations.apply_event(&body, fingerprint(), now_ms)).inspect_err(|issue| {
            tracing::debug!(
                queue_id = event.queue_id,
                issue = issue.kind(),
                "observation event ignored"
            );
        })
    });
    if let Some(body) = &event.aggregate {
        totals(body);
    }
    match (observed, event.aggregate.is_some()) {
        (Some(Ok(_)), _) => Outcome::Observation,
        (Some(Err(ObservationIssue::OutOfOrder)), _) => Outcome::OutOfOrder,
        (Some(Err(ObservationIssue::Duplicate)), _) => Outcome::Duplicate,
        (_, true) => Outcome::IntervalAggregate,
        (_, false) => Outcome::Ignored,
    }
}

/// A trunk's or an Edge's event: an observation when it was about one watched.
fn applied(watched: bool) -> Outcome {
    match watched {
        true => Outcome::Observation,
        false => Outcome::Ignored,
    }
}

/// An agent's activity event, applied unless older than what its series show.
fn activity(agents: &Agents, event: &UserActivityEvent, now_ms: i64) -> Outcome {
    match agents.apply_event(event, now_ms) {
        Applied::Current => Outcome::Activity,
        Applied::Older => Outcome::OutOfOrder,
        Applied::Unwatched => Outcome::Ignored,
    }
}

/// An agent's running time-in-status totals, folded when the channel streams them.
fn agent_time(time_in_status: &TimeInStatus, body: &UserAggregateDataContainer) -> Outcome {
    match time_in_status {
        TimeInStatus::Streamed(sink) => {
            sink(body);
            Outcome::IntervalAggregate
        }
        TimeInStatus::Polled => Outcome::Ignored,
    }
}

/// Identifies a frame, so an exact repeat is told from new content (not a security boundary).
fn fingerprint(text: &str) -> u64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut hasher = DefaultHasher::new();
    text.hash(&mut hasher);
    hasher.finish()
}

//! The agents' part of every publish round: an activity event (`v2.users.{id}.activity`) for each
//! agent whose state changed, and the running totals of time in status
//! (docs/genesys-api.md#user-events) of the agents whose aggregates topic a socket subscribes to;
//! and which user topics a subscription may name.

use std::collections::{HashMap, HashSet};

use serde_json::json;

use crate::genesys::model::{
    AggregateDataContainer, Group, NotificationFrame, StatisticalResponse, user_activity_topic,
    user_aggregates_topic, user_id_from_aggregates_topic, user_of_any_topic,
};
use crate::genesys::time::{format_interval, from_epoch_millis};
use crate::sim::Sim;
use crate::sim::model::agent_time::{AgentSlot, Dimension};
use crate::sim::model::stats::RUNNING_BUCKET_MS;
use crate::sim::model::traffic::uuid;
use crate::sim::notify::publish::{Frame, Round, RoundPart};
use crate::sync::lock;
use crate::vocabulary::labels::RoutingStatus;

use super::user_aggregates::time_entry;
use super::users::{AgentView, activity_event, agents};

/// The user topics among a subscription's that name live agents.
pub(crate) struct UserTopics(HashSet<String>);

impl UserTopics {
    /// The live agents, read only when `topics` has a user topic.
    pub(crate) fn of(sim: &Sim, topics: &[String]) -> Self {
        Self(
            match topics.iter().any(|t| user_of_any_topic(t).is_some()) {
                true => agents(sim).into_iter().map(|a| a.id).collect(),
                false => HashSet::new(),
            },
        )
    }

    /// Whether `topic` is the activity or aggregates topic of a live agent.
    pub(crate) fn serves(&self, topic: &str) -> bool {
        user_of_any_topic(topic).is_some_and(|user| self.0.contains(user))
    }
}

/// An agent's time in each status within one 30-minute bucket (its start, in epoch ms).
type RunningTime = (i64, Vec<(Dimension, usize, u64)>);

/// The agents' activity and running totals, round after round.
#[derive(Debug, Default)]
pub(crate) struct AgentEvents {
    /// What each agent's last activity event said: routing status and presence, each since.
    last_agents: HashMap<String, (RoutingStatus, i64, String, i64)>,
    /// What each agent's last running-totals event said: its bucket and time in each status.
    last_time: HashMap<String, RunningTime>,
}

impl RoundPart for AgentEvents {
    fn frames(&mut self, sim: &Sim, round: &Round) -> Vec<Frame> {
        let agents = agents(sim);
        let mut frames = self.activity_frames(&agents, round.force);
        frames.extend(self.time_frames(sim, &agents, round.force));
        frames
    }
}

impl AgentEvents {
    /// An activity event for each agent whose routing status or presence changed (every
    /// agent's when `force`).
    fn activity_frames(&mut self, agents: &[AgentView], force: bool) -> Vec<Frame> {
        let mut frames = Vec::new();
        for agent in agents {
            let state = (
                agent.status,
                agent.status_since,
                agent.presence_id.clone(),
                agent.presence_since,
            );
            if force || self.last_agents.get(&agent.id) != Some(&state) {
                frames.push(Frame {
                    topic: user_activity_topic(&agent.id),
                    group: None,
                    text: activity_event(agent),
                });
                self.last_agents.insert(agent.id.clone(), state);
            }
        }
        // NB: an agent whose queue left is forgotten, so one that returns is sent again.
        if self.last_agents.len() > agents.len() {
            let live: HashSet<&str> = agents.iter().map(|a| a.id.as_str()).collect();
            self.last_agents.retain(|id, _| live.contains(id.as_str()));
        }
        frames
    }

    /// A running-totals event (docs/genesys-api.md#user-events) for each agent whose aggregates
    /// topic a socket subscribes to and whose time in the current 30-minute bucket grew (every such
    /// agent's with time in it when `force`).
    fn time_frames(&mut self, sim: &Sim, agents: &[AgentView], force: bool) -> Vec<Frame> {
        let subscribed: HashSet<String> = lock(&sim.channels)
            .subscribed(|topic| user_id_from_aggregates_topic(topic).map(str::to_owned))
            .into_iter()
            .collect();
        if subscribed.is_empty() {
            return Vec::new();
        }
        let agents: Vec<&AgentView> = (agents.iter())
            .filter(|agent| subscribed.contains(&agent.id))
            .collect();
        let slots: Vec<AgentSlot> = agents.iter().map(|agent| agent.slot).collect();
        let now = sim.now_ms();
        let start = now - now.rem_euclid(RUNNING_BUCKET_MS);
        let cells = (sim.model().agent_time).query(
            &slots,
            start,
            start + RUNNING_BUCKET_MS,
            RUNNING_BUCKET_MS,
        );
        let mut by_slot: HashMap<AgentSlot, Vec<(Dimension, usize, u64)>> = HashMap::new();
        for (((slot, dimension, qualifier), _), ms) in cells {
            by_slot
                .entry(slot)
                .or_default()
                .push((dimension, qualifier, ms));
        }
        let mut frames = Vec::new();
        for agent in agents {
            let Some(times) = by_slot.remove(&agent.slot) else {
                continue;
            };
            let running = (start, times);
            if !force && self.last_time.get(&agent.id) == Some(&running) {
                continue;
            }
            let Some(text) = time_event(&agent.id, &running, &sim.presence_ids) else {
                continue;
            };
            frames.push(Frame {
                topic: user_aggregates_topic(&agent.id),
                group: None,
                text,
            });
            self.last_time.insert(agent.id.clone(), running);
        }
        if self.last_time.len() > subscribed.len() {
            self.last_time.retain(|id, _| subscribed.contains(id));
        }
        frames
    }
}

/// A user aggregates topic event: the agent's time in each status so far in the bucket.
fn time_event(
    user_id: &str,
    (start, times): &RunningTime,
    presence_ids: &[String],
) -> Option<String> {
    let interval = format_interval(
        from_epoch_millis(*start)?,
        from_epoch_millis(start + RUNNING_BUCKET_MS)?,
    );
    let metrics = (times.iter())
        .filter_map(|(dimension, index, ms)| time_entry(*dimension, *index, *ms, presence_ids))
        .collect();
    let frame = NotificationFrame {
        topic_name: user_aggregates_topic(user_id),
        version: Some("2".to_owned()),
        event_body: AggregateDataContainer {
            group: Group {
                user_id: Some(user_id.to_owned()),
                ..Group::default()
            },
            data: vec![StatisticalResponse { interval, metrics }],
        },
        metadata: Some(json!({"CorrelationId": uuid(&mut rand::rng())})),
    };
    serde_json::to_string(&frame).ok()
}

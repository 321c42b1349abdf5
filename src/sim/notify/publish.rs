//! The publisher (docs/genesys-api.md#queue-events): every `publish_interval` one round of queue
//! topic events, an observation for each group whose state changed and the running totals that
//! changed, shaped by the `round_faults` armed.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::genesys::model::{
    AggregateDataContainer, AggregateMetricData, Group, NotificationFrame, StatisticalResponse,
    queue_observation_topic, user_activity_topic, user_aggregates_topic,
    user_id_from_aggregates_topic,
};
use crate::genesys::time::{format_interval, from_epoch_millis};
use crate::vocabulary::labels::RoutingStatus;

use super::round_faults::Frame;
use crate::sim::Sim;
use crate::sim::agents::users::AgentView;
use crate::sim::model::agent_time::{AgentSlot, Dimension};
use crate::sim::model::stats::{RUNNING_BUCKET_MS, RunningKey, StatSet};
use crate::sim::model::traffic::uuid;
use crate::sim::queues::analytics::aggregate_metrics;
use crate::sim::queues::view::{QueueView, event_media_metrics, event_user_metrics, queue_view};
use crate::sync::lock;

/// Renders one queue topic event: an observation (`t/t`) or running totals (a bucket).
pub(crate) fn event(
    queue_id: &str,
    media: Option<&str>,
    interval: String,
    metrics: Vec<AggregateMetricData>,
) -> String {
    let frame = NotificationFrame {
        topic_name: queue_observation_topic(queue_id),
        version: Some("2".to_owned()),
        event_body: AggregateDataContainer {
            group: Group {
                queue_id: Some(queue_id.to_owned()),
                media_type: media.map(str::to_owned),
                direction: None,
                user_id: None,
            },
            data: vec![StatisticalResponse { interval, metrics }],
        },
        metadata: Some(json!({"CorrelationId": uuid(&mut rand::rng())})),
    };
    serde_json::to_string(&frame).unwrap_or_default()
}

/// What one publish round sends: taken under the model lock, rendered after it.
struct Round {
    /// (queue index, queue id, current view) of every live queue.
    views: Vec<(usize, String, QueueView)>,
    /// Changed running totals of live queues, with the queue id and service-level target.
    running: Vec<(String, f64, RunningKey, StatSet)>,
    media_types: Vec<String>,
}

fn take_round(sim: &Sim, now: i64, force: bool) -> Round {
    let mut model = sim.model();
    if force {
        model.ledger.mark_running_changed();
    }
    let queues = sim.queues();
    let views = queues
        .live()
        .map(|(q, queue)| (q, queue.id.clone(), queue_view(&model, q)))
        .collect();
    let running = model
        .ledger
        .take_changed_running(now)
        .into_iter()
        .filter_map(|(key, set)| {
            let id = queues.get(key.0)?.id.clone();
            Some((id, model.queues[key.0].service_level.target, key, set))
        })
        .collect();
    Round {
        views,
        running,
        media_types: model.media_types.clone(),
    }
}

/// Turns model changes into events, one round per `publish_interval`.
#[derive(Debug, Default)]
pub(crate) struct Publisher {
    /// What each queue slot last published; grows with the directory.
    last: Vec<Option<QueueView>>,
    /// The instant of the last round's observations, in epoch milliseconds.
    last_instant: i64,
    /// What each agent's last activity event said: routing status and presence, each since.
    last_agents: HashMap<String, (RoutingStatus, i64, String, i64)>,
    /// What each agent's last running-totals event said: its bucket and time in each status.
    last_time: HashMap<String, RunningTime>,
}

/// An agent's time in each status within one 30-minute bucket (its start, in epoch ms).
type RunningTime = (i64, Vec<(Dimension, usize, u64)>);

impl Publisher {
    /// Publishes every `publish_interval`, so each queue gets at most one round of events per
    /// interval.
    pub(crate) async fn run(mut self, sim: Arc<Sim>, cancel: CancellationToken) {
        let mut ticks = tokio::time::interval(sim.config.publish_interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                () = cancel.cancelled() => break,
                _ = ticks.tick() => self.publish_once(&sim),
            }
        }
        // NB: a round held back by `reorder_events` goes out rather than being left behind.
        let held = lock(&sim.publishing).take_held();
        send(&sim, held);
    }

    /// One round of events.
    fn publish_once(&mut self, sim: &Sim) {
        let force = sim.publish_all.swap(false, Ordering::SeqCst);
        let now = sim.now_ms();
        // NB: strictly increasing, so an observation held back by `reorder_events` is always
        // recognisably older than the one sent before it, even on a coarse or stopped clock.
        let instant_ms = now.max(self.last_instant + 1);
        let Some(instant) = from_epoch_millis(instant_ms) else {
            return;
        };
        self.last_instant = instant_ms;
        let held = lock(&sim.publishing).held_groups();
        let round = take_round(sim, now, force);
        let mut frames = Vec::new();
        let zero_width = format_interval(instant, instant);
        for (queue, id, view) in round.views {
            if self.last.len() <= queue {
                self.last.resize(queue + 1, None);
            }
            // NB: a group held back is sent again, newer, ahead of its held observation.
            let due = |group| {
                held.contains(&group)
                    || force
                    || self.last[queue].as_ref().is_none_or(|last| match group {
                        (_, Some(m)) => last.media.get(m) != view.media.get(m),
                        (_, None) => last.users != view.users,
                    })
            };
            let topic = queue_observation_topic(&id);
            for (m, media) in view.media.iter().enumerate() {
                if due((queue, Some(m))) {
                    let metrics = event_media_metrics(media);
                    let media_type = round.media_types.get(m).map(String::as_str);
                    frames.push(Frame {
                        topic: topic.clone(),
                        group: Some((queue, Some(m))),
                        text: event(&id, media_type, zero_width.clone(), metrics),
                    });
                }
            }
            if due((queue, None)) {
                let metrics = event_user_metrics(&view.users, &sim.presence_ids);
                frames.push(Frame {
                    topic,
                    group: Some((queue, None)),
                    text: event(&id, None, zero_width.clone(), metrics),
                });
            }
            self.last[queue] = Some(view);
        }
        frames.extend(running_frames(round.running, &round.media_types));
        let agents = crate::sim::agents::users::agents(sim);
        frames.extend(self.activity_frames(&agents, force));
        frames.extend(self.time_frames(sim, &agents, force));
        let frames = lock(&sim.publishing).shape(frames);
        send(sim, frames);
    }
}

impl Publisher {
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
                    text: crate::sim::agents::users::activity_event(agent),
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
        .filter_map(|(dimension, index, ms)| {
            crate::sim::agents::user_aggregates::time_entry(*dimension, *index, *ms, presence_ids)
        })
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

/// The events of the running totals that changed: interval aggregates of their bucket.
fn running_frames(
    running: Vec<(String, f64, RunningKey, StatSet)>,
    media_types: &[String],
) -> Vec<Frame> {
    let mut frames = Vec::new();
    for (id, target, (_, media, bucket), set) in running {
        let (Some(from), Some(to)) = (
            from_epoch_millis(bucket),
            from_epoch_millis(bucket + RUNNING_BUCKET_MS),
        ) else {
            continue;
        };
        let metrics = aggregate_metrics(&set, None, target);
        let text = event(
            &id,
            media_types.get(media).map(String::as_str),
            format_interval(from, to),
            metrics,
        );
        frames.push(Frame {
            topic: queue_observation_topic(&id),
            group: None,
            text,
        });
    }
    frames
}

fn send(sim: &Sim, frames: Vec<Frame>) {
    let channels = lock(&sim.channels);
    for frame in frames {
        channels.send_topic(&frame.topic, &frame.text);
    }
}

#[cfg(test)]
mod tests;

//! The queues' part of every publish round (docs/genesys-api.md#queue-events): on each queue's
//! observation topic, an observation for each group whose state changed and the running totals
//! that changed; and which queue topics a subscription may name.

use serde_json::json;

use crate::genesys::model::{
    AggregateDataContainer, AggregateMetricData, Group, NotificationFrame, StatisticalResponse,
    queue_id_from_topic, queue_observation_topic,
};
use crate::genesys::time::{format_interval, from_epoch_millis};
use crate::sim::Sim;
use crate::sim::model::stats::{RUNNING_BUCKET_MS, RunningKey, StatSet};
use crate::sim::model::traffic::uuid;
use crate::sim::notify::publish::{Frame, Round, RoundPart};

use super::analytics::aggregate_metrics;
use super::view::{QueueView, event_media_metrics, event_user_metrics, queue_view};

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

/// Whether `topic` is the observation topic of a live queue.
pub(crate) fn serves(sim: &Sim, topic: &str) -> bool {
    queue_id_from_topic(topic).is_some_and(|queue| sim.queue_index(queue).is_some())
}

/// The observation event of `queue_id`'s users as they are now, if the queue is live.
pub(crate) fn current_users_event(sim: &Sim, queue_id: &str) -> Option<String> {
    let view = {
        let model = sim.model();
        let q = sim.queue_index(queue_id)?;
        queue_view(&model, q)
    };
    let instant = from_epoch_millis(sim.now_ms())?;
    let metrics = event_user_metrics(&view.users, &sim.presence_ids);
    Some(event(
        queue_id,
        None,
        format_interval(instant, instant),
        metrics,
    ))
}

/// What one round sends of the queues: taken under the model lock, rendered after it.
struct Snapshot {
    /// (queue index, queue id, current view) of every live queue.
    views: Vec<(usize, String, QueueView)>,
    /// Changed running totals of live queues, with the queue id and service-level target.
    running: Vec<(String, f64, RunningKey, StatSet)>,
    media_types: Vec<String>,
}

fn snapshot(sim: &Sim, now: i64, force: bool) -> Snapshot {
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
    Snapshot {
        views,
        running,
        media_types: model.media_types.clone(),
    }
}

/// The queues' observations and running totals, round after round.
#[derive(Debug, Default)]
pub(crate) struct QueueEvents {
    /// What each queue slot last published; grows with the directory.
    last: Vec<Option<QueueView>>,
}

impl RoundPart for QueueEvents {
    fn frames(&mut self, sim: &Sim, round: &Round) -> Vec<Frame> {
        let snapshot = snapshot(sim, round.now, round.force);
        let mut frames = Vec::new();
        for (queue, id, view) in snapshot.views {
            if self.last.len() <= queue {
                self.last.resize(queue + 1, None);
            }
            // NB: a group held back is sent again, newer, ahead of its held observation.
            let due = |group| {
                round.held.contains(&group)
                    || round.force
                    || self.last[queue].as_ref().is_none_or(|last| match group {
                        (_, Some(m)) => last.media.get(m) != view.media.get(m),
                        (_, None) => last.users != view.users,
                    })
            };
            let topic = queue_observation_topic(&id);
            for (m, media) in view.media.iter().enumerate() {
                if due((queue, Some(m))) {
                    let metrics = event_media_metrics(media);
                    let media_type = snapshot.media_types.get(m).map(String::as_str);
                    frames.push(Frame {
                        topic: topic.clone(),
                        group: Some((queue, Some(m))),
                        text: event(&id, media_type, round.instant.clone(), metrics),
                    });
                }
            }
            if due((queue, None)) {
                let metrics = event_user_metrics(&view.users, &sim.presence_ids);
                frames.push(Frame {
                    topic,
                    group: Some((queue, None)),
                    text: event(&id, None, round.instant.clone(), metrics),
                });
            }
            self.last[queue] = Some(view);
        }
        frames.extend(running_frames(snapshot.running, &snapshot.media_types));
        frames
    }
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

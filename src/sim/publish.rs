//! The publisher (API.md §8): every `publish_interval` one round of queue topic events, an
//! observation for each group whose state changed and the running totals that changed.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::genesys::model::{
    AggregateDataContainer, AggregateMetricData, Group, NotificationFrame, StatisticalResponse,
    queue_observation_topic,
};
use crate::genesys::time::{format_interval, from_epoch_millis};

use super::analytics::aggregate_metrics;
use super::stats::{RUNNING_BUCKET_MS, RunningKey, StatSet};
use super::traffic::uuid;
use super::view::{QueueView, event_media_metrics, event_user_metrics, queue_view};
use super::{Sim, lock};

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
}

impl Publisher {
    /// Publishes every `publish_interval`, so each queue gets at most one round of events per
    /// interval.
    pub(crate) async fn run(mut self, sim: Arc<Sim>, cancel: CancellationToken) {
        let mut ticks = tokio::time::interval(sim.config.publish_interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = cancel.cancelled() => return,
                _ = ticks.tick() => self.publish_once(&sim),
            }
        }
    }

    /// One round of events.
    pub(crate) fn publish_once(&mut self, sim: &Sim) {
        let force = sim.publish_all.swap(false, Ordering::SeqCst);
        let now = sim.now_ms();
        let Some(instant) = from_epoch_millis(now) else {
            return;
        };
        let zero_width = format_interval(instant, instant);
        let Round {
            views,
            running,
            media_types,
        } = take_round(sim, now, force);
        let mut frames: Vec<(String, String)> = Vec::new();
        for (queue, id, view) in views {
            if self.last.len() <= queue {
                self.last.resize(queue + 1, None);
            }
            let previous = if force {
                None
            } else {
                self.last[queue].as_ref()
            };
            for (m, media) in view.media.iter().enumerate() {
                if previous.is_none_or(|p| p.media.get(m) != Some(media)) {
                    let metrics = event_media_metrics(media);
                    let text = event(&id, Some(&media_types[m]), zero_width.clone(), metrics);
                    frames.push((queue_observation_topic(&id), text));
                }
            }
            if previous.is_none_or(|p| p.users != view.users) {
                let metrics = event_user_metrics(&view.users, &sim.presence_ids);
                frames.push((
                    queue_observation_topic(&id),
                    event(&id, None, zero_width.clone(), metrics),
                ));
            }
            self.last[queue] = Some(view);
        }
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
            frames.push((queue_observation_topic(&id), text));
        }
        let channels = lock(&sim.channels);
        for (topic, text) in frames {
            channels.send_topic(&topic, &text);
        }
    }
}

//! The queues' notification events (docs/genesys-api.md#queue-events): a queue's topic and its
//! body read into the two kinds of data one event may carry.

use serde::Deserialize;

use super::observations::is_instant_interval;
use crate::genesys::model::{
    AggregateDataContainer, EventError, Group, StatisticalResponse, Topics, queue_id_from_topic,
};

/// The two kinds of data a queue event carries, each with the event's group and only its own
/// intervals, so that each reaches its consumer whatever the other holds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QueueEvent {
    pub queue_id: String,
    /// Zero-width intervals (`t/t`): current values, for the gauges.
    pub observation: Option<AggregateDataContainer>,
    /// Other intervals: running totals of the current 30-minute bucket, for the ledger.
    pub aggregate: Option<AggregateDataContainer>,
}

/// A queue event's body; unknown fields are ignored.
#[derive(Deserialize)]
pub(crate) struct Body {
    #[serde(default)]
    group: Group,
    #[serde(default)]
    data: Vec<StatisticalResponse>,
}

/// The queues' topics, one per queue (`v2.analytics.queues.{id}.observations`).
pub(crate) struct QueueTopics;

impl Topics for QueueTopics {
    type Body = Body;
    type Event = QueueEvent;

    fn owns(topic: &str) -> bool {
        queue_id_from_topic(topic).is_some()
    }

    /// The body must be about the topic's queue; one naming none is taken as the topic's.
    fn event(topic: &str, body: Body) -> Result<QueueEvent, EventError> {
        let queue_id = queue_id_from_topic(topic).unwrap_or_default();
        split(queue_id, body)
    }
}

fn split(queue_id: &str, body: Body) -> Result<QueueEvent, EventError> {
    let mut group = body.group;
    match group.queue_id.as_deref() {
        Some(body_queue) if body_queue != queue_id => {
            return Err(EventError::Mismatch {
                entity: "queue",
                topic_id: queue_id.to_owned(),
                body_id: body_queue.to_owned(),
            });
        }
        Some(_) => {}
        None => group.queue_id = Some(queue_id.to_owned()),
    }
    let (instants, intervals): (Vec<_>, Vec<_>) = body
        .data
        .into_iter()
        .partition(|d| is_instant_interval(&d.interval));
    let part = |data: Vec<StatisticalResponse>| {
        (!data.is_empty()).then(|| AggregateDataContainer {
            group: group.clone(),
            data,
        })
    };
    Ok(QueueEvent {
        queue_id: queue_id.to_owned(),
        observation: part(instants),
        aggregate: part(intervals),
    })
}

#[cfg(test)]
mod tests;

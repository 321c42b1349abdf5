//! The flows' topics (docs/genesys-api.md#ivr-flows): a flow's and a flow outcome's running
//! totals of the current interval, each body held to its topic's flow or outcome. What they
//! carry goes to the flow counters' ledger, which folds a bucket only when its width is the
//! configured granularity: an org whose topics run 15- or 60-minute intervals leaves the
//! counters to the poll.

use crate::genesys::model::{EventError, FlowTopic, KeyedAggregateDataContainer, Topics};

/// The flows' and flow outcomes' aggregates topics.
pub(crate) struct FlowTopics;

impl Topics for FlowTopics {
    type Body = KeyedAggregateDataContainer;
    type Event = KeyedAggregateDataContainer;

    fn owns(topic: &str) -> bool {
        FlowTopic::of(topic).is_some()
    }

    /// The body's group must name the topic's flow (or outcome) and a flow.
    fn event(topic: &str, body: Self::Body) -> Result<Self::Event, EventError> {
        let (entity, dimension, id) = match FlowTopic::of(topic) {
            Some(FlowTopic::Flow(id)) => ("flow", "flowId", id),
            Some(FlowTopic::Outcome(id)) => ("flow outcome", "flowOutcomeId", id),
            None => ("flow", "flowId", ""),
        };
        match body.group.get(dimension) {
            Some(named) if named == id && body.group.contains_key("flowId") => Ok(body),
            named => Err(EventError::Mismatch {
                entity,
                topic_id: id.to_owned(),
                body_id: named.cloned().unwrap_or_default(),
            }),
        }
    }
}

#[cfg(test)]
mod tests;

//! The flows' part of every publish round (docs/genesys-api.md#ivr-flows): for each subscribed
//! flow, the running totals of the current interval on its topic, one event per group (the
//! flow's entries and time; each of its exits and disconnects), and on each subscribed
//! outcome's topic one event per flow and result. The interval is `flow_topic_interval` wide,
//! as an org's setting makes it 15, 30 or 60 minutes. Milestones are never on the topics.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::genesys::model::{
    AggregateMetricData, FlowTopic, KeyedAggregateDataContainer, NotificationFrame,
    StatisticalResponse, flow_aggregates_topic, flow_outcome_aggregates_topic,
};
use crate::sim::Sim;
use crate::sim::api::{GroupKey, bucket_interval};
use crate::sim::model::ivr::{Facet, FlowMetric, FlowStats};
use crate::sim::notify::publish::{Frame, Round, RoundPart};
use crate::sync::lock;

use super::Catalog;

/// Whether `topic` is the running-totals topic of a flow or outcome the simulator has.
pub(crate) fn serves(sim: &Sim, topic: &str) -> bool {
    let catalog = lock(&sim.flows);
    match FlowTopic::of(topic) {
        Some(FlowTopic::Flow(id)) => catalog.flow_index(id).is_some(),
        Some(FlowTopic::Outcome(id)) => catalog.outcomes.iter().any(|o| o.id == id),
        None => false,
    }
}

/// What each (topic, group, bucket start) last said, so only what grew goes out.
#[derive(Debug, Default)]
pub(crate) struct FlowEvents {
    last: HashMap<(String, GroupKey, i64), String>,
}

/// The metrics each kind of event carries: the flow's own group, an exit's, an outcome's.
const WHOLE: [FlowMetric; 2] = [FlowMetric::NFlow, FlowMetric::TFlow];
const EXIT: [FlowMetric; 2] = [FlowMetric::TFlowExit, FlowMetric::TFlowDisconnect];
const OUTCOME: [FlowMetric; 1] = [FlowMetric::NFlowOutcome];

impl RoundPart for FlowEvents {
    /// Nothing while no socket listens to a flow topic.
    fn frames(&mut self, sim: &Sim, round: &Round) -> Vec<Frame> {
        let (flows, outcomes) = subscribed(sim);
        if flows.is_empty() && outcomes.is_empty() {
            return Vec::new();
        }
        let catalog = lock(&sim.flows).clone();
        let window = window(sim, round.now);
        let (start, _, width) = window;
        // NB: buckets older than the window are final and sent: their memory goes.
        self.last.retain(|(_, _, bucket), _| *bucket >= start);
        let cells = {
            let mut model = sim.model();
            model.ivr.flush(sim.now_ms());
            let mut cells = BTreeMap::new();
            for whole in [true, false] {
                cells.extend(model.ivr.lagged.query(window, |(flow, facet)| {
                    let topic = topic_of(&catalog, *flow, facet, &flows, &outcomes)?;
                    Some((topic, group(&catalog, *flow, facet, whole)?))
                }));
            }
            cells
        };
        let mut frames = Vec::new();
        for (((topic, group), bucket), stats) in cells {
            let Some(interval) = bucket_interval(start, bucket, width) else {
                continue;
            };
            let Some(text) = event(&topic, &group, interval, &stats) else {
                continue;
            };
            let key = (topic.clone(), group, start + bucket * width);
            if round.force || self.last.get(&key) != Some(&text) {
                frames.push(Frame {
                    topic,
                    group: None,
                    text: text.clone(),
                });
                self.last.insert(key, text);
            }
        }
        frames
    }
}

/// The buckets a round reports, as (start, end, width) in epoch ms: the current interval and
/// the one before, whose last records may surface from the reporting lag after it ended (a
/// round can come long after, on a loaded machine or a fast clock), so its final totals go out
/// too; only what changed is sent.
fn window(sim: &Sim, now: i64) -> (i64, i64, i64) {
    let width = i64::try_from(sim.config.flow_topic_interval.as_millis());
    let width = width.unwrap_or(i64::MAX).max(1);
    let current = now - now.rem_euclid(width);
    (current - width, current + width, width)
}

/// The flow and outcome ids whose topics a connected socket subscribes to.
fn subscribed(sim: &Sim) -> (HashSet<String>, HashSet<String>) {
    let topics = lock(&sim.channels).subscribed(|topic| {
        FlowTopic::of(topic).map(|t| match t {
            FlowTopic::Flow(id) => (true, id.to_owned()),
            FlowTopic::Outcome(id) => (false, id.to_owned()),
        })
    });
    let (flows, outcomes): (Vec<_>, Vec<_>) = topics.into_iter().partition(|(flow, _)| *flow);
    let ids = |all: Vec<(bool, String)>| all.into_iter().map(|(_, id)| id).collect();
    // NB: sets, as every cell of a round asks them.
    (ids(flows), ids(outcomes))
}

/// The subscribed topic a facet's totals go to: its flow's, or its outcome's.
fn topic_of(
    catalog: &Catalog,
    flow: usize,
    facet: &Facet,
    flows: &HashSet<String>,
    outcomes: &HashSet<String>,
) -> Option<String> {
    let subscribed = |id: &String, all: &HashSet<String>| all.contains(id);
    match facet {
        Facet::Entry | Facet::Left { .. } => {
            let id = &catalog.flows.get(flow)?.id;
            subscribed(id, flows).then(|| flow_aggregates_topic(id))
        }
        Facet::Outcome { outcome, .. } => {
            let id = &catalog.outcomes.get(*outcome)?.id;
            subscribed(id, outcomes).then(|| flow_outcome_aggregates_topic(id))
        }
        Facet::Milestone(_) => None,
    }
}

/// A facet's group on its topic: the flow alone (`whole`: its entries, and the time of the
/// visits that left), or the exit's or outcome's group.
fn group(catalog: &Catalog, flow: usize, facet: &Facet, whole: bool) -> Option<GroupKey> {
    let key: GroupKey = vec![("flowId", catalog.flows.get(flow)?.id.clone())];
    match (whole, facet) {
        (true, Facet::Entry | Facet::Left { .. }) => Some(key),
        (false, Facet::Left { .. } | Facet::Outcome { .. }) => {
            Some(key.into_iter().chain(catalog.dimensions(facet)).collect())
        }
        _ => None,
    }
}

/// One group's running totals as the topic sends them, or `None` with nothing to say.
fn event(topic: &str, group: &GroupKey, interval: String, stats: &FlowStats) -> Option<String> {
    let kind: &[FlowMetric] = match group.len() {
        1 => &WHOLE,
        _ if group.iter().any(|(d, _)| *d == "flowOutcomeId") => &OUTCOME,
        _ => &EXIT,
    };
    let metrics: Vec<AggregateMetricData> = (kind.iter())
        .filter(|metric| stats.of(**metric).count > 0)
        .map(|metric| AggregateMetricData {
            metric: metric.name().into(),
            qualifier: None,
            stats: stats.of(*metric).to_wire(metric.is_timer()),
        })
        .collect();
    if metrics.is_empty() {
        return None;
    }
    let body = KeyedAggregateDataContainer {
        group: (group.iter())
            .map(|(d, v)| ((*d).to_owned(), v.clone()))
            .collect::<BTreeMap<_, _>>(),
        data: vec![StatisticalResponse { interval, metrics }],
    };
    let frame = NotificationFrame {
        topic_name: topic.to_owned(),
        version: Some("2".to_owned()),
        event_body: body,
        metadata: None,
    };
    serde_json::to_string(&frame).ok()
}

#[cfg(test)]
mod tests;

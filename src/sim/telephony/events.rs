//! The telephony part of every publish round (docs/genesys-api.md#trunks-and-edges): a status
//! event for each trunk or Edge whose topic's statuses changed, a metrics event for each whose
//! metrics changed; and which telephony topics a subscription may name.

use std::collections::HashMap;

use serde::Serialize;

use crate::genesys::model::{
    Edge, EdgeMetrics, NotificationFrame, TELEPHONY_TOPICS, TelephonyTopic, Trunk, TrunkMetrics,
    edge_of_topic, edge_topic, trunk_of_topic, trunk_topic,
};
use crate::sim::Sim;
use crate::sim::notify::publish::{Frame, Round, RoundPart};
use crate::sync::lock;

use super::instant;

/// Whether `topic` is a status or metrics topic of a trunk or Edge the simulator has.
pub(crate) fn serves(sim: &Sim, topic: &str) -> bool {
    let estate = lock(&sim.telephony);
    if let Some((trunk, _)) = trunk_of_topic(topic) {
        return estate.trunk_index(trunk).is_some();
    }
    edge_of_topic(topic).is_some_and(|(edge, _)| estate.edge_index(edge).is_some())
}

/// What each trunk's and Edge's last events said, round after round.
#[derive(Debug, Default)]
pub(crate) struct TelephonyEvents {
    trunks: HashMap<String, (Trunk, TrunkMetrics)>,
    edges: HashMap<String, (Edge, EdgeMetrics)>,
}

impl RoundPart for TelephonyEvents {
    /// Nothing while no socket listens: most simulations serve no telephony client, and a
    /// later subscriber resyncs before it reads events.
    fn frames(&mut self, sim: &Sim, round: &Round) -> Vec<Frame> {
        if !lock(&sim.channels).subscribes_any(TELEPHONY_TOPICS) {
            return Vec::new();
        }
        let model = sim.model();
        let estate = lock(&sim.telephony);
        let calls = estate.calls(&model);
        let mut frames = Vec::new();
        for (index, calls) in calls.into_iter().enumerate() {
            let status = trunk_status(estate.trunk_view(index));
            let mut metrics = estate.trunk_metrics(index, calls, round.now);
            let id = status.id.clone();
            let last = self.trunks.get(&id);
            metrics.event_time = None;
            let (status_changed, metrics_changed) = changed(last, &status, &metrics, round.force);
            if status_changed {
                frames.push(frame(trunk_topic(&id, TelephonyTopic::Status), &status));
            }
            if metrics_changed {
                let mut body = metrics.clone();
                body.event_time = instant(round.now);
                frames.push(frame(trunk_topic(&id, TelephonyTopic::Metrics), &body));
            }
            self.trunks.insert(id, (status, metrics));
        }
        for index in 0..estate.edges.len() {
            let view = estate.edge_view(index);
            let status = Edge {
                id: view.id,
                online_status: view.online_status,
                ..Edge::default()
            };
            let body = estate.edge_metrics(index, round.now);
            // NB: compared by when it booted, not its uptime, which moves every round.
            let mut metrics = body.clone();
            (metrics.event_time, metrics.up_time_msec) =
                (None, Some(estate.edges[index].up_since_ms));
            let id = status.id.clone();
            let last = self.edges.get(&id);
            let (status_changed, metrics_changed) = changed(last, &status, &metrics, round.force);
            if status_changed {
                frames.push(frame(edge_topic(&id, TelephonyTopic::Status), &status));
            }
            if metrics_changed {
                frames.push(frame(edge_topic(&id, TelephonyTopic::Metrics), &body));
            }
            self.edges.insert(id, (status, metrics));
        }
        frames
    }
}

/// A trunk's topic body: its checks, not what only the listing gives.
fn trunk_status(view: Trunk) -> Trunk {
    Trunk {
        id: view.id,
        connected_status: view.connected_status,
        options_status: view.options_status,
        registers_status: view.registers_status,
        ip_status: view.ip_status,
        ..Trunk::default()
    }
}

/// Whether the status and the metrics differ from what was last sent (all of it with `force`).
fn changed<S: PartialEq, M: PartialEq>(
    last: Option<&(S, M)>,
    status: &S,
    metrics: &M,
    force: bool,
) -> (bool, bool) {
    match last {
        Some((s, m)) if !force => (s != status, m != metrics),
        _ => (true, true),
    }
}

fn frame(topic: String, body: &impl Serialize) -> Frame {
    let frame = NotificationFrame {
        topic_name: topic.clone(),
        version: Some("2".to_owned()),
        event_body: body,
        metadata: None,
    };
    Frame {
        topic,
        group: None,
        text: serde_json::to_string(&frame).unwrap_or_default(),
    }
}

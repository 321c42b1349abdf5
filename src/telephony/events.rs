//! The trunks' and the Edges' notification events (docs/genesys-api.md#trunks-and-edges): each
//! has a status topic and a metrics topic, each body read and held to the topic's trunk or Edge.

use serde::Deserialize;

use crate::genesys::model::{
    Edge, EdgeDisk, EdgeMemory, EdgeMetrics, EdgeProcessor, EdgeSubsystem, EntityRef, EventError,
    TelephonyTopic, Topics, Trunk, TrunkCalls, TrunkConnectedStatus, TrunkIpStatus, TrunkMetrics,
    TrunkOptionsStatus, TrunkQos, TrunkRegistersStatus, edge_of_topic, trunk_of_topic,
};

/// An event on one of a trunk's or an Edge's topics: its statuses or its metrics.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum TelephonyEvent<S, M> {
    Status(S),
    Metrics(M),
}

pub(crate) type TrunkEvent = TelephonyEvent<Trunk, TrunkMetrics>;
pub(crate) type EdgeEvent = TelephonyEvent<Edge, EdgeMetrics>;

/// The body of either topic of a trunk, as the trunks read it; unknown fields are ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TrunkBody {
    /// Status: the trunk, and what its checks say (never its state or whether it is in
    /// service: those only the listing gives).
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    connected_status: Option<TrunkConnectedStatus>,
    #[serde(default)]
    options_status: Option<Vec<TrunkOptionsStatus>>,
    #[serde(default)]
    registers_status: Option<Vec<TrunkRegistersStatus>>,
    #[serde(default)]
    ip_status: Option<TrunkIpStatus>,
    /// Metrics: the trunk, its calls up now, its mismatches.
    #[serde(default)]
    event_time: Option<String>,
    #[serde(default)]
    trunk: Option<EntityRef>,
    #[serde(default)]
    calls: Option<TrunkCalls>,
    #[serde(default)]
    qos: Option<TrunkQos>,
}

/// The trunks' topics: each trunk's statuses and its metrics.
pub(crate) struct TrunkTopics;

impl Topics for TrunkTopics {
    type Body = TrunkBody;
    type Event = TrunkEvent;

    fn owns(topic: &str) -> bool {
        trunk_of_topic(topic).is_some()
    }

    /// The body must be about the topic's trunk.
    fn event(topic: &str, body: TrunkBody) -> Result<TrunkEvent, EventError> {
        let (trunk_id, kind) = trunk_of_topic(topic).unwrap_or(NO_ONE);
        match kind {
            TelephonyTopic::Status => {
                held_to("trunk", trunk_id, body.id.as_deref())?;
                Ok(TelephonyEvent::Status(Trunk {
                    id: trunk_id.to_owned(),
                    connected_status: body.connected_status,
                    options_status: body.options_status,
                    registers_status: body.registers_status,
                    ip_status: body.ip_status,
                    ..Trunk::default()
                }))
            }
            TelephonyTopic::Metrics => {
                let named = body.trunk.as_ref().map(|t| t.id.as_str());
                held_to("trunk", trunk_id, named)?;
                Ok(TelephonyEvent::Metrics(TrunkMetrics {
                    event_time: body.event_time,
                    logical_interface: None,
                    trunk: Some(body.trunk.unwrap_or_else(|| entity(trunk_id))),
                    calls: body.calls,
                    qos: body.qos,
                }))
            }
        }
    }
}

/// The body of either topic of an Edge, as the Edges read it; unknown fields are ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EdgeBody {
    /// Status: the Edge and whether it is online (all its topic says).
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    online_status: Option<String>,
    /// Metrics: the Edge and its load.
    #[serde(default)]
    edge: Option<EntityRef>,
    #[serde(default)]
    event_time: Option<String>,
    #[serde(default)]
    up_time_msec: Option<i64>,
    #[serde(default)]
    processors: Vec<EdgeProcessor>,
    #[serde(default)]
    memory: Vec<EdgeMemory>,
    #[serde(default)]
    disks: Vec<EdgeDisk>,
    #[serde(default)]
    subsystems: Vec<EdgeSubsystem>,
}

/// The Edges' topics: each Edge's online status and its metrics.
pub(crate) struct EdgeTopics;

impl Topics for EdgeTopics {
    type Body = EdgeBody;
    type Event = EdgeEvent;

    fn owns(topic: &str) -> bool {
        edge_of_topic(topic).is_some()
    }

    /// The body must be about the topic's Edge.
    fn event(topic: &str, body: EdgeBody) -> Result<EdgeEvent, EventError> {
        let (edge_id, kind) = edge_of_topic(topic).unwrap_or(NO_ONE);
        match kind {
            TelephonyTopic::Status => {
                held_to("Edge", edge_id, body.id.as_deref())?;
                Ok(TelephonyEvent::Status(Edge {
                    id: edge_id.to_owned(),
                    online_status: body.online_status,
                    ..Edge::default()
                }))
            }
            TelephonyTopic::Metrics => {
                let named = body.edge.as_ref().map(|e| e.id.as_str());
                held_to("Edge", edge_id, named)?;
                Ok(TelephonyEvent::Metrics(EdgeMetrics {
                    edge: Some(body.edge.unwrap_or_else(|| entity(edge_id))),
                    event_time: body.event_time,
                    up_time_msec: body.up_time_msec,
                    processors: body.processors,
                    memory: body.memory,
                    disks: body.disks,
                    subsystems: body.subsystems,
                }))
            }
        }
    }
}

/// `Topics::event` is only called for a topic `owns` accepted; a wrong call reads as a
/// status event of no one rather than a panic.
const NO_ONE: (&str, TelephonyTopic) = ("", TelephonyTopic::Status);

/// A body that names an entity must name the topic's.
fn held_to(entity: &'static str, topic_id: &str, named: Option<&str>) -> Result<(), EventError> {
    match named {
        Some(body_id) if body_id != topic_id => Err(EventError::Mismatch {
            entity,
            topic_id: topic_id.to_owned(),
            body_id: body_id.to_owned(),
        }),
        _ => Ok(()),
    }
}

fn entity(id: &str) -> EntityRef {
    EntityRef {
        id: id.to_owned(),
        name: None,
    }
}

#[cfg(test)]
mod tests;

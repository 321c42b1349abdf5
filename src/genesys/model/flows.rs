//! IVR flows (docs/genesys-api.md#ivr-flows): the flows listing with its outcomes and
//! milestones, the flow aggregates query and the flow observations query.

use serde::{Deserialize, Serialize};

use super::{
    ConversationAggregationQuery, DivisionRef, EntityListing, KeyedAggregateDataContainer,
    ObservationMetricData, QueueObservationQuery,
};

/// A flow as `GET /api/v2/flows` lists one. Its `type` is upper case on the wire
/// (`INBOUNDCALL`); the listing's `type` parameter takes it lower case.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Flow {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(rename = "type", default)]
    pub flow_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub division: Option<DivisionRef>,
    #[serde(default)]
    pub active: bool,
}

pub type FlowEntityListing = EntityListing<Flow>;

/// A flow outcome or milestone as `GET /api/v2/flows/outcomes` and `…/milestones` list them.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct FlowPart {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub division: Option<DivisionRef>,
}

pub type FlowPartListing = EntityListing<FlowPart>;

/// `POST /api/v2/analytics/flows/aggregates/query`: the conversation aggregates query's shape,
/// with the flow dimensions and metrics.
pub type FlowAggregationQuery = ConversationAggregationQuery;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FlowAggregateQueryResponse {
    #[serde(default)]
    pub results: Vec<KeyedAggregateDataContainer>,
}

/// `POST /api/v2/analytics/flows/observations/query`: the queue observations query's shape,
/// `oFlow` its one metric, filtered by `flowId` (and `mediaType`).
pub type FlowObservationQuery = QueueObservationQuery;

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FlowObservationQueryResponse {
    #[serde(default)]
    pub results: Vec<FlowObservationDataContainer>,
}

/// One flow's observations, the group keyed by dimension name (`flowId`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct FlowObservationDataContainer {
    #[serde(default)]
    pub group: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub data: Vec<ObservationMetricData>,
}

/// The topic of one flow's running totals of the current interval (docs/genesys-api.md#ivr-flows).
pub fn flow_aggregates_topic(flow_id: &str) -> String {
    format!("v2.analytics.flow.{flow_id}.aggregates")
}

/// The topic of one flow outcome's running totals of the current interval, per flow.
pub fn flow_outcome_aggregates_topic(outcome_id: &str) -> String {
    format!("v2.analytics.flowoutcome.{outcome_id}.aggregates")
}

/// Which of a flow's or a flow outcome's running-totals topics `topic` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowTopic<'t> {
    /// A flow's, by flow id.
    Flow(&'t str),
    /// A flow outcome's, by outcome id.
    Outcome(&'t str),
}

impl<'t> FlowTopic<'t> {
    /// The flow or outcome `topic` names, or `None` for any other topic.
    pub fn of(topic: &'t str) -> Option<Self> {
        let id = |prefix: &str| {
            (topic.strip_prefix(prefix)?.strip_suffix(".aggregates"))
                .filter(|id| !id.is_empty() && !id.contains('.'))
        };
        (id("v2.analytics.flow.").map(Self::Flow))
            .or_else(|| id("v2.analytics.flowoutcome.").map(Self::Outcome))
    }
}

/// Reads a flow aggregates answer (`{"results": [group, …]}`) one group at a time, handing
/// each to `each` as it is read: an answer over every flow of a type is megabytes, and held
/// whole it was the largest allocation of a poll at 1,000 flows. Other fields are skipped.
pub fn each_flow_result(
    text: &[u8],
    each: impl FnMut(KeyedAggregateDataContainer),
) -> serde_json::Result<()> {
    let mut reader = serde_json::Deserializer::from_slice(text);
    serde::de::DeserializeSeed::deserialize(EachResult(each), &mut reader)?;
    reader.end()
}

/// The answer object, its `results` read by [`EachItem`].
struct EachResult<F>(F);

/// The `results` array, each item given away as read.
struct EachItem<'f, F>(&'f mut F);

impl<'de, F: FnMut(KeyedAggregateDataContainer)> serde::de::DeserializeSeed<'de> for EachResult<F> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de, F: FnMut(KeyedAggregateDataContainer)> serde::de::Visitor<'de> for EachResult<F> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an aggregates answer")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "results" => map.next_value_seed(EachItem(&mut self.0))?,
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

impl<'de, F: FnMut(KeyedAggregateDataContainer)> serde::de::DeserializeSeed<'de>
    for EachItem<'_, F>
{
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de, F: FnMut(KeyedAggregateDataContainer)> serde::de::Visitor<'de> for EachItem<'_, F> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of aggregate groups")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element()? {
            (self.0)(item);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;

//! Analytics queries: queue observations (API.md §5) and conversation aggregates (API.md §6).

use serde::{Deserialize, Serialize};

/// `{"type":"or","predicates":[…]}`: the only filter shape we send.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct QueryFilter {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub predicates: Vec<QueryPredicate>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct QueryPredicate {
    #[serde(rename = "type", default = "dimension_kind")]
    pub kind: String,
    pub dimension: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
    pub value: String,
}

fn dimension_kind() -> String {
    "dimension".to_owned()
}

impl QueryFilter {
    /// An `or` over `queueId` predicates, one per queue.
    pub fn queue_ids<'a>(ids: impl IntoIterator<Item = &'a str>, operator: Option<&str>) -> Self {
        Self {
            kind: "or".to_owned(),
            predicates: ids
                .into_iter()
                .map(|id| QueryPredicate {
                    kind: dimension_kind(),
                    dimension: "queueId".to_owned(),
                    operator: operator.map(str::to_owned),
                    value: id.to_owned(),
                })
                .collect(),
        }
    }

    /// The queue ids this filter names, whatever the predicate order.
    pub fn queue_id_values(&self) -> impl Iterator<Item = &str> {
        self.predicates
            .iter()
            .filter(|p| p.dimension == "queueId")
            .map(|p| p.value.as_str())
    }
}

/// `POST /api/v2/analytics/queues/observations/query` body.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct QueueObservationQuery {
    pub filter: QueryFilter,
    pub metrics: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub detail_metrics: Vec<String>,
}

/// Observation query response; `results` is absent when there is nothing to report.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct QueueObservationQueryResponse {
    #[serde(default)]
    pub results: Vec<QueueObservationDataContainer>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct QueueObservationDataContainer {
    #[serde(default)]
    pub group: Group,
    #[serde(default)]
    pub data: Vec<ObservationMetricData>,
}

/// The dimensions of a result. Only the two we group by are typed; the rest are ignored.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ObservationMetricData {
    pub metric: String,
    #[serde(default)]
    pub qualifier: Option<String>,
    #[serde(default)]
    pub stats: Stats,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observations: Option<Vec<ObservationDetail>>,
}

/// One interaction behind a detail metric, oldest first.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ObservationDetail {
    pub observation_date: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_priority: Option<i64>,
}

/// Statistical summary. Counts are `u64`; `sum`/`min`/`max` are milliseconds for `t*` metrics;
/// `calculated_metric_value` of `oLongest*` is an epoch-millisecond instant, not a duration.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sum: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numerator: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denominator: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<f64>,
    /// Epoch milliseconds for `oLongest*`. The SDKs declare it an integer, so we write one;
    /// we read a float too, since a client should not fail a whole response over `1.0`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "integer_or_float"
    )]
    pub calculated_metric_value: Option<i64>,
}

fn integer_or_float<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<i64>, D::Error> {
    let number = Option::<serde_json::Number>::deserialize(de)?;
    Ok(number.and_then(|n| {
        n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && f.abs() < 9.0e15)
                .map(|f| f.round() as i64)
        })
    }))
}

/// `POST /api/v2/analytics/conversations/aggregates/query` body.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ConversationAggregationQuery {
    /// `start/end`, ISO-8601 UTC with milliseconds.
    pub interval: String,
    /// ISO-8601 duration, e.g. `PT30M`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub granularity: Option<String>,
    #[serde(default)]
    pub group_by: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<QueryFilter>,
    pub metrics: Vec<String>,
}

/// Aggregates response; the body is `{}` when there is no data at all.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ConversationAggregateQueryResponse {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<AggregateDataContainer>,
}

/// One group's buckets; also the body of a queue observation stream event (API.md §8).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AggregateDataContainer {
    #[serde(default)]
    pub group: Group,
    #[serde(default)]
    pub data: Vec<StatisticalResponse>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct StatisticalResponse {
    /// `start/end`; zero-width (`t/t`) for an observation event.
    pub interval: String,
    #[serde(default)]
    pub metrics: Vec<AggregateMetricData>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AggregateMetricData {
    pub metric: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualifier: Option<String>,
    #[serde(default)]
    pub stats: Stats,
}

/// The observation metrics we ask for (API.md §5).
pub const OBSERVATION_METRICS: &[&str] = &[
    "oWaiting",
    "oInteracting",
    "oAlerting",
    "oLongestWaiting",
    "oLongestInteracting",
    "oOnQueueUsers",
    "oOffQueueUsers",
    "oActiveUsers",
    "oMemberUsers",
    "oUserRoutingStatuses",
    "oUserPresences",
];

/// The conversation aggregate metrics we can ask for (API.md §6); `aggregates.metrics` picks.
pub const AGGREGATE_METRICS: &[&str] = &[
    "nOffered",
    "nConnected",
    "nTransferred",
    "tAbandon",
    "tAnswered",
    "tHandle",
    "tWait",
    "tTalk",
    "tHeld",
    "tAcw",
    "nOverSla",
    "oServiceLevel",
];

/// Routing statuses reported in `qualifier` of user metrics; the allow-list for the label.
pub const ROUTING_STATUSES: &[&str] = &[
    "IDLE",
    "INTERACTING",
    "COMMUNICATING",
    "NOT_RESPONDING",
    "OFF_QUEUE",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calculated_metric_values_are_written_as_integers_and_read_from_either() {
        let stats: Stats =
            serde_json::from_str(r#"{"calculatedMetricValue":1795672444500.0}"#).unwrap();
        assert_eq!(stats.calculated_metric_value, Some(1_795_672_444_500));
        let stats: Stats =
            serde_json::from_str(r#"{"calculatedMetricValue":1795672444500}"#).unwrap();
        let text = serde_json::to_string(&stats).unwrap();
        assert_eq!(text, r#"{"calculatedMetricValue":1795672444500}"#);
        let stats: Stats = serde_json::from_str(r#"{"count":3}"#).unwrap();
        assert_eq!(stats.calculated_metric_value, None);
    }
}

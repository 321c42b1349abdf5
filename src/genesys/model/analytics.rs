//! Analytics queries: queue observations (docs/genesys-api.md#queue-observations-query) and
//! conversation aggregates (docs/genesys-api.md#conversation-aggregates-query).

use crate::vocabulary::metric::GenesysMetric;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// `{"type":"or","predicates":[…]}` over queue ids, or `{"type":"and","clauses":[…]}` of such
/// `or`s, one per dimension (queue ids, media types, directions).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct QueryFilter {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clauses: Vec<QueryClause>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub predicates: Vec<QueryPredicate>,
}

/// One `or` (or `and`) of predicates inside a filter.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct QueryClause {
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

/// One `dimension` predicate per value.
fn any_of<'a>(
    dimension: &str,
    values: impl IntoIterator<Item = &'a str>,
    operator: Option<&str>,
) -> Vec<QueryPredicate> {
    values
        .into_iter()
        .map(|value| QueryPredicate {
            kind: dimension_kind(),
            dimension: dimension.to_owned(),
            operator: operator.map(str::to_owned),
            value: value.to_owned(),
        })
        .collect()
}

impl QueryFilter {
    /// An `or` over `queueId` predicates, one per queue.
    pub fn queue_ids<'a>(ids: impl IntoIterator<Item = &'a str>, operator: Option<&str>) -> Self {
        Self {
            kind: "or".to_owned(),
            clauses: Vec::new(),
            predicates: any_of("queueId", ids, operator),
        }
    }

    /// An `or` over `userId` predicates, one per user (the users aggregates query's filter).
    pub fn user_ids<'a>(ids: impl IntoIterator<Item = &'a str>) -> Self {
        Self::one_of("userId", ids)
    }

    /// An `or` of one `dimension` predicate per value.
    pub fn one_of<'a>(dimension: &str, values: impl IntoIterator<Item = &'a str>) -> Self {
        Self {
            kind: "or".to_owned(),
            clauses: Vec::new(),
            predicates: any_of(dimension, values, None),
        }
    }

    /// The queues `ids`, and of each of `dimensions` (name, values) one of its values: an `and`
    /// of one `or` per dimension. Dimensions without values do not filter; with none left this
    /// is [`QueryFilter::queue_ids`].
    pub fn queues_where<'a>(
        ids: impl IntoIterator<Item = &'a str>,
        dimensions: &[(&str, &[String])],
    ) -> Self {
        let queues = Self::queue_ids(ids, None);
        let others: Vec<QueryClause> = dimensions
            .iter()
            .filter(|(_, values)| !values.is_empty())
            .map(|(dimension, values)| QueryClause {
                kind: "or".to_owned(),
                predicates: any_of(dimension, values.iter().map(String::as_str), None),
            })
            .collect();
        if others.is_empty() {
            return queues;
        }
        let queues = QueryClause {
            kind: queues.kind,
            predicates: queues.predicates,
        };
        Self {
            kind: "and".to_owned(),
            clauses: std::iter::once(queues).chain(others).collect(),
            predicates: Vec::new(),
        }
    }

    /// Every predicate, its own and its clauses'.
    pub fn all_predicates(&self) -> impl Iterator<Item = &QueryPredicate> {
        self.predicates
            .iter()
            .chain(self.clauses.iter().flat_map(|c| &c.predicates))
    }

    /// The queue ids this filter names, whatever the predicate order.
    pub fn queue_id_values(&self) -> impl Iterator<Item = &str> {
        self.all_predicates()
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

/// Observation query response; `results` is absent when there is nothing to report. A result
/// that does not parse (a negative count, text where a number goes) is set aside in
/// `malformed`, so one bad result costs its queue, never the other 99 of its batch.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(from = "RawResults")]
pub struct QueueObservationQueryResponse {
    #[serde(default)]
    pub results: Vec<QueueObservationDataContainer>,
    /// The results that did not parse, by the queue id each named (`None`: not even that).
    #[serde(skip)]
    pub malformed: Vec<Option<String>>,
}

/// A response's results, each still unparsed text.
#[derive(Deserialize)]
struct RawResults {
    #[serde(default)]
    results: Vec<Box<serde_json::value::RawValue>>,
}

/// Only the queue a result names, read from a result that does not parse as a whole.
#[derive(Deserialize)]
struct NamedResult {
    #[serde(default)]
    group: NamedGroup,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct NamedGroup {
    #[serde(default)]
    queue_id: Option<String>,
}

/// Parses each result on its own: (those that parse, the queue ids of those that do not).
/// NB: results stay raw text until then, not a `Value` tree, which at 100 queues a batch would
/// cost several times the body in memory.
fn parse_each<T: DeserializeOwned>(
    raws: Vec<Box<serde_json::value::RawValue>>,
) -> (Vec<T>, Vec<Option<String>>) {
    let mut parsed = Vec::with_capacity(raws.len());
    let mut malformed = Vec::new();
    for raw in raws {
        match serde_json::from_str(raw.get()) {
            Ok(result) => parsed.push(result),
            Err(_) => {
                let named = serde_json::from_str::<NamedResult>(raw.get()).ok();
                malformed.push(named.and_then(|n| n.group.queue_id));
            }
        }
    }
    (parsed, malformed)
}

impl From<RawResults> for QueueObservationQueryResponse {
    fn from(raw: RawResults) -> Self {
        let (results, malformed) = parse_each(raw.results);
        Self { results, malformed }
    }
}

impl From<RawResults> for ConversationAggregateQueryResponse {
    fn from(raw: RawResults) -> Self {
        let (results, malformed) = parse_each(raw.results);
        Self { results, malformed }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct QueueObservationDataContainer {
    #[serde(default)]
    pub group: Group,
    #[serde(default)]
    pub data: Vec<ObservationMetricData>,
}

/// The dimensions of a result. Only those we group by are typed; the rest are ignored.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Only when the aggregates query groups by `direction` (the `directions` setting).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    /// A user's running totals (`v2.analytics.users.{id}.aggregates`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ObservationMetricData {
    pub metric: MetricName,
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

/// Aggregates response; the body is `{}` when there is no data at all. Results that do not
/// parse are set aside, as in [`QueueObservationQueryResponse`].
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(from = "RawResults")]
pub struct ConversationAggregateQueryResponse {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub results: Vec<AggregateDataContainer>,
    #[serde(skip)]
    pub malformed: Vec<Option<String>>,
}

/// One group's buckets; also the body of a queue observation stream event
/// (docs/genesys-api.md#queue-events).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct AggregateDataContainer {
    #[serde(default)]
    pub group: Group,
    #[serde(default)]
    pub data: Vec<StatisticalResponse>,
}

/// One group's buckets, the group as the dimensions Genesys names it by: the users', flows' and
/// data actions' aggregates.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct KeyedAggregateDataContainer {
    #[serde(default)]
    pub group: std::collections::BTreeMap<String, String>,
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
    pub metric: MetricName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qualifier: Option<String>,
    #[serde(default)]
    pub stats: Stats,
}

/// The observation metrics we ask for.
pub const OBSERVATION_METRICS: &[GenesysMetric] = GenesysMetric::OBSERVATIONS;

/// The conversation aggregate metrics we can ask for; `aggregates.metrics` picks.
pub const AGGREGATE_METRICS: &[GenesysMetric] = GenesysMetric::AGGREGATES;

/// A metric's name as upstream wrote it, parsed once where the JSON is read: one we know, or
/// any other kept as written, for the log (never a label).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetricName {
    Known(GenesysMetric),
    Other(String),
}

impl MetricName {
    pub fn as_str(&self) -> &str {
        match self {
            Self::Known(metric) => metric.as_str(),
            Self::Other(name) => name,
        }
    }
}

impl Default for MetricName {
    fn default() -> Self {
        Self::Other(String::new())
    }
}

impl From<&str> for MetricName {
    fn from(name: &str) -> Self {
        GenesysMetric::parse(name).map_or_else(|| Self::Other(name.to_owned()), Self::Known)
    }
}

impl From<GenesysMetric> for MetricName {
    fn from(metric: GenesysMetric) -> Self {
        Self::Known(metric)
    }
}

impl PartialEq<str> for MetricName {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for MetricName {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for MetricName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for MetricName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
        Ok(Self::from(name.as_ref()))
    }
}

#[cfg(test)]
mod tests;

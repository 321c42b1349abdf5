//! Analytics queries: queue observations from the live model
//! (docs/genesys-api.md#queue-observations-query) and conversation aggregates from the lagged
//! ledger (docs/genesys-api.md#conversation-aggregates-query).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::genesys::model::{
    AGGREGATE_METRICS, AggregateDataContainer, AggregateMetricData,
    ConversationAggregateQueryResponse, ConversationAggregationQuery, Group, OBSERVATION_METRICS,
    QueueObservationDataContainer, QueueObservationQuery, QueueObservationQueryResponse,
    StatisticalResponse, Stats,
};
use crate::vocabulary::metric::GenesysMetric;

use crate::sim::Sim;
use crate::sim::api::{
    bad_request, bucket_interval, buckets, parse_json, selection, with_predicates,
};
use crate::sim::guard::Failure;
use crate::sim::model::stats::{Metric, StatSet, service_level, stat_of};
use crate::sim::model::traffic::DIRECTIONS;

use super::view::{queue_view, rest_media_data, rest_user_data};

pub(crate) async fn observations(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query: QueueObservationQuery = match parse_json(&headers, &body) {
        Ok(query) => query,
        Err(failure) => return failure.into_response(),
    };
    let predicates = Some(query.filter.queue_id_values().count());
    let response = match observation_results(&sim, &query) {
        Ok(results) => Json(QueueObservationQueryResponse {
            results,
            malformed: Vec::new(),
        })
        .into_response(),
        Err(failure) => failure.into_response(),
    };
    with_predicates(response, predicates)
}

fn observation_results(
    sim: &Sim,
    query: &QueueObservationQuery,
) -> Result<Vec<QueueObservationDataContainer>, Failure> {
    let selected = selection(Some(&query.filter))?;
    // NB: as upstream: queue observations have queueId and mediaType dimensions only.
    if selected.directions.is_some() {
        return Err(bad_request(
            "queue observations cannot be filtered by direction",
        ));
    }
    let known =
        |m: &String| GenesysMetric::parse(m).is_some_and(|m| OBSERVATION_METRICS.contains(&m));
    if query.metrics.is_empty() || !query.metrics.iter().all(known) {
        return Err(bad_request("metrics must name known observation metrics"));
    }
    if !query.detail_metrics.iter().all(known) {
        return Err(bad_request(
            "detailMetrics must name known observation metrics",
        ));
    }
    let model = sim.model();
    let mut results = Vec::new();
    for id in &selected.queue_ids {
        let Some(queue) = sim.queue_index(id) else {
            continue;
        };
        let view = queue_view(&model, queue);
        for (media, media_view) in model.media_types.iter().zip(&view.media) {
            if !selected.takes_media(media) {
                continue;
            }
            let data = rest_media_data(media_view, &query.metrics, &query.detail_metrics);
            if !data.is_empty() {
                let group = Group {
                    queue_id: Some(id.clone()),
                    media_type: Some(media.clone()),
                    direction: None,
                    user_id: None,
                };
                results.push(QueueObservationDataContainer { group, data });
            }
        }
        let data = rest_user_data(&view.users, &sim.presence_ids, &query.metrics);
        if !data.is_empty() {
            let group = Group {
                queue_id: Some(id.clone()),
                media_type: None,
                direction: None,
                user_id: None,
            };
            results.push(QueueObservationDataContainer { group, data });
        }
    }
    Ok(results)
}

/// The query fields our shared model does not carry but the simulator must not ignore.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueryExtras {
    time_zone: Option<String>,
}

pub(crate) async fn aggregates(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query: ConversationAggregationQuery = match parse_json(&headers, &body) {
        Ok(query) => query,
        Err(failure) => return failure.into_response(),
    };
    // NB: Genesys reads a zone-less interval in `timeZone` (default UTC); we serve UTC only, and
    // say so rather than answer for the wrong hours.
    let extras: QueryExtras = serde_json::from_slice(&body).unwrap_or_default();
    if let Some(zone) = extras
        .time_zone
        .filter(|z| !matches!(z.as_str(), "UTC" | "Etc/UTC"))
    {
        let message = format!("timeZone {zone}: the simulator serves UTC only");
        return bad_request(message).into_response();
    }
    let predicates = query.filter.as_ref().map(|f| f.queue_id_values().count());
    let response = match aggregate_results(&sim, &query) {
        Ok(results) => Json(ConversationAggregateQueryResponse {
            results,
            malformed: Vec::new(),
        })
        .into_response(),
        Err(failure) => failure.into_response(),
    };
    with_predicates(response, predicates)
}

fn aggregate_results(
    sim: &Sim,
    query: &ConversationAggregationQuery,
) -> Result<Vec<AggregateDataContainer>, Failure> {
    let (start, end, granularity) = buckets(&query.interval, query.granularity.as_deref())?;
    let group_ok = |g: &String| matches!(g.as_str(), "queueId" | "mediaType" | "direction");
    if !query.group_by.iter().all(group_ok) || !query.group_by.iter().any(|g| g == "queueId") {
        return Err(bad_request(
            "groupBy must be queueId, optionally with mediaType and direction",
        ));
    }
    let by_media = query.group_by.iter().any(|g| g == "mediaType");
    let by_direction = query.group_by.iter().any(|g| g == "direction");
    let known =
        |m: &String| GenesysMetric::parse(m).is_some_and(|m| AGGREGATE_METRICS.contains(&m));
    if query.metrics.is_empty() || !query.metrics.iter().all(known) {
        return Err(bad_request(
            "metrics must name known conversation aggregate metrics",
        ));
    }
    let selected = selection(query.filter.as_ref())?;
    // NB: ids resolved once, so a queue removed while we answer is still named consistently.
    let named: BTreeMap<usize, String> = selected
        .queue_ids
        .iter()
        .cloned()
        .filter_map(|id| Some((sim.queue_index(&id)?, id)))
        .collect();
    let queues: Vec<usize> = named.keys().copied().collect();
    let cells = {
        let mut model = sim.model();
        model.ledger.flush(sim.now_ms());
        model.ledger.query(&queues, start, end, granularity)
    };
    let model = sim.model();
    let media_name = |m: usize| model.media_types.get(m).map_or("", String::as_str);
    // (queue, media or None, direction or None) → bucket → merged stats.
    type GroupKey = (usize, Option<usize>, Option<usize>);
    let mut groups: BTreeMap<GroupKey, BTreeMap<i64, StatSet>> = BTreeMap::new();
    for ((queue, media, direction, bucket), set) in cells {
        if !selected.takes_media(media_name(media))
            || !selected.takes_direction(DIRECTIONS[direction])
        {
            continue;
        }
        let key = (
            queue,
            by_media.then_some(media),
            by_direction.then_some(direction),
        );
        let target = groups.entry(key).or_default().entry(bucket).or_default();
        for (into, from) in target.iter_mut().zip(set.iter()) {
            into.merge(from);
        }
    }
    let mut results = Vec::new();
    for ((queue, media, direction), buckets) in groups {
        let target = model.queues[queue].service_level.target;
        let data: Vec<StatisticalResponse> = buckets
            .into_iter()
            .filter_map(|(bucket, set)| {
                let metrics = aggregate_metrics(&set, Some(&query.metrics), target);
                let interval = bucket_interval(start, bucket, granularity)?;
                (!metrics.is_empty()).then_some(StatisticalResponse { interval, metrics })
            })
            .collect();
        if data.is_empty() {
            continue;
        }
        let group = Group {
            queue_id: named.get(&queue).cloned(),
            media_type: media.and_then(|m| model.media_types.get(m).cloned()),
            direction: direction.map(|d| DIRECTIONS[d].to_owned()),
            user_id: None,
        };
        results.push(AggregateDataContainer { group, data });
    }
    Ok(results)
}

/// Aggregate metrics with data (the requested ones, or for events those the topic carries and
/// `oServiceLevel`); `target` is the queue's service-level target.
pub(crate) fn aggregate_metrics(
    set: &StatSet,
    wanted: Option<&[String]>,
    target: f64,
) -> Vec<AggregateMetricData> {
    let asked = |name: &str| wanted.is_none_or(|w| w.iter().any(|m| m == name));
    let wants = |metric: Metric| asked(metric.name()) && (wanted.is_some() || metric.streamed());
    let mut out: Vec<AggregateMetricData> = Metric::REPORTED
        .into_iter()
        .filter(|m| wants(*m) && stat_of(set, *m).count > 0)
        .map(|metric| AggregateMetricData {
            metric: metric.name().into(),
            qualifier: None,
            stats: stat_of(set, metric).to_wire(metric.is_timer()),
        })
        .collect();
    if asked("oServiceLevel") {
        out.extend(service_level_metric(set, target));
    }
    out
}

/// `oServiceLevel` of a bucket, absent while nothing was answered or abandoned in it.
fn service_level_metric(set: &StatSet, target: f64) -> Option<AggregateMetricData> {
    let (numerator, denominator) = service_level(set);
    if denominator == 0 {
        return None;
    }
    let stats = Stats {
        ratio: Some(numerator as f64 / denominator as f64),
        numerator: Some(numerator as f64),
        denominator: Some(denominator as f64),
        target: Some(target),
        ..Stats::default()
    };
    Some(AggregateMetricData {
        metric: "oServiceLevel".into(),
        qualifier: None,
        stats,
    })
}

#[cfg(test)]
mod tests;

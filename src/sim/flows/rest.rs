//! The Architect listings of flows, outcomes and milestones, and the flow aggregates and
//! observations queries (docs/genesys-api.md#ivr-flows), checked as Genesys checks them: a
//! flow's `type` filter in lower case, a `flowId` filter of at most 100 predicates, known flow
//! metrics and dimensions.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use crate::genesys::model::{
    AggregateMetricData, FlowAggregateQueryResponse, FlowAggregationQuery, FlowEntityListing,
    FlowObservationDataContainer, FlowObservationQuery, FlowObservationQueryResponse, FlowPart,
    FlowPartListing, KeyedAggregateDataContainer, ObservationMetricData, QueryFilter, Stats,
};
use crate::sim::Sim;
use crate::sim::api::{
    GroupKey, bad_request, buckets, check_group_by, ids_of, keyed_results, parameters, parse_json,
    values_of, with_predicates,
};
use crate::sim::guard::Failure;
use crate::sim::model::ivr::{FlowMetric, FlowStats};
use crate::sync::lock;

/// The dimensions the simulator groups flow aggregates by; `flowId` is required.
const GROUP_BY: [&str; 6] = [
    "flowId",
    "exitReason",
    "transferType",
    "flowOutcomeId",
    "flowOutcomeValue",
    "flowMilestoneId",
];

/// `GET /api/v2/flows`: paged, filtered by `type` (lower case, as the parameter takes it) and
/// `id`.
pub(crate) async fn list_flows(State(sim): State<Arc<Sim>>, RawQuery(q): RawQuery) -> Response {
    let (paging, params) = match parameters(q.as_deref()) {
        Ok(parsed) => parsed,
        Err(failure) => return failure.into_response(),
    };
    let (types, ids) = (values_of(&params, "type"), values_of(&params, "id"));
    if let Some(wrong) = types.iter().find(|t| t.to_lowercase() != **t) {
        return bad_request(format!("type {wrong} must be lower case")).into_response();
    }
    let catalog = lock(&sim.flows);
    let flows = (catalog.flows.iter())
        .filter(|f| types.is_empty() || types.contains(&f.flow_type.to_lowercase().as_str()))
        .filter(|f| ids.is_empty() || ids.contains(&f.id.as_str()))
        .cloned()
        .collect();
    let listing: FlowEntityListing = paging.page(flows);
    Json(listing).into_response()
}

/// `GET /api/v2/flows/outcomes`: paged, filtered by `id`.
pub(crate) async fn list_outcomes(State(sim): State<Arc<Sim>>, RawQuery(q): RawQuery) -> Response {
    list_parts(q.as_deref(), &lock(&sim.flows).outcomes)
}

/// `GET /api/v2/flows/milestones`: paged, filtered by `id`.
pub(crate) async fn list_milestones(
    State(sim): State<Arc<Sim>>,
    RawQuery(q): RawQuery,
) -> Response {
    list_parts(q.as_deref(), &lock(&sim.flows).milestones)
}

fn list_parts(query: Option<&str>, parts: &[FlowPart]) -> Response {
    let (paging, params) = match parameters(query) {
        Ok(parsed) => parsed,
        Err(failure) => return failure.into_response(),
    };
    let ids = values_of(&params, "id");
    let parts = (parts.iter())
        .filter(|p| ids.is_empty() || ids.contains(&p.id.as_str()))
        .cloned()
        .collect();
    let listing: FlowPartListing = paging.page(parts);
    Json(listing).into_response()
}

pub(crate) async fn flow_aggregates(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query: FlowAggregationQuery = match parse_json(&headers, &body) {
        Ok(query) => query,
        Err(failure) => return failure.into_response(),
    };
    let filter = query.filter.as_ref();
    let predicates = ids_of(filter, "flowId").or_else(|_| ids_of(filter, "flowType"));
    let predicates = predicates.as_ref().ok().map(Vec::len);
    let flows = ids_of(filter, "flowId").or_else(|_| flows_of_types(&sim, filter));
    let response = match flows.and_then(|flows| results(&sim, &query, &flows)) {
        Ok(results) => Json(FlowAggregateQueryResponse { results }).into_response(),
        Err(failure) => failure.into_response(),
    };
    with_predicates(response, predicates)
}

/// The flows of the types an `or` of `flowType` predicates names.
fn flows_of_types(sim: &Sim, filter: Option<&QueryFilter>) -> Result<Vec<String>, Failure> {
    let types = ids_of(filter, "flowType")
        .map_err(|_| bad_request("filter must be an \"or\" of flowId or of flowType predicates"))?;
    let catalog = lock(&sim.flows);
    Ok((catalog.flows.iter())
        .filter(|flow| types.contains(&flow.flow_type))
        .map(|flow| flow.id.clone())
        .collect())
}

/// `POST /api/v2/analytics/flows/observations/query`: `oFlow`, the conversations in each flow
/// named now, 0 included.
pub(crate) async fn flow_observations(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query: FlowObservationQuery = match parse_json(&headers, &body) {
        Ok(query) => query,
        Err(failure) => return failure.into_response(),
    };
    let flows = ids_of(Some(&query.filter), "flowId");
    let predicates = flows.as_ref().ok().map(Vec::len);
    let response = match flows.and_then(|flows| observations(&sim, &query, &flows)) {
        Ok(results) => Json(FlowObservationQueryResponse { results }).into_response(),
        Err(failure) => failure.into_response(),
    };
    with_predicates(response, predicates)
}

fn observations(
    sim: &Sim,
    query: &FlowObservationQuery,
    flow_ids: &[String],
) -> Result<Vec<FlowObservationDataContainer>, Failure> {
    if query.metrics != ["oFlow"] || !query.detail_metrics.is_empty() {
        return Err(bad_request(
            "metrics must be [\"oFlow\"], without detailMetrics",
        ));
    }
    let catalog = lock(&sim.flows).clone();
    let model = sim.model();
    Ok((flow_ids.iter())
        .filter_map(|id| Some((id, catalog.flow_index(id)?)))
        .map(|(id, flow)| FlowObservationDataContainer {
            group: [("flowId".to_owned(), id.clone())].into(),
            data: vec![ObservationMetricData {
                metric: "oFlow".into(),
                stats: Stats {
                    count: Some(model.ivr.in_flow(flow) as u64),
                    ..Stats::default()
                },
                ..ObservationMetricData::default()
            }],
        })
        .collect())
}

fn results(
    sim: &Sim,
    query: &FlowAggregationQuery,
    flow_ids: &[String],
) -> Result<Vec<KeyedAggregateDataContainer>, Failure> {
    let window = buckets(&query.interval, query.granularity.as_deref())?;
    let (start, _, granularity) = window;
    check_group_by(&query.group_by, &GROUP_BY, "flowId")?;
    let mut asked = Vec::new();
    for name in &query.metrics {
        let metric = FlowMetric::parse(name)
            .ok_or_else(|| bad_request(format!("{name} is not a flow aggregates metric")))?;
        asked.push(metric);
    }
    if asked.is_empty() {
        return Err(bad_request("metrics must name at least one metric"));
    }
    let catalog = lock(&sim.flows).clone();
    let wanted: HashMap<usize, &String> = (flow_ids.iter())
        .filter_map(|id| Some((catalog.flow_index(id)?, id)))
        .collect();
    let cells = {
        let mut model = sim.model();
        model.ivr.flush(sim.now_ms());
        model.ivr.lagged.query(window, |(flow, facet)| {
            let id = wanted.get(flow)?;
            let mut key: GroupKey = vec![("flowId", (*id).clone())];
            let dimensions = catalog.dimensions(facet).into_iter();
            key.extend(dimensions.filter(|(d, _)| query.group_by.iter().any(|g| g == d)));
            Some(key)
        })
    };
    Ok(keyed_results(cells, (start, granularity), |stats| {
        metric_data(stats, &asked)
    }))
}

/// The `asked` metrics with data, as the flow aggregates query writes them.
fn metric_data(stats: &FlowStats, asked: &[FlowMetric]) -> Vec<AggregateMetricData> {
    (asked.iter())
        .filter(|metric| stats.of(**metric).count > 0)
        .map(|metric| AggregateMetricData {
            metric: metric.name().into(),
            qualifier: None,
            stats: stats.of(*metric).to_wire(metric.is_timer()),
        })
        .collect()
}

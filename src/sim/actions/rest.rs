//! `GET /api/v2/integrations/actions` and `POST /api/v2/analytics/actions/aggregates/query`
//! (docs/genesys-api.md#data-actions), checked as Genesys checks them: at most 50 `ids` a
//! listing, an `actionId` filter of at most 100 predicates, `tTotalExecution` only.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use crate::genesys::model::{
    ActionAggregateQueryResponse, ActionAggregationQuery, ActionEntityListing, AggregateMetricData,
    KeyedAggregateDataContainer, MAX_IDS_PER_ACTIONS_LISTING,
};
use crate::sim::Sim;
use crate::sim::api::{
    GroupKey, bad_request, buckets, check_group_by, ids_of, keyed_results, parameters, parse_json,
    values_of, with_predicates,
};
use crate::sim::guard::Failure;
use crate::sim::model::ivr::error_type;
use crate::sync::lock;

/// The dimensions the simulator groups data action aggregates by; `actionId` is required.
const GROUP_BY: [&str; 3] = ["actionId", "responseStatus", "errorType"];
/// The one data action aggregates metric.
const METRIC: &str = "tTotalExecution";

/// `GET /api/v2/integrations/actions`: paged, filtered by `ids` (at most 50) and `category`.
pub(crate) async fn list_actions(State(sim): State<Arc<Sim>>, RawQuery(q): RawQuery) -> Response {
    let (paging, params) = match parameters(q.as_deref()) {
        Ok(parsed) => parsed,
        Err(failure) => return failure.into_response(),
    };
    let (ids, categories) = (values_of(&params, "ids"), values_of(&params, "category"));
    if ids.len() > MAX_IDS_PER_ACTIONS_LISTING {
        let message = format!("Maximum of {MAX_IDS_PER_ACTIONS_LISTING} ids allowed");
        return bad_request(message).into_response();
    }
    let actions = (lock(&sim.actions).actions.iter())
        .filter(|a| ids.is_empty() || ids.contains(&a.id.as_str()))
        .filter(|a| categories.is_empty() || categories.contains(&a.category.as_str()))
        .cloned()
        .collect();
    let listing: ActionEntityListing = paging.page(actions);
    Json(listing).into_response()
}

pub(crate) async fn action_aggregates(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query: ActionAggregationQuery = match parse_json(&headers, &body) {
        Ok(query) => query,
        Err(failure) => return failure.into_response(),
    };
    let actions = ids_of(query.filter.as_ref(), "actionId");
    let predicates = actions.as_ref().ok().map(Vec::len);
    let response = match actions.and_then(|actions| results(&sim, &query, &actions)) {
        Ok(results) => Json(ActionAggregateQueryResponse { results }).into_response(),
        Err(failure) => failure.into_response(),
    };
    with_predicates(response, predicates)
}

fn results(
    sim: &Sim,
    query: &ActionAggregationQuery,
    action_ids: &[String],
) -> Result<Vec<KeyedAggregateDataContainer>, Failure> {
    let window = buckets(&query.interval, query.granularity.as_deref())?;
    let (start, _, granularity) = window;
    check_group_by(&query.group_by, &GROUP_BY, "actionId")?;
    if query.metrics != [METRIC] {
        return Err(bad_request(format!("metrics must be [\"{METRIC}\"]")));
    }
    let grouped = |dimension: &str| query.group_by.iter().any(|g| g == dimension);
    let named: HashMap<usize, &String> = {
        let actions = lock(&sim.actions);
        (action_ids.iter())
            .filter_map(|id| Some((actions.index(id)?, id)))
            .collect()
    };
    let cells = {
        let mut model = sim.model();
        model.ivr.flush(sim.now_ms());
        model.ivr.executions.query(window, |(action, status)| {
            let mut key: GroupKey = vec![("actionId", (*named.get(action)?).clone())];
            if grouped("responseStatus") {
                key.push(("responseStatus", status.to_string()));
            }
            if let Some(error) = error_type(*status).filter(|_| grouped("errorType")) {
                key.push(("errorType", error.to_owned()));
            }
            Some(key)
        })
    };
    Ok(keyed_results(cells, (start, granularity), |stat| {
        vec![AggregateMetricData {
            metric: METRIC.into(),
            qualifier: None,
            stats: stat.to_wire(true),
        }]
    }))
}

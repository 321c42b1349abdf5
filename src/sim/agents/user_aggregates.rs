//! `POST /api/v2/analytics/users/aggregates/query` (docs/genesys-api.md#users-aggregates-query):
//! each selected agent's time in each routing status, system presence and org presence, per bucket,
//! from the spells `agent_time.rs` recorded. Checked as Genesys checks it: `groupBy` only `userId`,
//! a `userId` filter of at most 100 predicates, the three time-in-status metrics.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use crate::genesys::model::{
    AggregateMetricData, MetricName, StatisticalResponse, Stats, UserAggregateDataContainer,
    UserAggregateQueryResponse, UserAggregationQuery,
};
use crate::vocabulary::metric::GenesysMetric;

use super::users::agents_with_ids;
use crate::sim::Sim;
use crate::sim::api::{bad_request, bucket_interval, buckets, ids_of, parse_json, with_predicates};
use crate::sim::guard::Failure;
use crate::sim::model::agent_time::{AgentSlot, Dimension};

pub(crate) async fn user_aggregates(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query: UserAggregationQuery = match parse_json(&headers, &body) {
        Ok(query) => query,
        Err(failure) => return failure.into_response(),
    };
    let users = ids_of(query.filter.as_ref(), "userId");
    let predicates = users.as_ref().ok().map(Vec::len);
    let response = match users.and_then(|users| results(&sim, &query, &users)) {
        Ok(results) => Json(UserAggregateQueryResponse { results }).into_response(),
        Err(failure) => failure.into_response(),
    };
    with_predicates(response, predicates)
}

fn results(
    sim: &Sim,
    query: &UserAggregationQuery,
    users: &[String],
) -> Result<Vec<UserAggregateDataContainer>, Failure> {
    let (start, end, granularity) = buckets(&query.interval, query.granularity.as_deref())?;
    if query.group_by != ["userId"] {
        return Err(bad_request("groupBy must be [\"userId\"]"));
    }
    let mut asked = Vec::new();
    for name in &query.metrics {
        match GenesysMetric::parse(name).filter(|m| GenesysMetric::TIME_IN_STATUS.contains(m)) {
            Some(metric) => asked.push(metric),
            None => {
                return Err(bad_request(format!(
                    "{name} is not a users aggregates metric we serve"
                )));
            }
        }
    }
    if asked.is_empty() {
        return Err(bad_request("metrics must name at least one metric"));
    }
    let slots: HashMap<AgentSlot, String> = (agents_with_ids(sim, users).into_iter())
        .map(|agent| (agent.slot, agent.id))
        .collect();
    let cells = {
        let mut model = sim.model();
        model.agent_time.flush(sim.now_ms());
        let agents: Vec<AgentSlot> = slots.keys().copied().collect();
        model.agent_time.query(&agents, start, end, granularity)
    };
    // (agent, bucket) → metric entries.
    let mut by_agent: BTreeMap<AgentSlot, BTreeMap<i64, Vec<AggregateMetricData>>> =
        BTreeMap::new();
    for (((slot, dimension, qualifier), bucket), ms) in cells {
        if !asked.contains(&dimension.metric()) {
            continue;
        }
        let Some(entry) = time_entry(dimension, qualifier, ms, &sim.presence_ids) else {
            continue;
        };
        (by_agent.entry(slot).or_default().entry(bucket).or_default()).push(entry);
    }
    let results = by_agent
        .into_iter()
        .filter_map(|(slot, buckets)| {
            let data = (buckets.into_iter())
                .filter_map(|(bucket, metrics)| {
                    let interval = bucket_interval(start, bucket, granularity)?;
                    Some(StatisticalResponse { interval, metrics })
                })
                .collect();
            let group = [("userId".to_owned(), slots.get(&slot)?.clone())].into();
            Some(UserAggregateDataContainer { group, data })
        })
        .collect();
    Ok(results)
}

/// One metric entry: `ms` in the `dimension`'s qualifier `index`.
pub(crate) fn time_entry(
    dimension: Dimension,
    index: usize,
    ms: u64,
    presence_ids: &[String],
) -> Option<AggregateMetricData> {
    Some(AggregateMetricData {
        metric: MetricName::Known(dimension.metric()),
        qualifier: Some(dimension.qualifier(index, presence_ids)?),
        stats: Stats {
            sum: Some(ms as f64),
            count: Some(1),
            ..Stats::default()
        },
    })
}

#[cfg(test)]
mod tests;

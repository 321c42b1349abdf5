//! The telephony listings and metrics endpoints (docs/genesys-api.md#trunks-and-edges).

use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};

use crate::genesys::model::{EdgeEntityListing, MAX_IDS_PER_METRICS_REQUEST, TrunkEntityListing};
use crate::sim::Sim;
use crate::sim::api::{bad_request, parameters, values_of};
use crate::sim::guard::Failure;
use crate::sync::lock;

/// The ids `key` names, at most 100 (more is a 400, as Genesys answers).
fn ids(params: &[(String, String)], key: &str) -> Result<Vec<String>, Failure> {
    let ids: Vec<String> = (params.iter())
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.clone())
        .collect();
    if ids.is_empty() {
        return Err(bad_request(format!("{key} is required")));
    }
    if ids.len() > MAX_IDS_PER_METRICS_REQUEST {
        let message = format!("Maximum of {MAX_IDS_PER_METRICS_REQUEST} ids allowed in {key}");
        return Err(bad_request(message));
    }
    Ok(ids)
}

/// `GET /api/v2/telephony/providers/edges/trunks`: paged, `trunkType` and `edge.id` filters.
pub(crate) async fn list_trunks(State(sim): State<Arc<Sim>>, RawQuery(q): RawQuery) -> Response {
    let (paging, params) = match parameters(q.as_deref()) {
        Ok(parsed) => parsed,
        Err(failure) => return failure.into_response(),
    };
    let (types, edge_ids) = (
        values_of(&params, "trunkType"),
        values_of(&params, "edge.id"),
    );
    let estate = lock(&sim.telephony);
    let trunks = (0..estate.trunks.len())
        .map(|t| estate.trunk_view(t))
        .filter(|t| (types.is_empty()) || types.contains(&t.trunk_type.as_deref().unwrap_or("")))
        .filter(|t| {
            let edge = t.edge.as_ref().map_or("", |e| e.id.as_str());
            edge_ids.is_empty() || edge_ids.contains(&edge)
        })
        .collect();
    let listing: TrunkEntityListing = paging.page(trunks);
    Json(listing).into_response()
}

/// `GET /api/v2/telephony/providers/edges/trunks/metrics?trunkIds=…`: unknown ids left out.
pub(crate) async fn trunk_metrics(State(sim): State<Arc<Sim>>, RawQuery(q): RawQuery) -> Response {
    let ids = match parameters(q.as_deref()).and_then(|(_, params)| ids(&params, "trunkIds")) {
        Ok(ids) => ids,
        Err(failure) => return failure.into_response(),
    };
    let calls = {
        let model = sim.model();
        lock(&sim.telephony).calls(&model)
    };
    let now = sim.now_ms();
    let estate = lock(&sim.telephony);
    let metrics: Vec<_> = (ids.iter())
        .filter_map(|id| estate.trunks.iter().position(|t| &t.id == id))
        .map(|t| estate.trunk_metrics(t, calls[t], now))
        .collect();
    Json(metrics).into_response()
}

/// `GET /api/v2/telephony/providers/edges`: paged, a `site.id` filter.
pub(crate) async fn list_edges(State(sim): State<Arc<Sim>>, RawQuery(q): RawQuery) -> Response {
    let (paging, params) = match parameters(q.as_deref()) {
        Ok(parsed) => parsed,
        Err(failure) => return failure.into_response(),
    };
    let sites = values_of(&params, "site.id");
    let estate = lock(&sim.telephony);
    let edges = (0..estate.edges.len())
        .filter(|e| sites.is_empty() || sites.contains(&estate.edges[*e].site.id.as_str()))
        .map(|e| estate.edge_view(e))
        .collect();
    let listing: EdgeEntityListing = paging.page(edges);
    Json(listing).into_response()
}

/// `GET /api/v2/telephony/providers/edges/metrics?edgeIds=…`: unknown ids left out.
pub(crate) async fn edge_metrics(State(sim): State<Arc<Sim>>, RawQuery(q): RawQuery) -> Response {
    let ids = match parameters(q.as_deref()).and_then(|(_, params)| ids(&params, "edgeIds")) {
        Ok(ids) => ids,
        Err(failure) => return failure.into_response(),
    };
    let now = sim.now_ms();
    let estate = lock(&sim.telephony);
    let metrics: Vec<_> = (ids.iter())
        .filter_map(|id| estate.edges.iter().position(|e| &e.id == id))
        .map(|e| estate.edge_metrics(e, now))
        .collect();
    Json(metrics).into_response()
}

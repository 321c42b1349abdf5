//! Routing queues (docs/genesys-api.md#routing-queues): paging, name patterns and division filters.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::genesys::model::QueueEntityListing;

use crate::sim::Sim;
use crate::sim::api::{Paging, list_values};
use crate::sim::auth::form_pairs;
use crate::sim::guard::api_error;

pub(crate) async fn list_queues(
    State(sim): State<Arc<Sim>>,
    RawQuery(query): RawQuery,
) -> Response {
    let params = form_pairs(query.as_deref().unwrap_or(""));
    let mut paging = Paging::new();
    let mut name = None;
    let mut divisions = Vec::new();
    let mut ids = Vec::new();
    for (key, value) in params {
        match paging.take(&key, &value) {
            Ok(true) => continue,
            Ok(false) => {}
            Err(failure) => return failure.into_response(),
        }
        match key.as_str() {
            "name" => name = Some(value),
            "divisionId" => divisions.extend(list_values(&value)),
            "id" => ids.extend(list_values(&value)),
            _ => {}
        }
    }
    let directory = sim.queues();
    let matching: Vec<_> = directory
        .live()
        .map(|(_, q)| q)
        .filter(|q| {
            name.as_deref()
                .is_none_or(|pattern| glob_matches(pattern, &q.name))
        })
        .filter(|q| {
            divisions.is_empty()
                || q.division
                    .as_ref()
                    .is_some_and(|d| divisions.contains(&d.id))
        })
        .filter(|q| ids.is_empty() || ids.contains(&q.id))
        .collect();
    let listing: QueueEntityListing = paging.page(matching.into_iter().cloned().collect());
    Json(listing).into_response()
}

/// Case-insensitive match where `*` stands for any run of characters.
fn glob_matches(pattern: &str, text: &str) -> bool {
    let pattern = pattern.to_lowercase();
    let text = text.to_lowercase();
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

pub(crate) async fn get_queue(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    let queue = {
        let directory = sim.queues();
        directory
            .index_of(&id)
            .and_then(|i| directory.get(i).cloned())
    };
    match queue {
        Some(queue) => Json(queue).into_response(),
        None => api_error(
            StatusCode::NOT_FOUND,
            "not.found",
            &format!("Queue {id} not found"),
        ),
    }
}

/// The queue ids of an `or` filter over `queueId` predicates, within the predicate cap.
#[cfg(test)]
mod tests;

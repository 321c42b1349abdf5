//! Routing queues (docs/genesys-api.md#routing-queues): paging, name patterns and division filters.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::genesys::model::QueueEntityListing;

use super::Sim;
use super::api::Paging;
use super::auth::form_pairs;
use super::guard::api_error;

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
            // NB: a list parameter arrives repeated (`divisionId=a&divisionId=b`) or, from the
            // official SDKs, joined with commas (`divisionId=a,b`); ids never hold commas.
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

fn list_values(value: &str) -> impl Iterator<Item = String> + '_ {
    value
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
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
mod tests {
    use super::*;

    #[test]
    fn names_match_exactly_or_by_wildcard_ignoring_case() {
        assert!(glob_matches("Support", "support"));
        assert!(!glob_matches("Support", "Support 2"));
        assert!(glob_matches("Sup*", "Support"));
        assert!(glob_matches("*port", "Support"));
        assert!(glob_matches("S*p*t", "Support"));
        assert!(!glob_matches("S*x*t", "Support"));
        assert!(glob_matches("*", "anything"));
    }
}

#[cfg(test)]
mod service_tests {
    use serde_json::Value;

    use crate::genesys::model::QueueEntityListing;
    use crate::sim::SimConfig;
    use crate::sim::harness::TestSim;

    #[tokio::test]
    async fn queues_page_and_filter_by_name_and_division() {
        let config = SimConfig {
            queues: 12,
            ..SimConfig::fast_for_tests(3)
        };
        let sim = TestSim::start(config).await;
        let token = sim.token().await;
        let page = async |query: &str| {
            let path = format!("/api/v2/routing/queues?{query}");
            sim.get(&token, &path)
                .await
                .json::<QueueEntityListing>()
                .await
                .unwrap()
        };
        let third = page("pageSize=5&pageNumber=3").await;
        assert_eq!(
            (third.total, third.page_count, third.page_number),
            (12, 3, 3)
        );
        assert_eq!(third.entities.len(), 2);
        assert_eq!(third.entities[1].name, "Queue 12");
        let support = page("pageSize=100&pageNumber=1&name=support").await;
        assert_eq!(support.entities.len(), 1);
        assert_eq!(support.entities[0], sim.handle.queues[0]);
        assert_eq!(page("pageSize=100&name=Queue*").await.total, 1);
        let division = sim.handle.queues[2].division.clone().unwrap();
        let in_division = page(&format!("divisionId={}", division.id)).await;
        assert_eq!(in_division.total, 4);
        let home = sim.handle.queues[0].division.clone().unwrap();
        let both = format!("divisionId={},{}&pageSize=100", home.id, division.id);
        let both_repeated = format!("divisionId={}&divisionId={}", home.id, division.id);
        for query in [both, both_repeated] {
            assert_eq!(page(&query).await.total, 12);
        }
        let (first, second) = (&sim.handle.queues[1].id, &sim.handle.queues[7].id);
        let by_id = page(&format!("id={first},{second}")).await;
        let names: Vec<&str> = by_id.entities.iter().map(|q| q.name.as_str()).collect();
        assert_eq!(names, ["Sales", "Retention"]);

        let id = &sim.handle.queues[4].id;
        let one = sim
            .get(&token, &format!("/api/v2/routing/queues/{id}"))
            .await;
        let one: crate::genesys::model::Queue = one.json().await.unwrap();
        assert_eq!(one.name, "Returns");
        let missing = sim.get(&token, "/api/v2/routing/queues/nope").await;
        assert_eq!(missing.status(), 404);
        assert_eq!(missing.json::<Value>().await.unwrap()["code"], "not.found");
        sim.stop().await;
    }
}

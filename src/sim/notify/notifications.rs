//! `/api/v2/notifications/channels…` (docs/genesys-api.md#notification-channels): creating channels
//! and managing their subscriptions over REST, through the channel registry.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{head, post};
use axum::{Extension, Json, Router};

use crate::genesys::model::{
    Channel, ChannelTopic, ChannelTopicEntityListing, TelephonyTopic, edge_of_topic,
    trunk_of_topic, user_of_any_topic,
};
use crate::genesys::time::{format_instant, from_epoch_millis};

use super::channels::{MAX_CHANNELS_PER_CLIENT, MAX_TOPICS, SubscribeError};
use crate::sim::Sim;
use crate::sim::api::parse_json;
use crate::sim::auth::form_pairs;
use crate::sim::guard::{Client, Failure};
use crate::sync::lock;

pub(crate) fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/api/v2/notifications/channels", post(create_channel))
        .route("/api/v2/notifications/channels/{id}", head(head_channel))
        .route(
            "/api/v2/notifications/channels/{id}/subscriptions",
            post(add_topics)
                .put(replace_topics)
                .get(list_topics)
                .delete(delete_topics),
        )
}

async fn create_channel(
    State(sim): State<Arc<Sim>>,
    Extension(Client(client)): Extension<Client>,
    headers: HeaderMap,
) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| sim.address.to_string(), str::to_owned);
    let created = {
        let mut channels = lock(&sim.channels);
        match channels.take_refusal() {
            Some(status) => Err(status),
            None => Ok(channels.create(&client, sim.now_ms())),
        }
    };
    let (id, expires_ms) = match created {
        Ok(created) => created,
        Err(status) => return channel_limit_reached(status).into_response(),
    };
    let scheme = if sim.config.tls.is_some() {
        "wss"
    } else {
        "ws"
    };
    let channel = Channel {
        connect_uri: format!("{scheme}://{host}/channels/{id}"),
        id,
        expires: from_epoch_millis(expires_ms).map(format_instant),
    };
    Json(channel).into_response()
}

async fn head_channel(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> StatusCode {
    if lock(&sim.channels).is_valid(&id, sim.now_ms()) {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    }
}

/// The refusal Genesys answers at the per-client channel limit (`refuse_channels`).
fn channel_limit_reached(status: StatusCode) -> Failure {
    Failure::new(
        status,
        "channel.limit.reached",
        format!("The limit of {MAX_CHANNELS_PER_CLIENT} channels per client was reached"),
    )
}

fn channel_not_found(id: &str) -> Failure {
    Failure::new(
        StatusCode::NOT_FOUND,
        "not.found",
        format!("Channel {id} not found"),
    )
}

/// The permission the simulator says a rejected user topic lacks (our choice: Genesys names
/// it per topic in `availabletopics`).
const USER_TOPIC_PERMISSION: &str = "directory:user:view";

/// The permission a rejected trunk or Edge topic lacks (our choice, as for users).
const TELEPHONY_TOPIC_PERMISSION: &str = "telephony:plugin:all";

fn missing_permission(topic: &str) -> &'static str {
    match user_of_any_topic(topic) {
        Some(_) => USER_TOPIC_PERMISSION,
        None => TELEPHONY_TOPIC_PERMISSION,
    }
}

/// The subscribed topics, `Permitted`, then the `rejected` ones as Genesys answers them.
fn listing(topics: Vec<String>, rejected: &[String]) -> Response {
    let permitted = topics.into_iter().map(|id| ChannelTopic {
        state: Some("Permitted".to_owned()),
        ..ChannelTopic::named(&id)
    });
    let refused = rejected.iter().map(|id| ChannelTopic {
        state: Some("Rejected".to_owned()),
        rejection_reason: Some("Missing permission".to_owned()),
        missing_permissions: vec![missing_permission(id).to_owned()],
        ..ChannelTopic::named(id)
    });
    let entities = permitted.chain(refused).collect();
    Json(ChannelTopicEntityListing { entities }).into_response()
}

/// Topics we can serve: each source says which of its topics name something live.
fn check_topics(sim: &Sim, topics: &[String]) -> Result<(), String> {
    match crate::sim::unknown_topic(sim, topics) {
        Some(topic) => Err(format!("Invalid topic: {topic}")),
        None => Ok(()),
    }
}

/// Splits off the topics the `reject_user_topics` fault refuses (of agents whose index in
/// their queue is a multiple of its `every`) and those `reject_telephony_topics` refuses.
fn split_rejected(sim: &Sim, topics: Vec<String>) -> (Vec<String>, Vec<String>) {
    let every = sim.reject_user_topics.load(Ordering::SeqCst);
    let telephony = sim.reject_telephony_topics.load(Ordering::SeqCst);
    topics.into_iter().partition(|topic| {
        let index = user_of_any_topic(topic)
            .and_then(|id| id.get(id.len().saturating_sub(4)..))
            .and_then(|hex| u32::from_str_radix(hex, 16).ok());
        let user = every != 0 && index.is_some_and(|i| i % every == 0);
        let metrics = || {
            let of = trunk_of_topic(topic).or_else(|| edge_of_topic(topic));
            of.is_some_and(|(_, kind)| kind == TelephonyTopic::Metrics)
        };
        !(user || (telephony && metrics()))
    })
}

/// Subscribes through the registry; shared by the REST endpoints and the socket `subscribe`.
pub(crate) fn subscribe(
    sim: &Sim,
    id: &str,
    topics: Vec<String>,
    replace: bool,
) -> Result<Vec<String>, Failure> {
    let too_many = || Failure::bad_request("At most 1000 topics per channel");
    if topics.len() > MAX_TOPICS {
        return Err(too_many());
    }
    check_topics(sim, &topics).map_err(Failure::bad_request)?;
    lock(&sim.channels)
        .subscribe(id, topics, replace, sim.now_ms())
        .map_err(|error| match error {
            SubscribeError::NotFound => channel_not_found(id),
            SubscribeError::TooManyTopics => too_many(),
        })
}

/// Subscribes what may be; a rejected topic fails the whole request with 403 unless
/// `ignoreErrors=true`, when it is answered `Rejected` beside the others
/// (docs/genesys-api.md#notification-topics).
async fn change_topics(
    sim: &Sim,
    id: &str,
    request: (&HeaderMap, Option<&str>, &[u8]),
    replace: bool,
) -> Response {
    let (headers, query, body) = request;
    let topics: Vec<ChannelTopic> = match parse_json(headers, body) {
        Ok(topics) => topics,
        Err(failure) => return failure.into_response(),
    };
    let ignore_errors = (form_pairs(query.unwrap_or("")).into_iter())
        .any(|(key, value)| key == "ignoreErrors" && value.eq_ignore_ascii_case("true"));
    let topics: Vec<String> = topics.into_iter().map(|t| t.id).collect();
    let (permitted, rejected) = split_rejected(sim, topics);
    if let Some(topic) = rejected.first().filter(|_| !ignore_errors) {
        let message = format!(
            "Missing permission {} for {topic}",
            missing_permission(topic)
        );
        return Failure::new(StatusCode::FORBIDDEN, "missing.permissions", message).into_response();
    }
    match subscribe(sim, id, permitted, replace) {
        Ok(list) => listing(list, &rejected),
        Err(failure) => failure.into_response(),
    }
}

async fn replace_topics(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    change_topics(&sim, &id, (&headers, query.as_deref(), &body), true).await
}

async fn add_topics(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Response {
    change_topics(&sim, &id, (&headers, query.as_deref(), &body), false).await
}

async fn list_topics(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    match lock(&sim.channels).topics(&id, sim.now_ms()) {
        Some(topics) => listing(topics, &[]),
        None => channel_not_found(&id).into_response(),
    }
}

async fn delete_topics(State(sim): State<Arc<Sim>>, Path(id): Path<String>) -> Response {
    if lock(&sim.channels).clear(&id, sim.now_ms()) {
        listing(Vec::new(), &[])
    } else {
        channel_not_found(&id).into_response()
    }
}

#[cfg(test)]
mod tests;

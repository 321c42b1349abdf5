//! A scripted fake Genesys Cloud on 127.0.0.1 for the client's and queue resolution's tests.
//! It counts what it receives and checks it the way Genesys would (Basic auth and form body on
//! the token, a current bearer token on the API, the exact query bodies), so a wrong request
//! fails the test. Scripted replies (`Scenario::script`) are served before normal handling.

use std::collections::{HashMap, HashSet, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, head, post};
use axum::{Json, Router};
use base64::Engine;
use serde_json::json;

use crate::genesys::client::{ClientSettings, GenesysClient};
use crate::genesys::model::*;
use crate::metrics::Metrics;
use crate::secret::Secret;
use crate::vocabulary::queue::name_matches;

pub(crate) const CLIENT_ID: &str = "exporter-client";
pub(crate) const CLIENT_SECRET: &str = "s3cr3t-do-not-print";

/// A reply served instead of the normal one; `status` 200 with a `delay` only slows the request.
#[derive(Debug, Clone, Default)]
pub(crate) struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub delay: Duration,
    /// A 200 whose body is this many bytes, sent in chunks with no length announced.
    pub body_bytes: Option<usize>,
}

impl Reply {
    pub(crate) fn status(status: u16) -> Self {
        Self {
            status,
            ..Self::default()
        }
    }
}

pub(crate) struct Scenario {
    pub token_requests: AtomicUsize,
    pub expires_in: AtomicU64,
    valid_token: Mutex<Option<String>>,
    /// Statuses the token endpoint answers before it issues tokens normally.
    pub token_script: Mutex<VecDeque<u16>>,
    api_script: Mutex<VecDeque<Reply>>,
    /// `METHOD path` of every API request, in arrival order (token requests excluded).
    requests: Mutex<Vec<String>>,
    /// Predicates per analytics query, in arrival order.
    pub batches: Mutex<Vec<usize>>,
    /// Every aggregates query received, whole.
    pub aggregate_queries: Mutex<Vec<ConversationAggregationQuery>>,
    pub queues: Mutex<Vec<Queue>>,
    /// When set, the listing ignores `pageNumber` (always serving page 1) and reports this
    /// `pageCount`: a misbehaving server the client must not page forever.
    pub broken_paging: Mutex<Option<u32>>,
    channels: Mutex<HashSet<String>>,
    correlation: AtomicUsize,
}

impl Scenario {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            token_requests: AtomicUsize::new(0),
            expires_in: AtomicU64::new(86_400),
            valid_token: Mutex::new(None),
            token_script: Mutex::default(),
            api_script: Mutex::default(),
            requests: Mutex::default(),
            batches: Mutex::default(),
            aggregate_queries: Mutex::default(),
            queues: Mutex::default(),
            broken_paging: Mutex::default(),
            channels: Mutex::default(),
            correlation: AtomicUsize::new(0),
        })
    }

    /// `n` queues named `Queue 000`, `Queue 001`, … in division `Home`.
    pub(crate) fn with_queues(self: Arc<Self>, n: usize) -> Arc<Self> {
        *self.queues.lock().unwrap() = (0..n)
            .map(|i| queue(&format!("q-{i:03}"), &format!("Queue {i:03}")))
            .collect();
        self
    }

    pub(crate) fn script(&self, reply: Reply) {
        self.api_script.lock().unwrap().push_back(reply);
    }

    /// Revokes the current token, as an admin (or the simulator's fault injection) would.
    pub(crate) fn revoke(&self) {
        *self.valid_token.lock().unwrap() = None;
    }

    pub(crate) fn tokens(&self) -> usize {
        self.token_requests.load(Ordering::SeqCst)
    }

    /// API requests whose `METHOD path` starts with `prefix`.
    pub(crate) fn count(&self, prefix: &str) -> usize {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.starts_with(prefix))
            .count()
    }

    fn correlation_id(&self) -> String {
        format!("corr-{}", self.correlation.fetch_add(1, Ordering::SeqCst))
    }

    fn reply(&self, status: u16, body: serde_json::Value) -> Response {
        let status = StatusCode::from_u16(status).unwrap();
        let mut response = (status, Json(body)).into_response();
        response.headers_mut().insert(
            "ININ-Correlation-Id",
            HeaderValue::from_str(&self.correlation_id()).unwrap(),
        );
        response
    }

    fn error(&self, status: u16, message: &str) -> Response {
        let code = if status == 404 {
            "not.found"
        } else {
            "bad.request"
        };
        let body = json!({"message": message, "code": code, "status": status,
            "contextId": "ctx", "details": [], "errors": []});
        self.reply(status, body)
    }

    /// Records the request, checks the bearer token, then serves a scripted reply if any.
    async fn gate(&self, method: &Method, uri: &Uri, headers: &HeaderMap) -> Option<Response> {
        self.requests
            .lock()
            .unwrap()
            .push(format!("{method} {}", uri.path()));
        let bearer = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let valid = self.valid_token.lock().unwrap().clone();
        if bearer.is_none() || bearer.map(str::to_owned) != valid {
            return Some(self.error(401, "Invalid login credentials."));
        }
        let scripted = self.api_script.lock().unwrap().pop_front()?;
        tokio::time::sleep(scripted.delay).await;
        if let Some(bytes) = scripted.body_bytes {
            let chunk = axum::body::Bytes::from(vec![b' '; 1 << 20]);
            let chunks =
                (0..bytes.div_ceil(1 << 20)).map(move |_| Ok::<_, Infallible>(chunk.clone()));
            let body = axum::body::Body::from_stream(futures_util::stream::iter(chunks));
            return Some(Response::new(body));
        }
        if scripted.status == 200 {
            return None;
        }
        let mut response = self.error(scripted.status, "scripted failure");
        for (name, value) in scripted.headers {
            response
                .headers_mut()
                .insert(name, HeaderValue::from_str(&value).unwrap());
        }
        Some(response)
    }
}

pub(crate) fn queue(id: &str, name: &str) -> Queue {
    Queue {
        id: id.to_owned(),
        name: name.to_owned(),
        division: Some(DivisionRef {
            id: "div-1".into(),
            name: "Home".into(),
        }),
        member_count: Some(3),
        self_uri: Some(format!("/api/v2/routing/queues/{id}")),
    }
}

type Shared = State<Arc<Scenario>>;

/// An API request `Scenario::gate` let through; the rest are answered with its reply.
struct Gated;

impl FromRequestParts<Arc<Scenario>> for Gated {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &Arc<Scenario>) -> Result<Self, Response> {
        match s.gate(&parts.method, &parts.uri, &parts.headers).await {
            Some(response) => Err(response),
            None => Ok(Gated),
        }
    }
}

async fn token(State(s): Shared, headers: HeaderMap, body: String) -> Response {
    let n = s.token_requests.fetch_add(1, Ordering::SeqCst) + 1;
    if let Some(status) = s.token_script.lock().unwrap().pop_front() {
        return s.reply(status, json!({"error": "server_error"}));
    }
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{CLIENT_ID}:{CLIENT_SECRET}"))
    );
    let form = headers
        .get("content-type")
        .is_some_and(|v| v == "application/x-www-form-urlencoded");
    let basic = headers
        .get("authorization")
        .is_some_and(|v| *v == *expected);
    if !form || body != "grant_type=client_credentials" || !basic {
        let body = json!({"error": "invalid_client", "description": "Client authentication failed",
            "error_description": "Client authentication failed"});
        return s.reply(401, body);
    }
    let token = format!("token-{n}");
    *s.valid_token.lock().unwrap() = Some(token.clone());
    let expires_in = s.expires_in.load(Ordering::SeqCst);
    s.reply(
        200,
        json!({"access_token": token, "token_type": "bearer", "expires_in": expires_in}),
    )
}

async fn list_queues(
    State(s): Shared,
    _: Gated,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let size: usize = query
        .get("pageSize")
        .and_then(|v| v.parse().ok())
        .unwrap_or(25);
    let broken = *s.broken_paging.lock().unwrap();
    let number: usize = query
        .get("pageNumber")
        .and_then(|v| v.parse().ok())
        .filter(|_| broken.is_none())
        .unwrap_or(1);
    let queues: Vec<Queue> = s
        .queues
        .lock()
        .unwrap()
        .iter()
        .filter(|q| {
            query
                .get("name")
                .is_none_or(|name| name_matches(name, &q.name))
        })
        .cloned()
        .collect();
    let page_count = queues.len().div_ceil(size).max(1);
    let entities: Vec<Queue> = queues
        .iter()
        .skip((number - 1) * size)
        .take(size)
        .cloned()
        .collect();
    let listing = QueueEntityListing {
        entities,
        page_size: size as u32,
        page_number: number as u32,
        total: queues.len() as u64,
        page_count: broken.unwrap_or(page_count as u32),
    };
    s.reply(200, serde_json::to_value(listing).unwrap())
}

async fn get_queue(State(s): Shared, _: Gated, Path(id): Path<String>) -> Response {
    let found = s
        .queues
        .lock()
        .unwrap()
        .iter()
        .find(|q| q.id == id)
        .cloned();
    match found {
        Some(queue) => s.reply(200, serde_json::to_value(queue).unwrap()),
        None => s.error(404, &format!("Queue {id} not found")),
    }
}

async fn observations(
    State(s): Shared,
    _: Gated,
    Json(query): Json<QueueObservationQuery>,
) -> Response {
    let n = query.filter.predicates.len();
    s.batches.lock().unwrap().push(n);
    let well_formed = query.filter.kind == "or"
        && query
            .filter
            .predicates
            .iter()
            .all(|p| p.operator.as_deref() == Some("matches"))
        && query
            .metrics
            .iter()
            .map(String::as_str)
            .eq(OBSERVATION_METRICS.iter().map(|m| m.as_str()))
        && query.detail_metrics == ["oWaiting"];
    if n > 100 || !well_formed {
        return s.error(400, "malformed observation query");
    }
    let results: Vec<_> = query
        .filter
        .queue_id_values()
        .map(|id| json!({"group": {"queueId": id}, "data": [{"metric": "oMemberUsers", "stats": {"count": 3}}]}))
        .collect();
    s.reply(200, json!({ "results": results }))
}

async fn aggregates(
    State(s): Shared,
    _: Gated,
    Json(query): Json<ConversationAggregationQuery>,
) -> Response {
    let n = query
        .filter
        .as_ref()
        .map_or(0, |f| f.queue_id_values().count());
    s.batches.lock().unwrap().push(n);
    s.aggregate_queries.lock().unwrap().push(query.clone());
    let well_formed = query.group_by[..query.group_by.len().min(2)] == ["queueId", "mediaType"]
        && !query.metrics.is_empty()
        && query
            .metrics
            .iter()
            .all(|m| AGGREGATE_METRICS.iter().any(|known| known.as_str() == m))
        && query.granularity.as_deref() == Some("PT30M")
        && crate::genesys::time::parse_interval(&query.interval).is_some();
    if n > 100 || !well_formed {
        return s.error(400, "malformed aggregate query");
    }
    s.reply(200, json!({}))
}

async fn create_channel(State(s): Shared, _: Gated) -> Response {
    let id = format!("streaming-0-{}", s.channels.lock().unwrap().len() + 1);
    s.channels.lock().unwrap().insert(id.clone());
    let body = json!({"connectUri": format!("ws://127.0.0.1/channels/{id}"), "id": id,
        "expires": "2026-11-26T10:00:00.000Z"});
    s.reply(200, body)
}

async fn channel_head(State(s): Shared, _: Gated, Path(id): Path<String>) -> Response {
    let status = if s.channels.lock().unwrap().contains(&id) {
        200
    } else {
        404
    };
    s.reply(status, json!({}))
}

async fn subscriptions(
    State(s): Shared,
    _: Gated,
    Path(id): Path<String>,
    Json(topics): Json<Vec<ChannelTopic>>,
) -> Response {
    if !s.channels.lock().unwrap().contains(&id) {
        return s.error(404, "channel not found");
    }
    if topics.len() > 1_000 {
        return s.error(400, "too many topics");
    }
    s.reply(200, json!({ "entities": topics }))
}

/// Serves the fake on 127.0.0.1:0, under `prefix` (e.g. `/genesys`) when it is not empty.
pub(crate) async fn serve(scenario: Arc<Scenario>, prefix: &str) -> SocketAddr {
    let api = Router::new()
        .route("/oauth/token", post(token))
        .route("/api/v2/routing/queues", get(list_queues))
        .route("/api/v2/routing/queues/{id}", get(get_queue))
        .route(
            "/api/v2/analytics/queues/observations/query",
            post(observations),
        )
        .route(
            "/api/v2/analytics/conversations/aggregates/query",
            post(aggregates),
        )
        .route("/api/v2/notifications/channels", post(create_channel))
        .route("/api/v2/notifications/channels/{id}", head(channel_head))
        .route(
            "/api/v2/notifications/channels/{id}/subscriptions",
            post(subscriptions).put(subscriptions),
        )
        .with_state(scenario);
    let app = if prefix.is_empty() {
        api
    } else {
        Router::new().nest(prefix, api)
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// Settings for a fake at `base`: short timeout, three retries, millisecond backoff.
pub(crate) fn settings(base: &str) -> ClientSettings {
    ClientSettings {
        api_base_url: base.to_owned(),
        login_base_url: base.to_owned(),
        client_id: CLIENT_ID.to_owned(),
        client_secret: Secret::new(CLIENT_SECRET),
        request_timeout: Duration::from_secs(2),
        max_retries: 3,
        retry_backoff_base: Duration::from_millis(1),
        retry_backoff_cap: Duration::from_millis(5),
        trust: Default::default(),
        proxy: Default::default(),
    }
}

/// A fresh fake and a client pointed at it, sharing one private metrics registry.
pub(crate) async fn start(scenario: Arc<Scenario>) -> (GenesysClient, Arc<Metrics>) {
    let addr = serve(scenario, "").await;
    let metrics = Arc::new(Metrics::new());
    let client = GenesysClient::new(settings(&format!("http://{addr}")), metrics.clone()).unwrap();
    (client, metrics)
}

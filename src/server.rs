//! The HTTP face: `/` (the status page), `/metrics` (Prometheus text format), `/healthz` (alive,
//! tasks running) and `/readyz` (token obtained and gauges resynced; 503 with the reason
//! otherwise).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tower_http::limit::RequestBodyLimitLayer;

mod auth;
mod listen;
mod page;
mod shared;
pub(crate) mod telemetry;
mod tls;
mod web_config;

pub(crate) use auth::Gate;
pub(crate) use listen::Limits;
pub(crate) use tls::WebConfigSource;

use crate::health::Health;
use crate::metrics::Metrics;
use shared::Scrapes;

/// What the handlers read; cheap to clone.
#[derive(Clone)]
pub(crate) struct ServerState {
    pub metrics: Arc<Metrics>,
    pub health: Arc<Health>,
    /// Shared by every listener, so overlapping scrapes share a render wherever they arrive.
    scrapes: Arc<Scrapes>,
}

impl ServerState {
    pub(crate) fn new(metrics: Arc<Metrics>, health: Arc<Health>) -> ServerState {
        ServerState {
            scrapes: Scrapes::new(metrics.clone()),
            metrics,
            health,
        }
    }
}

/// No route reads a body; a client sending a large one is refused (413) before it is read.
const MAX_REQUEST_BODY: usize = 4096;

/// The routes, behind basic auth and with the extra headers when a web config sets them.
pub(crate) fn guarded_router(state: ServerState, gate: Option<Arc<Gate>>) -> Router {
    let router = router(state);
    match gate {
        Some(gate) => router.layer(axum::middleware::from_fn_with_state(gate, auth::guard)),
        None => router,
    }
}

pub(crate) fn router(state: ServerState) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .layer(RequestBodyLimitLayer::new(MAX_REQUEST_BODY))
        .with_state(state)
}

/// Serves until `cancel` fires, then finishes in-flight requests, within `limits`
/// (`listen.rs`).
pub(crate) async fn serve(
    listener: TcpListener,
    state: ServerState,
    limits: Limits,
    gate: Option<Arc<Gate>>,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    let metrics = state.metrics.clone();
    let router = guarded_router(state, gate.clone());
    listen::serve(listener, router, limits, gate, metrics, cancel).await
}

/// The status page (see `page`).
async fn index(State(state): State<ServerState>) -> Html<String> {
    Html(page::render(
        &state.metrics,
        &state.health,
        state.metrics.clock().now(),
    ))
}

/// A scrape, sharing the render of every scrape that overlaps it (`shared`). Gzip, for a
/// scraper that asks (Prometheus does), is compressed once per render at the fastest level: a
/// 5,000-queue scrape shrinks about tenfold at a few ms per MB (BENCHMARKS.md), where the best
/// level would cost several times that for little more.
async fn metrics(State(state): State<ServerState>, headers: HeaderMap) -> Response {
    let asked = headers.get(header::ACCEPT_ENCODING);
    let gzip = shared::accepts_gzip(asked.and_then(|v| v.to_str().ok()));
    let scrape = state.scrapes.join(gzip);
    let chunks = futures_util::stream::unfold(scrape, |mut scrape| async move {
        let chunk = scrape.next().await?;
        Some((Ok::<_, std::convert::Infallible>(chunk), scrape))
    });
    let mut response = (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        axum::body::Body::from_stream(chunks),
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if gzip {
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

async fn healthz(State(state): State<ServerState>) -> (StatusCode, String) {
    match state.health.liveness() {
        Ok(()) => (StatusCode::OK, "ok\n".to_owned()),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not alive: {reason}\n"),
        ),
    }
}

async fn readyz(State(state): State<ServerState>) -> (StatusCode, String) {
    match state.health.readiness() {
        Ok(()) => (StatusCode::OK, "ready\n".to_owned()),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {reason}\n"),
        ),
    }
}

#[cfg(test)]
mod tests;

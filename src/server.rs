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
#[cfg(test)]
mod web_tests;

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
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    use super::*;

    fn state() -> ServerState {
        ServerState::new(Arc::new(Metrics::new(vec!["voice".into()])), Arc::default())
    }

    async fn get(state: &ServerState, path: &str) -> (StatusCode, String) {
        let request = Request::get(path).body(Body::empty()).unwrap();
        let response = router(state.clone()).oneshot(request).await.unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn metrics_are_served_in_text_format() {
        let (status, body) = get(&state(), "/metrics").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            body.contains("# TYPE genesys_exporter_build_info gauge"),
            "{body}"
        );
    }

    #[tokio::test]
    async fn metrics_are_gzipped_only_for_a_scraper_that_asks() {
        use std::io::Read;
        let state = state();
        let scrape = |encoding: Option<&'static str>| {
            let mut request = Request::get("/metrics");
            if let Some(encoding) = encoding {
                request = request.header(header::ACCEPT_ENCODING, encoding);
            }
            router(state.clone()).oneshot(request.body(Body::empty()).unwrap())
        };
        let plain = scrape(None).await.unwrap();
        assert_eq!(plain.headers().get(header::CONTENT_ENCODING), None);
        let plain = plain.into_body().collect().await.unwrap().to_bytes();

        // What Prometheus sends.
        let gzipped = scrape(Some("gzip")).await.unwrap();
        assert_eq!(gzipped.headers()[header::CONTENT_ENCODING], "gzip");
        let body = gzipped.into_body().collect().await.unwrap().to_bytes();
        let mut unzipped = String::new();
        flate2::read::GzDecoder::new(&body[..])
            .read_to_string(&mut unzipped)
            .unwrap();
        assert!(body.len() < plain.len());
        // NB: the process metrics and the scrape count move between scrapes; the rest is the
        // same text.
        let stable = |text: &str| {
            text.lines()
                .filter(|l| {
                    !l.starts_with("process_") && !l.starts_with("genesys_exporter_scrapes")
                })
                .map(str::to_owned)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            stable(&unzipped),
            stable(std::str::from_utf8(&plain).unwrap())
        );

        let refused = scrape(Some("gzip;q=0, identity")).await.unwrap();
        assert_eq!(refused.headers().get(header::CONTENT_ENCODING), None);
    }

    #[tokio::test]
    async fn a_request_body_over_the_limit_is_refused_unread() {
        let request = Request::get("/metrics")
            .header(header::CONTENT_LENGTH, "1000000")
            .body(Body::from(vec![b'x'; 1_000_000]))
            .unwrap();
        let response = router(state()).oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[tokio::test]
    async fn readiness_names_what_is_missing_until_ready() {
        let state = state();
        let (status, body) = get(&state, "/readyz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(body.contains("no OAuth token"), "{body}");
        state.health.token_obtained();
        state.health.queues_resolved();
        state.health.channel_started("0");
        let (_, body) = get(&state, "/readyz").await;
        assert!(
            body.contains("channel 0: first observation resync"),
            "{body}"
        );
        state.health.channel_resynced("0");
        assert_eq!(get(&state, "/readyz").await.0, StatusCode::OK);
    }

    #[tokio::test]
    async fn a_task_that_panics_turns_health_to_503_naming_it_within_a_second() {
        let state = state();
        assert_eq!(get(&state, "/healthz").await.0, StatusCode::OK);
        let tasks = crate::tasks::Tasks::new(state.health.clone(), CancellationToken::new());
        tasks.spawn("poller", async { panic!("injected") });
        tokio::time::timeout(std::time::Duration::from_secs(1), tasks.died())
            .await
            .expect("noticed within a second");
        let (status, body) = get(&state, "/healthz").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body, "not alive: task poller stopped unexpectedly\n");
    }
}

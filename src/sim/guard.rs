//! The gate every `/api/` request passes: bearer token check, injected faults, the
//! `ININ-Correlation-Id` and `inin-ratelimit-*` headers, the error envelope
//! (docs/genesys-api.md#errors-rate-limits-and-retries) and the request log the tests assert on.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Extension;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::genesys::model::ErrorBody;

use super::Sim;
use super::api_faults::{ApiFault, Faults};
use super::model::traffic::uuid;
use crate::sync::lock;

/// The per-client budget Genesys advertises; reported in headers, not enforced.
const RATE_LIMIT_ALLOWED: u32 = 300;
const RATE_WINDOW: Duration = Duration::from_secs(60);
const REQUEST_LOG_LIMIT: usize = 10_000;

/// The client a valid token belongs to, for handlers that keep per-client state.
#[derive(Debug, Clone)]
pub(crate) struct Client(pub String);

/// How many queue predicates a request carried, reported by the handler for the request log.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Predicates(pub usize);

/// An error envelope waiting for the guard, which alone knows the correlation id.
#[derive(Debug, Clone)]
struct Envelope(ErrorBody);

#[derive(Debug, Clone, Serialize)]
pub(crate) struct RequestEntry {
    pub method: String,
    pub path: String,
    pub status: u16,
    pub predicates: Option<usize>,
}

/// Faults, rate-limit window and request log: the gate's own state.
#[derive(Debug)]
pub(crate) struct Gate {
    pub faults: Mutex<Faults>,
    window: Mutex<(Instant, u32)>,
    pub requests: Mutex<VecDeque<RequestEntry>>,
}

impl Default for Gate {
    fn default() -> Self {
        Self {
            faults: Mutex::new(Faults::default()),
            window: Mutex::new((Instant::now(), 0)),
            requests: Mutex::new(VecDeque::new()),
        }
    }
}

impl Gate {
    /// (requests so far in this window, seconds until it resets).
    fn count_request(&self) -> (u32, u64) {
        let mut window = lock(&self.window);
        if window.0.elapsed() >= RATE_WINDOW {
            *window = (Instant::now(), 0);
        }
        window.1 += 1;
        (
            window.1,
            RATE_WINDOW.saturating_sub(window.0.elapsed()).as_secs(),
        )
    }

    fn log(&self, entry: RequestEntry) {
        let mut requests = lock(&self.requests);
        if requests.len() >= REQUEST_LOG_LIMIT {
            requests.pop_front();
        }
        requests.push_back(entry);
    }
}

/// A rejected API request, rendered through [`api_error`].
#[derive(Debug)]
pub(crate) struct Failure {
    pub status: StatusCode,
    code: &'static str,
    message: String,
}

impl Failure {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad.request", message)
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        api_error(self.status, self.code, &self.message)
    }
}

/// A non-2xx API response; the guard renders the envelope with the correlation id.
pub(crate) fn api_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = ErrorBody {
        message: message.to_owned(),
        code: code.to_owned(),
        status: status.as_u16(),
        ..ErrorBody::default()
    };
    (status, Extension(Envelope(body))).into_response()
}

pub(crate) async fn guard(
    State(sim): State<Arc<Sim>>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if !path.starts_with("/api/") {
        return next.run(request).await;
    }
    let method = request.method().to_string();
    let correlation_id = uuid(&mut rand::rng());
    let mut response = match authorize(&sim, request.headers()) {
        Err(failure) => failure.into_response(),
        Ok(client) => {
            request.extensions_mut().insert(Client(client));
            let fault = lock(&sim.gate.faults).take(&path);
            answer(&sim, fault, request, next).await
        }
    };
    if let Some(Envelope(mut body)) = response.extensions_mut().remove::<Envelope>() {
        body.context_id = Some(correlation_id.clone());
        let json = serde_json::to_vec(&body).unwrap_or_default();
        *response.body_mut() = Body::from(json);
        let content_type = HeaderValue::from_static("application/json");
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, content_type);
    }
    let (count, reset) = sim.gate.count_request();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&correlation_id) {
        headers.insert("ININ-Correlation-Id", value);
    }
    headers.insert("inin-ratelimit-allowed", RATE_LIMIT_ALLOWED.into());
    headers.insert("inin-ratelimit-count", count.into());
    headers.insert("inin-ratelimit-reset", reset.into());
    let predicates = response.extensions().get::<Predicates>().map(|p| p.0);
    let status = response.status().as_u16();
    sim.gate.log(RequestEntry {
        method,
        path,
        status,
        predicates,
    });
    response
}

/// The handler's answer, or what the armed `fault` makes of it.
async fn answer(sim: &Sim, fault: Option<ApiFault>, request: Request, next: Next) -> Response {
    match fault {
        None => next.run(request).await,
        Some(ApiFault::RateLimit {
            retry_after_seconds,
        }) => rate_limited(retry_after_seconds),
        Some(ApiFault::ServerError { status }) => server_error(status),
        Some(ApiFault::MalformedBody) => truncated(next.run(request).await).await,
        Some(ApiFault::Unauthorized) => bad_credentials().into_response(),
        Some(ApiFault::SlowResponse { delay_ms }) => {
            // NB: shutdown cuts the delay short; the server waits for in-flight requests.
            tokio::select! {
                () = sim.cancel.cancelled() => {}
                () = tokio::time::sleep(Duration::from_millis(delay_ms)) => {}
            }
            next.run(request).await
        }
    }
}

fn rate_limited(retry_after_seconds: u64) -> Response {
    let mut response = api_error(
        StatusCode::TOO_MANY_REQUESTS,
        "too.many.requests",
        "Rate limit exceeded the maximum. Retry the request in [retry-after] seconds",
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, retry_after_seconds.into());
    response
}

fn server_error(status: u16) -> Response {
    let status = StatusCode::from_u16(status)
        .ok()
        .filter(StatusCode::is_server_error)
        .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    api_error(status, "service.unavailable", "The service is unavailable")
}

/// Bodies read for truncation are far smaller; this only bounds a runaway.
const TRUNCATE_LIMIT: usize = 64 << 20;

/// A 200 whose JSON body breaks off halfway, as a response cut by a proxy would; when the
/// handler had no body worth cutting (an error envelope is rendered later), a fixed fragment.
async fn truncated(response: Response) -> Response {
    let body = axum::body::to_bytes(response.into_body(), TRUNCATE_LIMIT)
        .await
        .unwrap_or_default();
    let half = body.slice(..body.len() / 2);
    let broken =
        !half.is_empty() && serde_json::from_slice::<serde::de::IgnoredAny>(&half).is_err();
    let body = if broken {
        half
    } else {
        axum::body::Bytes::from_static(b"{\"results\": [{\"group\": ")
    };
    let content_type = HeaderValue::from_static("application/json");
    (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response()
}

fn authorize(sim: &Sim, headers: &HeaderMap) -> Result<String, Failure> {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Err(Failure::new(
            StatusCode::UNAUTHORIZED,
            "authentication.required",
            "No authentication bearer token specified in authorization header.",
        ));
    };
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim);
    token
        .and_then(|t| sim.auth.client_of(t))
        .ok_or_else(bad_credentials)
}

/// Genesys's answer to a token it does not take.
fn bad_credentials() -> Failure {
    Failure::new(
        StatusCode::UNAUTHORIZED,
        "bad.credentials",
        "Invalid login credentials.",
    )
}

#[cfg(test)]
mod tests;

//! The gate every `/api/` request passes: bearer token check, injected faults, the
//! `ININ-Correlation-Id` and `inin-ratelimit-*` headers, the error envelope (API.md §3) and the
//! request log the tests assert on.

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

use super::traffic::uuid;
use super::{Sim, lock};

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

#[derive(Debug, Default)]
pub(crate) struct Faults {
    pub rate_limited: u32,
    pub retry_after_seconds: u64,
    pub server_errors: u32,
    pub server_status: u16,
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
    /// The response of the next injected fault, if one is armed.
    fn take_fault(&self) -> Option<Response> {
        let mut faults = lock(&self.faults);
        if faults.rate_limited > 0 {
            faults.rate_limited -= 1;
            let mut response = api_error(
                StatusCode::TOO_MANY_REQUESTS,
                "too.many.requests",
                "Rate limit exceeded the maximum. Retry the request in [retry-after] seconds",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, faults.retry_after_seconds.into());
            return Some(response);
        }
        if faults.server_errors > 0 {
            faults.server_errors -= 1;
            let status = StatusCode::from_u16(faults.server_status)
                .ok()
                .filter(StatusCode::is_server_error)
                .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            return Some(api_error(
                status,
                "service.unavailable",
                "The service is unavailable",
            ));
        }
        None
    }

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
        Ok(client) => match sim.gate.take_fault() {
            Some(response) => response,
            None => {
                request.extensions_mut().insert(Client(client));
                next.run(request).await
            }
        },
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
    token.and_then(|t| sim.auth.client_of(t)).ok_or_else(|| {
        Failure::new(
            StatusCode::UNAUTHORIZED,
            "bad.credentials",
            "Invalid login credentials.",
        )
    })
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::sim::harness::TestSim;

    #[tokio::test]
    async fn api_requires_a_valid_token_and_rejects_it_after_revocation() {
        let sim = TestSim::fast().await;
        let queues = "/api/v2/routing/queues";
        let anonymous = sim.get_anonymously(queues).await;
        assert_eq!(anonymous.status(), 401);
        assert!(anonymous.headers().contains_key("inin-correlation-id"));
        let body: Value = anonymous.json().await.unwrap();
        assert_eq!(body["code"], "authentication.required");
        assert_eq!(body["status"], 401);
        assert!(body["contextId"].is_string());

        let token = sim.token().await;
        let ok = sim.get(&token, queues).await;
        assert_eq!(ok.status(), 200);
        for header in [
            "inin-ratelimit-allowed",
            "inin-ratelimit-count",
            "inin-ratelimit-reset",
        ] {
            assert!(ok.headers().contains_key(header), "{header} missing");
        }

        sim.control("/sim/faults", json!({"kind": "revoke_tokens"}))
            .await;
        let revoked = sim.get(&token, queues).await;
        assert_eq!(revoked.status(), 401);
        let body: Value = revoked.json().await.unwrap();
        assert_eq!(body["code"], "bad.credentials");
        sim.stop().await;
    }

    #[tokio::test]
    async fn injected_faults_answer_the_next_requests_and_are_logged() {
        let sim = TestSim::fast().await;
        let token = sim.token().await;
        let queues = "/api/v2/routing/queues";
        let fault = json!({"kind": "rate_limit", "count": 1, "retryAfterSeconds": 3});
        sim.control("/sim/faults", fault).await;
        sim.control(
            "/sim/faults",
            json!({"kind": "server_error", "count": 1, "status": 502}),
        )
        .await;
        let limited = sim.get(&token, queues).await;
        assert_eq!(limited.status(), 429);
        assert_eq!(limited.headers()["retry-after"], "3");
        let failed = sim.get(&token, queues).await;
        assert_eq!(failed.status(), 502);
        let ok = sim.get(&token, queues).await;
        assert_eq!(ok.status(), 200);

        let unknown = sim
            .http
            .post(sim.url("/sim/faults"))
            .json(&json!({"kind": "meteor"}));
        assert_eq!(unknown.send().await.unwrap().status(), 400);

        let log = sim.requests_log().await;
        let statuses: Vec<u64> = log["requests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["status"].as_u64().unwrap())
            .collect();
        assert_eq!(statuses, [429, 502, 200]);
        assert_eq!(log["requests"][0]["path"], "/api/v2/routing/queues");
        assert_eq!(log["requests"][0]["method"], "GET");
        assert!(log["requests"][0]["predicates"].is_null());
        sim.stop().await;
    }
}

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

use super::api_faults::{ApiFault, Faults};
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
mod tests {
    use std::time::{Duration, Instant};

    use serde_json::{Value, json};

    use crate::sim::harness::{DEADLINE, TestSim};

    const QUEUES: &str = "/api/v2/routing/queues";
    const OBSERVATIONS: &str = "/api/v2/analytics/queues/observations/query";

    fn observations_query(sim: &TestSim) -> Value {
        let id = &sim.handle.queues[0].id;
        json!({"filter": {"type": "or", "predicates": [
                   {"type": "dimension", "dimension": "queueId", "value": id}]},
               "metrics": ["oWaiting"]})
    }

    async fn armed(sim: &TestSim) -> Vec<Value> {
        let armed = sim.get_json("/sim/faults").await;
        armed["armed"].as_array().unwrap().clone()
    }

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

    #[tokio::test]
    async fn faults_aimed_at_a_path_hit_only_that_exact_path_and_are_used_up() {
        let sim = TestSim::fast().await;
        let token = sim.token().await;
        let one = format!("{QUEUES}/{}", sim.handle.queues[0].id);
        for fault in [
            json!({"kind": "rate_limit", "count": 2, "path": one}),
            json!({"kind": "server_error", "count": 1, "status": 500, "path": QUEUES}),
            json!({"kind": "server_error", "count": 1, "status": 502}),
        ] {
            sim.control("/sim/faults", fault).await;
        }
        assert_eq!(armed(&sim).await.len(), 3);
        let status = async |path: &str| sim.get(&token, path).await.status().as_u16();
        assert_eq!(status(QUEUES).await, 500, "aimed at the listing");
        assert_eq!(status(&one).await, 429);
        assert_eq!(
            status(&format!("{QUEUES}?pageSize=5")).await,
            502,
            "any path"
        );
        assert_eq!(status(QUEUES).await, 200);
        assert_eq!(status(&one).await, 429);
        assert_eq!(status(&one).await, 200);
        assert!(armed(&sim).await.is_empty());

        let elsewhere = sim
            .http
            .post(sim.url("/sim/faults"))
            .json(&json!({"kind": "server_error", "count": 1, "path": "/sim/truth"}));
        assert_eq!(elsewhere.send().await.unwrap().status(), 400);
        sim.stop().await;
    }

    #[tokio::test]
    async fn a_malformed_body_is_a_200_with_json_that_breaks_off() {
        let sim = TestSim::fast().await;
        let token = sim.token().await;
        let fault = json!({"kind": "malformed_body", "count": 1, "path": OBSERVATIONS});
        sim.control("/sim/faults", fault).await;
        let query = observations_query(&sim);
        assert_eq!(sim.get(&token, QUEUES).await.status(), 200);
        let broken = sim.post_json(&token, OBSERVATIONS, &query).await;
        assert_eq!(broken.status(), 200);
        assert_eq!(broken.headers()["content-type"], "application/json");
        let text = broken.text().await.unwrap();
        assert!(text.starts_with("{\"results\":"), "{text}");
        assert!(serde_json::from_str::<Value>(&text).is_err(), "{text}");
        let whole = sim.post_json(&token, OBSERVATIONS, &query).await;
        assert!(whole.json::<Value>().await.unwrap()["results"].is_array());
        sim.stop().await;
    }

    #[tokio::test]
    async fn a_slow_response_arrives_after_its_delay_and_only_on_its_path() {
        let sim = TestSim::fast().await;
        let token = sim.token().await;
        let delay = Duration::from_millis(1_000);
        let fault = json!({"kind": "slow_response", "count": 1, "delayMs": 1_000, "path": QUEUES});
        sim.control("/sim/faults", fault).await;
        let timed = async |method: reqwest::Method, path: &str| {
            let started = Instant::now();
            let response = match method {
                reqwest::Method::POST => {
                    sim.post_json(&token, path, &observations_query(&sim)).await
                }
                _ => sim.get(&token, path).await,
            };
            assert_eq!(response.status(), 200, "{path}");
            started.elapsed()
        };
        assert!(timed(reqwest::Method::POST, OBSERVATIONS).await < delay);
        assert!(timed(reqwest::Method::GET, QUEUES).await >= delay);
        assert!(timed(reqwest::Method::GET, QUEUES).await < delay);
        sim.stop().await;
    }

    #[tokio::test]
    async fn shutting_down_cuts_a_slow_response_short() {
        let sim = TestSim::fast().await;
        let token = sim.token().await;
        let fault = json!({"kind": "slow_response", "count": 1, "delayMs": 600_000});
        sim.control("/sim/faults", fault).await;
        let request = sim.http.get(sim.url(QUEUES)).bearer_auth(&token).send();
        let request = tokio::spawn(request);
        tokio::time::timeout(DEADLINE, async {
            while !armed(&sim).await.is_empty() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("the request takes the slow fault");
        sim.stop().await;
        let response = tokio::time::timeout(DEADLINE, request).await.unwrap();
        assert_eq!(response.unwrap().unwrap().status(), 200);
    }
}

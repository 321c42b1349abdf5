//! The one execution path of every call to Genesys Cloud, the token request included: the
//! credentials (bearer or basic), the timeout (set on the HTTP client), body limits, per-endpoint
//! self-metrics, and the retry rules (docs/genesys-api.md#errors-rate-limits-and-retries): 429 →
//! wait `Retry-After` and retry; 5xx / transport / timeout / a body past its limit → full-jitter
//! backoff up to `max_retries`. Any other answer ends the call: what a 400 or 401 means for the
//! credentials is the caller's to decide (the REST client refreshes its token once; the token
//! request names the OAuth client).

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode, Url};
use tokio::time::Instant;

use crate::backoff::Backoff;
use crate::genesys::egress::Egress;
use crate::genesys::error::ApiError;
use crate::genesys::model::ErrorBody;
use crate::genesys::telemetry::{Endpoint, GenesysMetrics};
use crate::metrics::Metrics;
use crate::secret::Secret;
use crate::vocabulary::labels::LabelValue;

/// The longest a 429 may make us wait before one retry; a larger hint is clamped to this.
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(60);
/// The wait after a 429 that names no delay.
const DEFAULT_RATE_LIMIT_WAIT: Duration = Duration::from_secs(1);

/// How long a 429 asks us to wait: `Retry-After`, else `inin-ratelimit-reset` (both seconds),
/// else one second; clamped to a minute so a bogus header cannot stall a task for hours.
pub(crate) fn retry_after(headers: &HeaderMap) -> Duration {
    ["retry-after", "inin-ratelimit-reset"]
        .iter()
        .filter_map(|name| {
            headers
                .get(*name)?
                .to_str()
                .ok()?
                .trim()
                .parse::<f64>()
                .ok()
        })
        .find(|seconds| seconds.is_finite() && *seconds >= 0.0)
        .map_or(DEFAULT_RATE_LIMIT_WAIT, |seconds| {
            Duration::from_secs_f64(seconds.min(MAX_RATE_LIMIT_WAIT.as_secs_f64()))
        })
}

/// How often and how patiently failed attempts are retried (`http.*`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    pub(crate) max_retries: u32,
    pub(crate) backoff_base: Duration,
    pub(crate) backoff_cap: Duration,
}

/// Who is calling.
pub(crate) enum Credentials<'a> {
    /// A REST call: the OAuth token.
    Bearer(&'a Secret),
    /// The token request: the OAuth client itself.
    Basic { id: &'a str, secret: &'a Secret },
}

/// What is sent.
pub(crate) enum Body<'a> {
    Json(&'a [u8]),
    Form(&'a [(&'a str, &'a str)]),
}

/// One call, sent as often as its retries allow.
pub(crate) struct Request<'a> {
    pub(crate) endpoint: Endpoint,
    pub(crate) method: Method,
    pub(crate) url: &'a Url,
    pub(crate) body: Option<Body<'a>>,
    pub(crate) credentials: Credentials<'a>,
    /// The most of the answer read; a larger one is a fault on the way, retried.
    pub(crate) limit: usize,
}

/// How a call ended without a success.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Answered with a status retrying does not change (a 4xx other than 429).
    Refused {
        status: StatusCode,
        body: Vec<u8>,
        error: ApiError,
    },
    /// Retries exhausted on a retryable failure, the last one given.
    Failed(ApiError),
}

impl From<Failure> for ApiError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::Refused { error, .. } | Failure::Failed(error) => error,
        }
    }
}

/// What one attempt produced.
enum Attempt {
    Done(Result<Vec<u8>, Failure>),
    Retry { delay: Duration, error: ApiError },
}

/// Sends every call; shared by the REST client and the token cache.
pub(crate) struct Executor {
    pub(crate) http: reqwest::Client,
    /// The proxy routes and trust `http` uses, and the failure reports.
    pub(crate) egress: Arc<Egress>,
    pub(crate) retry: RetryPolicy,
    /// The status page counts each call too.
    pub(crate) store: Arc<Metrics>,
    pub(crate) telemetry: GenesysMetrics,
}

impl Executor {
    /// Sends `request` until it succeeds, is refused, or its retries are spent.
    pub(crate) async fn execute(&self, request: &Request<'_>) -> Result<Vec<u8>, Failure> {
        let retry = &self.retry;
        let mut backoff = Backoff::new(retry.backoff_base, retry.backoff_cap);
        let mut retries = 0;
        loop {
            let (delay, error) = match self.attempt(request, &mut backoff).await {
                Attempt::Done(result) => return result,
                Attempt::Retry { delay, error } => (delay, error),
            };
            if retries >= retry.max_retries {
                return Err(Failure::Failed(error));
            }
            retries += 1;
            let endpoint = request.endpoint.as_str();
            tracing::info!(endpoint, error = %error, retry = retries, delay_ms = delay.as_millis() as u64, "retrying");
            tokio::time::sleep(delay).await;
        }
    }

    fn record(&self, endpoint: Endpoint, status: &str, seconds: f64) {
        (self.telemetry).request(&self.store, endpoint, status, seconds);
    }

    async fn attempt(&self, request: &Request<'_>, backoff: &mut Backoff) -> Attempt {
        let endpoint = request.endpoint;
        let label = endpoint.as_str();
        let url = request.url;
        let mut builder = self.http.request(request.method.clone(), url.clone());
        builder = match &request.credentials {
            Credentials::Bearer(token) => builder.bearer_auth(token.expose()),
            Credentials::Basic { id, secret } => builder.basic_auth(id, Some(secret.expose())),
        };
        builder = match request.body {
            None => builder,
            Some(Body::Json(json)) => builder
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(json.to_vec()),
            Some(Body::Form(pairs)) => builder.form(pairs),
        };
        let started = Instant::now();
        let outcome = match builder.send().await {
            Ok(response) => {
                let status = response.status();
                let headers = response.headers().clone();
                let body = read_body(response, request.limit).await;
                body.map(|bytes| (status, headers, bytes))
            }
            Err(error) => Err(error),
        };
        let seconds = started.elapsed().as_secs_f64();
        let (status, headers, bytes) = match outcome {
            Ok((status, headers, Some(bytes))) => (status, headers, bytes),
            Ok((_, _, None)) => {
                self.record(endpoint, "too_large", seconds);
                let error = ApiError::TooLarge {
                    endpoint: label,
                    limit: request.limit,
                };
                return Attempt::Retry {
                    delay: backoff.next_delay(),
                    error,
                };
            }
            Err(source) => {
                let kind = if source.is_timeout() {
                    "timeout"
                } else {
                    "transport"
                };
                self.record(endpoint, kind, seconds);
                let error = self.egress.transport_error(label, url, source);
                return Attempt::Retry {
                    delay: backoff.next_delay(),
                    error,
                };
            }
        };
        self.record(endpoint, status.as_str(), seconds);
        if let Some(error) = self.egress.answered(label, url, status.as_u16()) {
            return Attempt::Retry {
                delay: backoff.next_delay(),
                error,
            };
        }
        if status.is_success() {
            return Attempt::Done(Ok(bytes));
        }
        let error = status_error(label, status, &headers, &bytes);
        match status {
            StatusCode::TOO_MANY_REQUESTS => {
                self.telemetry.rate_limited(endpoint);
                Attempt::Retry {
                    delay: retry_after(&headers),
                    error,
                }
            }
            s if s.is_server_error() => Attempt::Retry {
                delay: backoff.next_delay(),
                error,
            },
            _ => Attempt::Done(Err(Failure::Refused {
                status,
                body: bytes,
                error,
            })),
        }
    }
}

/// The most of a REST response body read. A 100-queue aggregates answer over the default
/// window is well under a megabyte; a body past this is a fault upstream or in between, and is
/// not held in memory.
pub(crate) const MAX_RESPONSE_BYTES: usize = 32 << 20;

/// `response`'s body, or `None` once it passes `limit` bytes (announced or read).
pub(crate) async fn read_body(
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Option<Vec<u8>>, reqwest::Error> {
    if response.content_length().is_some_and(|n| n > limit as u64) {
        return Ok(None);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// An [`ApiError::Status`] carrying the error envelope's message and the correlation id.
fn status_error(
    endpoint: &'static str,
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> ApiError {
    let envelope: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    // NB: the message ends up in one-line errors and logs; upstream text may hold newlines.
    let message = if envelope.message.trim().is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        envelope
            .message
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let correlation_id = headers
        .get("inin-correlation-id")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
        .or(envelope.context_id)
        .unwrap_or_else(|| "none".to_owned());
    ApiError::Status {
        endpoint,
        status: status.as_u16(),
        message,
        correlation_id,
    }
}

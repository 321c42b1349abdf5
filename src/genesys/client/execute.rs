//! The one execution path of every REST call: bearer header, timeout (set on the HTTP client),
//! per-endpoint self-metrics, and the retry rules of API.md §3 — 401 → refresh the token once
//! and retry once; 429 → wait `Retry-After` and retry; 5xx / transport / timeout → full-jitter
//! backoff up to `max_retries`; any other status → an error carrying the upstream message and
//! correlation id.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use super::{Endpoint, GenesysClient};
use crate::backoff::Backoff;
use crate::genesys::egress::log_unless_reported;
use crate::genesys::error::ApiError;
use crate::genesys::model::ErrorBody;
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

/// What one attempt produced that may be retried.
enum Attempt {
    /// A success (its body, empty for HEAD) or an error retrying cannot fix.
    Done(Result<Vec<u8>, ApiError>),
    Retry {
        delay: Duration,
        error: ApiError,
    },
    Unauthorized {
        error: ApiError,
    },
}

impl GenesysClient {
    /// [`Self::execute`] with a JSON body in and a JSON body out (an empty body reads as `{}`).
    pub(super) async fn call<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        endpoint: Endpoint,
        method: Method,
        url: Url,
        body: Option<&B>,
    ) -> Result<T, ApiError> {
        let label = endpoint.as_str();
        let body = body
            .map(serde_json::to_vec)
            .transpose()
            .map_err(|source| ApiError::Decode {
                endpoint: label,
                source,
            })?;
        let bytes = self.execute(endpoint, method, url, body).await?;
        let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &bytes
        };
        serde_json::from_slice(text).map_err(|source| {
            tracing::warn!(endpoint = label, error = %source, "undecodable response body");
            ApiError::Decode {
                endpoint: label,
                source,
            }
        })
    }

    /// The one execution path: every REST call is sent, measured and retried here.
    pub(super) async fn execute(
        &self,
        endpoint: Endpoint,
        method: Method,
        url: Url,
        body: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, ApiError> {
        let settings = &self.inner.settings;
        let mut backoff = Backoff::new(settings.retry_backoff_base, settings.retry_backoff_cap);
        let mut retries = 0;
        let mut refreshed = false;
        loop {
            let token = self.inner.tokens.token().await?;
            let error = match self
                .attempt(endpoint, &method, &url, body.as_ref(), &token, &mut backoff)
                .await
            {
                Attempt::Done(Ok(body)) => return Ok(body),
                Attempt::Done(Err(error)) => error,
                Attempt::Unauthorized { .. } if !refreshed => {
                    refreshed = true;
                    tracing::info!(
                        endpoint = endpoint.as_str(),
                        "token rejected; refreshing once"
                    );
                    self.inner.tokens.invalidate(&token);
                    continue;
                }
                Attempt::Unauthorized { error } => error,
                Attempt::Retry { delay, error } if retries < settings.max_retries => {
                    retries += 1;
                    tracing::info!(endpoint = endpoint.as_str(), error = %error, retry = retries, delay_ms = delay.as_millis() as u64, "retrying");
                    tokio::time::sleep(delay).await;
                    continue;
                }
                Attempt::Retry { error, .. } => error,
            };
            log_unless_reported!(warn, error.kind(), endpoint = endpoint.as_str(), kind = error.kind(), error = %error, "request failed");
            return Err(error);
        }
    }

    async fn attempt(
        &self,
        endpoint: Endpoint,
        method: &Method,
        url: &Url,
        body: Option<&Vec<u8>>,
        token: &Secret,
        backoff: &mut Backoff,
    ) -> Attempt {
        let label = endpoint.as_str();
        let mut request = self
            .inner
            .http
            .request(method.clone(), url.clone())
            .bearer_auth(token.expose());
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let started = Instant::now();
        let outcome = match request.send().await {
            Ok(response) => {
                let status = response.status();
                let headers = response.headers().clone();
                let body = read_body(response, MAX_RESPONSE_BYTES).await;
                body.map(|bytes| (status, headers, bytes))
            }
            Err(error) => Err(error),
        };
        let seconds = started.elapsed().as_secs_f64();
        let (status, headers, bytes) = match outcome {
            Ok((status, headers, Some(bytes))) => (status, headers, bytes),
            Ok((_, _, None)) => {
                let inner = &self.inner;
                (inner.telemetry).request(&inner.metrics, endpoint, "too_large", seconds);
                let error = ApiError::TooLarge {
                    endpoint: label,
                    limit: MAX_RESPONSE_BYTES,
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
                let inner = &self.inner;
                (inner.telemetry).request(&inner.metrics, endpoint, kind, seconds);
                let error = self.inner.egress.transport_error(label, url, source);
                return Attempt::Retry {
                    delay: backoff.next_delay(),
                    error,
                };
            }
        };
        let inner = &self.inner;
        (inner.telemetry).request(&inner.metrics, endpoint, status.as_str(), seconds);
        if let Some(error) = self.inner.egress.answered(label, url, status.as_u16()) {
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
            StatusCode::UNAUTHORIZED => Attempt::Unauthorized { error },
            StatusCode::TOO_MANY_REQUESTS => {
                self.inner.telemetry.rate_limited(endpoint);
                Attempt::Retry {
                    delay: retry_after(&headers),
                    error,
                }
            }
            s if s.is_server_error() => Attempt::Retry {
                delay: backoff.next_delay(),
                error,
            },
            _ => Attempt::Done(Err(error)),
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

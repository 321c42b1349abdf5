//! The OAuth client-credentials token (API.md §2): fetched once, shared by every request,
//! refreshed before it expires, and replaced exactly once when the API says it was revoked.
//!
//! Single-flight: however many tasks need a token at the same moment, one `POST /oauth/token`
//! is made. The refresh lock is held across the fetch and the cache is checked again after it is
//! taken, so the waiters find the token their predecessor fetched.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use reqwest::{StatusCode, Url};
use tokio::time::Instant;

use crate::backoff::Backoff;
use crate::genesys::client::{Endpoint, retry_after};
use crate::genesys::error::ApiError;
use crate::genesys::model::{OAuthError, TokenResponse};
use crate::metrics::Metrics;
use crate::secret::Secret;

/// The fraction of `expires_in` after which a token is replaced, so a token is never sent in
/// its last moments (clock skew, slow requests).
const REFRESH_FRACTION: f64 = 0.9;

/// When a token fetched at `fetched_at` and valid for `expires_in` should be replaced.
pub(crate) fn refresh_due_at(fetched_at: Instant, expires_in: Duration) -> Instant {
    fetched_at + expires_in.mul_f64(REFRESH_FRACTION)
}

#[derive(Clone)]
struct CachedToken {
    value: Secret,
    refresh_at: Instant,
}

/// Everything needed to ask for a token; the secret stays inside a [`Secret`].
pub(crate) struct TokenSource {
    pub(crate) http: reqwest::Client,
    pub(crate) token_url: Url,
    pub(crate) login_base_url: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: Secret,
    pub(crate) max_retries: u32,
    pub(crate) backoff_base: Duration,
    pub(crate) backoff_cap: Duration,
}

/// The shared token cache. Cloning the client clones an `Arc` to this.
pub(crate) struct TokenCache {
    source: TokenSource,
    metrics: Arc<Metrics>,
    current: RwLock<Option<CachedToken>>,
    /// Held across a fetch so concurrent callers wait for one fetch instead of starting theirs.
    refresh: tokio::sync::Mutex<()>,
    /// Fetches finished so far, so a caller that queued behind a failed fetch can tell.
    fetches: AtomicU64,
    /// The last fetch's error, when it can be shared: callers that waited for that fetch get
    /// it too, instead of each repeating a fetch (and its retries) that just failed.
    last_failure: Mutex<Option<ApiError>>,
}

/// A copy of `error` for the callers that waited on the fetch that produced it, for the kinds
/// that can be copied (a transport error cannot; those callers fetch again).
fn share(error: &ApiError) -> Option<ApiError> {
    match error {
        ApiError::InvalidClient {
            client_id,
            login_url,
            description,
        } => Some(ApiError::InvalidClient {
            client_id: client_id.clone(),
            login_url: login_url.clone(),
            description: description.clone(),
        }),
        ApiError::Status {
            endpoint,
            status,
            message,
            correlation_id,
        } => Some(ApiError::Status {
            endpoint,
            status: *status,
            message: message.clone(),
            correlation_id: correlation_id.clone(),
        }),
        _ => None,
    }
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("client_id", &self.source.client_id)
            .field("token_url", &self.source.token_url.as_str())
            .finish_non_exhaustive()
    }
}

impl TokenCache {
    pub(crate) fn new(source: TokenSource, metrics: Arc<Metrics>) -> Self {
        Self {
            source,
            metrics,
            current: RwLock::new(None),
            refresh: tokio::sync::Mutex::new(()),
            fetches: AtomicU64::new(0),
            last_failure: Mutex::new(None),
        }
    }

    /// A token that is not yet due for refresh, fetching one if needed.
    pub(crate) async fn token(&self) -> Result<Secret, ApiError> {
        if let Some(token) = self.cached() {
            return Ok(token);
        }
        let seen = self.fetches.load(Ordering::SeqCst);
        let _flight = self.refresh.lock().await;
        if let Some(token) = self.cached() {
            return Ok(token);
        }
        if self.fetches.load(Ordering::SeqCst) != seen {
            let shared = self
                .last_failure
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_ref()
                .and_then(share);
            if let Some(error) = shared {
                return Err(error);
            }
        }
        let result = self.fetch().await;
        self.fetches.fetch_add(1, Ordering::SeqCst);
        self.metrics.token_refreshed(result.is_ok());
        *self.last_failure.lock().unwrap_or_else(|e| e.into_inner()) =
            result.as_ref().err().and_then(share);
        let fetched = result?;
        let value = Secret::new(fetched.access_token);
        let refresh_at = refresh_due_at(Instant::now(), Duration::from_secs(fetched.expires_in));
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(CachedToken {
            value: value.clone(),
            refresh_at,
        });
        tracing::debug!(expires_in = fetched.expires_in, "fetched OAuth token");
        Ok(value)
    }

    /// Forgets `rejected` if it is still the cached token. A token that was already replaced
    /// is left alone, so many callers holding the same revoked token cause one refresh.
    pub(crate) fn invalidate(&self, rejected: &Secret) {
        let mut current = self.current.write().unwrap_or_else(|e| e.into_inner());
        if current.as_ref().is_some_and(|c| c.value == *rejected) {
            *current = None;
        }
    }

    fn cached(&self) -> Option<Secret> {
        let current = self.current.read().unwrap_or_else(|e| e.into_inner());
        current
            .as_ref()
            .filter(|c| Instant::now() < c.refresh_at)
            .map(|c| c.value.clone())
    }

    /// One grant, retried on 429 / 5xx / transport errors; a rejected client is final.
    async fn fetch(&self) -> Result<TokenResponse, ApiError> {
        let source = &self.source;
        let mut backoff = Backoff::new(source.backoff_base, source.backoff_cap);
        let mut retries = 0;
        loop {
            let started = Instant::now();
            let sent = source
                .http
                .post(source.token_url.clone())
                .basic_auth(&source.client_id, Some(source.client_secret.expose()))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await;
            let seconds = started.elapsed().as_secs_f64();
            let endpoint = Endpoint::Token.as_str();
            let (delay, error) = match sent {
                Err(source_error) => {
                    let label = if source_error.is_timeout() {
                        "timeout"
                    } else {
                        "transport"
                    };
                    self.metrics.api_request(endpoint, label, seconds);
                    let error = ApiError::Transport {
                        endpoint,
                        source: source_error,
                    };
                    (backoff.next_delay(), error)
                }
                Ok(response) => {
                    let status = response.status();
                    self.metrics.api_request(endpoint, status.as_str(), seconds);
                    let wait = retry_after(response.headers());
                    let body = match response.bytes().await {
                        Ok(body) => body,
                        Err(source_error) => {
                            let error = ApiError::Transport {
                                endpoint,
                                source: source_error,
                            };
                            if retries >= source.max_retries {
                                return Err(error);
                            }
                            retries += 1;
                            tokio::time::sleep(backoff.next_delay()).await;
                            continue;
                        }
                    };
                    match status {
                        s if s.is_success() => {
                            return serde_json::from_slice(&body)
                                .map_err(|source| ApiError::Decode { endpoint, source });
                        }
                        StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED => {
                            return Err(self.invalid_client(&body));
                        }
                        StatusCode::TOO_MANY_REQUESTS => {
                            self.metrics.api_rate_limited(endpoint);
                            (wait, self.status_error(status))
                        }
                        s if s.is_server_error() => (backoff.next_delay(), self.status_error(s)),
                        s => return Err(self.status_error(s)),
                    }
                }
            };
            if retries >= source.max_retries {
                tracing::warn!(endpoint, error = %error, "token request failed; retries exhausted");
                return Err(error);
            }
            retries += 1;
            tracing::info!(endpoint, error = %error, delay_ms = delay.as_millis() as u64, "retrying token request");
            tokio::time::sleep(delay).await;
        }
    }

    fn status_error(&self, status: StatusCode) -> ApiError {
        ApiError::Status {
            endpoint: Endpoint::Token.as_str(),
            status: status.as_u16(),
            message: format!("token request to {} failed", self.source.login_base_url),
            correlation_id: "none".to_owned(),
        }
    }

    fn invalid_client(&self, body: &[u8]) -> ApiError {
        let parsed: OAuthError = serde_json::from_slice(body).unwrap_or_default();
        let mut description = [parsed.error_description, parsed.description, parsed.error]
            .into_iter()
            .find(|text| !text.is_empty())
            .unwrap_or_else(|| "invalid_client".to_owned());
        // NB: upstream never echoes the secret, but a proxy in between might; never pass it on.
        let secret = self.source.client_secret.expose();
        if !secret.is_empty() {
            description = description.replace(secret, "[redacted]");
        }
        tracing::error!(client_id = %self.source.client_id, login_url = %self.source.login_base_url, "OAuth client rejected");
        ApiError::InvalidClient {
            client_id: self.source.client_id.clone(),
            login_url: self.source.login_base_url.clone(),
            description,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_is_due_at_ninety_percent_of_the_lifetime() {
        let fetched = Instant::now();
        let due = refresh_due_at(fetched, Duration::from_secs(2));
        assert_eq!(due - fetched, Duration::from_millis(1800));
        let day = refresh_due_at(fetched, Duration::from_secs(86_400));
        assert_eq!(day - fetched, Duration::from_secs(77_760));
    }

    #[test]
    fn a_zero_lifetime_is_due_immediately() {
        let fetched = Instant::now();
        assert_eq!(refresh_due_at(fetched, Duration::ZERO), fetched);
    }
}

//! The OAuth client-credentials token (docs/genesys-api.md#oauth-token): fetched once, shared by
//! every request, refreshed before it expires, and replaced exactly once when the API says it was
//! revoked.
//!
//! A token has two deadlines. From `refresh_at` (90 % of its lifetime) one background task
//! fetches its successor while every caller goes on using the cached token, so a login outage
//! at that mark costs nothing until `expires_at`, a margin before the server's deadline. Only a caller
//! with no valid token (none yet, expired, or revoked by a 401) waits for a fetch.
//!
//! Single-flight: the refresh lock is held across every fetch, background or not, and the
//! cache is checked again once it is taken, so callers queued behind a fetch find the token it
//! fetched — or, when it failed, its error, instead of each repeating the fetch and its retries.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use tokio::time::Instant;

use crate::genesys::egress::log_unless_reported;
use crate::genesys::error::ApiError;
use crate::genesys::execute::{Body, Credentials, Executor, Failure, Request};
use crate::genesys::model::{OAuthError, TokenResponse};
use crate::genesys::telemetry::Endpoint;
use crate::secret::Secret;
use crate::sync::{lock, write};
use crate::vocabulary::labels::LabelValue;

/// The fraction of `expires_in` after which a replacement is fetched in the background; the
/// cached token keeps being used meanwhile, until `usable_until`.
const REFRESH_FRACTION: f64 = 0.9;

/// The safety margin before real expiry after which a token is no longer sent: a request in
/// flight must not arrive after the server dropped the token.
const EXPIRY_MARGIN: Duration = Duration::from_secs(30);

/// After a background refresh failed, the next one starts no sooner than this: the cached
/// token is still valid, and a login outage should not meet a retry chain on every call.
const FAILED_REFRESH_PAUSE: Duration = Duration::from_secs(30);

/// A longer `expires_in` is read as this, so a bogus lifetime cannot overflow an `Instant`.
const MAX_LIFETIME: Duration = Duration::from_secs(366 * 86_400);

/// A token answer is a few hundred bytes; more is not a token.
const MAX_TOKEN_RESPONSE_BYTES: usize = 64 * 1024;

/// The last moment a token requested at `requested_at` and valid for `lifetime` is sent:
/// `EXPIRY_MARGIN` (or a twentieth of a short lifetime) before it expires.
pub(crate) fn usable_until(requested_at: Instant, lifetime: Duration) -> Instant {
    requested_at + lifetime - EXPIRY_MARGIN.min(lifetime / 20)
}

/// When a token fetched at `fetched_at` and valid for `expires_in` should be replaced.
pub(crate) fn refresh_due_at(fetched_at: Instant, expires_in: Duration) -> Instant {
    fetched_at + expires_in.mul_f64(REFRESH_FRACTION)
}

#[derive(Clone)]
struct CachedToken {
    value: Secret,
    /// From here on a background fetch replaces the token; it is still sent meanwhile.
    refresh_at: Instant,
    /// From here on the token is never sent; callers wait for a fetch instead.
    expires_at: Instant,
}

/// What a caller may do with the cached token at a given instant.
enum Cached {
    Fresh(Secret),
    /// Valid, but due for refresh.
    Stale(Secret),
    Missing,
}

/// Everything needed to ask for a token; the secret stays inside a [`Secret`].
pub(crate) struct TokenSource {
    pub(crate) token_url: Url,
    pub(crate) login_base_url: String,
    pub(crate) client_id: String,
    pub(crate) client_secret: Secret,
}

/// The shared token cache. Cloning the client clones an `Arc` to this.
pub(crate) struct TokenCache {
    /// Shared with a background refresh, which may outlive the call that started it.
    state: Arc<State>,
}

struct State {
    source: TokenSource,
    /// The one execution path, shared with the REST calls.
    executor: Arc<Executor>,
    current: RwLock<Option<CachedToken>>,
    /// Held across every fetch so concurrent callers wait for one fetch instead of starting
    /// theirs; an `Arc` so a background refresh can own its guard.
    refresh: Arc<tokio::sync::Mutex<()>>,
    /// Fetches finished so far, so a caller that queued behind a failed fetch can tell.
    fetches: AtomicU64,
    /// The last fetch's error, for the callers that waited on that fetch: they get it too,
    /// instead of each repeating a fetch (and its retries) that just failed.
    last_failure: Mutex<Option<ApiError>>,
    /// No background refresh starts before this (set after one failed).
    next_background: Mutex<Option<Instant>>,
}

/// A copy of a failed fetch's `error` for the callers that waited on that fetch.
///
/// NB: `ApiError::Transport` and `ApiError::Decode` hold sources that cannot be cloned, so those
/// reach the waiters as `TokenFetchFailed`, keeping the original kind and text. The one caller
/// whose fetch failed still gets the original, with its source chain.
fn share(error: &ApiError, login_base_url: &str) -> ApiError {
    match error {
        ApiError::InvalidClient {
            client_id,
            login_url,
            description,
        } => ApiError::InvalidClient {
            client_id: client_id.clone(),
            login_url: login_url.clone(),
            description: description.clone(),
        },
        ApiError::Status {
            endpoint,
            status,
            message,
            correlation_id,
        } => ApiError::Status {
            endpoint,
            status: *status,
            message: message.clone(),
            correlation_id: correlation_id.clone(),
        },
        other => ApiError::TokenFetchFailed {
            kind: other.kind(),
            message: format!("token request to {login_base_url} failed: {other}"),
        },
    }
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = &self.state.source;
        f.debug_struct("TokenCache")
            .field("client_id", &source.client_id)
            .field("token_url", &source.token_url.as_str())
            .finish_non_exhaustive()
    }
}

impl TokenCache {
    pub(crate) fn new(source: TokenSource, executor: Arc<Executor>) -> Self {
        let state = State {
            source,
            executor,
            current: RwLock::new(None),
            refresh: Arc::new(tokio::sync::Mutex::new(())),
            fetches: AtomicU64::new(0),
            last_failure: Mutex::new(None),
            next_background: Mutex::new(None),
        };
        Self {
            state: Arc::new(state),
        }
    }

    /// A token that has not expired: the cached one (starting its background refresh when it
    /// is due), else one fetched now.
    pub(crate) async fn token(&self) -> Result<Secret, ApiError> {
        match self.state.cached(Instant::now()) {
            Cached::Fresh(token) => return Ok(token),
            Cached::Stale(token) => {
                self.refresh_in_background();
                return Ok(token);
            }
            Cached::Missing => {}
        }
        let state = &self.state;
        let seen = state.fetches.load(Ordering::SeqCst);
        let _flight = state.refresh.lock().await;
        if let Cached::Fresh(token) | Cached::Stale(token) = state.cached(Instant::now()) {
            return Ok(token);
        }
        if state.fetches.load(Ordering::SeqCst) != seen {
            let failure = lock(&state.last_failure);
            if let Some(error) = failure.as_ref() {
                return Err(share(error, &state.source.login_base_url));
            }
        }
        state.fetch_and_store().await
    }

    /// Starts the one refresh of a token that is due, unless a fetch is already under way or
    /// the last background refresh failed a moment ago.
    fn refresh_in_background(&self) {
        let now = Instant::now();
        if lock(&self.state.next_background).is_some_and(|at| now < at) {
            return;
        }
        let Ok(flight) = self.state.refresh.clone().try_lock_owned() else {
            return;
        };
        let state = self.state.clone();
        // NB: detached on purpose: the refresh must not die with the call that noticed it was
        // due, and it ends by itself (the fetch's retries are bounded).
        tokio::spawn(async move {
            let _flight = flight;
            if !matches!(state.cached(Instant::now()), Cached::Stale(_)) {
                return;
            }
            if let Err(error) = state.fetch_and_store().await {
                *lock(&state.next_background) = Some(Instant::now() + FAILED_REFRESH_PAUSE);
                log_unless_reported!(
                    warn,
                    error.kind(),
                    kind = error.kind(),
                    error = %error,
                    "token refresh failed; the current token is used until it expires"
                );
            }
        });
    }

    /// Forgets `rejected` if it is still the cached token. A token that was already replaced
    /// is left alone, so many callers holding the same revoked token cause one refresh.
    pub(crate) fn invalidate(&self, rejected: &Secret) {
        let mut current = write(&self.state.current);
        if current.as_ref().is_some_and(|c| c.value == *rejected) {
            *current = None;
        }
    }

    /// Moves the cached token's deadlines, so tests can reach them without waiting hours.
    #[cfg(test)]
    pub(crate) fn set_deadlines(&self, refresh_at: Instant, expires_at: Instant) {
        if let Some(cached) = write(&self.state.current).as_mut() {
            cached.refresh_at = refresh_at;
            cached.expires_at = expires_at;
        }
    }
}

impl State {
    fn cached(&self, now: Instant) -> Cached {
        let current = crate::sync::read(&self.current);
        match current.as_ref() {
            Some(c) if now < c.refresh_at => Cached::Fresh(c.value.clone()),
            Some(c) if now < c.expires_at => Cached::Stale(c.value.clone()),
            _ => Cached::Missing,
        }
    }

    /// One fetch, its outcome counted, cached and kept for the callers that waited on it.
    /// Called only with the refresh lock held.
    async fn fetch_and_store(&self) -> Result<Secret, ApiError> {
        // NB: lifetimes count from before the request, not from the answer, so our deadlines
        // fall before the server's whatever the round trip (and retries) took.
        let requested = Instant::now();
        let result = self.fetch().await;
        self.fetches.fetch_add(1, Ordering::SeqCst);
        self.executor.telemetry.token_fetched(result.is_ok());
        let fetched = match result {
            Ok(fetched) => fetched,
            Err(error) => {
                *lock(&self.last_failure) = Some(share(&error, &self.source.login_base_url));
                return Err(error);
            }
        };
        *lock(&self.last_failure) = None;
        *lock(&self.next_background) = None;
        let value = Secret::new(fetched.access_token);
        let lifetime = Duration::from_secs(fetched.expires_in).min(MAX_LIFETIME);
        *write(&self.current) = Some(CachedToken {
            value: value.clone(),
            refresh_at: refresh_due_at(requested, lifetime),
            expires_at: usable_until(requested, lifetime),
        });
        tracing::debug!(expires_in = fetched.expires_in, "fetched OAuth token");
        Ok(value)
    }

    /// One grant through the one execution path (429, 5xx and transport errors retried); a
    /// rejected client is final.
    async fn fetch(&self) -> Result<TokenResponse, ApiError> {
        let source = &self.source;
        let request = Request {
            endpoint: Endpoint::Token,
            method: Method::POST,
            url: &source.token_url,
            body: Some(Body::Form(&[("grant_type", "client_credentials")])),
            credentials: Credentials::Basic {
                id: &source.client_id,
                secret: &source.client_secret,
            },
            limit: MAX_TOKEN_RESPONSE_BYTES,
        };
        let endpoint = Endpoint::Token.as_str();
        let error = match self.executor.execute(&request).await {
            Ok(body) => {
                return serde_json::from_slice(&body)
                    .map_err(|source| ApiError::Decode { endpoint, source });
            }
            Err(Failure::Refused {
                status: StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED,
                body,
                ..
            }) => return Err(self.invalid_client(&body)),
            Err(failure) => self.naming_the_login(failure.into()),
        };
        log_unless_reported!(warn, error.kind(), endpoint, error = %error, "token request failed");
        Err(error)
    }

    /// A status error of the token request says which login it was sent to.
    fn naming_the_login(&self, error: ApiError) -> ApiError {
        match error {
            ApiError::Status {
                endpoint, status, ..
            } => ApiError::Status {
                endpoint,
                status,
                message: format!("token request to {} failed", self.source.login_base_url),
                correlation_id: "none".to_owned(),
            },
            other => other,
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
mod tests;

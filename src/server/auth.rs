//! Basic auth and the extra response headers from the web config, on every route but the
//! probes when `web.unauthenticated_probes` is set (kubelet probes carry no credentials).
//!
//! bcrypt is slow on purpose (tens of milliseconds at cost 10), so checks run one at a time off
//! the async threads, and a verified (user, password, hash) is remembered by its SHA-256, never
//! in clear, so a scraper's every-15-s request costs one hash, not one bcrypt. An unknown user
//! is checked against a decoy hash, so the time taken does not tell which users exist.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use tokio::sync::Semaphore;
use tracing::warn;

use super::tls::WebConfigSource;
use crate::sync::lock;

/// How many verified credentials are remembered; beyond it the memory starts afresh.
const REMEMBERED: usize = 100;

/// What the auth layer needs; shared by every request.
pub(crate) struct Gate {
    pub source: WebConfigSource,
    /// `/healthz` and `/readyz` skip authentication.
    pub unauthenticated_probes: bool,
    verified: Mutex<HashSet<[u8; 32]>>,
    one_at_a_time: Semaphore,
}

impl Gate {
    pub(crate) fn new(source: WebConfigSource, unauthenticated_probes: bool) -> Gate {
        Gate {
            source,
            unauthenticated_probes,
            verified: Mutex::default(),
            one_at_a_time: Semaphore::new(1),
        }
    }

    async fn verify(&self, user: &str, password: &str, hash: Option<&str>) -> bool {
        let digest = fingerprint(user, password, hash.unwrap_or_default());
        if hash.is_some() && lock(&self.verified).contains(&digest) {
            return true;
        }
        let Ok(_turn) = self.one_at_a_time.acquire().await else {
            return false;
        };
        let (password, hash) = (password.to_owned(), hash.map(str::to_owned));
        let checked = tokio::task::spawn_blocking(move || {
            let known = hash.is_some();
            let hash = hash.unwrap_or_else(|| decoy().to_owned());
            bcrypt::verify(password, &hash).unwrap_or(false) && known
        })
        .await
        .unwrap_or(false);
        if checked {
            let mut verified = lock(&self.verified);
            if verified.len() >= REMEMBERED {
                verified.clear();
            }
            verified.insert(digest);
        }
        checked
    }
}

/// The middleware: auth where configured, then the configured headers on whatever answers.
pub(crate) async fn guard(State(gate): State<Arc<Gate>>, request: Request, next: Next) -> Response {
    let active = match gate.source.current() {
        Ok(active) => active,
        Err(_) => {
            // NB: the reason is logged once when the file changes; a client learns nothing.
            return (StatusCode::INTERNAL_SERVER_ERROR, "web config invalid\n").into_response();
        }
    };
    let users = &active.config.users;
    let probe = matches!(request.uri().path(), "/healthz" | "/readyz");
    let open = users.is_empty() || (probe && gate.unauthenticated_probes);
    let sent = credentials(request.headers().get(header::AUTHORIZATION));
    let mut response = if open || authorized(&gate, users, sent).await {
        next.run(request).await
    } else {
        unauthorized()
    };
    for (name, value) in &active.config.headers {
        response.headers_mut().insert(name.clone(), value.clone());
    }
    response
}

async fn authorized(
    gate: &Gate,
    users: &std::collections::BTreeMap<String, String>,
    sent: Option<(String, String)>,
) -> bool {
    let Some((user, password)) = sent else {
        return false;
    };
    let ok = gate
        .verify(&user, &password, users.get(&user).map(String::as_str))
        .await;
    if !ok {
        // NB: the user name is what the client sent; the password never appears.
        warn!(user = %user.escape_debug(), "basic auth refused");
    }
    ok
}

fn unauthorized() -> Response {
    let mut response = (StatusCode::UNAUTHORIZED, "Unauthorized\n").into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic"));
    response
}

/// User and password from `Authorization: Basic …`.
fn credentials(value: Option<&HeaderValue>) -> Option<(String, String)> {
    let value = value?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// A digest of the three with their lengths, so no two different triples share it.
fn fingerprint(user: &str, password: &str, hash: &str) -> [u8; 32] {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    for part in [user, password, hash] {
        context.update(&(part.len() as u64).to_le_bytes());
        context.update(part.as_bytes());
    }
    let mut digest = [0; 32];
    digest.copy_from_slice(context.finish().as_ref());
    digest
}

/// A hash of a random password at the usual cost, made once.
fn decoy() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let password: [u8; 16] = rand::random();
        bcrypt::hash(password, 10).unwrap_or_default()
    })
}

//! OAuth client credentials (docs/genesys-api.md#oauth-token): the token endpoint and the token
//! store the gate checks bearer tokens against.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;

use crate::genesys::model::{OAuthError, TokenResponse};

use super::Sim;
use super::config::SimConfig;
use crate::sync::lock;

pub(crate) struct AuthState {
    client_id: String,
    client_secret: String,
    ttl: Duration,
    /// token → (client id, expiry).
    tokens: Mutex<HashMap<String, (String, Instant)>>,
    /// Every token issued, the latest `ISSUED_KEPT`.
    issued: Mutex<std::collections::VecDeque<String>>,
}

const ISSUED_KEPT: usize = 1_000;

impl AuthState {
    pub(crate) fn new(config: &SimConfig) -> Self {
        Self {
            client_id: config.client_id.clone(),
            client_secret: config.client_secret.clone(),
            ttl: config.token_ttl,
            tokens: Mutex::new(HashMap::new()),
            issued: Mutex::default(),
        }
    }

    pub(crate) fn issued(&self) -> Vec<String> {
        lock(&self.issued).iter().cloned().collect()
    }

    pub(crate) fn revoke_all(&self) {
        lock(&self.tokens).clear();
    }

    fn issue(&self) -> String {
        let mut bytes = [0u8; 32];
        rand::Rng::fill(&mut rand::rng(), &mut bytes[..]);
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let expires = Instant::now() + self.ttl;
        lock(&self.tokens).insert(token.clone(), (self.client_id.clone(), expires));
        let mut issued = lock(&self.issued);
        if issued.len() >= ISSUED_KEPT {
            issued.pop_front();
        }
        issued.push_back(token.clone());
        token
    }

    pub(crate) fn client_of(&self, token: &str) -> Option<String> {
        let tokens = lock(&self.tokens);
        let (client, expires) = tokens.get(token)?;
        (Instant::now() < *expires).then(|| client.clone())
    }
}

/// `POST /oauth/token`: client credentials in Basic auth, grant in a form body.
pub(crate) async fn token(
    State(sim): State<Arc<Sim>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form_type {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "expected a form body",
        );
    }
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| {
            base64::engine::general_purpose::STANDARD
                .decode(v.trim())
                .ok()
        })
        .and_then(|v| String::from_utf8(v).ok());
    let valid = basic
        .as_deref()
        .and_then(|v| v.split_once(':'))
        .is_some_and(|(id, secret)| id == sim.auth.client_id && secret == sim.auth.client_secret);
    if !valid {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client not found",
        );
    }
    let form = form_pairs(&String::from_utf8_lossy(&body));
    if !form
        .iter()
        .any(|(k, v)| k == "grant_type" && v == "client_credentials")
    {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant_type must be client_credentials",
        );
    }
    let response = TokenResponse {
        access_token: sim.auth.issue(),
        token_type: "bearer".to_owned(),
        expires_in: sim.auth.ttl.as_secs(),
    };
    Json(response).into_response()
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    let body = OAuthError {
        error: error.to_owned(),
        description: description.to_owned(),
        error_description: description.to_owned(),
    };
    (status, Json(body)).into_response()
}

/// Decodes `application/x-www-form-urlencoded` text (a form body or a query string).
pub(crate) fn form_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let byte = bytes
                    .get(i + 1..i + 3)
                    .and_then(|hex| std::str::from_utf8(hex).ok())
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok());
                match byte {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests;

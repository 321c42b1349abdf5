//! Errors from the Genesys Cloud API boundary. `kind()` is the metric/log label.

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Credentials rejected by `/oauth/token`; retrying will not help.
    #[error("OAuth client {client_id} was rejected by {login_url}: {description}")]
    InvalidClient {
        client_id: String,
        login_url: String,
        description: String,
    },
    /// A non-2xx answer that is not retried (or whose retries ran out).
    #[error("{endpoint} answered HTTP {status}: {message} (correlation id {correlation_id})")]
    Status {
        endpoint: &'static str,
        status: u16,
        message: String,
        correlation_id: String,
    },
    #[error("{endpoint}: request failed: {source}")]
    Transport {
        endpoint: &'static str,
        #[source]
        source: reqwest::Error,
    },
    /// The way out failed in a way config fixes (a proxy down or refusing, TLS not trusted).
    #[error("{endpoint}: {failure}")]
    Connectivity {
        endpoint: &'static str,
        failure: crate::genesys::egress::Failure,
    },
    /// A response body past the size limit: a fault upstream or in between, never data.
    #[error("{endpoint}: response body larger than {limit} bytes; not read")]
    TooLarge {
        endpoint: &'static str,
        limit: usize,
    },
    #[error("{endpoint}: unexpected response body: {source}")]
    Decode {
        endpoint: &'static str,
        #[source]
        source: serde_json::Error,
    },
    /// Another task's token fetch failed with `kind`; waiters get this copy, since transport
    /// and decode errors cannot be cloned.
    #[error("token fetch failed: {message}")]
    TokenFetchFailed { kind: &'static str, message: String },
    /// Configured queues that do not exist (a typo, a deleted or renamed queue).
    #[error("no configured queue exists: {missing}")]
    QueueNotFound { missing: String },
    /// The TLS client could not be set up (the system's roots unreadable, say).
    #[error("TLS setup failed: {message}")]
    Tls { message: String },
    #[error("invalid base URL {url}: {reason}")]
    BadUrl { url: String, reason: String },
}

impl ApiError {
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::InvalidClient { .. } => "invalid_client",
            Self::Status { status: 429, .. } => "rate_limited",
            Self::Status {
                status: 401 | 403, ..
            } => "unauthorized",
            Self::Status { status: 404, .. } => "not_found",
            Self::Status { status: 500.., .. } => "server_error",
            Self::Status { .. } => "client_error",
            Self::Transport { .. } => "transport",
            Self::Connectivity { failure, .. } => {
                crate::vocabulary::labels::LabelValue::as_str(failure.cause)
            }
            Self::Decode { .. } => "decode",
            Self::TooLarge { .. } => "too_large",
            Self::BadUrl { .. } => "bad_url",
            Self::Tls { .. } => "tls",
            Self::QueueNotFound { .. } => "queue_not_found",
            Self::TokenFetchFailed { kind, .. } => kind,
        }
    }

    /// The HTTP status, when the server answered at all.
    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

//! Serde types for the Genesys Cloud API subset in `docs/genesys-api.md`, shared by the exporter
//! (as a client) and the simulator (as a server), so both sides agree on every field name by
//! construction.
//!
//! Unknown fields are ignored everywhere (upstream adds fields without notice); optional fields
//! are `Option` or `#[serde(default)]` because Genesys omits what it has nothing to say about.

pub mod actions;
pub mod activity;
pub mod analytics;
pub mod flows;
pub mod notifications;
pub mod presence;
pub mod routing;
pub mod telephony;
pub mod users;

pub use actions::*;
pub use activity::*;
pub use analytics::*;
pub use flows::*;
pub use notifications::*;
pub use presence::*;
pub use routing::*;
pub use telephony::*;
pub use users::*;

use serde::{Deserialize, Serialize};

/// The error envelope of every non-2xx response from `api.`
/// (docs/genesys-api.md#errors-rate-limits-and-retries).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_id: Option<String>,
    #[serde(default)]
    pub details: Vec<serde_json::Value>,
    #[serde(default)]
    pub errors: Vec<serde_json::Value>,
}

/// A successful client-credentials grant (docs/genesys-api.md#oauth-token).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TokenResponse {
    pub access_token: String,
    #[serde(default)]
    pub token_type: String,
    /// Seconds; orgs may shorten it, so it is never assumed.
    pub expires_in: u64,
}

/// The body of a rejected grant (docs/genesys-api.md#oauth-token).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct OAuthError {
    #[serde(default)]
    pub error: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub error_description: String,
}

//! Everything that speaks to Genesys Cloud: regions, OAuth, the REST client and the wire types.

pub(crate) mod auth;
pub(crate) mod client;
pub mod egress;
pub(crate) mod error;
pub(crate) mod execute;
pub mod model;
pub mod proxy;
pub(crate) mod region;
pub(crate) mod telemetry;
pub(crate) mod time;
pub mod trust;

pub(crate) use client::{ClientSettings, GenesysClient};
pub(crate) use error::ApiError;

/// Installs rustls' process-wide crypto provider (ring: no OpenSSL, no cmake). Every HTTP or
/// WebSocket client calls this first; repeated calls are harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

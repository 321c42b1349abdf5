//! Everything that speaks to Genesys Cloud: regions, OAuth, the REST client and the wire types.

pub mod auth;
pub mod client;
pub mod egress;
pub mod error;
pub(crate) mod execute;
pub mod model;
pub mod proxy;
pub mod region;
pub(crate) mod telemetry;
pub mod time;
pub mod trust;

pub use client::{ClientSettings, GenesysClient};
pub use error::ApiError;
pub use region::Region;

/// Installs rustls' process-wide crypto provider (ring: no OpenSSL, no cmake). Every HTTP or
/// WebSocket client calls this first; repeated calls are harmless.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

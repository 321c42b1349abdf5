//! Which servers the exporter trusts upstream: the system's roots, as the platform verifier
//! reads them, plus an optional CA bundle (`tls.ca_file`) for networks that inspect TLS with a
//! private CA. One trust for OAuth, REST and the notifications WebSocket alike: reqwest merges
//! the bundle into its own verifier, and the WebSocket gets a rustls client config built here.

use std::path::Path;
use std::sync::Arc;

use rustls::ClientConfig;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// The extra CA certificates, beside the system's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trust {
    extra_roots: Vec<CertificateDer<'static>>,
}

impl Trust {
    /// The PEM bundle at `path`: at least one certificate, every block a certificate.
    pub fn from_pem_file(path: &Path) -> Result<Trust, String> {
        let pem = std::fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
        let extra_roots: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("not a PEM certificate bundle: {e}"))?;
        if extra_roots.is_empty() {
            return Err("holds no certificate".to_owned());
        }
        Ok(Trust { extra_roots })
    }

    /// The extra roots as reqwest takes them.
    pub(crate) fn reqwest_roots(&self) -> Result<Vec<reqwest::Certificate>, reqwest::Error> {
        self.extra_roots
            .iter()
            .map(|der| reqwest::Certificate::from_der(der))
            .collect()
    }

    /// A rustls client config for the WebSocket: the platform's roots and the extra ones.
    pub fn websocket_config(&self) -> Result<Arc<ClientConfig>, rustls::Error> {
        crate::genesys::install_crypto_provider();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(
            self.extra_roots.iter().cloned(),
            provider.clone(),
        )?;
        // NB: "dangerous" is rustls's name for any verifier of one's own; this one is the
        // platform's, doing full verification.
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        Ok(Arc::new(config))
    }
}

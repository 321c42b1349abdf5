//! The web config in force, and TLS from it. The file and every PEM file it names are checked
//! for changes on each request and each new connection (one `stat` each), and reloaded when
//! they change: a renewed certificate is served from the next handshake and a changed user list
//! applies to the next request, as with the toolkit, which re-reads them every time. A file that
//! turns invalid fails closed (handshakes refused, 500s) until it is fixed, and says so in the
//! log once.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use rustls::RootCertStore;
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tracing::{error, info};

use super::web_config::{ClientAuth, Pem, TlsSettings, WebConfig, WebConfigError};

/// A loaded web config, with its TLS server config built.
#[derive(Debug)]
pub(crate) struct Active {
    pub config: WebConfig,
    pub tls: Option<Arc<ServerConfig>>,
}

/// The web config file, reloaded when it or a file it names changes.
#[derive(Debug)]
pub struct WebConfigSource {
    path: PathBuf,
    loaded: Mutex<Loaded>,
    /// Whether the server speaks TLS; fixed at start, as in the toolkit.
    pub serves_tls: bool,
}

#[derive(Debug)]
struct Loaded {
    stamps: Vec<(PathBuf, Option<Stamp>)>,
    result: Result<Arc<Active>, String>,
}

/// What changes when a file is replaced or rewritten (Kubernetes swaps a symlinked directory).
type Stamp = (SystemTime, u64, u64);

fn stamp(path: &Path) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len(), meta.ino()))
}

impl WebConfigSource {
    /// Loads `path`; an invalid file is an error here, at start.
    pub(crate) fn open(path: &Path) -> Result<WebConfigSource, WebConfigError> {
        let Loaded { stamps, result } = load(path);
        let active = result.map_err(WebConfigError)?;
        Ok(WebConfigSource {
            path: path.to_owned(),
            serves_tls: active.tls.is_some(),
            loaded: Mutex::new(Loaded {
                stamps,
                result: Ok(active),
            }),
        })
    }

    /// The config in force, reloaded first if a file changed.
    pub(crate) fn current(&self) -> Result<Arc<Active>, String> {
        let mut loaded = crate::sync::lock(&self.loaded);
        let changed = loaded.stamps.iter().any(|(path, was)| stamp(path) != *was);
        if changed {
            let reloaded = load(&self.path);
            match &reloaded.result {
                Ok(_) => info!(path = %self.path.display(), "web config reloaded"),
                Err(problem) => error!(
                    path = %self.path.display(),
                    %problem,
                    "web config invalid; refusing requests until it is fixed"
                ),
            }
            *loaded = reloaded;
        }
        loaded.result.clone()
    }
}

/// Reads the file and builds its TLS config; the files to watch come back either way.
fn load(path: &Path) -> Loaded {
    let mut watched = vec![path.to_owned()];
    let result = (|| {
        let config = WebConfig::load(path).map_err(|e| e.0)?;
        if let Some(tls) = &config.tls {
            let files = [Some(&tls.cert), Some(&tls.key), tls.client_ca.as_ref()];
            for pem in files.into_iter().flatten() {
                if let Pem::File(file) = pem {
                    watched.push(file.clone());
                }
            }
        }
        let tls = config.tls.as_ref().map(server_config).transpose()?;
        Ok(Arc::new(Active {
            config,
            tls: tls.map(Arc::new),
        }))
    })();
    let stamps = watched.into_iter().map(|p| {
        let s = stamp(&p);
        (p, s)
    });
    Loaded {
        stamps: stamps.collect(),
        result,
    }
}

fn read_pem(pem: &Pem, key: &str) -> Result<Vec<u8>, String> {
    match pem {
        Pem::Inline(text) => Ok(text.as_bytes().to_vec()),
        Pem::File(path) => std::fs::read(path).map_err(|e| {
            format!(
                "tls_server_config.{key}_file ({}): cannot read it: {e}",
                path.display()
            )
        }),
    }
}

/// A rustls server config for `tls`: its versions, suites and curves, its certificate and key,
/// and the client verification asked for.
pub(crate) fn server_config(tls: &TlsSettings) -> Result<ServerConfig, String> {
    let provider = Arc::new(provider(tls));
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(&read_pem(&tls.cert, "cert")?)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("tls_server_config.cert: not a PEM certificate: {e}"))?;
    if certs.is_empty() {
        return Err("tls_server_config.cert: holds no certificate".to_owned());
    }
    let key = PrivateKeyDer::from_pem_slice(&read_pem(&tls.key, "key")?)
        .map_err(|e| format!("tls_server_config.key: not a PEM private key: {e}"))?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&tls.versions)
        .map_err(|e| format!("tls_server_config: {e}"))?;
    let builder = match (tls.client_auth, &tls.client_ca) {
        (ClientAuth::NoClientCert, _) | (_, None) => builder.with_no_client_auth(),
        (auth, Some(ca)) => {
            let mut roots = RootCertStore::empty();
            for cert in CertificateDer::pem_slice_iter(&read_pem(ca, "client_ca")?) {
                let cert =
                    cert.map_err(|e| format!("tls_server_config.client_ca: not PEM: {e}"))?;
                roots
                    .add(cert)
                    .map_err(|e| format!("tls_server_config.client_ca: {e}"))?;
            }
            let mut verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
            if auth == ClientAuth::VerifyClientCertIfGiven {
                verifier = verifier.allow_unauthenticated();
            }
            let verifier = verifier
                .build()
                .map_err(|e| format!("tls_server_config.client_ca: {e}"))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder.with_single_cert(certs, key).map_err(|e| {
        format!("tls_server_config: the certificate and key do not go together: {e}")
    })?;
    config.ignore_client_order = tls.prefer_server_cipher_suites;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Whether the client's certificate (the first of `presented`) carries one of `allowed` as a
/// DNS or URI subject alternative name, exactly. No certificate is no match. NB: Go's toolkit
/// also matches IP and email names; webpki reads only these two, so an entry meant for an IP
/// or email name refuses the client: stricter, never looser.
pub(crate) fn client_san_allowed(
    presented: Option<&[CertificateDer<'_>]>,
    allowed: &[String],
) -> bool {
    let Some(leaf) = presented.and_then(<[_]>::first) else {
        return false;
    };
    let Ok(cert) = webpki::EndEntityCert::try_from(leaf) else {
        return false;
    };
    let mut names = cert.valid_dns_names().chain(cert.valid_uri_names());
    names.any(|name| allowed.iter().any(|a| a == name))
}

/// ring's provider narrowed to the configured TLS 1.2 suites (TLS 1.3's stay) and curves.
fn provider(tls: &TlsSettings) -> rustls::crypto::CryptoProvider {
    let mut provider = rustls::crypto::ring::default_provider();
    if !tls.cipher_suites.is_empty() {
        let chosen = |suite: &rustls::SupportedCipherSuite| {
            suite.version() == &rustls::version::TLS13
                || tls.cipher_suites.iter().any(|c| c.suite() == suite.suite())
        };
        provider.cipher_suites.retain(chosen);
    }
    if !tls.curves.is_empty() {
        provider.kx_groups = tls.curves.clone();
    }
    provider
}

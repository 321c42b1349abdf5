//! The Prometheus exporter-toolkit web configuration file (`--web.config.file`), read the way
//! node_exporter reads it, so an operator's existing file works unchanged: TLS (certificate and
//! key, client CA and client auth type, TLS versions, cipher suites, curves), bcrypt basic-auth
//! users and extra response headers. As with the toolkit, unknown keys are errors, an empty
//! file means plain HTTP and no auth, and relative paths are relative to the file's directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use axum::http::{HeaderName, HeaderValue};
use rustls::SupportedProtocolVersion;
use rustls::crypto::SupportedKxGroup;
use rustls::crypto::ring::{cipher_suite, kx_group};
use yaml_rust2::{Yaml, YamlLoader};

/// What the file asks for.
#[derive(Debug, Default)]
pub(crate) struct WebConfig {
    pub tls: Option<TlsSettings>,
    /// User name → bcrypt hash; empty means no authentication.
    pub users: BTreeMap<String, String>,
    /// Set on every response, 401s included.
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

#[derive(Debug)]
pub(crate) struct TlsSettings {
    pub cert: Pem,
    pub key: Pem,
    pub client_ca: Option<Pem>,
    pub client_auth: ClientAuth,
    /// Client certificates must carry one of these as a DNS or URI subject alternative name
    /// (exact match); `None`: any certificate the CA verifies.
    pub allowed_sans: Option<Vec<String>>,
    pub versions: Vec<&'static SupportedProtocolVersion>,
    /// TLS 1.2 suites to allow; empty means rustls's defaults. TLS 1.3 suites are not
    /// configurable, as in Go.
    pub cipher_suites: Vec<rustls::SupportedCipherSuite>,
    /// Key exchange groups in order of preference; empty means rustls's defaults.
    pub curves: Vec<&'static dyn SupportedKxGroup>,
    pub prefer_server_cipher_suites: bool,
}

/// A PEM document, from a file (re-read when it changes) or inline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pem {
    File(PathBuf),
    Inline(String),
}

/// Go's `tls.ClientAuthType`, as far as rustls offers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClientAuth {
    NoClientCert,
    /// A certificate, if sent, must verify against the client CA.
    VerifyClientCertIfGiven,
    /// A certificate must be sent and verify against the client CA.
    RequireAndVerifyClientCert,
}

/// A problem with the file, naming its key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct WebConfigError(pub String);

fn problem(key: &str, what: impl std::fmt::Display) -> WebConfigError {
    WebConfigError(format!("{key}: {what}"))
}

const TOP_LEVEL: &[&str] = &[
    "tls_server_config",
    "http_server_config",
    "basic_auth_users",
    "rate_limit",
];
const TLS_KEYS: &[&str] = &[
    "cert",
    "key",
    "cert_file",
    "key_file",
    "client_ca",
    "client_ca_file",
    "client_auth_type",
    "client_allowed_sans",
    "min_version",
    "max_version",
    "cipher_suites",
    "prefer_server_cipher_suites",
    "curve_preferences",
];
const HTTP_KEYS: &[&str] = &["http2", "headers"];

impl WebConfig {
    /// Reads and parses the file at `path` (its certificates are loaded by `tls`).
    pub(crate) fn load(path: &Path) -> Result<WebConfig, WebConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| WebConfigError(format!("cannot read it: {e}")))?;
        Self::parse(&text, path.parent().unwrap_or(Path::new(".")))
    }

    /// Parses `text`; relative paths are taken from `dir`.
    pub(crate) fn parse(text: &str, dir: &Path) -> Result<WebConfig, WebConfigError> {
        let documents = YamlLoader::load_from_str(text).map_err(|e| {
            WebConfigError(format!(
                "YAML syntax error at line {} column {}: {}",
                e.marker().line(),
                e.marker().col() + 1,
                e.info()
            ))
        })?;
        let root = match documents.into_iter().next() {
            None | Some(Yaml::Null) => return Ok(WebConfig::default()),
            Some(root) => root,
        };
        let root = mapping(&root, "the file")?;
        only_known(&root, TOP_LEVEL, "")?;
        let mut config = WebConfig::default();
        if let Some(tls) = root.get("tls_server_config") {
            config.tls = tls_settings(tls, dir)?;
        }
        if let Some(http) = root.get("http_server_config") {
            config.headers = http_settings(http)?;
        }
        if let Some(users) = root.get("basic_auth_users") {
            config.users = users_of(users)?;
        }
        if let Some(rate_limit) = root.get("rate_limit") {
            check_rate_limit(rate_limit)?;
        }
        Ok(config)
    }
}

type Mapping<'a> = BTreeMap<String, &'a Yaml>;

fn mapping<'a>(yaml: &'a Yaml, key: &str) -> Result<Mapping<'a>, WebConfigError> {
    match yaml {
        Yaml::Null => Ok(Mapping::new()),
        Yaml::Hash(hash) => hash
            .iter()
            .map(|(k, v)| match k {
                Yaml::String(k) => Ok((k.clone(), v)),
                other => Err(problem(key, format!("key {other:?} is not a string"))),
            })
            .collect(),
        _ => Err(problem(key, "is not a mapping")),
    }
}

fn only_known(map: &Mapping<'_>, known: &[&str], parent: &str) -> Result<(), WebConfigError> {
    match map.keys().find(|k| !known.contains(&k.as_str())) {
        Some(unknown) => Err(problem(
            &format!("{parent}{unknown}"),
            format!("unknown key; known here: {}", known.join(", ")),
        )),
        None => Ok(()),
    }
}

fn string(yaml: &Yaml, key: &str) -> Result<Option<String>, WebConfigError> {
    match yaml {
        Yaml::Null => Ok(None),
        Yaml::String(s) => Ok((!s.is_empty()).then(|| s.clone())),
        Yaml::Integer(i) => Ok(Some(i.to_string())),
        Yaml::Real(r) => Ok(Some(r.clone())),
        _ => Err(problem(key, "is not a string")),
    }
}

fn strings(yaml: &Yaml, key: &str) -> Result<Vec<String>, WebConfigError> {
    match yaml {
        Yaml::Null => Ok(Vec::new()),
        Yaml::Array(items) => items
            .iter()
            .map(|item| string(item, key).map(Option::unwrap_or_default))
            .collect(),
        _ => Err(problem(key, "is not a list")),
    }
}

fn boolean(yaml: &Yaml, key: &str) -> Result<Option<bool>, WebConfigError> {
    match yaml {
        Yaml::Null => Ok(None),
        Yaml::Boolean(b) => Ok(Some(*b)),
        _ => Err(problem(key, "is not true or false")),
    }
}

fn text_at(map: &Mapping<'_>, key: &str, full: &str) -> Result<Option<String>, WebConfigError> {
    map.get(key).map_or(Ok(None), |v| string(v, full))
}

/// The file form wins over the inline one, as in the toolkit.
fn pem_at(map: &Mapping<'_>, name: &str, dir: &Path) -> Result<Option<Pem>, WebConfigError> {
    let file_key = format!("{name}_file");
    let full = |k: &str| format!("tls_server_config.{k}");
    if let Some(file) = text_at(map, &file_key, &full(&file_key))? {
        return Ok(Some(Pem::File(dir.join(file))));
    }
    Ok(text_at(map, name, &full(name))?.map(Pem::Inline))
}

fn tls_settings(yaml: &Yaml, dir: &Path) -> Result<Option<TlsSettings>, WebConfigError> {
    const SECTION: &str = "tls_server_config";
    let map = mapping(yaml, SECTION)?;
    only_known(&map, TLS_KEYS, "tls_server_config.")?;
    let full = |k: &str| format!("{SECTION}.{k}");
    let cert = pem_at(&map, "cert", dir)?;
    let key = pem_at(&map, "key", dir)?;
    let client_ca = pem_at(&map, "client_ca", dir)?;
    let auth_type = text_at(&map, "client_auth_type", &full("client_auth_type"))?;
    if cert.is_none() && key.is_none() && client_ca.is_none() && auth_type.is_none() {
        // NB: as in the toolkit, a section with none of these leaves TLS off.
        return Ok(None);
    }
    let cert = cert.ok_or_else(|| problem(SECTION, "missing one of cert or cert_file"))?;
    let key = key.ok_or_else(|| problem(SECTION, "missing one of key or key_file"))?;
    let client_auth = client_auth_of(auth_type.as_deref())?;
    match (&client_ca, client_auth) {
        (Some(_), ClientAuth::NoClientCert) => {
            return Err(problem(
                &full("client_auth_type"),
                "a client CA is configured without a client auth type; use RequireAndVerifyClientCert",
            ));
        }
        (None, ClientAuth::VerifyClientCertIfGiven | ClientAuth::RequireAndVerifyClientCert) => {
            return Err(problem(
                &full("client_ca_file"),
                "client certificates are verified against a CA, and none is configured",
            ));
        }
        _ => {}
    }
    let allowed_sans = match map.get("client_allowed_sans") {
        None => None,
        Some(list) => Some(strings(list, &full("client_allowed_sans"))?),
    };
    if allowed_sans.is_some() && client_auth == ClientAuth::NoClientCert {
        return Err(problem(
            &full("client_allowed_sans"),
            "names client certificates, but none is asked for; set client_auth_type: RequireAndVerifyClientCert",
        ));
    }
    let min = version_at(&map, "min_version", &rustls::version::TLS12)?;
    let max = version_at(&map, "max_version", &rustls::version::TLS13)?;
    let versions: Vec<&'static SupportedProtocolVersion> = rustls::ALL_VERSIONS
        .iter()
        .copied()
        .filter(|v| rank(v) >= rank(min) && rank(v) <= rank(max))
        .collect();
    if versions.is_empty() {
        return Err(problem(&full("min_version"), "is above max_version"));
    }
    let suite_names = map
        .get("cipher_suites")
        .map_or(Ok(Vec::new()), |v| strings(v, &full("cipher_suites")))?;
    let cipher_suites = suite_names
        .iter()
        .map(|name| cipher_suite_named(name))
        .collect::<Result<_, _>>()?;
    let curve_names = map
        .get("curve_preferences")
        .map_or(Ok(Vec::new()), |v| strings(v, &full("curve_preferences")))?;
    let curves = curve_names
        .iter()
        .map(|name| curve_named(name))
        .collect::<Result<_, _>>()?;
    let prefer = map
        .get("prefer_server_cipher_suites")
        .map_or(Ok(None), |v| {
            boolean(v, &full("prefer_server_cipher_suites"))
        })?;
    Ok(Some(TlsSettings {
        cert,
        key,
        client_ca,
        client_auth,
        allowed_sans,
        versions,
        cipher_suites,
        curves,
        prefer_server_cipher_suites: prefer.unwrap_or(true),
    }))
}

fn client_auth_of(value: Option<&str>) -> Result<ClientAuth, WebConfigError> {
    let key = "tls_server_config.client_auth_type";
    match value.unwrap_or("NoClientCert") {
        "NoClientCert" => Ok(ClientAuth::NoClientCert),
        "VerifyClientCertIfGiven" => Ok(ClientAuth::VerifyClientCertIfGiven),
        "RequireAndVerifyClientCert" => Ok(ClientAuth::RequireAndVerifyClientCert),
        insecure @ ("RequestClientCert" | "RequireAnyClientCert" | "RequireClientCert") => {
            Err(problem(
                key,
                format!(
                    "{insecure} accepts certificates without verifying them and is not supported; use RequireAndVerifyClientCert"
                ),
            ))
        }
        other => Err(problem(
            key,
            format!(
                "`{other}` is not a client auth type; use NoClientCert, VerifyClientCertIfGiven or RequireAndVerifyClientCert"
            ),
        )),
    }
}

fn rank(version: &SupportedProtocolVersion) -> u16 {
    u16::from(version.version)
}

fn version_at(
    map: &Mapping<'_>,
    name: &str,
    default: &'static SupportedProtocolVersion,
) -> Result<&'static SupportedProtocolVersion, WebConfigError> {
    let key = format!("tls_server_config.{name}");
    match text_at(map, name, &key)?.as_deref() {
        None => Ok(default),
        Some("TLS12") => Ok(&rustls::version::TLS12),
        Some("TLS13") => Ok(&rustls::version::TLS13),
        Some(old @ ("TLS10" | "TLS11")) => Err(problem(
            &key,
            format!("{old} is insecure and not supported; use TLS12 or TLS13"),
        )),
        Some(other) => Err(problem(
            &key,
            format!("`{other}` is not a TLS version; use TLS12 or TLS13"),
        )),
    }
}

/// Go's names for the TLS 1.2 suites rustls has; the TLS 1.3 names are accepted and change
/// nothing, as in Go.
fn cipher_suite_named(name: &str) -> Result<rustls::SupportedCipherSuite, WebConfigError> {
    let suite = match name {
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256" => {
            cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
        }
        "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384" => {
            cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
        }
        "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
        | "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305" => {
            cipher_suite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
        }
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256" => {
            cipher_suite::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
        }
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" => {
            cipher_suite::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
        }
        "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256" | "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305" => {
            cipher_suite::TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
        }
        "TLS_AES_128_GCM_SHA256" => cipher_suite::TLS13_AES_128_GCM_SHA256,
        "TLS_AES_256_GCM_SHA384" => cipher_suite::TLS13_AES_256_GCM_SHA384,
        "TLS_CHACHA20_POLY1305_SHA256" => cipher_suite::TLS13_CHACHA20_POLY1305_SHA256,
        other => {
            return Err(problem(
                "tls_server_config.cipher_suites",
                format!(
                    "`{other}` is not a supported cipher suite; use ECDHE suites with AES-GCM or ChaCha20-Poly1305, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
                ),
            ));
        }
    };
    Ok(suite)
}

fn curve_named(name: &str) -> Result<&'static dyn SupportedKxGroup, WebConfigError> {
    match name {
        "X25519" => Ok(kx_group::X25519),
        "CurveP256" => Ok(kx_group::SECP256R1),
        "CurveP384" => Ok(kx_group::SECP384R1),
        other => Err(problem(
            "tls_server_config.curve_preferences",
            format!("`{other}` is not a supported curve; use X25519, CurveP256 or CurveP384"),
        )),
    }
}

/// The toolkit's allowed extra headers, and the values it allows for two of them.
fn http_settings(yaml: &Yaml) -> Result<Vec<(HeaderName, HeaderValue)>, WebConfigError> {
    let map = mapping(yaml, "http_server_config")?;
    only_known(&map, HTTP_KEYS, "http_server_config.")?;
    if let Some(http2) = map.get("http2") {
        // NB: the server speaks HTTP/1.1 (Prometheus scrapes over it); the key is accepted so a
        // node_exporter file works unchanged.
        boolean(http2, "http_server_config.http2")?;
    }
    let Some(headers) = map.get("headers") else {
        return Ok(Vec::new());
    };
    let headers = mapping(headers, "http_server_config.headers")?;
    let mut out = Vec::new();
    for (name, value) in headers {
        let key = format!("http_server_config.headers.{name}");
        let value = string(value, &key)?.unwrap_or_default();
        let allowed: Option<&[&str]> = match name.as_str() {
            "Strict-Transport-Security" | "X-XSS-Protection" | "Content-Security-Policy" => None,
            "X-Content-Type-Options" => Some(&["nosniff"]),
            "X-Frame-Options" => Some(&["deny", "sameorigin"]),
            _ => {
                return Err(problem(
                    &key,
                    "can not be configured; allowed: Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options, X-XSS-Protection, Content-Security-Policy",
                ));
            }
        };
        if let Some(allowed) = allowed
            && !allowed.contains(&value.as_str())
        {
            return Err(problem(
                &key,
                format!("`{value}` is not one of {}", allowed.join(", ")),
            ));
        }
        let header_name = HeaderName::from_str(&name).map_err(|e| problem(&key, e))?;
        let header_value = HeaderValue::from_str(&value).map_err(|e| problem(&key, e))?;
        out.push((header_name, header_value));
    }
    Ok(out)
}

fn users_of(yaml: &Yaml) -> Result<BTreeMap<String, String>, WebConfigError> {
    let map = mapping(yaml, "basic_auth_users")?;
    let mut users = BTreeMap::new();
    for (user, hash) in map {
        let key = format!("basic_auth_users.{user}");
        let hash = string(hash, &key)?.unwrap_or_default();
        // NB: the hash is checked, never echoed: it is a secret.
        bcrypt::HashParts::from_str(&hash).map_err(|_| {
            problem(
                &key,
                "is not a bcrypt hash (make one with htpasswd -nBC 10 \"\" | tr -d ':\\n')",
            )
        })?;
        users.insert(user, hash);
    }
    Ok(users)
}

/// The toolkit's `rate_limit` (interval, burst) is accepted only when it limits nothing.
fn check_rate_limit(yaml: &Yaml) -> Result<(), WebConfigError> {
    let map = mapping(yaml, "rate_limit")?;
    only_known(&map, &["interval", "burst"], "rate_limit.")?;
    let interval = text_at(&map, "interval", "rate_limit.interval")?;
    match interval.as_deref() {
        None | Some("0" | "0s") => Ok(()),
        Some(_) => Err(problem(
            "rate_limit",
            "is not supported; the server's own limits are web.max_connections and web.request_timeout",
        )),
    }
}

#[cfg(test)]
mod tests;

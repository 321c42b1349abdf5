//! Which upstream URLs go through an HTTP forward proxy, and the CONNECT tunnel through it.
//! One routing decision serves OAuth, REST and the WebSocket: reqwest is handed it as a custom
//! proxy (and tunnels `https://` itself), while the WebSocket, which tokio-tungstenite would
//! connect directly, asks [`Proxy::tunnel`] for a TCP stream to hand to its TLS handshake.
//!
//! The environment convention is Go's (`net/http/httpproxy`), which Prometheus operators know:
//! `HTTPS_PROXY` for `https`/`wss` targets, `HTTP_PROXY` for `http`/`ws`, `ALL_PROXY` for both,
//! upper case before lower; `NO_PROXY` lists exempt hosts, domains (with their subdomains), IPs
//! and CIDR ranges, `*` for all; loopback is never proxied.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use base64::Engine;
use reqwest::Url;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::secret::Secret;

/// The longest CONNECT answer head read before the proxy counts as broken.
const MAX_CONNECT_ANSWER_BYTES: usize = 16 * 1024;

/// One forward proxy: where it is, how to log in, and which setting named it.
#[derive(Clone, PartialEq, Eq)]
pub struct Proxy {
    /// `http://host:port/`, credentials removed.
    url: Url,
    auth: Option<(String, Secret)>,
    /// The key or environment variable that set it, for error messages.
    source: String,
}

impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proxy")
            .field("url", &self.url.as_str())
            .field("user", &self.auth.as_ref().map(|(user, _)| user))
            .field("source", &self.source)
            .finish()
    }
}

/// `url` with any password replaced, for logs and `check-config`; `None` when it does not parse.
pub(crate) fn redact_url(url: &str) -> Option<String> {
    let mut parsed = Url::parse(&with_scheme(url)).ok()?;
    if parsed.password().is_none() {
        return Some(parsed.to_string());
    }
    // NB: a URL percent-encodes the brackets; the marker is spliced in afterwards so it reads
    // as the rest of the redacted config does.
    parsed.set_password(Some("REDACTED")).ok()?;
    Some(parsed.to_string().replacen(":REDACTED@", ":[redacted]@", 1))
}

/// `host:port` means `http://host:port`, as curl and Go read it.
fn with_scheme(url: &str) -> String {
    let url = url.trim();
    if url.contains("://") {
        url.to_owned()
    } else {
        format!("http://{url}")
    }
}

fn decode(part: &str) -> String {
    percent_encoding::percent_decode_str(part)
        .decode_utf8_lossy()
        .into_owned()
}

impl Proxy {
    /// A proxy URL as an operator writes it; `source` names where it came from. Credentials in
    /// the URL are taken out and kept as a secret.
    pub fn parse(url: &str, source: &str) -> Result<Proxy, String> {
        let mut parsed = Url::parse(&with_scheme(url)).map_err(|e| format!("not a URL: {e}"))?;
        if parsed.scheme() != "http" {
            return Err(format!(
                "the scheme {}:// is not supported; the exporter speaks to its proxy in plain HTTP (http://host:port)",
                parsed.scheme()
            ));
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err("it names no host".to_owned());
        }
        let auth = if parsed.username().is_empty() {
            None
        } else {
            let password = parsed.password().map(decode).unwrap_or_default();
            Some((decode(parsed.username()), Secret::new(password)))
        };
        // NB: cannot fail on an http URL with a host.
        let _ = parsed.set_username("");
        let _ = parsed.set_password(None);
        parsed.set_path("/");
        parsed.set_query(None);
        parsed.set_fragment(None);
        Ok(Proxy {
            url: parsed,
            auth,
            source: source.to_owned(),
        })
    }

    /// Replaces the URL's credentials (the `proxy.username` / `proxy.password` keys).
    pub fn with_auth(mut self, username: String, password: Secret) -> Proxy {
        self.auth = Some((username, password));
        self
    }

    pub(crate) fn has_auth(&self) -> bool {
        self.auth.is_some()
    }

    /// `http://host:port/`, never with credentials: safe to log.
    pub(crate) fn url(&self) -> &str {
        self.url.as_str()
    }

    /// The key or environment variable that set this proxy.
    pub(crate) fn source(&self) -> &str {
        &self.source
    }

    fn authority(&self) -> String {
        let host = self.url.host_str().unwrap_or_default();
        let port = self.url.port_or_known_default().unwrap_or(80);
        format!("{host}:{port}")
    }

    fn basic_auth(&self) -> Option<String> {
        self.auth.as_ref().map(|(user, password)| {
            let pair = format!("{user}:{}", password.expose());
            base64::engine::general_purpose::STANDARD.encode(pair)
        })
    }

    /// A TCP stream to `host:port` through this proxy (HTTP CONNECT), ready for the TLS
    /// handshake with `host`. The proxy resolves `host`, so a name only it knows works.
    pub(crate) async fn tunnel(
        &self,
        host: &str,
        port: u16,
        timeout: Duration,
    ) -> Result<TcpStream, TunnelError> {
        match tokio::time::timeout(timeout, self.open_tunnel(host, port)).await {
            Ok(result) => result,
            Err(_) => Err(TunnelError::Unreachable(format!(
                "no tunnel within {timeout:?}"
            ))),
        }
    }

    async fn open_tunnel(&self, host: &str, port: u16) -> Result<TcpStream, TunnelError> {
        let mut stream = TcpStream::connect(self.authority())
            .await
            .map_err(|e| TunnelError::Unreachable(e.to_string()))?;
        let _ = stream.set_nodelay(true);
        let target = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
        if let Some(credentials) = self.basic_auth() {
            request.push_str(&format!("Proxy-Authorization: Basic {credentials}\r\n"));
        }
        request.push_str("\r\n");
        let broken = |e: std::io::Error| TunnelError::Broken(e.to_string());
        stream.write_all(request.as_bytes()).await.map_err(broken)?;
        let status = read_connect_answer(&mut stream).await?;
        match status {
            200..=299 => Ok(stream),
            407 => Err(TunnelError::AuthRequired),
            status => Err(TunnelError::Refused(status)),
        }
    }
}

/// Reads the proxy's answer head byte-wise (nothing past it may be consumed: the bytes after
/// belong to the TLS handshake) and returns its status.
async fn read_connect_answer(stream: &mut TcpStream) -> Result<u16, TunnelError> {
    let mut head = Vec::with_capacity(256);
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_CONNECT_ANSWER_BYTES {
            return Err(TunnelError::Broken("the CONNECT answer is too long".into()));
        }
        let read = stream
            .read(&mut byte)
            .await
            .map_err(|e| TunnelError::Broken(e.to_string()))?;
        if read == 0 {
            return Err(TunnelError::Broken(
                "the proxy closed the connection before answering CONNECT".into(),
            ));
        }
        head.push(byte[0]);
    }
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut response = httparse::Response::new(&mut headers);
    match response.parse(&head) {
        Ok(httparse::Status::Complete(_)) => response
            .code
            .ok_or_else(|| TunnelError::Broken("the CONNECT answer has no status".into())),
        _ => Err(TunnelError::Broken("the CONNECT answer is not HTTP".into())),
    }
}

/// Why a CONNECT tunnel did not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TunnelError {
    #[error("cannot reach the proxy: {0}")]
    Unreachable(String),
    #[error("the proxy answered CONNECT with 407 Proxy Authentication Required")]
    AuthRequired,
    #[error("the proxy refused CONNECT with HTTP {0}")]
    Refused(u16),
    #[error("the proxy broke off the CONNECT exchange: {0}")]
    Broken(String),
}

/// Hosts that bypass the proxy (`NO_PROXY`, `proxy.no_proxy`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bypass {
    everything: bool,
    entries: Vec<BypassEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum BypassEntry {
    Network(ipnet::IpNet),
    Ip(IpAddr, Option<u16>),
    /// A domain and its subdomains, lower case, without a leading dot.
    Domain(String, Option<u16>),
}

impl Bypass {
    /// A comma-separated list, read as Go reads `NO_PROXY`; entries it cannot read are dropped.
    pub(crate) fn parse(list: &str) -> Bypass {
        let mut bypass = Bypass::default();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            if entry == "*" {
                bypass.everything = true;
            } else if let Ok(network) = entry.parse::<ipnet::IpNet>() {
                bypass.entries.push(BypassEntry::Network(network));
            } else if let Ok(ip) = entry.trim_matches(['[', ']']).parse::<IpAddr>() {
                bypass.entries.push(BypassEntry::Ip(ip, None));
            } else if let Ok(socket) = entry.parse::<std::net::SocketAddr>() {
                bypass
                    .entries
                    .push(BypassEntry::Ip(socket.ip(), Some(socket.port())));
            } else {
                let (name, port) = match entry.rsplit_once(':') {
                    Some((name, port)) => match port.parse::<u16>() {
                        Ok(port) => (name, Some(port)),
                        Err(_) => continue,
                    },
                    None => (entry, None),
                };
                let name = name.trim_start_matches("*.").trim_start_matches('.');
                bypass
                    .entries
                    .push(BypassEntry::Domain(name.to_ascii_lowercase(), port));
            }
        }
        bypass
    }

    fn covers(&self, host: &str, port: u16) -> bool {
        if self.everything {
            return true;
        }
        let ip = host.trim_matches(['[', ']']).parse::<IpAddr>().ok();
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        let port_matches = |wanted: &Option<u16>| wanted.is_none_or(|p| p == port);
        self.entries.iter().any(|entry| match (entry, ip) {
            (BypassEntry::Network(network), Some(ip)) => network.contains(&ip),
            (BypassEntry::Ip(wanted, p), Some(ip)) => *wanted == ip && port_matches(p),
            (BypassEntry::Domain(domain, p), None) => {
                let inside = host == *domain
                    || host
                        .strip_suffix(domain.as_str())
                        .is_some_and(|rest| rest.ends_with('.'));
                inside && port_matches(p)
            }
            _ => false,
        })
    }
}

/// Which proxy, if any, each upstream URL goes through.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Routes {
    /// For `http` and `ws` targets.
    http: Option<Proxy>,
    /// For `https` and `wss` targets.
    https: Option<Proxy>,
    bypass: Bypass,
}

impl Routes {
    pub fn new(http: Option<Proxy>, https: Option<Proxy>, bypass: Bypass) -> Routes {
        Routes {
            http,
            https,
            bypass,
        }
    }

    /// Whether any URL goes through a proxy.
    pub fn any(&self) -> bool {
        self.http.is_some() || self.https.is_some()
    }

    /// The proxy `url` goes through; `None`: connect directly.
    pub(crate) fn for_url(&self, url: &Url) -> Option<&Proxy> {
        let proxy = match url.scheme() {
            "https" | "wss" => self.https.as_ref(),
            "http" | "ws" => self.http.as_ref(),
            _ => None,
        }?;
        let host = url.host_str()?;
        let port = url.port_or_known_default().unwrap_or(443);
        if is_loopback(host) || self.bypass.covers(host, port) {
            return None;
        }
        Some(proxy)
    }

    /// How `url` leaves, in words an operator checks a deployment against: the proxy and the
    /// key or variable that set it, or "directly". Never shows a login.
    pub fn explain(&self, url: &Url) -> String {
        let target = format!("{}://{}", url.scheme(), url.host_str().unwrap_or_default());
        match self.for_url(url) {
            Some(proxy) => format!(
                "{target} goes through the proxy {} (set by {}{})",
                proxy.url(),
                proxy.source(),
                if proxy.has_auth() {
                    ", with a login"
                } else {
                    ""
                }
            ),
            None if self.any() => format!("{target} connects directly (loopback or no_proxy)"),
            None => format!("{target} connects directly (no proxy set)"),
        }
    }

    /// The same decision as reqwest's proxy, with the credentials as its header.
    pub(crate) fn reqwest_proxy(&self) -> reqwest::Proxy {
        let routes = self.clone();
        let proxy = reqwest::Proxy::custom(move |url| routes.for_url(url).map(|p| p.url.clone()));
        // NB: reqwest sends one Proxy-Authorization for a custom proxy, so both routes must
        // share credentials; config builds them from one source or the other, and an http and
        // an https proxy with different logins only happens by environment, which we warn of.
        match self
            .https
            .as_ref()
            .or(self.http.as_ref())
            .and_then(|p| p.auth.as_ref())
        {
            Some((user, password)) => proxy.basic_auth(user, password.expose()),
            None => proxy,
        }
    }

    /// Whether the two routes log in differently (see [`Self::reqwest_proxy`]).
    pub(crate) fn conflicting_auth(&self) -> bool {
        match (&self.http, &self.https) {
            (Some(http), Some(https)) => http.auth != https.auth && http.auth.is_some(),
            _ => false,
        }
    }
}

fn is_loopback(host: &str) -> bool {
    let host = host.trim_matches(['[', ']']);
    host.eq_ignore_ascii_case("localhost")
        || host.to_ascii_lowercase().ends_with(".localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests;

//! How the exporter leaves its network, and what it says when it cannot: the proxy routes and
//! the TLS trust shared by OAuth, REST and the WebSocket, and the failures an operator fixes in
//! config rather than waits out (a proxy that is down or refuses, a certificate not trusted).
//! Each such failure is counted by cause and logged as one line naming the key to fix; while
//! the same cause persists it is logged again only every few minutes, since every retry meets it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::Url;

use crate::genesys::proxy::{Proxy, Routes, TunnelError};
use crate::genesys::telemetry::GenesysMetrics;
use crate::metrics::Metrics;
use crate::metrics::registry::SelfMetrics;
use crate::vocabulary::labels::LabelValue;

/// How often a failure that persists is logged again.
const RELOG_EVERY: Duration = Duration::from_secs(300);

/// A failure of the way out, by what fixes it; `as_str()` is the metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    ProxyUnreachable,
    ProxyAuth,
    ProxyRefused,
    TlsTrust,
}

impl LabelValue for Cause {
    const ALL: &'static [Self] = &[
        Self::ProxyUnreachable,
        Self::ProxyAuth,
        Self::ProxyRefused,
        Self::TlsTrust,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Self::ProxyUnreachable => "proxy_unreachable",
            Self::ProxyAuth => "proxy_auth",
            Self::ProxyRefused => "proxy_refused",
            Self::TlsTrust => "tls_trust",
        }
    }
}

/// Whether an error of this `kind` was already logged at ERROR by the egress. The layers it
/// passes through (retries, the bootstrap, the stream supervisor) log it at debug instead, so
/// one cause gives one line rather than one per layer.
pub(crate) fn already_reported(kind: &str) -> bool {
    Cause::ALL.iter().any(|cause| cause.as_str() == kind)
}

/// `tracing::$level!(...)` unless `kind` is an egress failure already reported, then `debug!`.
macro_rules! log_unless_reported {
    ($level:ident, $kind:expr, $($event:tt)+) => {
        if $crate::genesys::egress::already_reported($kind) {
            tracing::debug!($($event)+)
        } else {
            tracing::$level!($($event)+)
        }
    };
}
pub(crate) use log_unless_reported;

/// One such failure: its cause, what happened, and the fix, all in one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}; {fix}")]
pub struct Failure {
    pub cause: Cause,
    pub what: String,
    pub fix: String,
}

impl Failure {
    fn from_tunnel(error: &TunnelError, proxy: &Proxy, target: &str) -> Failure {
        let (proxy_url, source) = (proxy.url(), proxy.source());
        match error {
            TunnelError::Unreachable(reason) | TunnelError::Broken(reason) => Failure {
                cause: Cause::ProxyUnreachable,
                what: format!("cannot reach the proxy {proxy_url} for {target}: {reason}"),
                fix: format!("check {source}: no proxy answers at that address"),
            },
            TunnelError::AuthRequired => Failure {
                cause: Cause::ProxyAuth,
                what: format!(
                    "the proxy {proxy_url} wants credentials for {target} (HTTP 407){}",
                    if proxy.has_auth() {
                        " and refused the ones configured"
                    } else {
                        ""
                    }
                ),
                fix: "set proxy.username and proxy.password (or proxy.password_file) to a login the proxy accepts".to_owned(),
            },
            TunnelError::Refused(status) => Failure {
                cause: Cause::ProxyRefused,
                what: match status {
                    // NB: reqwest's tunnel (hyper-util) reports a refusal without its status.
                    0 => format!("the proxy {proxy_url} refused to tunnel to {target}"),
                    status => format!(
                        "the proxy {proxy_url} refused to tunnel to {target} (HTTP {status})"
                    ),
                },
                fix: format!(
                    "have the proxy allow {target}, or list the host in proxy.no_proxy (NO_PROXY) if it is reachable directly; the proxy is set by {source}"
                ),
            },
        }
    }

    fn untrusted(target: &str, reason: &rustls::Error) -> Failure {
        Failure {
            cause: Cause::TlsTrust,
            what: format!("the TLS certificate of {target} is not trusted: {reason}"),
            fix: "if TLS is inspected on the way out, set tls.ca_file to the PEM bundle of the inspecting CA".to_owned(),
        }
    }
}

/// `host:port` of `url`, for messages.
fn target(url: &Url) -> String {
    let host = url.host_str().unwrap_or("?");
    match url.port_or_known_default() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// The rustls error somewhere in `error`'s chain; `io::Error` hides its payload from
/// `source()`, so each one is opened by hand.
pub(crate) fn rustls_error<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a rustls::Error> {
    let mut next = Some(error);
    while let Some(error) = next {
        if let Some(found) = error.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        let inside_io = error
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref());
        if let Some(found) = inside_io.and_then(|inner| rustls_error(inner)) {
            return Some(found);
        }
        next = error.source();
    }
    None
}

fn is_trust_failure(error: &rustls::Error) -> bool {
    matches!(
        error,
        rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented
    )
}

/// What reqwest's proxy tunnel said, from its message: hyper-util does not export the type.
fn reqwest_tunnel_error(error: &reqwest::Error) -> Option<TunnelError> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = next {
        let text = error.to_string();
        if text.starts_with("tunnel error: ") {
            return Some(if text.contains("proxy authorization required") {
                TunnelError::AuthRequired
            } else if text.contains("unsuccessful") {
                // NB: hyper-util drops the status; a refusal is all we know.
                TunnelError::Refused(0)
            } else {
                TunnelError::Unreachable(text)
            });
        }
        next = error.source();
    }
    None
}

/// The way out: proxy routes, trust, and the failure reports. Shared by every upstream client.
pub struct Egress {
    routes: Routes,
    websocket_tls: Option<Arc<rustls::ClientConfig>>,
    metrics: Option<GenesysMetrics>,
    logged: Mutex<Option<(Cause, Instant)>>,
}

impl std::fmt::Debug for Egress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Egress")
            .field("routes", &self.routes)
            .finish_non_exhaustive()
    }
}

impl Egress {
    /// Failures are counted on `metrics`' registry when given.
    pub fn new(
        routes: Routes,
        websocket_tls: Option<Arc<rustls::ClientConfig>>,
        metrics: Option<&Metrics>,
    ) -> Egress {
        Egress {
            routes,
            websocket_tls,
            metrics: metrics.map(GenesysMetrics::of),
            logged: Mutex::new(None),
        }
    }

    /// Straight out, tokio-tungstenite's own TLS, nothing counted: for tests of other parts.
    #[cfg(test)]
    pub(crate) fn direct() -> Arc<Egress> {
        Arc::new(Egress::new(Routes::default(), None, None))
    }

    pub(crate) fn routes(&self) -> &Routes {
        &self.routes
    }

    pub(crate) fn websocket_tls(&self) -> Option<Arc<rustls::ClientConfig>> {
        self.websocket_tls.clone()
    }

    /// The failure a reqwest error to `url` stands for, if config can fix it; reported.
    pub(crate) fn classify_reqwest(&self, url: &Url, error: &reqwest::Error) -> Option<Failure> {
        let target = target(url);
        let failure = if let Some(tls) = rustls_error(error).filter(|e| is_trust_failure(e)) {
            Failure::untrusted(&target, tls)
        } else {
            let proxy = self.routes.for_url(url)?;
            match reqwest_tunnel_error(error) {
                Some(tunnel) => Failure::from_tunnel(&tunnel, proxy, &target),
                None if error.is_connect() => Failure::from_tunnel(
                    &TunnelError::Unreachable(innermost(error)),
                    proxy,
                    &target,
                ),
                None => return None,
            }
        };
        self.report(&failure);
        Some(failure)
    }

    /// `source` as the error of a request to `url`: a [`Failure`] (reported) when config fixes
    /// it, else a transport error.
    pub(crate) fn transport_error(
        &self,
        endpoint: &'static str,
        url: &Url,
        source: reqwest::Error,
    ) -> crate::genesys::ApiError {
        match self.classify_reqwest(url, &source) {
            Some(failure) => crate::genesys::ApiError::Connectivity { endpoint, failure },
            None => crate::genesys::ApiError::Transport { endpoint, source },
        }
    }

    /// An answer with `status` to a request to `url`: a 407 from the proxy is a [`Failure`]
    /// (reported); anything else means upstream was reached.
    pub(crate) fn answered(
        &self,
        endpoint: &'static str,
        url: &Url,
        status: u16,
    ) -> Option<crate::genesys::ApiError> {
        match self.proxy_status(url, status) {
            Some(failure) => Some(crate::genesys::ApiError::Connectivity { endpoint, failure }),
            None => {
                self.reached();
                None
            }
        }
    }

    /// A 407 from a proxy forwarding a plain-HTTP request (no tunnel): reported.
    fn proxy_status(&self, url: &Url, status: u16) -> Option<Failure> {
        let proxy = self.routes.for_url(url).filter(|_| status == 407)?;
        let failure = Failure::from_tunnel(&TunnelError::AuthRequired, proxy, &target(url));
        self.report(&failure);
        Some(failure)
    }

    /// A tunnel the WebSocket asked for that did not open: reported.
    pub(crate) fn tunnel_failed(&self, url: &Url, proxy: &Proxy, error: &TunnelError) -> Failure {
        let failure = Failure::from_tunnel(error, proxy, &target(url));
        self.report(&failure);
        failure
    }

    /// A WebSocket handshake error, if it is a trust failure: reported.
    pub(crate) fn classify_handshake(
        &self,
        url: &Url,
        error: &(dyn std::error::Error + 'static),
    ) -> Option<Failure> {
        let tls = rustls_error(error).filter(|e| is_trust_failure(e))?;
        let failure = Failure::untrusted(&target(url), tls);
        self.report(&failure);
        Some(failure)
    }

    /// Upstream answered: the next failure is news again.
    pub(crate) fn reached(&self) {
        let mut logged = crate::sync::lock(&self.logged);
        if let Some((cause, _)) = logged.take() {
            tracing::info!(cause = cause.as_str(), "upstream reachable again");
        }
    }

    fn report(&self, failure: &Failure) {
        if let Some(metrics) = &self.metrics {
            metrics.connectivity_failure(failure.cause);
        }
        let mut logged = crate::sync::lock(&self.logged);
        let news = logged
            .as_ref()
            .is_none_or(|(cause, at)| *cause != failure.cause || at.elapsed() >= RELOG_EVERY);
        if news {
            *logged = Some((failure.cause, Instant::now()));
            tracing::error!(cause = failure.cause.as_str(), fix = %failure.fix, "{}", failure.what);
        }
    }
}

/// The last message in an error's chain: the one that says what actually happened.
fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut last = error;
    while let Some(next) = last.source() {
        last = next;
    }
    last.to_string()
}

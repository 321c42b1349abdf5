//! The accept loop: what `axum::serve` leaves out and a port in a shared cluster needs. Every
//! connection gets a header read timeout (which also closes a keep-alive connection left idle
//! that long), a deadline by which each request is answered to its last byte, and bounded
//! request heads and bodies. At most `max_connections` are open: when full, the oldest one
//! with no request in flight makes room, so a flood of idle or half-sent connections cannot
//! lock a scraper out, and only a flood of requests being answered refuses a newcomer.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::response::Response;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::time::{Instant, sleep_until};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;
use tracing::{debug, warn};

use super::auth::Gate;
use super::tls::client_san_allowed;
use crate::metrics::Metrics;
use crate::metrics::registry::SelfMetrics;
use crate::server::telemetry::ServerMetrics;
use crate::sync::lock;
use crate::vocabulary::labels::LabelValue;

/// Why the server closed a connection (the `reason` of
/// `genesys_exporter_http_connections_closed_total`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConnectionClose {
    /// No complete request head within `header_read_timeout` (also: idle that long).
    HeaderTimeout,
    /// A request not answered to its last byte within `request_timeout`.
    RequestTimeout,
    /// A request head over `max_header_bytes`.
    HeadTooLarge,
    /// Closed to make room for a newer connection at `max_connections`.
    Evicted,
    /// Not served: `max_connections` reached, every one answering a request.
    Refused,
    /// A TLS handshake that failed or did not finish within `header_read_timeout`.
    TlsHandshake,
    /// Plain HTTP sent to the TLS port (answered 400, as Go's servers do).
    PlainHttp,
    /// A verified client certificate naming none of `client_allowed_sans`.
    ClientNotAllowed,
    /// A protocol or I/O error.
    Error,
}

impl LabelValue for ConnectionClose {
    const ALL: &'static [Self] = &[
        Self::HeaderTimeout,
        Self::RequestTimeout,
        Self::HeadTooLarge,
        Self::Evicted,
        Self::Refused,
        Self::TlsHandshake,
        Self::PlainHttp,
        Self::ClientNotAllowed,
        Self::Error,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Self::HeaderTimeout => "header_timeout",
            Self::RequestTimeout => "request_timeout",
            Self::HeadTooLarge => "head_too_large",
            Self::Evicted => "evicted",
            Self::Refused => "refused",
            Self::TlsHandshake => "tls_handshake",
            Self::PlainHttp => "plain_http",
            Self::ClientNotAllowed => "client_not_allowed",
            Self::Error => "error",
        }
    }
}

/// How the server protects itself; `web.*` in the settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub header_read_timeout: Duration,
    pub request_timeout: Duration,
    pub max_connections: usize,
    pub max_header_bytes: usize,
}

/// Serves `router` on `listener` (over TLS when `tls` serves it) until `cancel` fires, then
/// lets requests in flight finish (each within its `request_timeout`).
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    tls: Option<Arc<Gate>>,
    metrics: Arc<Metrics>,
    cancel: CancellationToken,
) -> std::io::Result<()> {
    let tls = tls.filter(|gate| gate.source.serves_tls);
    let telemetry = ServerMetrics::of(&metrics);
    let open = Arc::new(Mutex::new(BTreeMap::new()));
    let tasks = TaskTracker::new();
    let mut next_id = 0u64;
    loop {
        let (tcp, _peer) = tokio::select! {
            _ = cancel.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // NB: out of file descriptors, most likely; accepting again at once would spin.
                    warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        if !make_room(&open, limits.max_connections, &telemetry) {
            telemetry.connection_closed(ConnectionClose::Refused);
            continue;
        }
        // NB: without TCP_NODELAY each part of a streamed scrape after the first waits for the
        // scraper's delayed ACK (40 ms on Linux) before it is sent.
        if let Err(error) = tcp.set_nodelay(true) {
            debug!(%error, "TCP_NODELAY not set on a scrape connection");
        }
        next_id += 1;
        let id = next_id;
        let connection = Arc::new(Connection::default());
        lock(&open).insert(id, connection.clone());
        telemetry.connections_open(lock(&open).len());
        let (open, telemetry, router, shutdown) = (
            open.clone(),
            telemetry.clone(),
            router.clone(),
            cancel.clone(),
        );
        let tls = tls.clone();
        tasks.spawn(async move {
            let closed = match tls {
                None => serve_connection(tcp, router, &connection, limits, shutdown).await,
                Some(gate) => {
                    let handshake = handshake(tcp, &gate, limits.header_read_timeout);
                    let secured = tokio::select! {
                        secured = handshake => secured,
                        _ = connection.evict.cancelled() => Err(None),
                    };
                    match secured {
                        Ok(stream) => {
                            serve_connection(stream, router, &connection, limits, shutdown).await
                        }
                        Err(reason) => reason,
                    }
                }
            };
            if let Some(reason) = closed {
                telemetry.connection_closed(reason);
            }
            lock(&open).remove(&id);
            telemetry.connections_open(lock(&open).len());
        });
    }
    tasks.close();
    tasks.wait().await;
    Ok(())
}

type Open = Mutex<BTreeMap<u64, Arc<Connection>>>;

/// What Go's servers answer to plain HTTP on a TLS port, so a misconfigured scraper says why.
const PLAIN_HTTP_ANSWER: &[u8] =
    b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

/// Ends the write side and reads what the client sent, up to a bound: closing a socket with
/// unread input resets it, and the client would lose the answer just written.
async fn linger(tcp: &mut TcpStream) {
    let _ = tcp.shutdown().await;
    let mut sink = [0u8; 4096];
    for _ in 0..16 {
        match tcp.read(&mut sink).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// The TLS handshake, with the certificate in force now, within `timeout`; `Err(None)` when
/// evicted meanwhile.
async fn handshake(
    mut tcp: TcpStream,
    gate: &Gate,
    timeout: Duration,
) -> Result<TlsStream<TcpStream>, Option<ConnectionClose>> {
    let failed = Some(ConnectionClose::TlsHandshake);
    let active = gate.source.current().map_err(|_| failed)?;
    let config = active.tls.clone().ok_or(failed)?;
    let allowed_sans = active
        .config
        .tls
        .as_ref()
        .and_then(|t| t.allowed_sans.clone());
    let secure = async {
        let mut first = [0u8; 1];
        // NB: a TLS record starts with its content type (22 for a handshake); a letter is a
        // plain HTTP method.
        if tcp.peek(&mut first).await.is_ok() && first[0].is_ascii_alphabetic() {
            let _ = tcp.write_all(PLAIN_HTTP_ANSWER).await;
            linger(&mut tcp).await;
            return Err(Some(ConnectionClose::PlainHttp));
        }
        let stream = TlsAcceptor::from(config)
            .accept(tcp)
            .await
            .map_err(|error| {
                debug!(%error, "TLS handshake failed");
                failed
            })?;
        if let Some(allowed) = &allowed_sans
            && !client_san_allowed(stream.get_ref().1.peer_certificates(), allowed)
        {
            debug!("client certificate names none of client_allowed_sans");
            return Err(Some(ConnectionClose::ClientNotAllowed));
        }
        Ok(stream)
    };
    tokio::time::timeout(timeout, secure)
        .await
        .unwrap_or(Err(failed))
}

/// Whether a new connection may be served: below the limit, or once the oldest connection
/// with no request in flight has been told to close.
fn make_room(open: &Open, max: usize, telemetry: &ServerMetrics) -> bool {
    let mut open = lock(open);
    if open.len() < max.max(1) {
        return true;
    }
    let idle = open.iter().find(|(_, c)| c.is_idle()).map(|(id, _)| *id);
    let Some(id) = idle else {
        return false;
    };
    if let Some(connection) = open.remove(&id) {
        connection.evict.cancel();
        telemetry.connection_closed(ConnectionClose::Evicted);
    }
    true
}

/// One connection's requests in flight, by start, and the signal that evicts it.
#[derive(Default)]
struct Connection {
    requests: Mutex<RequestsInFlight>,
    changed: Notify,
    evict: CancellationToken,
}

#[derive(Default)]
struct RequestsInFlight {
    next: u64,
    started: BTreeMap<u64, Instant>,
}

impl Connection {
    fn is_idle(&self) -> bool {
        lock(&self.requests).started.is_empty()
    }

    fn request_started(self: &Arc<Self>) -> InFlight {
        let mut requests = lock(&self.requests);
        requests.next += 1;
        let id = requests.next;
        requests.started.insert(id, Instant::now());
        drop(requests);
        self.changed.notify_waiters();
        InFlight {
            connection: self.clone(),
            id,
        }
    }

    /// Resolves once some request has been in flight for `timeout`.
    async fn overdue(&self, timeout: Duration) {
        loop {
            let changed = self.changed.notified();
            let mut changed = pin!(changed);
            changed.as_mut().enable();
            let oldest = lock(&self.requests).started.values().next().copied();
            match oldest {
                None => changed.await,
                Some(started) if started + timeout <= Instant::now() => return,
                Some(started) => tokio::select! {
                    _ = sleep_until(started + timeout) => {}
                    _ = changed => {}
                },
            }
        }
    }
}

/// A request being answered: from its head to the drop of its response body (hyper drops it
/// once the last byte is written, or the connection is gone).
struct InFlight {
    connection: Arc<Connection>,
    id: u64,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        lock(&self.connection.requests).started.remove(&self.id);
        self.connection.changed.notify_waiters();
    }
}

/// A response body that keeps its request counted as in flight until it is dropped.
struct Answering {
    body: Body,
    _in_flight: InFlight,
}

impl hyper::body::Body for Answering {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// Serves one connection until it ends; `None` when it ended normally.
async fn serve_connection<I>(
    io: I,
    router: Router,
    connection: &Arc<Connection>,
    limits: Limits,
    shutdown: CancellationToken,
) -> Option<ConnectionClose>
where
    I: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let counted = connection.clone();
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let in_flight = counted.request_started();
        let answer = router.clone().oneshot(request.map(Body::new));
        async move {
            let response: Response = match answer.await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            let response = response.map(|body| {
                Body::new(Answering {
                    body,
                    _in_flight: in_flight,
                })
            });
            Ok::<_, Infallible>(response)
        }
    });
    // NB: HTTP/1.1 only: Prometheus scrapes over it, and HTTP/2 would bring the h2 crate.
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_header_size(limits.max_header_bytes);
    let conn = builder.serve_connection(TokioIo::new(io), service);
    let mut conn = pin!(conn);
    let mut closing = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => return result.err().map(|error| why_closed(&error)),
            _ = shutdown.cancelled(), if !closing => {
                closing = true;
                conn.as_mut().graceful_shutdown();
            }
            _ = connection.evict.cancelled() => return None,
            _ = connection.overdue(limits.request_timeout) => return Some(ConnectionClose::RequestTimeout),
        }
    }
}

fn why_closed(error: &hyper::Error) -> ConnectionClose {
    if error.is_timeout() {
        ConnectionClose::HeaderTimeout
    } else if error.is_parse_too_large() {
        ConnectionClose::HeadTooLarge
    } else {
        ConnectionClose::Error
    }
}

#[cfg(test)]
mod tests;

//! Each way a client can hold the server, with a normal request answered meanwhile and the
//! abusive connections closed and counted.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::server::telemetry::ServerMetrics;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use super::{ConnectionClose, Limits, serve};
use crate::metrics::Metrics;
use crate::metrics::registry::SelfMetrics;

const DEADLINE: Duration = Duration::from_secs(5);
const HALF_A_HEAD: &[u8] = b"GET /ok HTTP/1.1\r\nHost: localhost\r\n";

struct Server {
    address: SocketAddr,
    metrics: Arc<Metrics>,
    cancel: CancellationToken,
    /// Requests to `/slow` being answered.
    slow: Arc<AtomicUsize>,
}

impl Server {
    async fn start(limits: Limits) -> Server {
        let slow = Arc::new(AtomicUsize::new(0));
        let started = slow.clone();
        let router = Router::new().route("/ok", get(|| async { "ok" })).route(
            "/slow",
            get(move || async move {
                started.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(60)).await;
                "late"
            }),
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let metrics = Arc::new(Metrics::new());
        let cancel = CancellationToken::new();
        tokio::spawn(serve(
            listener,
            router,
            limits,
            None,
            metrics.clone(),
            cancel.clone(),
        ));
        Server {
            address,
            metrics,
            cancel,
            slow,
        }
    }

    async fn connect(&self, send: &[u8]) -> TcpStream {
        let mut stream = TcpStream::connect(self.address).await.unwrap();
        stream.write_all(send).await.unwrap();
        stream
    }

    /// A normal request on a new connection: its status line.
    async fn get(&self, path: &str) -> String {
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        let mut stream = self.connect(request.as_bytes()).await;
        let mut response = String::new();
        tokio::time::timeout(DEADLINE, stream.read_to_string(&mut response))
            .await
            .expect("answered in time")
            .expect("read the response");
        response.lines().next().unwrap_or_default().to_owned()
    }

    fn closed(&self, reason: ConnectionClose) -> u64 {
        ServerMetrics::of(&self.metrics).connections_closed_for(reason)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

fn limits() -> Limits {
    Limits {
        header_read_timeout: Duration::from_millis(300),
        request_timeout: Duration::from_millis(500),
        max_connections: 64,
        max_header_bytes: 8192,
    }
}

/// Reads until the server closes the connection; what it sent meanwhile.
async fn closed_by_server(stream: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let read = tokio::time::timeout(DEADLINE, stream.read_to_end(&mut seen)).await;
    match read {
        Ok(Ok(_)) => String::from_utf8_lossy(&seen).into_owned(),
        Ok(Err(error)) if error.kind() == std::io::ErrorKind::ConnectionReset => String::new(),
        Ok(Err(error)) => panic!("reading: {error}"),
        Err(_) => panic!("still open after {DEADLINE:?}"),
    }
}

#[tokio::test]
async fn a_slow_header_is_cut_off_while_a_normal_request_is_answered() {
    let server = Server::start(limits()).await;
    let mut slow = Vec::new();
    for _ in 0..5 {
        slow.push(server.connect(HALF_A_HEAD).await);
    }
    assert_eq!(server.get("/ok").await, "HTTP/1.1 200 OK");
    for stream in &mut slow {
        closed_by_server(stream).await;
    }
    assert_eq!(server.closed(ConnectionClose::HeaderTimeout), 5);
}

#[tokio::test]
async fn silent_and_idle_keep_alive_connections_are_closed() {
    let server = Server::start(limits()).await;
    let mut silent = server.connect(b"").await;
    let mut kept_alive = server
        .connect(b"GET /ok HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await;
    assert_eq!(server.get("/ok").await, "HTTP/1.1 200 OK");
    closed_by_server(&mut silent).await;
    let answered_then_closed = closed_by_server(&mut kept_alive).await;
    assert!(
        answered_then_closed.starts_with("HTTP/1.1 200 OK"),
        "{answered_then_closed}"
    );
}

#[tokio::test]
async fn at_the_connection_limit_the_oldest_idle_connection_makes_room() {
    let server = Server::start(Limits {
        max_connections: 8,
        header_read_timeout: Duration::from_secs(30),
        ..limits()
    })
    .await;
    let mut flood = Vec::new();
    for _ in 0..20 {
        flood.push(server.connect(HALF_A_HEAD).await);
    }
    assert_eq!(server.get("/ok").await, "HTTP/1.1 200 OK");
    // NB: 20 half-sent connections and the request fit in 8 places by evicting 13.
    for stream in &mut flood[..13] {
        closed_by_server(stream).await;
    }
    assert_eq!(server.closed(ConnectionClose::Evicted), 13);
    assert!(ServerMetrics::of(&server.metrics).open_connections() <= 8);
}

#[tokio::test]
async fn a_newcomer_is_refused_only_when_every_connection_is_answering() {
    let server = Server::start(Limits {
        max_connections: 2,
        request_timeout: Duration::from_secs(30),
        ..limits()
    })
    .await;
    let slow = b"GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n";
    let _first = server.connect(slow).await;
    let _second = server.connect(slow).await;
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while server.slow.load(Ordering::SeqCst) < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "both requests in flight"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let mut refused = server.connect(b"").await;
    assert_eq!(closed_by_server(&mut refused).await, "");
    assert_eq!(server.closed(ConnectionClose::Refused), 1);
}

#[tokio::test]
async fn a_request_not_answered_in_time_loses_its_connection() {
    let server = Server::start(limits()).await;
    let mut slow = server
        .connect(b"GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await;
    assert_eq!(closed_by_server(&mut slow).await, "");
    assert_eq!(server.closed(ConnectionClose::RequestTimeout), 1);
    assert_eq!(server.get("/ok").await, "HTTP/1.1 200 OK");
}

#[tokio::test]
async fn an_oversized_request_head_is_refused() {
    let server = Server::start(limits()).await;
    let huge = format!(
        "GET /ok HTTP/1.1\r\nHost: localhost\r\nX-Padding: {}\r\n\r\n",
        "a".repeat(20_000)
    );
    let mut stream = server.connect(huge.as_bytes()).await;
    let answer = closed_by_server(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
    assert_eq!(server.closed(ConnectionClose::HeadTooLarge), 1);
}

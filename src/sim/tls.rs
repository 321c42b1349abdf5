//! HTTPS and `wss://` for the simulator (`SimConfig::tls`), so the exporter's trust settings
//! are tested against a server whose certificate only a private CA vouches for.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// A handshake slower than this is given up, so one stalled client cannot hold the others.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// Accepts TCP connections and completes their TLS handshake; failed ones are dropped.
pub(crate) struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl TlsListener {
    pub(crate) fn new(tcp: TcpListener, config: Arc<rustls::ServerConfig>) -> Self {
        Self {
            tcp,
            acceptor: TlsAcceptor::from(config),
        }
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = std::net::SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, peer)) = self.tcp.accept().await else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, self.acceptor.accept(tcp));
            match handshake.await {
                Ok(Ok(stream)) => return (stream, peer),
                Ok(Err(error)) => tracing::debug!(%error, "simulator: TLS handshake failed"),
                Err(_) => tracing::debug!("simulator: TLS handshake timed out"),
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

//! A small HTTP forward proxy on 127.0.0.1 for the proxy tests: CONNECT tunnels only (every
//! upstream the exporter speaks to in these tests is `https`/`wss`), to host names that only
//! it resolves, so a request that did not come through it cannot reach anything. It records
//! each tunnel, and can demand a login or refuse outright.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub enum Policy {
    Open,
    /// 407 unless this `user:password` comes in `Proxy-Authorization`.
    Login(String),
    /// Every CONNECT answered with this status.
    Refuse(u16),
}

/// One CONNECT the proxy was asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tunnel {
    pub target: String,
    /// The status answered: 200 for a tunnel opened.
    pub status: u16,
}

pub struct ForwardProxy {
    /// `http://127.0.0.1:port`.
    pub url: String,
    tunnels: Arc<Mutex<Vec<Tunnel>>>,
    cancel: CancellationToken,
}

impl Drop for ForwardProxy {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

impl ForwardProxy {
    /// Resolves each of `names` to 127.0.0.1, and nothing else.
    pub async fn start(names: &[&str], policy: Policy) -> ForwardProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let hosts: HashMap<String, IpAddr> = names
            .iter()
            .map(|n| ((*n).to_owned(), IpAddr::from([127, 0, 0, 1])))
            .collect();
        let tunnels = Arc::new(Mutex::new(Vec::new()));
        let cancel = CancellationToken::new();
        let shared = Arc::new((hosts, policy, tunnels.clone()));
        let stop = cancel.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    accepted = listener.accept() => {
                        let Ok((client, _)) = accepted else { continue };
                        let shared = shared.clone();
                        let stop = stop.clone();
                        tokio::spawn(async move {
                            tokio::select! {
                                _ = stop.cancelled() => {}
                                _ = serve(client, &shared.0, &shared.1, &shared.2) => {}
                            }
                        });
                    }
                }
            }
        });
        ForwardProxy {
            url,
            tunnels,
            cancel,
        }
    }

    pub fn tunnels(&self) -> Vec<Tunnel> {
        self.tunnels.lock().unwrap().clone()
    }

    /// Tunnels opened to `target` (`host:port`).
    pub fn opened_to(&self, target: &str) -> usize {
        self.tunnels()
            .iter()
            .filter(|t| t.target == target && t.status == 200)
            .count()
    }
}

async fn serve(
    mut client: TcpStream,
    hosts: &HashMap<String, IpAddr>,
    policy: &Policy,
    tunnels: &Mutex<Vec<Tunnel>>,
) {
    let Ok(Ok(head)) = tokio::time::timeout(Duration::from_secs(10), read_head(&mut client)).await
    else {
        return;
    };
    let mut headers = [httparse::EMPTY_HEADER; 32];
    let mut request = httparse::Request::new(&mut headers);
    if !matches!(request.parse(&head), Ok(httparse::Status::Complete(_))) {
        return;
    }
    let target = request.path.unwrap_or_default().to_owned();
    let login = request
        .headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("proxy-authorization"))
        .and_then(|h| std::str::from_utf8(h.value).ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let upstream = resolve(&target, hosts);
    let status = match (request.method, policy, &upstream) {
        (Some("CONNECT"), Policy::Refuse(status), _) => *status,
        (Some("CONNECT"), Policy::Login(wanted), _) if login.as_ref() != Some(wanted) => 407,
        (Some("CONNECT"), _, Some(_)) => 200,
        (Some("CONNECT"), _, None) => 502,
        _ => 501,
    };
    tunnels.lock().unwrap().push(Tunnel {
        target: target.clone(),
        status,
    });
    let upstream = match (status, upstream) {
        (200, Some(addr)) => TcpStream::connect(addr).await.ok(),
        _ => None,
    };
    let Some(mut upstream) = upstream else {
        let answer = format!(
            "HTTP/1.1 {status} No\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        let _ = client.write_all(answer.as_bytes()).await;
        return;
    };
    let _ = client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await;
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}

/// `host:port` of a name the proxy knows.
fn resolve(target: &str, hosts: &HashMap<String, IpAddr>) -> Option<SocketAddr> {
    let (host, port) = target.rsplit_once(':')?;
    let ip = hosts.get(host)?;
    Some(SocketAddr::new(*ip, port.parse().ok()?))
}

async fn read_head(client: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
        if client.read(&mut byte).await? == 0 {
            break;
        }
        head.push(byte[0]);
    }
    Ok(head)
}

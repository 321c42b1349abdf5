//! Test helpers: a simulator on a loopback port, a reqwest client and a token.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_util::sync::CancellationToken;

use super::model::traffic::Model;
use super::{Fault, Sim, SimConfig, SimHandle, start};
use crate::genesys::model::{Channel, Queue, TokenResponse};

pub(crate) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The shared state of a simulator for `config`, its model started at 0, with no server and no
/// task running.
pub(crate) fn idle(config: SimConfig) -> Sim {
    let model = Model::new(&config, 0);
    let address = SocketAddr::from(([127, 0, 0, 1], 0));
    Sim::new(config, model, address, CancellationToken::new())
}

pub(crate) fn live_queues(sim: &Sim) -> Vec<Queue> {
    sim.queues().live().map(|(_, q)| q.clone()).collect()
}

/// A new notification channel.
pub(crate) async fn channel(sim: &TestSim, token: &str) -> Channel {
    let response = sim
        .post_json(token, "/api/v2/notifications/channels", &json!({}))
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

pub(crate) async fn connect(channel: &Channel) -> Socket {
    tokio_tungstenite::connect_async(channel.connect_uri.as_str())
        .await
        .unwrap()
        .0
}

/// The next text frame, or `None` when the socket closes.
pub(crate) async fn next_text(socket: &mut Socket) -> Option<String> {
    loop {
        match socket.next().await? {
            Ok(WsMessage::Text(text)) => return Some(text.to_string()),
            Ok(WsMessage::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

/// The next text frame as JSON, or `None` when the socket closes.
pub(crate) async fn next_json(socket: &mut Socket) -> Option<Value> {
    let text = next_text(socket).await?;
    Some(serde_json::from_str(&text).unwrap())
}

/// The simulated instant a `/sim/truth` body was taken at.
pub(crate) fn truth_now(truth: &serde_json::Value) -> chrono::DateTime<chrono::Utc> {
    crate::genesys::time::parse_instant(truth["now"].as_str().unwrap()).unwrap()
}

/// Conversations offered so far according to a `/sim/truth` body, over every queue and media.
pub(crate) fn total_offered(truth: &serde_json::Value) -> u64 {
    truth["queues"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|q| q["totals"].as_object().unwrap().values())
        .map(|media| media["nOffered"]["count"].as_u64().unwrap_or(0))
        .sum()
}

/// Every test wait is bounded by this.
pub(crate) const DEADLINE: Duration = Duration::from_secs(10);

pub(crate) struct TestSim {
    pub handle: SimHandle,
    pub http: reqwest::Client,
    pub cancel: CancellationToken,
}

impl TestSim {
    pub(crate) async fn start(config: SimConfig) -> Self {
        crate::genesys::install_crypto_provider();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let cancel = CancellationToken::new();
        let handle = start(config, listener, cancel.clone()).await.unwrap();
        let http = reqwest::Client::builder()
            .timeout(DEADLINE)
            .build()
            .unwrap();
        Self {
            handle,
            http,
            cancel,
        }
    }

    pub(crate) async fn fast() -> Self {
        Self::start(SimConfig::fast_for_tests(11)).await
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.handle.base_url)
    }

    /// A `POST /oauth/token` as the demo client with `secret`, body still to add.
    pub(crate) fn token_request(&self, secret: &str) -> reqwest::RequestBuilder {
        self.http
            .post(self.url("/oauth/token"))
            .basic_auth(&self.handle.client_id, Some(secret))
    }

    pub(crate) async fn token(&self) -> String {
        let response = self
            .token_request(&self.handle.client_secret)
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json::<TokenResponse>().await.unwrap().access_token
    }

    /// `method path` with the bearer `token`, answered.
    pub(crate) async fn request(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
    ) -> reqwest::Response {
        self.http
            .request(method, self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// `method path` with the bearer `token` and `body` as JSON, answered.
    pub(crate) async fn request_json(
        &self,
        method: reqwest::Method,
        token: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.http
            .request(method, self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub(crate) async fn get(&self, token: &str, path: &str) -> reqwest::Response {
        self.request(reqwest::Method::GET, token, path).await
    }

    pub(crate) async fn head(&self, token: &str, path: &str) -> reqwest::Response {
        self.request(reqwest::Method::HEAD, token, path).await
    }

    pub(crate) async fn delete(&self, token: &str, path: &str) -> reqwest::Response {
        self.request(reqwest::Method::DELETE, token, path).await
    }

    pub(crate) async fn post_json(
        &self,
        token: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.request_json(reqwest::Method::POST, token, path, body)
            .await
    }

    pub(crate) async fn put_json(
        &self,
        token: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.request_json(reqwest::Method::PUT, token, path, body)
            .await
    }

    /// `GET path` without a token, answered.
    pub(crate) async fn get_anonymously(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.unwrap()
    }

    /// `GET path` without a token, its body read as JSON.
    pub(crate) async fn get_json(&self, path: &str) -> serde_json::Value {
        self.get_anonymously(path).await.json().await.unwrap()
    }

    /// The simulator's log of the API requests it answered.
    pub(crate) async fn requests_log(&self) -> serde_json::Value {
        self.get_json("/sim/requests").await
    }

    pub(crate) async fn control(&self, path: &str, body: serde_json::Value) {
        let response = self
            .http
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
    }

    /// `POST /sim/faults` with `fault` as its JSON, answered.
    pub(crate) async fn post_fault(&self, fault: &Fault) -> reqwest::Response {
        let request = self.http.post(self.url("/sim/faults")).json(fault);
        request.send().await.unwrap()
    }

    /// Injects `fault`, which must be accepted.
    pub(crate) async fn fault(&self, fault: &Fault) {
        let response = self.post_fault(fault).await;
        assert_eq!(response.status(), 204, "{fault:?}");
    }

    pub(crate) async fn truth(&self) -> serde_json::Value {
        self.get_json("/sim/truth").await
    }

    /// The truth once nothing is left inside the reporting lag: with the traffic paused, what
    /// every query sees is all there is.
    pub(crate) async fn settled_truth(&self) -> serde_json::Value {
        tokio::time::timeout(DEADLINE, async {
            loop {
                let truth = self.truth().await;
                if truth["pendingRecords"] == 0 {
                    return truth;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await
        .expect("the reporting lag passes")
    }

    /// The fast simulator with two minutes of history, paused, and a token.
    pub(crate) async fn paused_with_history(seed: u64) -> (Self, String) {
        let config = SimConfig {
            history: Duration::from_secs(120),
            start_paused: true,
            ..SimConfig::fast_for_tests(seed)
        };
        let sim = Self::start(config).await;
        let token = sim.token().await;
        (sim, token)
    }

    pub(crate) async fn stop(self) {
        self.cancel.cancel();
        tokio::time::timeout(DEADLINE, self.handle.stopped())
            .await
            .unwrap();
    }
}

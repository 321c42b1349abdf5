//! Test helpers: a simulator on a loopback port, a reqwest client and a token.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{SimConfig, SimHandle, start};
use crate::genesys::model::TokenResponse;

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

    pub(crate) async fn token(&self) -> String {
        let response = self
            .http
            .post(self.url("/oauth/token"))
            .basic_auth(&self.handle.client_id, Some(&self.handle.client_secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.json::<TokenResponse>().await.unwrap().access_token
    }

    pub(crate) async fn post_json(
        &self,
        token: &str,
        path: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
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

    pub(crate) async fn truth(&self) -> serde_json::Value {
        self.http
            .get(self.url("/sim/truth"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    pub(crate) async fn stop(self) {
        self.cancel.cancel();
        tokio::time::timeout(DEADLINE, self.handle.stopped())
            .await
            .unwrap();
    }
}

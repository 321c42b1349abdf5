//! A real Alertmanager (Debian's `prometheus-alertmanager`) on 127.0.0.1, and the webhook
//! receiver it delivers to: an inbox the test serves on loopback and reads.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use super::{free_port, within};

const BINARY: &str = "prometheus-alertmanager";

/// Whether the binary is there; under CI=true it must be.
pub fn available() -> bool {
    let found = Command::new(BINARY)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        super::required::tool_missing(BINARY, "Debian's prometheus-alertmanager package");
    }
    found
}

pub struct Alertmanager {
    /// host:port, for Prometheus's `alerting` section.
    pub address: String,
    child: Child,
    http: reqwest::Client,
    dir: tempfile::TempDir,
}

impl Alertmanager {
    /// Starts one with `config` (an alertmanager.yml text), clustering off.
    pub async fn start(config: &str) -> Alertmanager {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("alertmanager.yml");
        std::fs::write(&path, config).unwrap();
        let address = format!("127.0.0.1:{}", free_port());
        let log = std::fs::File::create(dir.path().join("alertmanager.log")).unwrap();
        let child = Command::new(BINARY)
            .arg(format!("--config.file={}", path.display()))
            .arg(format!(
                "--storage.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address={address}"))
            .arg("--cluster.listen-address=")
            .arg("--log.level=warn")
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .expect("alertmanager starts");
        let alertmanager = Alertmanager {
            address,
            child,
            http: super::tool_client(),
            dir,
        };
        let ready = format!("http://{}/-/ready", alertmanager.address);
        super::answers_ok(&alertmanager.http, &ready, "alertmanager").await;
        alertmanager
    }

    /// Silences alerts whose labels equal `matchers` for an hour, through the v2 API; the
    /// silence's id.
    pub async fn silence(&self, matchers: &[(&str, &str)]) -> String {
        let now = chrono::Utc::now();
        let matchers: Vec<Value> = matchers
            .iter()
            .map(|(name, value)| json!({"name": name, "value": value, "isRegex": false, "isEqual": true}))
            .collect();
        let body = json!({
            "matchers": matchers,
            "startsAt": now.to_rfc3339(),
            "endsAt": (now + chrono::Duration::hours(1)).to_rfc3339(),
            "createdBy": "alert delivery test",
            "comment": "known problem, being handled",
        });
        let url = format!("http://{}/api/v2/silences", self.address);
        let response = self.http.post(url).json(&body).send().await.unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        let answer: Value = response.json().await.unwrap();
        answer["silenceID"].as_str().unwrap().to_owned()
    }

    /// Sends Alertmanager one alert with `labels`, as Prometheus does (`POST /api/v2/alerts`):
    /// firing for an hour, or with `firing` false, ended now.
    pub async fn post_alert(&self, labels: &Value, firing: bool) {
        let now = chrono::Utc::now();
        let ends = if firing {
            now + chrono::Duration::hours(1)
        } else {
            now
        };
        let body = json!([{
            "labels": labels,
            "annotations": {"summary": "sent by the test"},
            "startsAt": (now - chrono::Duration::minutes(1)).to_rfc3339(),
            "endsAt": ends.to_rfc3339(),
        }]);
        let url = format!("http://{}/api/v2/alerts", self.address);
        let response = self.http.post(url).json(&body).send().await.unwrap();
        assert!(response.status().is_success(), "{}", response.status());
    }

    /// What Alertmanager logged (warnings and errors: a failed or retried notification).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("alertmanager.log")).unwrap_or_default()
    }

    /// The alerts Alertmanager holds (`GET /api/v2/alerts`), each with its `status.state`.
    pub async fn alerts(&self) -> Vec<Value> {
        let url = format!("http://{}/api/v2/alerts", self.address);
        let response = self.http.get(url).send().await.unwrap();
        response.json::<Vec<Value>>().await.unwrap()
    }
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One webhook notification as it arrived.
#[derive(Debug, Clone)]
pub struct Notification {
    pub at: Instant,
    pub receiver: String,
    /// `firing` or `resolved`: the group's status.
    pub status: String,
    /// Each alert's status and labels.
    pub alerts: Vec<(String, Value)>,
    /// Each alert's description annotation.
    pub descriptions: Vec<String>,
}

impl Notification {
    /// `receiver status: alertname{label=value,…}` per alert, for assertions that print well.
    pub fn summary(&self) -> String {
        let alerts: Vec<String> = self
            .alerts
            .iter()
            .map(|(status, labels)| format!("{status} {}", labels_text(labels)))
            .collect();
        format!("{} {}: [{}]", self.receiver, self.status, alerts.join("; "))
    }
}

fn labels_text(labels: &Value) -> String {
    let map = labels.as_object().unwrap();
    let name = map.get("alertname").and_then(Value::as_str).unwrap_or("?");
    let rest: Vec<String> = map
        .iter()
        .filter(|(k, _)| *k != "alertname")
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
        .collect();
    format!("{name}{{{}}}", rest.join(","))
}

/// The webhook receivers: `POST /{receiver}` records the notification.
#[derive(Clone, Default)]
pub struct Inbox {
    received: Arc<Mutex<Vec<Notification>>>,
    pub url: String,
    /// What a test does not judge (kept apart, see [`Inbox::ignored`]).
    ignore: Option<fn(&Notification) -> bool>,
}

impl Inbox {
    /// Serves the receivers; `ignore` sets notifications apart from what the test judges.
    pub async fn serve(ignore: Option<fn(&Notification) -> bool>) -> Inbox {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let inbox = Inbox {
            url: format!("http://{}", listener.local_addr().unwrap()),
            ignore,
            ..Inbox::default()
        };
        let app = Router::new()
            .route("/{receiver}", post(receive))
            .with_state(inbox.received.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        inbox
    }

    /// What arrived, in order, but the ignored.
    pub fn received(&self) -> Vec<Notification> {
        let all = self.received.lock().unwrap().clone();
        all.into_iter()
            .filter(|n| !self.ignore.is_some_and(|ignore| ignore(n)))
            .collect()
    }

    /// What arrived that the test does not judge.
    pub fn ignored(&self) -> Vec<Notification> {
        let all = self.received.lock().unwrap().clone();
        all.into_iter()
            .filter(|n| self.ignore.is_some_and(|ignore| ignore(n)))
            .collect()
    }

    /// Waits (up to a minute: resolutions wait out keep_firing_for and a group interval) for a
    /// notification after the first `seen` that `wanted` accepts; gives it.
    pub async fn next_after(
        &self,
        seen: usize,
        what: &str,
        wanted: impl Fn(&Notification) -> bool,
    ) -> Notification {
        let mut found = None;
        within(what, Duration::from_secs(60), || {
            let received = self.received();
            found = received.iter().skip(seen).find(|n| wanted(n)).cloned();
            let summaries: Vec<String> = received.iter().map(Notification::summary).collect();
            std::future::ready(match &found {
                Some(_) => Ok(()),
                None => Err(format!("received so far: {summaries:#?}")),
            })
        })
        .await;
        found.unwrap()
    }
}

async fn receive(
    State(received): State<Arc<Mutex<Vec<Notification>>>>,
    Path(receiver): Path<String>,
    Json(body): Json<Value>,
) {
    let each = body["alerts"].as_array().cloned().unwrap_or_default();
    let text = |value: &Value| value.as_str().unwrap_or("").to_owned();
    let alerts = (each.iter())
        .map(|a| (text(&a["status"]), a["labels"].clone()))
        .collect();
    let descriptions = (each.iter())
        .map(|a| text(&a["annotations"]["description"]))
        .collect();
    let notification = Notification {
        at: Instant::now(),
        receiver,
        status: body["status"].as_str().unwrap_or("").to_owned(),
        alerts,
        descriptions,
    };
    received.lock().unwrap().push(notification);
}

//! A real Prometheus server (Debian's `prometheus` package) on 127.0.0.1, scraping given
//! targets every second, queried over its HTTP API.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use super::{eventually, free_port};

pub struct Prometheus {
    pub url: String,
    child: Child,
    http: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// Whether the `prometheus` binary is there; under CI=true it must be.
pub fn available() -> bool {
    let found = Command::new("prometheus")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        super::required::tool_missing("prometheus", "Debian's prometheus package");
    }
    found
}

impl Prometheus {
    /// Starts a server scraping `targets` (job name, host:port) every second.
    pub async fn start(targets: &[(&str, String)]) -> Prometheus {
        Self::start_with_rules(targets, &[]).await
    }

    /// Like [`Prometheus::start`], evaluating `rule_files` every second.
    pub async fn start_with_rules(
        targets: &[(&str, String)],
        rule_files: &[std::path::PathBuf],
    ) -> Prometheus {
        let jobs: String = targets
            .iter()
            .map(|(job, address)| {
                format!(
                    "  - job_name: {job}\n    static_configs:\n      - targets: ['{address}']\n"
                )
            })
            .collect();
        Self::start_with_jobs(&jobs, rule_files).await
    }

    /// Starts a server with `jobs` (entries of `scrape_configs`, as YAML indented by two) and
    /// `rule_files`.
    pub async fn start_with_jobs(jobs: &str, rule_files: &[std::path::PathBuf]) -> Prometheus {
        Self::start_configured(jobs, rule_files, "", &[]).await
    }

    /// Like [`Prometheus::start_with_jobs`], sending its alerts to the Alertmanager at
    /// `alertmanager` (host:port), and again every `resend_delay` (the shipped minute, or
    /// scaled with the rest of a test's time): an all-clear Alertmanager held back and
    /// dropped arrives with the next resend.
    pub async fn start_alerting(
        jobs: &str,
        rule_files: &[std::path::PathBuf],
        alertmanager: &str,
        resend_delay: Duration,
    ) -> Prometheus {
        let alerting = format!(
            "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['{alertmanager}']\n"
        );
        let resend = format!("--rules.alert.resend-delay={}ms", resend_delay.as_millis());
        Self::start_configured(jobs, rule_files, &alerting, &[&resend]).await
    }

    async fn start_configured(
        jobs: &str,
        rule_files: &[std::path::PathBuf],
        alerting: &str,
        flags: &[&str],
    ) -> Prometheus {
        let dir = tempfile::tempdir().unwrap();
        let rules: String = rule_files
            .iter()
            .map(|path| format!("  - '{}'\n", path.display()))
            .collect();
        let config = format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n  evaluation_interval: 1s\n{alerting}rule_files:\n{rules}scrape_configs:\n{jobs}"
        );
        let config_path = dir.path().join("prometheus.yml");
        std::fs::write(&config_path, config).unwrap();
        let port = free_port();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--log.level=warn")
            .args(flags)
            .stdout(Stdio::null())
            .stderr(log_file(dir.path()))
            .spawn()
            .expect("prometheus starts");
        let prometheus = Prometheus {
            url: format!("http://127.0.0.1:{port}"),
            child,
            http: super::tool_client(),
            _dir: dir,
        };
        let ready = format!("{}/-/ready", prometheus.url);
        super::answers_ok(&prometheus.http, &ready, "prometheus").await;
        prometheus
    }

    /// The result of an instant query at `time` (Unix seconds), or now.
    pub async fn query(&self, promql: &str, time: Option<f64>) -> Vec<Value> {
        let mut form = vec![("query", promql.to_owned())];
        if let Some(time) = time {
            form.push(("time", format!("{time:.3}")));
        }
        let request = self
            .http
            .post(format!("{}/api/v1/query", self.url))
            .form(&form);
        let data = Self::data(request, promql).await;
        data["result"].as_array().cloned().unwrap_or_default()
    }

    /// `GET path` of the HTTP API (`/api/v1/rules`, `/api/v1/alerts`): its `data`.
    pub async fn api(&self, path: &str) -> Value {
        Self::data(self.http.get(format!("{}{path}", self.url)), path).await
    }

    /// The `data` of a successful API answer; `what` names the call in a failure.
    async fn data(request: reqwest::RequestBuilder, what: &str) -> Value {
        let body: Value = request.send().await.unwrap().json().await.unwrap();
        assert_eq!(body["status"], "success", "{what}: {body}");
        body["data"].clone()
    }

    /// The single value of a query that yields one sample (`None` when it yields none).
    pub async fn value(&self, promql: &str, time: Option<f64>) -> Option<f64> {
        let result = self.query(promql, time).await;
        let sample = result.first()?;
        sample["value"][1].as_str()?.parse().ok()
    }

    /// Waits until `promql` yields exactly `want` (to a thousandth: float sums of seconds).
    pub async fn wait_for(&self, promql: &str, want: f64) {
        self.wait_until(promql, want, |v| (v - want).abs() < 1e-3)
            .await;
    }

    /// Waits until `promql` yields at least `want`.
    pub async fn wait_at_least(&self, promql: &str, want: f64) {
        self.wait_until(promql, want, |v| v >= want).await;
    }

    async fn wait_until(&self, promql: &str, want: f64, good: impl Fn(f64) -> bool) {
        eventually(promql, || async {
            match self.value(promql, None).await {
                Some(value) if good(value) => Ok(()),
                other => Err(format!("{other:?}, wanted {want}")),
            }
        })
        .await;
    }
}

fn log_file(dir: &Path) -> Stdio {
    std::fs::File::create(dir.join("prometheus.log")).map_or_else(|_| Stdio::null(), Stdio::from)
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

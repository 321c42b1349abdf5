//! The operators' kit against a real Prometheus (Debian's `prometheus`): the demo is scraped,
//! the rule files are evaluated, every dashboard panel query (variables substituted) and every
//! recording rule returns data, every alert expression evaluates, and the backlog and
//! stream-disconnected alerts are seen firing in a scenario the simulator's faults drive; and
//! the same Prometheus scrapes over TLS with basic auth from an exporter-toolkit web config.

use crate::common;

use std::path::{Path, PathBuf};

use common::process::ExporterProcess;
use common::prometheus::{self, Prometheus};
use common::{Harness, eventually, free_port};
use genesys_exporter::sim::{Fault, SimConfig};
use serde_json::Value;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The shipped rules, with what only time could show made immediate: every `for:` is 0s, the
/// backlog threshold is 0 (any waiting interaction), so the alerts fire within seconds, and
/// the ratios' minimum volumes are 1, so the guarded panels show a value from the first
/// conversation counted rather than after ten per queue and media type, which a loaded
/// machine may not reach in the test's time. The expressions themselves are untouched.
fn rules_for_a_short_scenario(dir: &Path) -> Vec<PathBuf> {
    let rules = repo("deploy/prometheus/rules");
    let mut files = Vec::new();
    for name in ["thresholds.yml", "recording.yml", "alerts.yml"] {
        let text = std::fs::read_to_string(rules.join(name)).unwrap();
        let text = text
            .lines()
            .map(|line| match line.trim_start().strip_prefix("for: ") {
                Some(_) => format!("{}for: 0s", &line[..line.len() - line.trim_start().len()]),
                None => line.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("\n");
        let text = match name {
            "thresholds.yml" => [
                ("queue_waiting", "vector(10)", "vector(0)"),
                ("abandon_min_offered", "vector(10)", "vector(1)"),
                ("service_level_min_conversations", "vector(10)", "vector(1)"),
                ("flow_outcome_min_results", "vector(20)", "vector(1)"),
                ("action_min_executions", "vector(10)", "vector(1)"),
                ("conversation_errors_min_offered", "vector(20)", "vector(1)"),
            ]
            .iter()
            .fold(text, |text, (threshold, shipped, short)| {
                let marker = format!("record: genesys:threshold:{threshold}\n        expr: ");
                assert!(
                    text.contains(&format!("{marker}{shipped}")),
                    "the {threshold} threshold moved"
                );
                text.replace(&format!("{marker}{shipped}"), &format!("{marker}{short}"))
            }),
            _ => text,
        };
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        files.push(path);
    }
    files
}

/// The averages over conversations and the counter of what they average: an average has no
/// value until a conversation of its kind is counted (the demo's talks last minutes).
const AVERAGES: &[(&str, &str)] = &[
    (
        "genesys:queue_handle_seconds:avg30m",
        "genesys_conversations_handled_total",
    ),
    (
        "genesys:queue_answer_seconds:avg30m",
        "genesys_conversations_answered_total",
    ),
    (
        "genesys:queue_abandon_seconds:avg30m",
        "genesys_conversations_abandoned_total",
    ),
];

/// Whether `expr` reads an average and Prometheus has counted nothing for it to average.
async fn nothing_to_average(prometheus: &Prometheus, expr: &str) -> bool {
    let Some((_, counter)) = AVERAGES.iter().find(|(rule, _)| expr.contains(rule)) else {
        return false;
    };
    let counted = format!("sum(increase({counter}[30m]))");
    prometheus.value(&counted, None).await.unwrap_or(0.0) == 0.0
}

async fn firing(prometheus: &Prometheus, alert: &str) {
    eventually(&format!("{alert} fires"), || async {
        let alerts = prometheus.api("/api/v1/alerts").await;
        let states: Vec<String> = alerts["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["labels"]["alertname"] == alert)
            .map(|a| a["state"].as_str().unwrap_or("").to_owned())
            .collect();
        if states.iter().any(|s| s == "firing") {
            Ok(())
        } else {
            Err(format!("{states:?}"))
        }
    })
    .await;
}

async fn arm(http: &reqwest::Client, sim: &str, fault: Fault) {
    let response = http
        .post(format!("{sim}/sim/faults"))
        .json(&fault)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{fault:?}: {}",
        response.status()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_and_rules_work_against_a_real_prometheus_scraping_the_demo() {
    if !prometheus::available() {
        return;
    }
    let (port, sim_port) = (free_port(), free_port());
    let demo = ExporterProcess::demo(port, sim_port, &["--arrivals-per-minute", "30"]);
    demo.wait_ready().await;
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_for_a_short_scenario(dir.path());
    let target = [("genesys-exporter", format!("127.0.0.1:{port}"))];
    let prometheus = Prometheus::start_with_rules(&target, &rules).await;
    prometheus
        .wait_for(r#"up{job="genesys-exporter"}"#, 1.0)
        .await;

    let http = common::client();
    let sim = format!("http://127.0.0.1:{sim_port}");
    let observations = Some("/api/v2/analytics/queues/observations/query".to_owned());
    arm(
        &http,
        &sim,
        Fault::RateLimit {
            count: 2,
            retry_after_seconds: 1,
            path: observations,
        },
    )
    .await;
    arm(&http, &sim, Fault::CloseSockets).await;
    prometheus
        .wait_at_least(r#"sum(genesys_exporter_api_rate_limited_total)"#, 1.0)
        .await;
    firing(&prometheus, "GenesysQueueBacklog").await;
    arm(
        &http,
        &sim,
        Fault::RefuseChannels {
            count: 100_000,
            status: 400,
        },
    )
    .await;
    arm(&http, &sim, Fault::ExpireChannels).await;
    firing(&prometheus, "GenesysExporterStreamDisconnected").await;
    // An integration that times out: its data action fails, and with it the outcome that
    // needs it; both alerts fire from the polled counters alone.
    arm(
        &http,
        &sim,
        Fault::DataActionFailing {
            action: "Take payment".into(),
            status: 504,
            restore: false,
        },
    )
    .await;
    arm(
        &http,
        &sim,
        Fault::FlowOutcomeFailing {
            outcome: "Payment taken".into(),
            restore: false,
        },
    )
    .await;
    firing(&prometheus, "GenesysDataActionFailing").await;
    firing(&prometheus, "GenesysFlowOutcomeFailing").await;

    let queries = crate::dashboards::panel_queries("1h");
    assert!(queries.len() >= 60, "{} panel queries", queries.len());
    for (_, title, expr) in queries {
        eventually(&format!("panel {title:?} has data"), || async {
            let result = prometheus.query(&expr, None).await;
            if !result.is_empty() || nothing_to_average(&prometheus, &expr).await {
                Ok(())
            } else {
                Err(format!("{expr}: no data"))
            }
        })
        .await;
    }
    let groups = prometheus.api("/api/v1/rules").await["groups"]
        .as_array()
        .unwrap()
        .clone();
    let rules: Vec<Value> = groups
        .iter()
        .flat_map(|g| g["rules"].as_array().unwrap().clone())
        .collect();
    assert!(rules.len() >= 30, "{} rules loaded", rules.len());
    for rule in &rules {
        let (name, query) = (
            rule["name"].as_str().unwrap(),
            rule["query"].as_str().unwrap(),
        );
        assert_eq!(rule["health"], "ok", "{name}: {}", rule["lastError"]);
        let result = prometheus.query(query, None).await;
        if rule["type"] == "recording" {
            let averages_nothing = nothing_to_average(&prometheus, name).await;
            assert!(
                !result.is_empty() || averages_nothing,
                "recording rule {name} has no data: {query}"
            );
        }
    }
    drop(prometheus);
    drop(demo);
}

/// A real Prometheus scraping the exporter over TLS with basic auth, configured by an
/// exporter-toolkit web config file; the same Prometheus with a wrong password, and over plain
/// HTTP, is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_scrapes_over_tls_with_basic_auth() {
    if !prometheus::available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let cert = dir.path().join("server.crt");
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    let key = dir.path().join("server.key");
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();
    let hash = bcrypt::hash("scrape-password", 4).unwrap();
    let web_config = dir.path().join("web.yml");
    std::fs::write(
        &web_config,
        format!(
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\nbasic_auth_users:\n  prometheus: \"{hash}\"\n"
        ),
    )
    .unwrap();
    let harness = Harness::start_with(SimConfig::fast_for_tests(61), |settings| {
        settings.web.config_file = Some(web_config.clone());
    })
    .await;
    let target = harness
        .exporter_url
        .trim_start_matches("http://")
        .to_owned();
    let job = |name: &str, scheme: &str, password: &str| {
        format!(
            "  - job_name: {name}\n    scheme: {scheme}\n    tls_config:\n      ca_file: '{}'\n      server_name: localhost\n    basic_auth:\n      username: prometheus\n      password: {password}\n    static_configs:\n      - targets: ['{target}']\n",
            cert.display()
        )
    };
    let jobs = [
        job("secured", "https", "scrape-password"),
        job("wrong_password", "https", "guess"),
        job("plain", "http", "scrape-password"),
    ]
    .concat();
    let prometheus = Prometheus::start_with_jobs(&jobs, &[]).await;
    prometheus.wait_for("up{job=\"secured\"}", 1.0).await;
    eventually("queue series scraped over TLS", || async {
        let series = prometheus
            .value("count(genesys_queue_info{job=\"secured\"})", None)
            .await;
        match series {
            Some(n) if n >= 3.0 => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    for refused in ["wrong_password", "plain"] {
        prometheus
            .wait_for(&format!("up{{job=\"{refused}\"}}"), 0.0)
            .await;
        let scraped = prometheus
            .value(
                &format!("count(genesys_queue_info{{job=\"{refused}\"}})"),
                None,
            )
            .await;
        assert_eq!(scraped, None, "{refused} saw no series");
    }
    harness.stop().await;
}

//! Secret hygiene: the exporter runs with every crate at trace level through a rejected login,
//! a good one, a 401 for a valid token, a token revocation and a shutdown; then everything it
//! printed or served (logs, `/metrics`, `/`, the probes, `check-config`, config errors and
//! `Debug` of its settings) is searched for the client secret, its Basic-auth encoding and
//! every bearer token the simulator issued. Nothing may be found.

use crate::common;

use std::path::Path;

use base64::Engine;
use common::process::{ExporterProcess, sim_env};
use common::{eventually, free_port, get_text};
use genesys_exporter::config::Settings;
use genesys_exporter::sim::{self, SimConfig, SimHandle};
use serde_json::json;
use tokio_util::sync::CancellationToken;

const WRONG_SECRET: &str = "not-the-secret-4f1d2c9e";

/// The exporter `run` against `sim` with `secret`, everything logged at trace level into `log`.
fn exporter(sim: &SimHandle, secret: &str, log: &Path) -> ExporterProcess {
    let port = free_port();
    let mut env = sim_env(sim, port, &["voice".to_owned()]);
    for (name, value) in &mut env {
        if name == "GENESYS_EXPORTER_CLIENT_SECRET" {
            *value = secret.to_owned();
        }
    }
    env.push(("RUST_LOG".to_owned(), "trace".to_owned()));
    env.push(("RUST_BACKTRACE".to_owned(), "1".to_owned()));
    ExporterProcess::spawn_logging(&["run"], &env, port, log)
}

/// Waits until `/metrics` shows at least `at_least` token fetches with `result`.
async fn token_fetches(
    http: &reqwest::Client,
    exporter: &ExporterProcess,
    result: &str,
    at_least: f64,
) {
    let series = format!("genesys_exporter_token_refreshes_total{{result=\"{result}\"}} ");
    eventually(&format!("{at_least} token fetches: {result}"), || async {
        let url = format!("{}/metrics", exporter.url);
        let response = http.get(&url).send().await.map_err(|e| e.to_string())?;
        let text = response.text().await.map_err(|e| e.to_string())?;
        let count = text
            .lines()
            .find_map(|l| l.strip_prefix(&series))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0);
        if count >= at_least {
            Ok(())
        } else {
            Err(format!("{count}"))
        }
    })
    .await;
}

/// What the exporter serves on every page, concatenated.
async fn pages(http: &reqwest::Client, exporter: &ExporterProcess) -> String {
    let mut served = String::new();
    for path in ["/metrics", "/", "/healthz", "/readyz"] {
        served.push_str(&get_text(http, &format!("{}{path}", exporter.url)).await.1);
    }
    served
}

async fn fault(http: &reqwest::Client, sim: &SimHandle, fault: serde_json::Value) {
    let response = http
        .post(format!("{}/sim/faults", sim.base_url))
        .json(&fault)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{fault}");
}

/// The binary's `check-config` output with the secret in its environment.
fn check_config(sim: &SimHandle) -> String {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_genesys-exporter"));
    command.arg("check-config").env_remove("RUST_LOG");
    for (name, value) in sim_env(sim, free_port(), &["voice".to_owned()]) {
        command.env(name, value);
    }
    let output = command.output().expect("check-config runs");
    assert!(output.status.success(), "{output:?}");
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// `Debug` of loaded settings, and the message of a config error about the secret.
fn settings_output(sim: &SimHandle) -> String {
    let env: Vec<(String, String)> = sim_env(sim, free_port(), &["voice".to_owned()]);
    let settings = Settings::load_from(None, env.clone()).expect("the settings load");
    let mut both = env;
    both.push((
        "GENESYS_EXPORTER_CLIENT_SECRET_FILE".to_owned(),
        "/nonexistent".to_owned(),
    ));
    let error = Settings::load_from(None, both).expect_err("two secrets are refused");
    format!("{settings:?}\n{settings:#?}\n{error}\n{error:?}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_or_token_appears_in_anything_the_exporter_prints_or_serves() {
    genesys_exporter::genesys::install_crypto_provider();
    let cancel = CancellationToken::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = SimConfig {
        // NB: distinctive, so a hit is a leak and never a coincidence.
        client_secret: "hygiene-8a41f07c-secret".to_owned(),
        ..SimConfig::fast_for_tests(71)
    };
    let sim = sim::start(config, listener, cancel.clone()).await.unwrap();
    let http = reqwest::Client::new();
    let dir = tempfile::tempdir().unwrap();
    let mut everything = String::new();

    let rejected = exporter(&sim, WRONG_SECRET, &dir.path().join("rejected.log"));
    token_fetches(&http, &rejected, "failure", 1.0).await;
    everything.push_str(&pages(&http, &rejected).await);
    rejected.stop().await;

    let accepted = exporter(&sim, &sim.client_secret, &dir.path().join("accepted.log"));
    accepted.wait_ready().await;
    fault(&http, &sim, json!({"kind": "unauthorized", "count": 1})).await;
    token_fetches(&http, &accepted, "success", 2.0).await;
    fault(&http, &sim, json!({"kind": "revoke_tokens"})).await;
    token_fetches(&http, &accepted, "success", 3.0).await;
    everything.push_str(&pages(&http, &accepted).await);
    accepted.stop().await;

    for log in ["rejected.log", "accepted.log"] {
        let text = std::fs::read_to_string(dir.path().join(log)).unwrap();
        assert!(text.contains("TRACE"), "{log} was written at trace level");
        everything.push_str(&text);
    }
    everything.push_str(&check_config(&sim));
    everything.push_str(&settings_output(&sim));

    let tokens = sim.issued_tokens();
    assert!(tokens.len() >= 3, "{} tokens issued", tokens.len());
    let basic = |secret: &str| {
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{secret}", sim.client_id))
    };
    let mut needles = vec![
        ("the client secret", sim.client_secret.clone()),
        ("the rejected secret", WRONG_SECRET.to_owned()),
        ("the secret's Basic auth", basic(&sim.client_secret)),
        ("the rejected secret's Basic auth", basic(WRONG_SECRET)),
    ];
    needles.extend(tokens.into_iter().map(|t| ("a bearer token", t)));
    for (what, needle) in &needles {
        assert!(
            !everything.contains(needle.as_str()),
            "{what} appears in the output ({} bytes searched)",
            everything.len()
        );
    }
    cancel.cancel();
    sim.stopped().await;
}

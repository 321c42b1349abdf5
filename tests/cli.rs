//! The binary's contract: exit codes, one-line config errors, redacted `check-config`.

use std::process::{Command, Output};

fn exporter(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_genesys-exporter"));
    command.args(args);
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("GENESYS_EXPORTER")) {
        command.env_remove(name);
    }
    command
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs")
}

#[test]
fn check_config_prints_the_effective_config_with_the_secret_redacted() {
    let output = exporter(
        &["check-config"],
        &[
            ("GENESYS_EXPORTER_CLIENT_ID", "my-client"),
            ("GENESYS_EXPORTER_CLIENT_SECRET", "top-secret-value"),
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("\"client_id\": \"my-client\""), "{stdout}");
    assert!(stdout.contains("[redacted]"), "{stdout}");
    assert!(!stdout.contains("top-secret-value"), "{stdout}");
}

#[test]
fn bad_config_exits_2_with_one_line_naming_the_key() {
    let output = exporter(
        &["check-config"],
        &[
            ("GENESYS_EXPORTER_CLIENT_ID", "my-client"),
            ("GENESYS_EXPORTER_CLIENT_SECRET", "top-secret-value"),
            ("GENESYS_EXPORTER_REGION", "atlantis"),
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("`region`") && stderr.contains("eu_west_1"),
        "{stderr}"
    );
    assert!(!stderr.contains("top-secret-value"));
}

#[test]
fn run_with_bad_config_exits_2_before_doing_anything() {
    let output = exporter(&["run"], &[("GENESYS_EXPORTER_CLIENT_ID", "x")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("`client_secret`"));
}

#[test]
fn a_missing_config_file_is_named() {
    let output = exporter(
        &["--config", "/nonexistent/exporter.yaml", "check-config"],
        &[],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/exporter.yaml"));
}

/// Reads the child's stdout until the line announcing the metrics URL.
async fn metrics_url(stdout: tokio::process::ChildStdout) -> String {
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    while let Some(line) = lines.next_line().await.expect("stdout is readable") {
        if let Some(rest) = line.strip_prefix("metrics: ") {
            return rest
                .split_whitespace()
                .next()
                .expect("a URL follows")
                .to_owned();
        }
    }
    panic!("the demo never printed its metrics URL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_serves_ready_metrics_and_exits_0_on_sigterm() {
    use std::time::Duration;
    genesys_exporter::genesys::install_crypto_provider();
    let deadline = Duration::from_secs(30);
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_genesys-exporter"))
        .args(["demo", "--listen", "127.0.0.1:0", "--queues", "2"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("the demo starts");
    let stdout = child.stdout.take().unwrap();
    let url = tokio::time::timeout(deadline, metrics_url(stdout))
        .await
        .expect("URL printed in time");
    let ready_url = url.replace("/metrics", "/readyz");
    let http = reqwest::Client::new();
    let ready = async {
        loop {
            if let Ok(response) = http.get(&ready_url).send().await
                && response.status() == 200
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::time::timeout(deadline, ready)
        .await
        .expect("the demo becomes ready");
    let body = http.get(&url).send().await.unwrap().text().await.unwrap();
    assert!(body.contains("genesys_queue_interactions{"), "{body}");

    let pid = child.id().expect("the demo is running").to_string();
    let kill = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(kill.success());
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("the demo stops within 10 s of SIGTERM")
        .unwrap();
    assert!(status.success(), "exit status {status}");
}

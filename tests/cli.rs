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

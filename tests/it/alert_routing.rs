//! The shipped Alertmanager configuration (`deploy/alertmanager/alertmanager.yml`) with the real
//! `amtool` (Debian's prometheus-alertmanager): it passes `check-config`, and every alert of the
//! shipped rules, with the labels it is sent with, reaches the receiver its severity names.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

const CONFIG: &str = "deploy/alertmanager/alertmanager.yml";

/// Whether amtool can run; under CI=true it must.
fn amtool_or_skip() -> bool {
    let runs = Command::new("amtool").arg("--version").output();
    if runs.is_ok_and(|out| out.status.success()) {
        return true;
    }
    common::required::tool_missing("amtool", "Debian's prometheus-alertmanager package");
    false
}

fn amtool(args: &[&str]) -> (bool, String) {
    let out = Command::new("amtool")
        .args(args)
        .output()
        .expect("amtool runs");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// Every alert of the shipped rules with the labels it sets: its name first, then
/// `severity` and `data` (what Alertmanager routes and inhibits on).
fn alerts() -> Vec<Vec<(String, String)>> {
    let text = std::fs::read_to_string(repo("deploy/prometheus/rules/alerts.yml")).unwrap();
    let mut alerts: Vec<Vec<(String, String)>> = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(name) = line.strip_prefix("- alert: ") {
            alerts.push(vec![("alertname".to_owned(), name.to_owned())]);
        } else if let Some((key, value)) = line.split_once(": ")
            && ["severity", "data"].contains(&key)
        {
            let alert = alerts.last_mut().expect("labels inside an alert");
            alert.push((key.to_owned(), value.to_owned()));
        }
    }
    alerts
}

#[test]
fn amtool_accepts_the_shipped_configuration() {
    if !amtool_or_skip() {
        return;
    }
    let config = repo(CONFIG);
    let (ok, text) = amtool(&["check-config", config.to_str().unwrap()]);
    assert!(ok, "amtool check-config: {text}");
}

#[test]
fn every_alert_reaches_the_receiver_its_severity_names() {
    if !amtool_or_skip() {
        return;
    }
    let alerts = alerts();
    let rules = std::fs::read_to_string(repo("deploy/prometheus/rules/alerts.yml")).unwrap();
    let named = rules
        .lines()
        .filter(|l| l.trim().starts_with("- alert: "))
        .count();
    assert_eq!(alerts.len(), named);
    assert!(named >= 15, "{named} alerts");
    let config = repo(CONFIG);
    let config = format!("--config.file={}", config.display());
    for labels in alerts {
        let severity = labels.iter().find(|(k, _)| k == "severity");
        let name = &labels[0].1;
        let receiver = match severity.map(|(_, v)| v.as_str()) {
            Some("page") => "genesys-page",
            Some("ticket") => "genesys-ticket",
            other => panic!("{name}: severity {other:?} has no route"),
        };
        let verify = format!("--verify.receivers={receiver}");
        let mut args = vec!["config".to_owned(), "routes".to_owned(), "test".to_owned()];
        args.extend([config.clone(), verify]);
        args.extend(labels.iter().map(|(k, v)| format!("{k}={v}")));
        // As a sharded Kubernetes deployment's alerts arrive.
        args.extend(
            [
                "namespace=genesys-exporter",
                "job=genesys-exporter",
                "shard=1",
            ]
            .map(String::from),
        );
        let labels: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ok, text) = amtool(&labels);
        assert!(ok, "{name} does not reach {receiver}: {text}");
    }
}

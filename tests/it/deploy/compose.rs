//! docker-compose.yml without Docker: the Compose schema accepts it, what it mounts exists,
//! the exporter's demo listens where Prometheus scrapes, and the Prometheus config passes
//! `promtool check config` with the rule files where the container sees them.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};

use super::tools::{self, repo};
use super::yaml;

fn compose() -> Value {
    yaml::document(
        &tools::read(&repo("docker-compose.yml")),
        "docker-compose.yml",
    )
}

/// A service's bind mounts, `./host:/container[:ro]`, as (host path, container path).
fn binds(service: &Value) -> Vec<(String, String)> {
    service["volumes"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.as_str())
        .filter_map(|v| {
            let mut parts = v.split(':');
            let host = parts.next()?.strip_prefix("./")?;
            Some((host.to_owned(), parts.next()?.to_owned()))
        })
        .collect()
}

#[test]
fn the_compose_file_passes_the_compose_schema() {
    if !tools::require_python(&["yaml", "jsonschema"], "PyPI package kubernetes-validate") {
        return;
    }
    let output = tools::run(
        Command::new("python3")
            .arg(repo("tests/it/deploy/compose_schema.py"))
            .arg(repo("docker-compose.yml")),
        tools::TOOL_DEADLINE,
    );
    assert!(output.status.success(), "{}", output.report());
}

#[test]
fn the_compose_demo_is_locked_down_and_scraped_where_it_listens() {
    let compose = compose();
    let exporter = &compose["services"]["exporter"];
    assert_eq!(exporter["build"], ".");
    assert!(repo("Dockerfile").exists());
    // NB: the demo listens on 127.0.0.1 by default: unreachable from the Prometheus container.
    assert_eq!(
        exporter["command"],
        json!(["demo", "--listen", "0.0.0.0:9856"])
    );
    assert_eq!(exporter["user"], "65532:65532");
    assert_eq!(exporter["read_only"], true);
    assert_eq!(exporter["cap_drop"], json!(["ALL"]));
    assert_eq!(exporter["ports"], json!(["9856:9856"]));

    let prometheus = yaml::document(
        &tools::read(&repo("deploy/compose/prometheus.yml")),
        "deploy/compose/prometheus.yml",
    );
    let job = prometheus["scrape_configs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["job_name"] == "genesys-exporter")
        .expect("a genesys-exporter job, the job the rules select on");
    assert_eq!(
        job["static_configs"],
        json!([{"targets": ["exporter:9856"]}])
    );
    let mounts = binds(&compose["services"]["prometheus"]);
    assert!(mounts.contains(&(
        "deploy/compose/prometheus.yml".to_owned(),
        "/etc/prometheus/prometheus.yml".to_owned()
    )));
}

#[test]
fn every_file_the_compose_file_mounts_exists() {
    let compose = compose();
    for (service, definition) in compose["services"].as_object().unwrap() {
        for (host, _) in binds(definition) {
            assert!(
                repo(&host).exists(),
                "{service} mounts ./{host}, which does not exist"
            );
        }
    }
}

/// The dashboard provider reads where grafana/dashboards is mounted, and the datasource
/// queries the Compose Prometheus.
#[test]
fn grafana_provisioning_reads_the_mounted_dashboards_and_the_compose_prometheus() {
    let compose = compose();
    let mounts = binds(&compose["services"]["grafana"]);
    let dashboards_at = mounts
        .iter()
        .find(|(host, _)| host == "grafana/dashboards")
        .map(|(_, container)| container.clone())
        .expect("grafana/dashboards is mounted");
    let providers = repo("grafana/provisioning/dashboards/genesys-exporter.yml");
    {
        let document = yaml::document(&tools::read(&providers), "the dashboard provisioning");
        for provider in document["providers"].as_array().unwrap() {
            assert_eq!(
                provider["options"]["path"], dashboards_at,
                "the dashboard provider reads the mounted grafana/dashboards"
            );
        }
    }
    let datasources = repo("grafana/provisioning/datasources/prometheus.yml");
    {
        let document = yaml::document(&tools::read(&datasources), "the datasource provisioning");
        for source in document["datasources"].as_array().unwrap() {
            if source["type"] == "prometheus" {
                assert_eq!(
                    source["url"], "http://prometheus:9090",
                    "the Compose Prometheus"
                );
            }
        }
    }
}

/// The Compose Prometheus config with its rule file paths moved from the container's view to
/// the repository's, by the prometheus service's bind mounts.
fn prometheus_config_on_the_host(dir: &Path) -> (PathBuf, Option<usize>) {
    let compose = compose();
    let mounts = binds(&compose["services"]["prometheus"]);
    let mut config = yaml::document(
        &tools::read(&repo("deploy/compose/prometheus.yml")),
        "deploy/compose/prometheus.yml",
    );
    let mut rule_files = None;
    if let Some(patterns) = config["rule_files"].as_array_mut() {
        for pattern in patterns {
            let in_container = pattern.as_str().unwrap().to_owned();
            let (host, container) = mounts
                .iter()
                .find(|(_, container)| in_container.starts_with(&format!("{container}/")))
                .unwrap_or_else(|| panic!("rule file {in_container} is in no mounted directory"));
            let host_dir = repo(host);
            if host_dir.is_dir() {
                let count = std::fs::read_dir(&host_dir)
                    .unwrap()
                    .filter(|e| {
                        e.as_ref()
                            .unwrap()
                            .path()
                            .extension()
                            .is_some_and(|x| x == "yml")
                    })
                    .count();
                *rule_files.get_or_insert(0) += count;
            }
            let relative = &in_container[container.len()..];
            *pattern = json!(format!("{}{relative}", host_dir.display()));
        }
    }
    let path = dir.join("prometheus.yml");
    std::fs::write(&path, config.to_string()).unwrap();
    (path, rule_files)
}

#[test]
fn the_compose_prometheus_config_passes_promtool() {
    if !tools::require("promtool", &["--version"], "Debian package prometheus") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (config, rule_files) = prometheus_config_on_the_host(dir.path());
    let output = tools::run_ok(
        Command::new("promtool")
            .args(["check", "config"])
            .arg(&config),
    );
    let count = rule_files.expect("the compose Prometheus loads deploy/prometheus/rules");
    assert!(
        count >= 3,
        "thresholds, recording rules and alerts: {count}"
    );
    assert!(
        output
            .stdout
            .contains(&format!("SUCCESS: {count} rule files found")),
        "promtool loads the {count} rule files: {}",
        output.report()
    );
}

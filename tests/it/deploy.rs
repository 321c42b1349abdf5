//! The deployment kit, checked by the tools that consume it: hadolint on the Dockerfile;
//! `kubectl kustomize` and the Kubernetes schemas (kubernetes-validate) on the base and the
//! example overlay; promtool on the PrometheusRule and the Compose Prometheus config; the
//! Compose schema on docker-compose.yml; and bubblewrap running the real binary as the image
//! runs it (uid 65532, read-only root, only the state directory writable).
//!
//! Under CI=true a missing tool fails; elsewhere the test skips and says so loudly.

use crate::common;

/// Where the image puts the exporter and what it reads and writes (the Dockerfile), which the
/// Deployment mounts and the sandbox mirrors.
mod layout {
    /// The image's user and group.
    pub const UID: u32 = 65532;
    pub const BINARY: &str = "/usr/local/bin/genesys-exporter";
    pub const CONFIG: &str = "/etc/genesys-exporter/config.yaml";
    pub const SECRET: &str = "/var/run/secrets/genesys/client-secret";
    /// The image's one VOLUME, the config's `state_dir`.
    pub const STATE_DIR: &str = "/var/lib/genesys-exporter";
}

// Helpers.
mod kustomize;
mod sandbox;
mod tools;
pub mod yaml;

// Tests, by what they check.
mod compose;
mod image;
mod manifests;

use std::process::Command;
use std::time::Duration;

use common::{DEADLINE, free_port};
use genesys_exporter::sim::{self, SimConfig};
use sandbox::{Sandbox, status_field};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tools::repo;

/// The exporter runs with the overlay's config, only its endpoints and client pointed at a
/// simulator started here, and is ready; it wrote its state in the state directory and could
/// write nowhere else; it is uid 65532 on the host with no capabilities; as PID 1 it stops
/// cleanly on SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exporter_runs_non_root_on_a_read_only_root_writing_only_its_state() {
    if !sandbox::available() {
        return;
    }
    genesys_exporter::genesys::install_crypto_provider();
    let cancel = CancellationToken::new();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = sim::start(SimConfig::fast_for_tests(41), listener, cancel.clone())
        .await
        .unwrap();
    let config = tools::read(&repo("deploy/kubernetes/overlays/example-org/config.yaml"));
    let sandbox = Sandbox::new(&config, &sim.client_secret);

    let probed = [
        "/",
        "/tmp",
        "/etc",
        "/etc/genesys-exporter",
        "/usr/lib",
        "/usr/local/bin",
        "/var",
        "/var/lib",
        "/var/run/secrets/genesys",
        "/dev",
        layout::STATE_DIR,
    ];
    assert_eq!(
        sandbox.writable_dirs(&probed),
        vec![layout::STATE_DIR.to_owned()],
        "inside the sandbox only the state directory takes a new file"
    );

    let port = free_port();
    let env: Vec<(String, String)> = [
        ("CLIENT_ID", sim.client_id.clone()),
        ("API_BASE_URL", sim.base_url.clone()),
        ("LOGIN_BASE_URL", sim.base_url.clone()),
        ("LISTEN_ADDRESS", format!("127.0.0.1:{port}")),
    ]
    .into_iter()
    .map(|(key, value)| (format!("GENESYS_EXPORTER_{key}"), value))
    .collect();
    let mut exporter = sandbox.spawn_exporter(&env);
    let http = common::tool_client();
    let ledger = sandbox.state.join("ledger.json");
    let (http, ledger_ref) = (&http, &ledger);
    let every = Duration::from_millis(100);
    common::poll_until("ready with a state file", every, || {
        if let Some(status) = exporter.child.try_wait().unwrap() {
            panic!(
                "the sandboxed exporter exited ({status}):\n{}",
                exporter.log()
            );
        }
        let log = exporter.log();
        async move {
            let url = format!("http://127.0.0.1:{port}/readyz");
            let ready = http.get(url).send().await.is_ok_and(|r| r.status() == 200);
            if ready && ledger_ref.exists() {
                Ok(())
            } else {
                Err(format!(
                    "ready {ready}, state file {}:\n{log}",
                    ledger_ref.exists()
                ))
            }
        }
    })
    .await;
    let state: Value = serde_json::from_str(&tools::read(&ledger)).expect("the state is JSON");
    assert_eq!(state["format"], "genesys-exporter-ledger");
    let (_, metrics) = common::get_text(http, &format!("http://127.0.0.1:{port}/metrics")).await;
    // Of the overlay's queue names, "Support" and "Sales *", only the first names one of the
    // simulator's queues (Support, Sales, Billing).
    assert!(
        metrics
            .lines()
            .any(|l| l == "genesys_exporter_monitored_queues 1")
            && metrics.contains("genesys_queue_info{division=\"Home\",queue=\"Support\","),
        "{metrics}"
    );

    let pid = exporter
        .exporter_pid()
        .expect("the exporter runs under bwrap");
    let uid = status_field(pid, "Uid");
    let expected = sandbox.host_uid().to_string();
    assert!(
        common::every(uid.split_whitespace(), |u| *u == expected),
        "real, effective, saved and file system uid {expected} on the host: {uid}"
    );
    assert_eq!(status_field(pid, "CapEff"), "0000000000000000");
    assert_eq!(status_field(pid, "CapPrm"), "0000000000000000");
    assert_eq!(status_field(pid, "NoNewPrivs"), "1");
    let writable: Vec<String> = sandbox::writable_mounts(pid)
        .into_iter()
        .filter(|m| !sandbox::KERNEL_MOUNTS.contains(&m.as_str()))
        .collect();
    assert_eq!(
        writable,
        vec![layout::STATE_DIR.to_owned()],
        "the exporter's only writable mount is the state directory"
    );
    let left: Vec<_> = std::fs::read_dir(&sandbox.state)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left, ["ledger.json"], "the state directory holds the state");

    let sent = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = tools::wait(&mut exporter.child, DEADLINE)
        .unwrap_or_else(|| panic!("no exit after SIGTERM:\n{}", exporter.log()));
    assert!(
        status.success(),
        "exit {status} after SIGTERM:\n{}",
        exporter.log()
    );
    cancel.cancel();
}

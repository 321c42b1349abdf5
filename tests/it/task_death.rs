//! A task of the exporter that dies takes the process down with a non-zero exit, so the
//! orchestrator restarts it instead of it serving frozen numbers (docs/operations.md#endpoints).
//! The panic is injected through a failpoint, compiled into debug builds only (src/failpoint.rs).
#![cfg(debug_assertions)]

use crate::common;

use std::process::Stdio;
use std::time::Duration;

use common::process::sim_env;
use common::{DEADLINE, free_port};
use genesys_exporter::sim::{self, SimConfig};
use tokio_util::sync::CancellationToken;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_poller_is_logged_by_name_and_the_process_exits_non_zero() {
    let cancel = CancellationToken::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let config = SimConfig::fast_for_tests(41);
    let media_types = config.media_types.clone();
    let sim = sim::start(config, listener, cancel.clone()).await.unwrap();
    let port = free_port();
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_genesys-exporter"));
    for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("GENESYS_EXPORTER")) {
        command.env_remove(name);
    }
    command
        .arg("run")
        .env_remove("RUST_LOG")
        .envs(sim_env(&sim, port, &media_types))
        .env("GENESYS_EXPORTER_FAILPOINTS", "poller")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let started = tokio::time::Instant::now();
    let child = command.spawn().expect("the exporter binary starts");
    let output = tokio::time::timeout(DEADLINE, child.wait_with_output())
        .await
        .expect("the process exits by itself")
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    let logged = stderr
        .lines()
        .find(|l| l.contains("task stopped unexpectedly"))
        .unwrap_or_else(|| panic!("the death is logged: {stderr}"));
    assert!(
        logged.contains("poller") && logged.contains("ERROR"),
        "{logged}"
    );
    assert!(
        stderr.contains("task poller stopped unexpectedly"),
        "{stderr}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    cancel.cancel();
    sim.stopped().await;
}

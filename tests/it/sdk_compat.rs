//! Acceptance: a client built on the official Genesys Cloud SDK works against the simulator
//! unchanged but for its base URL. `tests/sdk/check_sdk.py` drives the Python SDK
//! (`PureCloudPlatformClientV2`, pinned in tests/run.sh) through login, queues, analytics,
//! notification channels and the WebSocket; this test starts the simulator and runs it.

use std::process::Stdio;
use std::time::{Duration, Instant};

use genesys_exporter::sim::{self, SimConfig};

use crate::common;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::net::TcpListener;
use tokio::process::Command;
use tokio_util::sync::CancellationToken;

/// The whole script: importing the SDK (5 to 20 s on a loaded machine), then login to WebSocket
/// events, which normally take a few seconds, under the script's own 100 s alarm.
const SCRIPT_DEADLINE: Duration = Duration::from_secs(150);
/// The script's exit status when the SDK or the WebSocket client cannot be imported.
const MISSING: i32 = 3;
/// Where the SDK comes from, for a missing one.
const SDK_HINT: &str = "PyPI's PureCloudPlatformClientV2";

async fn read_all(mut pipe: impl AsyncRead + Unpin) -> String {
    let mut bytes = Vec::new();
    let _ = pipe.read_to_end(&mut bytes).await;
    String::from_utf8_lossy(&bytes).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_official_python_sdk_works_against_the_simulator() {
    let cancel = CancellationToken::new();
    let config = SimConfig {
        heartbeat_interval: Duration::from_secs(1),
        ..SimConfig::fast_for_tests(11)
    };
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = sim::start(config, listener, cancel.child_token())
        .await
        .unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/sdk/check_sdk.py");
    let started = Instant::now();
    let child = Command::new("python3")
        .arg(script)
        .args([&sim.base_url, &sim.client_id, &sim.client_secret])
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(error) => {
            let what = format!("python3 ({error})");
            common::required::tool_missing(&what, "Debian's python3");
            return;
        }
    };
    // NB: the pipes are drained as the script runs, so a hung run still shows its progress.
    let stdout = tokio::spawn(read_all(child.stdout.take().unwrap()));
    let stderr = tokio::spawn(read_all(child.stderr.take().unwrap()));
    let status = match tokio::time::timeout(SCRIPT_DEADLINE, child.wait()).await {
        Ok(status) => Ok(status.expect("check_sdk.py runs")),
        Err(_) => {
            let _ = child.kill().await;
            Err(format!("did not finish within {SCRIPT_DEADLINE:?}"))
        }
    };
    let report = format!(
        "--- stdout\n{}--- stderr\n{}",
        stdout.await.unwrap(),
        stderr.await.unwrap()
    );
    match status {
        Ok(status) if status.success() => {}
        Ok(status) if status.code() == Some(MISSING) => {
            let what = format!("the Python SDK ({})", report.trim());
            common::required::tool_missing(&what, SDK_HINT);
            cancel.cancel();
            return;
        }
        Ok(status) => panic!("check_sdk.py failed ({status}):\n{report}"),
        Err(why) => panic!("check_sdk.py {why}:\n{report}"),
    }
    println!("{report}check_sdk.py passed in {:?}", started.elapsed());
    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(30), sim.stopped())
        .await
        .expect("the simulator stops in time");
}

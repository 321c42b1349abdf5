//! `promtool check metrics` accepts the exporter's exposition (names, types, help, units).

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{Harness, eventually};

fn promtool_available() -> bool {
    Command::new("promtool")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promtool_accepts_the_metrics_exposition() {
    if !promtool_available() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "promtool is required under CI=true (tests/run.sh installs it)"
        );
        eprintln!(
            "skipping: promtool not installed (tests/run.sh installs Debian's prometheus package)"
        );
        return;
    }
    let harness = Harness::start(3).await;
    eventually("the exporter is ready and counting", || async {
        let scrape = harness.scrape().await;
        let counting = scrape
            .series
            .keys()
            .any(|k| k.starts_with("genesys_conversations_offered_total"));
        let (status, _) = harness
            .get_text(&format!("{}/readyz", harness.exporter_url))
            .await;
        if status == 200 && counting {
            Ok(())
        } else {
            Err(format!("readyz {status}, counting {counting}"))
        }
    })
    .await;
    let (_, text) = harness
        .get_text(&format!("{}/metrics", harness.exporter_url))
        .await;
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success() && report.trim().is_empty(),
        "promtool check metrics:\n{report}"
    );
    harness.stop().await;
}

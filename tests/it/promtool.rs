//! `promtool` on what the project ships: `check metrics` accepts the exporter's exposition
//! (names, types, help, units), `check rules` the Prometheus rules in `deploy/prometheus/rules`,
//! and `test rules` runs their unit tests (every alert, firing and not firing).

use crate::common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::{Harness, eventually};

fn promtool_available() -> bool {
    Command::new("promtool")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Whether promtool can run; under CI=true it must.
fn promtool_or_skip() -> bool {
    if promtool_available() {
        return true;
    }
    common::required::tool_missing("promtool", "Debian's prometheus package");
    false
}

/// The files of `dir` (relative to the crate root) ending in `.yml`, sorted.
fn yaml_files(dir: &str) -> Vec<std::path::PathBuf> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|e| e == "yml"))
        .collect();
    files.sort();
    files
}

/// Runs promtool with `args`; panics with its output unless it succeeds.
fn promtool(args: &[&std::ffi::OsStr]) -> String {
    let output = Command::new("promtool")
        .args(args)
        .output()
        .expect("promtool runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "promtool {args:?}:\n{report}");
    report
}

#[test]
fn promtool_accepts_the_rule_files_without_a_warning() {
    if !promtool_or_skip() {
        return;
    }
    let files = yaml_files("deploy/prometheus/rules");
    assert!(
        files.len() >= 3,
        "thresholds, recording rules and alerts: {files:?}"
    );
    let mut args = vec![
        std::ffi::OsStr::new("check"),
        "rules".as_ref(),
        "--lint=all".as_ref(),
    ];
    args.extend(files.iter().map(|f| f.as_os_str()));
    let report = promtool(&args);
    assert!(!report.contains("WARNING"), "{report}");
}

#[test]
fn every_alert_fires_and_stays_quiet_in_the_rule_unit_tests() {
    if !promtool_or_skip() {
        return;
    }
    let tests = yaml_files("deploy/prometheus/tests");
    assert!(!tests.is_empty());
    let mut args = vec![std::ffi::OsStr::new("test"), "rules".as_ref()];
    args.extend(tests.iter().map(|f| f.as_os_str()));
    promtool(&args);
    // Every alert of the rule files has a firing case in the tests.
    let alerts = std::fs::read_to_string(
        yaml_files("deploy/prometheus/rules")
            .into_iter()
            .find(|f| f.ends_with("alerts.yml"))
            .unwrap(),
    )
    .unwrap();
    let tested: String = tests
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    for line in alerts
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- alert: "))
    {
        assert!(
            tested.contains(&format!("alertname: {line}")),
            "{line} has no rule unit test"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promtool_accepts_the_metrics_exposition() {
    if !promtool_or_skip() {
        return;
    }
    let config = genesys_exporter::sim::SimConfig::fast_for_tests(3);
    let harness = Harness::start_with(config, |settings| {
        settings.agents.enabled = true;
        settings.agents.queue_membership = true;
    })
    .await;
    eventually(
        "the exporter is ready, counting and showing agents",
        || async {
            let scrape = harness.scrape().await;
            let has = |prefix: &str| scrape.series.keys().any(|k| k.starts_with(prefix));
            let counting =
                has("genesys_conversations_offered_total") && has("genesys_agent_presence_info");
            let (status, _) = harness
                .get_text(&format!("{}/readyz", harness.exporter_url))
                .await;
            if status == 200 && counting {
                Ok(())
            } else {
                Err(format!("readyz {status}, counting {counting}"))
            }
        },
    )
    .await;
    let (_, text) = harness
        .get_text(&format!("{}/metrics", harness.exporter_url))
        .await;
    check_metrics(&text);
    harness.stop().await;
}

/// The demo, with its default metric set, as operators first see it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promtool_accepts_the_demo_exposition() {
    if !promtool_or_skip() {
        return;
    }
    let (port, sim_port) = (common::free_port(), common::free_port());
    let demo = common::process::ExporterProcess::demo(port, sim_port, &[]);
    demo.wait_ready().await;
    let text = reqwest::get(format!("{}/metrics", demo.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("genesys_queue_interactions{"), "{text}");
    check_metrics(&text);
}

/// `promtool check metrics` on an exposition: it must pass without a single remark.
fn check_metrics(text: &str) {
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
}

//! The status page at `/` in a real browser: Debian's Chromium, headless, loads it from a
//! running exporter and its rendered DOM shows the channel, every queue, the API calls and a
//! fault's traces. The test command installs Chromium when it is missing.

use crate::common;

use std::path::PathBuf;
use std::process::Command;

use common::checks::{metric_reaches, ready};
use common::{Harness, eventually};
use genesys_exporter::sim::Fault;

/// Chromium's binary, if installed; under CI=true it must be.
fn chromium() -> Option<PathBuf> {
    let found = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists());
    if found.is_none() {
        common::required::tool_missing("chromium", "Debian's chromium package");
    }
    found
}

/// The page as Chromium rendered it (`--dump-dom`), in a fresh profile, with nothing but the
/// page loaded (the flags keep it off the network; a closed network makes it slow otherwise).
fn rendered_dom(browser: &PathBuf, url: &str) -> String {
    let profile = tempfile::tempdir().unwrap();
    let output = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--timeout=10000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("--dump-dom")
        .arg(url)
        .output()
        .expect("chromium runs");
    assert!(
        output.status.success(),
        "chromium: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The rendered `<table id=…>` of the page, up to its end.
fn table<'a>(dom: &'a str, id: &str) -> &'a str {
    let start = dom.find(&format!("id=\"{id}\"")).unwrap_or(dom.len());
    let rest = &dom[start..];
    &rest[..rest.find("</table>").unwrap_or(rest.len())]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_browser_shows_channels_queues_api_calls_and_what_a_fault_did() {
    let Some(browser) = chromium() else {
        return;
    };
    let harness = Harness::start(61).await;
    ready(&harness).await;
    let observations = Some("/api/v2/analytics/queues/observations/query".to_owned());
    harness
        .fault(Fault::RateLimit {
            count: 1,
            retry_after_seconds: 1,
            path: observations,
        })
        .await;
    harness.fault(Fault::CloseSockets).await;
    metric_reaches(
        &harness,
        "genesys_exporter_api_rate_limited_total",
        &[("endpoint", "queue_observations")],
        1.0,
    )
    .await;
    ready(&harness).await;
    let url = format!("{}/", harness.exporter_url);
    let names: Vec<String> = harness.sim.queues.iter().map(|q| q.name.clone()).collect();
    let mut dom = String::new();
    eventually("the rendered page shows the recovery", || {
        dom = rendered_dom(&browser, &url);
        let channels = table(&dom, "channels");
        let streaming = channels.contains("<span class=\"ok\">streaming</span>");
        let reconnected = channels.contains("<td class=\"n\">1</td></tr>");
        let listed = common::every(&names, |n| table(&dom, "queues").contains(n.as_str()));
        let ok = streaming && reconnected && listed;
        async move {
            if ok {
                Ok(())
            } else {
                Err(format!(
                    "streaming {streaming}, one reconnect {reconnected}, queues {listed}"
                ))
            }
        }
    })
    .await;
    assert!(dom.contains("<h1>genesys-exporter"), "{dom}");
    assert!(
        dom.contains("id=\"channels\"")
            && dom.contains("id=\"queues\"")
            && dom.contains("id=\"requests\"")
    );
    assert!(
        dom.contains("<td>queue_observations</td>"),
        "API calls listed: {dom}"
    );
    assert!(
        dom.contains("<span class=\"bad\">1</span>"),
        "the 429 shown: {dom}"
    );
    assert!(dom.contains("<span class=\"ok\">fresh</span>"));
    assert!(dom.contains("<span class=\"ok\">ready</span>"));
    let requests = table(&dom, "requests");
    assert!(
        requests.contains("<span class=\"bad\">1</span>"),
        "the 429 shown: {requests}"
    );
    harness.stop().await;
}

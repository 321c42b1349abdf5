//! The state file as an orchestrator treats the process: killed with SIGKILL while it writes,
//! the exporter leaves the previous state whole, and the next process resumes from it.
//! An unwritable `state_dir` stops the start with exit status 2 and one line naming the key.

use crate::common;

use std::path::Path;
use std::time::Duration;

use common::process::{ExporterProcess, sim_env};
use common::{DEADLINE, eventually, free_port};
use genesys_exporter::aggregates::ledger::Ledger;
use genesys_exporter::aggregates::state::{Identity, StateStore};
use genesys_exporter::config::DEFAULT_AGGREGATE_METRICS;
use genesys_exporter::sim::{self, SimConfig, SimHandle};
use genesys_exporter::vocabulary::counters::ConversationCounter;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Fine buckets make a bigger state, so a write lasts long enough to be caught.
const GRANULARITY: Duration = Duration::from_secs(300);

/// The store as the exporter under test opens it, to check what it left behind.
fn store(sim: &SimHandle, dir: &Path) -> StateStore {
    let counters = ConversationCounter::for_metrics(DEFAULT_AGGREGATE_METRICS);
    let identity = Identity::new(&sim.client_id, &sim.base_url, GRANULARITY, &counters);
    StateStore::open(dir, identity, Duration::from_secs(7200)).unwrap()
}

async fn metric(http: &reqwest::Client, url: &str, series: &str) -> Option<f64> {
    let text = http
        .get(format!("{url}/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let prefix = format!("{series} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_mid_write_leaves_a_state_the_next_one_resumes_from() {
    genesys_exporter::genesys::install_crypto_provider();
    let cancel = CancellationToken::new();
    // Two hours of history in 60 queues make a state of about 200 kilobytes, and steady
    // traffic keeps it changing, so the exporter writes again and again. NB: the state's size
    // is its buckets and series, not its conversations: 6 arrivals a minute per queue fill them
    // as 30 did. Two agents a queue, not six: their status changes were most of the events the
    // simulator drew for the history.
    let config = SimConfig {
        queues: 60,
        agents_per_queue: 2,
        arrivals_per_minute: 6.0,
        history: Duration::from_secs(7200),
        ..SimConfig::fast_for_tests(31)
    };
    let media_types = config.media_types.clone();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = sim::start(config, listener, cancel.clone()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = store(&sim, dir.path());
    let temporary = dir.path().join("ledger.json.tmp");
    let http = common::client();

    let port = free_port();
    let mut env = sim_env(&sim, port, &media_types);
    env.push((
        "GENESYS_EXPORTER_STATE_DIR".into(),
        dir.path().display().to_string(),
    ));
    env.push((
        "GENESYS_EXPORTER_AGGREGATES__STATE_FLUSH_INTERVAL".into(),
        "1ms".into(),
    ));
    env.push((
        "GENESYS_EXPORTER_AGGREGATES__POLL_INTERVAL".into(),
        "50ms".into(),
    ));
    env.push((
        "GENESYS_EXPORTER_AGGREGATES__GRANULARITY".into(),
        "PT5M".into(),
    ));

    let (mut kills, mut mid_write) = (0, 0);
    let deadline = tokio::time::Instant::now() + DEADLINE * 4;
    while mid_write < 3 {
        assert!(
            kills < 40 && tokio::time::Instant::now() < deadline,
            "{kills} kills, only {mid_write} of them during a write"
        );
        let process = ExporterProcess::spawn(&env, port);
        let url = process.url.clone();
        let writes = "genesys_exporter_state_writes_total{result=\"success\"}";
        let loads = "genesys_exporter_state_loads_total{result=\"loaded\"}";
        eventually("the exporter writes its state", || async {
            let written = metric(&http, &url, writes).await.unwrap_or(0.0);
            if written >= 2.0 {
                Ok(())
            } else {
                Err(format!("{written} writes"))
            }
        })
        .await;
        if kills > 0 {
            assert_eq!(
                metric(&http, &url, loads).await,
                Some(1.0),
                "the state left by the killed process was loaded"
            );
        }
        // Kill the moment a write is seen under way (its temporary file exists). NB: looked for
        // every 100 µs, not in a spin: a spin held a whole core for the rest of the suite.
        let writing = tokio::task::block_in_place(|| {
            let until = std::time::Instant::now() + Duration::from_secs(5);
            while std::time::Instant::now() < until {
                if temporary.exists() {
                    return true;
                }
                std::thread::sleep(Duration::from_micros(100));
            }
            false
        });
        process.kill().await;
        kills += 1;
        if writing && temporary.exists() {
            mid_write += 1;
        }
        let mut ledger = Ledger::new(
            GRANULARITY,
            ConversationCounter::for_metrics(DEFAULT_AGGREGATE_METRICS),
        );
        store
            .load_into(&mut ledger, chrono::Utc::now())
            .expect("the state after a kill is whole");
        assert!(ledger.bucket_count() > 0);
    }
    let size = std::fs::metadata(dir.path().join("ledger.json")).map_or(0, |m| m.len());
    eprintln!("{kills} kills, {mid_write} during a write, a state of {size} bytes");
    cancel.cancel();
}

#[test]
fn an_unwritable_state_dir_exits_2_with_one_line_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-directory");
    std::fs::write(&file, b"x").unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_genesys-exporter"))
        .arg("run")
        .env("GENESYS_EXPORTER_CLIENT_ID", "client")
        .env("GENESYS_EXPORTER_CLIENT_SECRET", "secret")
        .env("GENESYS_EXPORTER_LISTEN_ADDRESS", "127.0.0.1:0")
        .env("GENESYS_EXPORTER_STATE_DIR", file.join("state"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains("`state_dir`"), "{stderr}");
    assert!(!stderr.contains("secret\n"), "{stderr}");
}

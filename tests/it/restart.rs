//! Restarts as Prometheus sees them: a real Prometheus server scrapes two exporter processes
//! (one without a state directory, one with) through a restart with no traffic and a restart
//! with traffic during the downtime, and `increase()` over the whole run must equal the
//! simulator's ground truth: without state, less the downtime's conversations; with state,
//! all of them, each once. Then restarts under traffic at the worst moment, right after a
//! save that moved a counter (SIGTERM and SIGKILL): with state, `increase()` of every counter
//! series still equals the truth.

use crate::common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::process::{ExporterProcess, sim_env};
use common::prometheus::{self, Prometheus};
use common::truth::{flow_and_action_series, total};
use common::{free_port, sim_truth as truth};
use genesys_exporter::sim::{self, SimConfig};
use serde_json::Value;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// (counter, truth metric, statistic, factor from the truth's unit).
const COUNTERS: &[(&str, &str, &str, f64)] = &[
    (
        "genesys_conversations_offered_total",
        "nOffered",
        "count",
        1.0,
    ),
    (
        "genesys_conversations_answered_total",
        "tAnswered",
        "count",
        1.0,
    ),
    (
        "genesys_conversations_abandoned_total",
        "tAbandon",
        "count",
        1.0,
    ),
    (
        "genesys_conversations_handled_total",
        "tHandle",
        "count",
        1.0,
    ),
    (
        "genesys_conversation_handle_seconds_total",
        "tHandle",
        "sum",
        0.001,
    ),
];

type Totals = BTreeMap<&'static str, f64>;

fn totals(truth: &Value) -> Totals {
    COUNTERS
        .iter()
        .map(|(counter, metric, statistic, factor)| {
            (*counter, total(truth, metric, statistic) * factor)
        })
        .collect()
}

fn minus(a: &Totals, b: &Totals) -> Totals {
    a.iter().map(|(k, v)| (*k, v - b[k])).collect()
}

fn plus(a: &Totals, b: &Totals) -> Totals {
    a.iter().map(|(k, v)| (*k, v + b[k])).collect()
}

/// One exporter under test: a job in Prometheus, a port, maybe a state directory.
struct Job {
    name: &'static str,
    port: u16,
    env: Vec<(String, String)>,
}

impl Job {
    fn spawn(&self) -> ExporterProcess {
        ExporterProcess::spawn(&self.env, self.port)
    }

    /// When the process Prometheus scraped last started.
    async fn started(&self, prometheus: &Prometheus) -> Option<f64> {
        let query = format!("process_start_time_seconds{{job=\"{}\"}}", self.name);
        prometheus.value(&query, None).await
    }

    /// Waits until Prometheus has scraped a process of this job other than the one that
    /// started at `previous` and it has polled, plus two more scrapes (so new series were seen
    /// at 0 and what they held back is shown).
    async fn wait_scraped_new(&self, prometheus: &Prometheus, previous: Option<f64>) {
        let started = format!(
            "process_start_time_seconds{{job=\"{}\"}} != {}",
            self.name,
            previous.unwrap_or(-1.0)
        );
        let polled = format!(
            "genesys_exporter_aggregate_polls_total{{job=\"{}\",result=\"success\"}}",
            self.name
        );
        common::eventually(
            "prometheus scraped the new process after a poll",
            || async {
                let new = prometheus.value(&started, None).await.is_some();
                let polls = prometheus.value(&polled, None).await.unwrap_or(0.0);
                if new && polls >= 1.0 {
                    Ok(())
                } else {
                    Err(format!("new {new}, polls {polls}"))
                }
            },
        )
        .await;
        self.wait_scrapes(prometheus, 2.0).await;
    }

    /// Waits until Prometheus has scraped the job `n` more times.
    async fn wait_scrapes(&self, prometheus: &Prometheus, n: f64) {
        let scrapes = format!("count_over_time(up{{job=\"{}\"}}[1h])", self.name);
        let seen = prometheus.value(&scrapes, None).await.unwrap_or(0.0);
        prometheus.wait_at_least(&scrapes, seen + n).await;
    }

    /// Waits until the process's counters, as Prometheus has them now, equal `want`.
    async fn wait_counters(&self, prometheus: &Prometheus, want: &Totals) {
        for (counter, value) in want {
            let query = format!("sum({counter}{{job=\"{}\"}}) or vector(0)", self.name);
            prometheus.wait_for(&query, round(*value)).await;
        }
    }

    /// `increase()` of every counter over the whole run, evaluated at the job's last scrape
    /// with a range reaching back before its first: every series starts at 0 and the range
    /// ends on a sample, so Prometheus extrapolates nothing and the result is exact.
    async fn increases(&self, prometheus: &Prometheus) -> Totals {
        let last = format!("timestamp(up{{job=\"{}\"}})", self.name);
        let at = prometheus.value(&last, None).await.expect("scraped");
        let mut out = Totals::new();
        for (counter, ..) in COUNTERS {
            let query = format!("sum(increase({counter}{{job=\"{}\"}}[30m]))", self.name);
            let value = prometheus.value(&query, Some(at)).await.unwrap_or(0.0);
            let resets = format!("sum(resets({counter}{{job=\"{}\"}}[30m]))", self.name);
            let resets = prometheus.value(&resets, Some(at)).await.unwrap_or(0.0);
            eprintln!(
                "{}: increase({counter}) = {value}, resets {resets}",
                self.name
            );
            out.insert(*counter, value);
        }
        out
    }
}

fn round(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

fn assert_totals(what: &str, got: &Totals, want: &Totals) {
    for (counter, value) in want {
        assert!(
            (got[counter] - value).abs() < 1e-6,
            "{what}: {counter} = {}, truth {value}\n got {got:?}\nwant {want:?}",
            got[counter]
        );
    }
}

async fn traffic(http: &reqwest::Client, base: &str, action: &str) {
    let response = http
        .post(format!("{base}/sim/traffic/{action}"))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success());
}

/// Lets the simulated contact centre work for `how_long`, then stops it and returns what it
/// recorded up to then.
async fn let_traffic_flow(http: &reqwest::Client, base: &str, how_long: Duration) -> Value {
    traffic(http, base, "resume").await;
    tokio::time::sleep(how_long).await;
    traffic(http, base, "pause").await;
    truth(http, base).await
}

/// A busy simulator with its traffic paused, a real Prometheus, and one exporter job per
/// entry of `state_dirs` (its name, and its state directory if any).
struct Run {
    sim: sim::SimHandle,
    http: reqwest::Client,
    jobs: Vec<Job>,
    prometheus: Prometheus,
    cancel: CancellationToken,
}

impl Run {
    async fn start(seed: u64, state_dirs: &[(&'static str, Option<&std::path::Path>)]) -> Run {
        genesys_exporter::genesys::install_crypto_provider();
        let cancel = CancellationToken::new();
        let config = SimConfig {
            // NB: no reporting lag, so no revisions: what happened when is unambiguous.
            reporting_lag: Duration::ZERO,
            arrivals_per_minute: 600.0,
            ..SimConfig::fast_for_tests(seed)
        };
        let media_types = config.media_types.clone();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sim = sim::start(config, listener, cancel.clone()).await.unwrap();
        let http = common::client();
        traffic(&http, &sim.base_url, "pause").await;
        let jobs: Vec<Job> = (state_dirs.iter())
            .map(|(name, dir)| {
                let port = free_port();
                let mut env = sim_env(&sim, port, &media_types);
                // NB: the flows' and data actions' ledgers restart by the same rules.
                for key in ["FLOWS__ENABLED", "FLOWS__MILESTONES", "ACTIONS__ENABLED"] {
                    env.push((format!("GENESYS_EXPORTER_{key}"), "true".into()));
                }
                if let Some(dir) = dir {
                    let dir = dir.display().to_string();
                    env.push(("GENESYS_EXPORTER_STATE_DIR".into(), dir));
                    env.push((
                        "GENESYS_EXPORTER_AGGREGATES__STATE_FLUSH_INTERVAL".into(),
                        "200ms".into(),
                    ));
                }
                Job { name, port, env }
            })
            .collect();
        let targets: Vec<(&str, String)> = (jobs.iter())
            .map(|j| (j.name, format!("127.0.0.1:{}", j.port)))
            .collect();
        let prometheus = Prometheus::start(&targets).await;
        Run {
            sim,
            http,
            jobs,
            prometheus,
            cancel,
        }
    }

    async fn truth(&self) -> Value {
        truth(&self.http, &self.sim.base_url).await
    }

    /// Starts every job's first process and waits until Prometheus has scraped each after
    /// its first poll.
    async fn spawn_all(&self) -> Vec<ExporterProcess> {
        let mut processes = Vec::new();
        for job in &self.jobs {
            let process = job.spawn();
            process.wait_ready().await;
            processes.push(process);
        }
        for job in &self.jobs {
            job.wait_scraped_new(&self.prometheus, None).await;
            for what in ["flow", "action"] {
                let polls = format!(
                    "genesys_exporter_{what}_polls_total{{job=\"{}\",result=\"success\"}}",
                    job.name
                );
                self.prometheus.wait_at_least(&polls, 1.0).await;
            }
        }
        processes
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn increase_across_restarts_equals_the_ground_truth_with_and_without_state() {
    if !prometheus::available() {
        return;
    }
    let state_dir = tempfile::tempdir().unwrap();
    let run = Run::start(
        21,
        &[("stateless", None), ("stateful", Some(state_dir.path()))],
    )
    .await;
    let (http, base, jobs, prometheus) = (&run.http, &run.sim.base_url, &run.jobs, &run.prometheus);

    // First life: the window so far (t0) is the baseline; then conversations happen.
    let t0 = totals(&run.truth().await);
    let mut processes = run.spawn_all().await;
    let t1 = totals(&let_traffic_flow(http, base, Duration::from_secs(2)).await);
    assert!(t1["genesys_conversations_offered_total"] > t0["genesys_conversations_offered_total"]);
    for job in jobs {
        job.wait_counters(prometheus, &minus(&t1, &t0)).await;
    }

    // A restart with nothing happening: increase() must not move.
    let mut previous = Vec::new();
    for job in jobs {
        previous.push(job.started(prometheus).await);
    }
    for process in processes.drain(..) {
        process.stop().await;
    }
    for job in jobs {
        processes.push(job.spawn());
    }
    for (job, previous) in jobs.iter().zip(&previous) {
        job.wait_scraped_new(prometheus, *previous).await;
        // Without state a new process starts at 0; with state it resumes where it was.
        let now = if job.name == "stateless" {
            COUNTERS.iter().map(|(c, ..)| (*c, 0.0)).collect()
        } else {
            minus(&t1, &t0)
        };
        job.wait_counters(prometheus, &now).await;
        let increases = job.increases(prometheus).await;
        assert_totals(
            &format!("{} after a quiet restart", job.name),
            &increases,
            &minus(&t1, &t0),
        );
    }

    // A restart with conversations while both are down.
    let mut previous = Vec::new();
    for job in jobs {
        previous.push(job.started(prometheus).await);
    }
    for process in processes.drain(..) {
        process.stop().await;
    }
    let t2 = totals(&let_traffic_flow(http, base, Duration::from_millis(1500)).await);
    for job in jobs {
        processes.push(job.spawn());
    }
    for (job, previous) in jobs.iter().zip(&previous) {
        job.wait_scraped_new(prometheus, *previous).await;
    }
    let t3 = totals(&let_traffic_flow(http, base, Duration::from_secs(2)).await);
    let (stateless, stateful) = (&jobs[0], &jobs[1]);
    stateless.wait_counters(prometheus, &minus(&t3, &t2)).await;
    stateful.wait_counters(prometheus, &minus(&t3, &t0)).await;

    let lived = plus(&minus(&t1, &t0), &minus(&t3, &t2));
    assert_totals(
        "without state: what happened while it ran",
        &stateless.increases(prometheus).await,
        &lived,
    );
    assert_totals(
        "with state: everything, the downtime once",
        &stateful.increases(prometheus).await,
        &minus(&t3, &t0),
    );
    let loaded = "genesys_exporter_state_loads_total{job=\"stateful\",result=\"loaded\"}";
    assert_eq!(prometheus.value(loaded, None).await, Some(1.0));

    for process in processes {
        process.stop().await;
    }
    run.cancel.cancel();
}

/// (counter, queue id, media type) → value: every counter series of a job.
type SeriesTotals = BTreeMap<(&'static str, String, String), f64>;

/// Every counter series' total in `truth`, less `baseline`'s.
fn series_totals(truth: &Value, baseline: &Value) -> SeriesTotals {
    let mut out = SeriesTotals::new();
    for (queue, base) in truth["queues"]
        .as_array()
        .unwrap()
        .iter()
        .zip(baseline["queues"].as_array().unwrap())
    {
        assert_eq!(queue["id"], base["id"]);
        let id = queue["id"].as_str().unwrap();
        for (media, metrics) in queue["totals"].as_object().unwrap() {
            for (counter, metric, statistic, factor) in COUNTERS {
                let value =
                    |totals: &Value| common::truth::count(&totals[metric][statistic]) * factor;
                let want = value(metrics) - value(&base["totals"][media]);
                out.insert((*counter, id.to_owned(), media.clone()), want);
            }
        }
    }
    out
}

/// The sum of every high-water mark in the state file in `dir`: it grows with each save that
/// moves a counter.
fn saved_marks(dir: &std::path::Path) -> Option<f64> {
    let state: Value =
        serde_json::from_slice(&std::fs::read(dir.join("ledger.json")).ok()?).ok()?;
    let buckets = state["buckets"].as_array()?;
    let series = buckets
        .iter()
        .flat_map(|b| b["series"].as_array().into_iter().flatten());
    // NB: a series is [queue, group, marks].
    let marks = series.flat_map(|s| s[2].as_array().into_iter().flatten());
    Some(marks.filter_map(Value::as_f64).sum())
}

/// Ends the process the moment a save moves its counters (read from the state file, as a
/// render of `/metrics` would count as a scrape), long before Prometheus's next scrape.
async fn end_right_after_a_save(process: ExporterProcess, dir: &std::path::Path, kill: bool) {
    let mut before = None;
    let every = Duration::from_millis(2);
    common::poll_until("a save moves a counter", every, || {
        let now = saved_marks(dir);
        let moved = before.is_some() && now > before;
        before = now.or(before);
        std::future::ready(if moved {
            Ok(())
        } else {
            Err(format!("marks {before:?}"))
        })
    })
    .await;
    if kill {
        process.kill().await;
    } else {
        process.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_right_after_a_save_lose_nothing_and_count_nothing_twice_with_state() {
    if !prometheus::available() {
        return;
    }
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let run = Run::start(
        23,
        &[
            ("sigterm", Some(dirs[0].path())),
            ("sigkill", Some(dirs[1].path())),
        ],
    )
    .await;
    let (http, base, prometheus) = (&run.http, &run.sim.base_url, &run.prometheus);
    let t0 = run.truth().await;
    let mut processes = run.spawn_all().await;

    // Conversations flow from here to the end, through both restarts.
    traffic(http, base, "resume").await;
    for ((job, kill), dir) in run.jobs.iter().zip([false, true]).zip(&dirs) {
        let previous = job.started(prometheus).await;
        let process = processes.remove(0);
        end_right_after_a_save(process, dir.path(), kill).await;
        processes.push(job.spawn());
        job.wait_scraped_new(prometheus, previous).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    traffic(http, base, "pause").await;
    let truth = run.truth().await;
    let want = series_totals(&truth, &t0);

    let mut failures = Vec::new();
    for job in &run.jobs {
        // Settled: a whole poll after the pause, saved and shown, then scraped.
        for what in ["aggregate", "flow", "action"] {
            let polls = format!(
                "genesys_exporter_{what}_polls_total{{job=\"{}\",result=\"success\"}}",
                job.name
            );
            let seen = prometheus.value(&polls, None).await.unwrap_or(0.0);
            prometheus.wait_at_least(&polls, seen + 2.0).await;
        }
        job.wait_scrapes(prometheus, 2.0).await;

        let last = format!("timestamp(up{{job=\"{}\"}})", job.name);
        let at = prometheus.value(&last, None).await.expect("scraped");
        let mut wrong = Vec::new();
        for ((counter, queue, media), value) in &want {
            let query = format!(
                "sum(increase({counter}{{job=\"{}\",queue_id=\"{queue}\",media_type=\"{media}\"}}[30m]))",
                job.name
            );
            let got = prometheus.value(&query, Some(at)).await.unwrap_or(0.0);
            if (got - value).abs() > 1e-6 {
                wrong.push(format!("{counter}{{queue_id={queue},media_type={media}}}: increase {got}, truth {value}"));
            }
        }
        let flows_and_actions = flow_and_action_series(&truth, &t0);
        for ((name, labels), value) in &flows_and_actions {
            let mut matchers = vec![format!("job=\"{}\"", job.name)];
            matchers.extend(labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")));
            let query = format!("sum(increase({name}{{{}}}[30m]))", matchers.join(","));
            let got = prometheus.value(&query, Some(at)).await.unwrap_or(0.0);
            if (got - value).abs() > 1e-6 {
                wrong.push(format!("{query}: {got}, truth {value}"));
            }
        }
        assert!(
            !flows_and_actions.is_empty(),
            "the flows and actions had traffic"
        );
        eprintln!(
            "{}: {} of {} counter series differ from the truth",
            job.name,
            wrong.len(),
            want.len() + flows_and_actions.len()
        );
        if !wrong.is_empty() {
            failures.push(format!("{}:\n{}", job.name, wrong.join("\n")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    for process in processes {
        process.stop().await;
    }
    run.cancel.cancel();
}

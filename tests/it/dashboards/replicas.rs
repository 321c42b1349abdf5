//! Every panel of every shipped dashboard, read from a real Prometheus the way an HA estate
//! runs the exporter: shard 0 of 2 as two replicas, shard 1 as one, all against one simulator
//! whose traffic is paused so the values stand still. A second Prometheus scrapes one replica
//! of each shard (exporters of its own: a server must see a counter group's first zero, which
//! an exporter shows to one scrape). Each panel must read the same on both, and the panels that
//! show the contact centre must equal the simulator's ground truth.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::common::process::{ExporterProcess, sim_env};
use crate::common::prometheus::{self, Prometheus};
use crate::common::{self, within};
use genesys_exporter::sim::{self, SimConfig};

/// A panel query's answer: its series (labels without `instance`, as text) and values.
type Answer = BTreeMap<String, f64>;

/// Relative slack for windowed counters: two Prometheus servers scrape at different moments,
/// and `increase` extrapolates to its window's end by up to one scrape interval (1 s) over a
/// traffic span of a minute or more.
const SLACK: f64 = 0.03;

fn answer(result: &[Value]) -> Result<Answer, String> {
    let mut out = Answer::new();
    for sample in result {
        let mut metric = sample["metric"].as_object().cloned().unwrap_or_default();
        if metric.remove("instance").is_some() {
            return Err("per replica".into());
        }
        let value: f64 = sample["value"][1].as_str().unwrap().parse().unwrap();
        out.insert(Value::Object(metric).to_string(), value);
    }
    Ok(out)
}

fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= SLACK * a.abs().max(b.abs()).max(1e-9)
}

fn same(one: &Answer, two: &Answer) -> bool {
    one.len() == two.len()
        && one
            .iter()
            .all(|(k, a)| two.get(k).is_some_and(|b| close(*a, *b)))
}

fn total(answer: &Answer) -> String {
    let sum: f64 = answer.values().filter(|v| !v.is_nan()).sum();
    format!("{sum:.3} ({} series)", answer.len())
}

struct Estate {
    one: Prometheus,
    two: Prometheus,
    sim_url: String,
    _exporters: Vec<ExporterProcess>,
    _sim: (sim::SimHandle, CancellationToken),
    _dir: tempfile::TempDir,
}

impl Estate {
    async fn start() -> Estate {
        genesys_exporter::genesys::install_crypto_provider();
        let cancel = CancellationToken::new();
        let config = SimConfig {
            queues: 6,
            agents_per_queue: 2,
            arrivals_per_minute: 600.0,
            start_paused: true,
            ..SimConfig::fast_for_tests(30)
        };
        let media_types = config.media_types.clone();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sim = sim::start(config, listener, cancel.child_token())
            .await
            .unwrap();
        let mut exporters = Vec::new();
        let mut targets = Vec::new();
        // Prometheus `two` scrapes the first three, `one` the last two.
        for shard in ["0/2", "0/2", "1/2", "0/2", "1/2"] {
            let port = common::free_port();
            let mut env = sim_env(&sim, port, &media_types);
            for (key, value) in [
                ("AGENTS__ENABLED", "true"),
                ("AGENTS__QUEUE_MEMBERSHIP", "true"),
                ("AGENTS__TIME_IN_STATUS_INTERVAL", "1s"),
            ] {
                env.push((format!("GENESYS_EXPORTER_{key}"), value.to_owned()));
            }
            exporters.push(ExporterProcess::spawn_with(
                &["run", "--shard", shard],
                &env,
                port,
            ));
            let index = &shard[..1];
            targets.push(format!(
                "      - targets: ['127.0.0.1:{port}']\n        labels: {{shard: '{index}'}}\n"
            ));
        }
        let dir = tempfile::tempdir().unwrap();
        let rules: Vec<_> = ["thresholds.yml", "recording.yml", "alerts.yml"]
            .iter()
            .map(|f| super::repo("deploy/prometheus/rules").join(f))
            .collect();
        let job = |targets: &[&String]| {
            let targets: String = targets.iter().map(|t| t.as_str()).collect();
            format!("  - job_name: genesys-exporter\n    static_configs:\n{targets}")
        };
        let two =
            Prometheus::start_with_jobs(&job(&[&targets[0], &targets[1], &targets[2]]), &rules)
                .await;
        let one = Prometheus::start_with_jobs(&job(&[&targets[3], &targets[4]]), &rules).await;
        for exporter in &exporters {
            exporter.wait_ready().await;
        }
        one.wait_for(r#"sum(up{job="genesys-exporter"})"#, 2.0)
            .await;
        two.wait_for(r#"sum(up{job="genesys-exporter"})"#, 3.0)
            .await;
        Estate {
            one,
            two,
            sim_url: sim.base_url.clone(),
            _exporters: exporters,
            _sim: (sim, cancel),
            _dir: dir,
        }
    }

    async fn sim_post(&self, path: &str) {
        let response = reqwest::Client::new()
            .post(format!("{}{path}", self.sim_url))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{path}");
    }
}

/// Each panel query's answer from both servers at one instant: Ok((one, two)), or the
/// panel's reason to be left out (it shows each replica).
async fn answers(estate: &Estate, expr: &str, at: f64) -> Result<(Answer, Answer), String> {
    let counts_replicas = super::promql::selectors(expr)
        .iter()
        .all(|s| ["up", "genesys_exporter_build_info"].contains(&s.metric.as_str()));
    if counts_replicas {
        return Err("counts the replicas".into());
    }
    let one = answer(&estate.one.query(expr, Some(at)).await)?;
    let two = answer(&estate.two.query(expr, Some(at)).await)?;
    Ok((one, two))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_panel_reads_the_same_with_one_replica_or_two_and_equals_the_truth() {
    if !prometheus::available() {
        return;
    }
    let estate = Estate::start().await;
    estate.sim_post("/sim/traffic/resume").await;
    let http = reqwest::Client::new();
    within("a minute of traffic", Duration::from_secs(90), || async {
        let truth = common::sim_truth(&http, &estate.sim_url).await;
        let offered: f64 = truth["queues"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|q| q["totals"].as_object().unwrap().values())
            .map(|t| t["nOffered"]["count"].as_f64().unwrap_or(0.0))
            .sum();
        if offered >= 150.0 {
            Ok(())
        } else {
            Err(format!("{offered} offered"))
        }
    })
    .await;
    estate.sim_post("/sim/traffic/pause").await;
    common::wait_nothing_pending(&http, &estate.sim_url).await;
    let queries = super::panel_queries("1h");
    let truth = common::sim_truth(&http, &estate.sim_url).await;
    let expected = expected(&truth);
    let report = common::poll_until(
        "every panel the same with one replica of a shard as with two",
        Duration::from_millis(500),
        || async {
            let at = now() - 2.0;
            let mut report = Vec::new();
            let mut differ = Vec::new();
            let mut ordinal = BTreeMap::new();
            for (file, title, expr) in &queries {
                let n = ordinal.entry((file, title)).or_insert(0);
                let which = *n;
                *n += 1;
                match answers(&estate, expr, at).await {
                    Err(why) => report.push(format!("{file} | {title} | {why}")),
                    Ok((one, two)) => {
                        if let Some(want) = expected.get(&(file.as_str(), title.as_str(), which)) {
                            let got = projected(&two, want.0);
                            if !same_filled(&got, &want.1) {
                                differ.push(format!(
                                    "{title} #{which} against the truth: {got:?}, truth {:?}",
                                    want.1
                                ));
                            }
                        }
                        report.push(format!(
                            "{file} | {title} | one: {} | two: {}",
                            total(&one),
                            total(&two)
                        ));
                        if !same(&one, &two) {
                            differ.push(format!("{title}: {expr}\n one {one:?}\n two {two:?}"));
                        }
                    }
                }
            }
            if differ.is_empty() {
                Ok(report)
            } else {
                Err(format!(
                    "{}\n--- every panel:\n{}",
                    differ.join("\n"),
                    report.join("\n")
                ))
            }
        },
    )
    .await;
    for line in &report {
        println!("{line}");
    }
    for (file, title, which) in expected.keys() {
        let found = queries
            .iter()
            .filter(|(f, t, _)| f == file && t == title)
            .count();
        assert!(
            found > *which,
            "{file}: no query #{which} of a panel {title:?} to hold to the truth"
        );
    }
}

/// An answer keyed by one label's value (series without it keyed ""), summed.
fn projected(answer: &Answer, label: &str) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for (key, value) in answer {
        let labels: Value = serde_json::from_str(key).unwrap();
        let at = labels[label].as_str().unwrap_or("").to_owned();
        *out.entry(at).or_insert(0.0) += value;
    }
    out
}

/// Equal within [`SLACK`], a key missing on one side reading as 0.
fn same_filled(got: &BTreeMap<String, f64>, want: &BTreeMap<String, f64>) -> bool {
    let keys: std::collections::BTreeSet<_> = got.keys().chain(want.keys()).collect();
    keys.iter().all(|k| {
        close(
            got.get(*k).copied().unwrap_or(0.0),
            want.get(*k).copied().unwrap_or(0.0),
        )
    })
}

type Expected =
    BTreeMap<(&'static str, &'static str, usize), (&'static str, BTreeMap<String, f64>)>;

/// What the ground truth says the panels that show the contact centre answer: (dashboard,
/// title, the panel's n-th query) → (the label the answer is read by, value per label value).
fn expected(truth: &Value) -> Expected {
    let queues = truth["queues"].as_array().unwrap();
    let agents = truth["agents"].as_array().unwrap();
    let per_queue = |value: &dyn Fn(&Value) -> f64| -> BTreeMap<String, f64> {
        (queues.iter())
            .map(|q| (q["name"].as_str().unwrap().to_owned(), value(q)))
            .collect()
    };
    let media_sum = |q: &Value, at: &dyn Fn(&Value) -> f64| -> f64 {
        q["interactions"]
            .as_object()
            .unwrap()
            .values()
            .map(at)
            .sum()
    };
    let totals_sum = |q: &Value, metric: &str, stat: &str| -> f64 {
        (q["totals"].as_object().unwrap().values())
            .map(|t| t[metric][stat].as_f64().unwrap_or(0.0))
            .sum()
    };
    let waiting = per_queue(&|q| media_sum(q, &|m| m["waiting"].as_f64().unwrap()));
    let interacting = per_queue(&|q| media_sum(q, &|m| m["interacting"].as_f64().unwrap()));
    let on_queue = per_queue(&|q| q["onQueueUsers"].as_f64().unwrap());
    let idle = per_queue(&|q| q["users"]["IDLE"].as_f64().unwrap_or(0.0));
    let offered = per_queue(&|q| totals_sum(q, "nOffered", "count"));
    let abandon_share: BTreeMap<String, f64> = (queues.iter())
        .filter(|q| totals_sum(q, "nOffered", "count") >= 10.0)
        .map(|q| {
            let share = totals_sum(q, "tAbandon", "count") / totals_sum(q, "nOffered", "count");
            (q["name"].as_str().unwrap().to_owned(), share)
        })
        .collect();
    let mut statuses = BTreeMap::new();
    for q in queues {
        for (status, n) in q["users"].as_object().unwrap() {
            *statuses.entry(status.clone()).or_insert(0.0) += n.as_f64().unwrap();
        }
    }
    let count_agents = |field: &str| {
        let mut by = BTreeMap::new();
        for agent in agents {
            *by.entry(agent[field].as_str().unwrap().to_owned())
                .or_insert(0.0) += 1.0;
        }
        by
    };
    let all = |map: &BTreeMap<String, f64>| BTreeMap::from([(String::new(), map.values().sum())]);
    let overview = "genesys-exporter.json";
    let wallboard = "genesys-wallboard.json";
    BTreeMap::from([
        ((overview, "Queue status", 0), ("queue", waiting.clone())),
        ((overview, "Queue status", 2), ("queue", on_queue.clone())),
        ((overview, "Queue status", 3), ("queue", idle.clone())),
        (
            (overview, "Queue status", 6),
            ("queue", abandon_share.clone()),
        ),
        (
            (overview, "Interactions waiting per queue", 0),
            ("queue", waiting.clone()),
        ),
        (
            (overview, "Interactions interacting per queue", 0),
            ("queue", interacting),
        ),
        (
            (overview, "Members on queue and idle per queue", 0),
            ("queue", on_queue),
        ),
        (
            (overview, "Members on queue and idle per queue", 1),
            ("queue", idle.clone()),
        ),
        (
            (overview, "Queue members by routing status", 0),
            ("routing_status", statuses),
        ),
        (
            (overview, "Abandon share per queue (30 min, all media)", 0),
            ("queue", abandon_share),
        ),
        (
            (overview, "Offered today so far", 0),
            ("queue", offered.clone()),
        ),
        (
            (overview, "Agents watched", 0),
            ("", BTreeMap::from([(String::new(), agents.len() as f64)])),
        ),
        (
            (overview, "Agents by routing status", 0),
            ("routing_status", count_agents("routingStatus")),
        ),
        (
            (overview, "Agents by presence", 0),
            ("system_presence", count_agents("systemPresence")),
        ),
        ((wallboard, "Waiting, all queues", 0), ("", all(&waiting))),
        (
            (wallboard, "Offered today, all queues", 0),
            ("", all(&offered)),
        ),
        ((wallboard, "Waiting", 0), ("queue", waiting)),
        ((wallboard, "Available", 0), ("queue", idle)),
    ])
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

//! Every panel of every shipped dashboard, read from a real Prometheus the way an HA estate
//! runs the exporter: job `genesys-exporter` is shard 0 of 2 as two replicas and shard 1 as
//! one, all against one simulator whose traffic is paused so the values stand still. Job
//! `single` runs one replica of each shard (exporters of its own: Prometheus must see a counter
//! group's first zero, which an exporter shows to one scrape). Each panel, its `job` variable
//! set to one job then the other, must read the same for both, and the panels that show the
//! contact centre must equal the simulator's ground truth.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::common::process::{ExporterProcess, sim_env};
use crate::common::prometheus::{self, Prometheus};
use crate::common::{self, within};
use genesys_exporter::sim::{self, SimConfig};

struct Estate {
    prometheus: Prometheus,
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
        // A queue without traffic: its live panels must read 0, not "No data".
        let quiet = serde_json::json!({"name": "Quiet", "held": true});
        let response = (common::client().post(format!("{}/sim/queues", sim.base_url)))
            .json(&quiet)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "the quiet queue");
        let mut exporters = Vec::new();
        let mut targets = Vec::new();
        // Job `genesys-exporter` is the first three, job `single` the last two.
        for shard in ["0/2", "0/2", "1/2", "0/2", "1/2"] {
            let port = common::free_port();
            let mut env = sim_env(&sim, port, &media_types);
            for (key, value) in [
                ("AGENTS__ENABLED", "true"),
                ("AGENTS__QUEUE_MEMBERSHIP", "true"),
                ("AGENTS__TIME_IN_STATUS_INTERVAL", "1s"),
                ("AGGREGATES__POLL_INTERVAL", "1s"),
                // The IVR row reads each flow and action once however many replicas count it.
                ("FLOWS__ENABLED", "true"),
                ("ACTIONS__ENABLED", "true"),
                // Scaled, so the outage at the end makes every queue stale within seconds.
                ("STREAM__STALENESS_BOUND", "4s"),
                ("STREAM__FALLBACK_POLL_INTERVAL", "2s"),
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
        let job = |name: &str, targets: &[&String]| {
            let targets: String = targets.iter().map(|t| t.as_str()).collect();
            format!("  - job_name: {name}\n    static_configs:\n{targets}")
        };
        let jobs = job(HA, &[&targets[0], &targets[1], &targets[2]])
            + &job(SINGLE, &[&targets[3], &targets[4]]);
        let prometheus = Prometheus::start_with_jobs(&jobs, &rules).await;
        for exporter in &exporters {
            exporter.wait_ready().await;
        }
        prometheus.wait_for("sum(up)", 5.0).await;
        Estate {
            prometheus,
            sim_url: sim.base_url.clone(),
            _exporters: exporters,
            _sim: (sim, cancel),
            _dir: dir,
        }
    }

    async fn sim_post(&self, path: &str, body: Value) {
        let response = (common::client().post(format!("{}{path}", self.sim_url)))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success(), "{path}");
    }

    /// Every panel query's answers for both jobs at one instant, `check`ed; a report line per
    /// query. Fails with what `check` found, after a minute: one check is about a hundred
    /// queries, seconds on a loaded machine, and a check is cut off at the deadline.
    async fn every_panel(
        &self,
        what: &str,
        queries: &[Query],
        check: impl Fn(&Panel, &Answer, &Answer) -> Option<String>,
    ) -> Vec<String> {
        let limit = Duration::from_secs(60);
        common::poll_within(what, limit, Duration::from_millis(500), || async {
            let at = now() - 2.0;
            let mut report = Vec::new();
            let mut wrong = Vec::new();
            let mut ordinal = BTreeMap::new();
            for Query {
                file,
                title,
                single,
                ha,
            } in queries
            {
                let n = ordinal.entry((file, title)).or_insert(0);
                let panel = Panel {
                    file: file.clone(),
                    title: title.clone(),
                    which: *n,
                    expr: ha.clone(),
                    at,
                };
                *n += 1;
                match answers(self, single, ha, at).await {
                    Err(why) => report.push(format!("{file} | {title} | {why}")),
                    Ok((one, two)) => {
                        report.push(format!(
                            "{file} | {title} | one: {} | two: {}",
                            total(&one),
                            total(&two)
                        ));
                        wrong.extend(check(&panel, &one, &two));
                    }
                }
            }
            if wrong.is_empty() {
                Ok(report)
            } else {
                Err(format!(
                    "{}\n--- every panel:\n{}",
                    wrong.join("\n"),
                    report.join("\n")
                ))
            }
        })
        .await
    }
}

/// The job of two replicas of shard 0 and one of shard 1, and the job of one of each.
const HA: &str = "genesys-exporter";
const SINGLE: &str = "single";

/// One query of a panel with the job variable set to each job.
struct Query {
    file: String,
    title: String,
    single: String,
    ha: String,
}

/// Every panel query of every dashboard, for both jobs.
fn queries() -> Vec<Query> {
    let single = super::panel_queries_of_job("1h", SINGLE);
    let ha = super::panel_queries_of_job("1h", HA);
    (single.into_iter().zip(ha))
        .map(|((file, title, single), (_, _, ha))| Query {
            file,
            title,
            single,
            ha,
        })
        .collect()
}

/// A panel query's answers for job `single` and job `genesys-exporter` at one instant, or
/// the panel's reason to be left out (it shows or counts each replica).
async fn answers(
    estate: &Estate,
    single: &str,
    ha: &str,
    at: f64,
) -> Result<(Answer, Answer), String> {
    let counts_replicas = super::promql::selectors(ha)
        .iter()
        .all(|s| ["up", "genesys_exporter_build_info"].contains(&s.metric.as_str()));
    if counts_replicas {
        return Err("counts the replicas".into());
    }
    let one = answer(&estate.prometheus.query(single, Some(at)).await)?;
    let two = answer(&estate.prometheus.query(ha, Some(at)).await)?;
    Ok((one, two))
}

/// One query of a panel: its dashboard, title, place among the panel's queries, expression,
/// and the instant it was read at.
struct Panel {
    file: String,
    title: String,
    which: usize,
    expr: String,
    at: f64,
}

/// A query's answer: its series (labels without `instance`, as JSON text) and values.
type Answer = BTreeMap<String, f64>;

/// Relative slack for windowed counters: the two jobs' exporters are scraped at different moments,
/// and `increase` extrapolates to its window's end by up to one scrape interval (1 s) over
/// the span it has samples for, which is 20 s or more (a group an agent's status opens late).
/// A replica counted twice is off by 100 %.
const SLACK: f64 = 0.05;

/// Absolute slack, in seconds, for values that grow with the clock (how long something has
/// waited or lasted): a rule's value is as old as its last evaluation (every second) of the
/// last scrape (every second), later still on a loaded 2-core machine.
const CLOCK_SLACK: f64 = 5.0;

fn answer(result: &[Value]) -> Result<Answer, String> {
    let mut out = Answer::new();
    for sample in result {
        let mut metric = sample["metric"].as_object().cloned().unwrap_or_default();
        if metric.remove("instance").is_some() {
            return Err("per replica".into());
        }
        // The job is what the two answers differ in by design.
        metric.remove("job");
        let value: f64 = sample["value"][1].as_str().unwrap().parse().unwrap();
        out.insert(Value::Object(metric).to_string(), value);
    }
    Ok(out)
}

fn grows_with_the_clock(expr: &str) -> bool {
    ["oldest_waiting_seconds", "seconds:current"]
        .iter()
        .any(|s| expr.contains(s))
}

fn close(a: f64, b: f64, clock: bool) -> bool {
    let slack = if clock {
        CLOCK_SLACK
    } else {
        SLACK * a.abs().max(b.abs()).max(1e-9)
    };
    (a.is_nan() && b.is_nan()) || (a - b).abs() <= slack
}

fn same(one: &Answer, two: &Answer, clock: bool) -> bool {
    one.len() == two.len()
        && (one.iter()).all(|(k, a)| two.get(k).is_some_and(|b| close(*a, *b, clock)))
}

fn total(answer: &Answer) -> String {
    let sum: f64 = answer.values().filter(|v| !v.is_nan()).sum();
    let stale = answer.values().filter(|v| v.is_nan()).count();
    format!("{sum:.3} ({} series, {stale} STALE)", answer.len())
}

/// An answer keyed by the values of `by` (joined by `/`), summed over the other labels.
fn projected(answer: &Answer, by: &[&str]) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for (key, value) in answer {
        let labels: Value = serde_json::from_str(key).unwrap();
        let at: Vec<&str> = (by.iter())
            .map(|l| labels[*l].as_str().unwrap_or(""))
            .collect();
        *out.entry(at.join("/")).or_insert(0.0) += value;
    }
    out
}

/// What the truth says one query of a panel answers.
struct Want {
    /// The labels the answer is read by.
    by: &'static [&'static str],
    values: BTreeMap<String, f64>,
    /// Every key must be there (a quiet queue reads 0, never nothing); else a missing key
    /// reads as 0.
    every_key: bool,
    /// Only the `top` greatest are answered (a `topk` panel).
    top: Option<usize>,
    /// The value grows with the clock: `values` are instants in Unix seconds, the answer is
    /// the time since.
    since: bool,
}

impl Want {
    fn of(by: &'static [&'static str], values: BTreeMap<String, f64>) -> Want {
        Want {
            by,
            values,
            every_key: false,
            top: None,
            since: false,
        }
    }

    fn every_key(mut self) -> Want {
        self.every_key = true;
        self
    }

    fn mismatch(&self, answer: &Answer, at: f64) -> Option<String> {
        let got = projected(answer, self.by);
        let want: BTreeMap<String, f64> = (self.values.iter())
            .map(|(k, v)| (k.clone(), if self.since { at - v } else { *v }))
            .collect();
        let keys: std::collections::BTreeSet<&String> = match self.top {
            Some(n) if got.len() != n.min(want.len()) => {
                return Some(format!(
                    "{} answered, the top {n} of {} wanted",
                    got.len(),
                    want.len()
                ));
            }
            Some(_) => got.keys().collect(),
            None => got.keys().chain(want.keys()).collect(),
        };
        let wrong: Vec<String> = keys
            .into_iter()
            .filter(|k| {
                let (g, w) = (got.get(*k), want.get(*k));
                if self.every_key && (g.is_none() || w.is_none()) {
                    return true;
                }
                !close(
                    g.copied().unwrap_or(0.0),
                    w.copied().unwrap_or(0.0),
                    self.since,
                )
            })
            .map(|k| format!("{k}: {:?}, truth {:?}", got.get(k), want.get(k)))
            .collect();
        (!wrong.is_empty()).then(|| wrong.join("; "))
    }
}

type Expected = BTreeMap<(&'static str, &'static str, usize), Want>;

const OVERVIEW: &str = "genesys-exporter.json";
const WALLBOARD: &str = "genesys-wallboard.json";

/// Sums of a queue's conversation totals (`metric`'s `statistic`) over media types, or for one.
fn totals(queue: &Value, media: Option<&str>, metric: &str, statistic: &str) -> f64 {
    let all = queue["totals"].as_object().unwrap();
    let value = |t: &Value| {
        let raw = t[metric][statistic].as_f64().unwrap_or(0.0);
        if statistic == "sum" {
            raw / 1000.0
        } else {
            raw
        }
    };
    match media {
        Some(m) => all.get(m).map_or(0.0, value),
        None => all.values().map(value).sum(),
    }
}

fn instant(text: &str) -> f64 {
    let parsed = chrono::DateTime::parse_from_rfc3339(text).unwrap();
    parsed.timestamp_millis() as f64 / 1000.0
}

/// What the ground truth says the panels that show the contact centre answer.
fn expected(truth: &Value) -> Expected {
    let queues = truth["queues"].as_array().unwrap();
    let agents = truth["agents"].as_array().unwrap();
    let name = |q: &Value| q["name"].as_str().unwrap().to_owned();
    let per_queue = |value: &dyn Fn(&Value) -> f64| -> BTreeMap<String, f64> {
        queues.iter().map(|q| (name(q), value(q))).collect()
    };
    let interactions = |q: &Value, state: &str| -> f64 {
        let media = q["interactions"].as_object().unwrap().values();
        media.map(|m| m[state].as_f64().unwrap()).sum()
    };
    let waiting = per_queue(&|q| interactions(q, "waiting"));
    let interacting = per_queue(&|q| interactions(q, "interacting"));
    let on_queue = per_queue(&|q| q["onQueueUsers"].as_f64().unwrap());
    let idle = per_queue(&|q| q["users"]["IDLE"].as_f64().unwrap_or(0.0));
    let offered = per_queue(&|q| totals(q, None, "nOffered", "count"));
    let away = away_shares(truth);
    // The instant the oldest waiting interaction arrived, per queue (absent: none waits).
    let oldest_since: BTreeMap<String, f64> = queues
        .iter()
        .filter_map(|q| {
            let media = q["interactions"].as_object().unwrap();
            let since = (media.iter())
                .filter(|(_, m)| m["waiting"].as_f64().unwrap() > 0.0)
                .filter_map(|(media, _)| q["longestWaitingSince"][media].as_f64())
                .fold(f64::INFINITY, f64::min);
            since.is_finite().then(|| (name(q), since / 1000.0))
        })
        .collect();
    let minimums = super::thresholds();
    let (abandon, _) = shares(
        queues,
        minimums["genesys:threshold:abandon_min_offered"],
        ("tAbandon", "count"),
        ("nOffered", "count"),
    );
    let (service_today, service) = shares(
        queues,
        minimums["genesys:threshold:service_level_min_conversations"],
        ("oServiceLevel", "numerator"),
        ("oServiceLevel", "denominator"),
    );
    let target = |q: &Value| q["serviceLevelTarget"].as_f64().unwrap();
    let margin = |values: &BTreeMap<String, f64>, key_queue: &dyn Fn(&str) -> String| {
        let mut worst: BTreeMap<String, f64> = BTreeMap::new();
        for (key, share) in values {
            let queue = key_queue(key);
            let q = queues.iter().find(|q| name(q) == queue).unwrap();
            let m = share - target(q);
            let entry = worst.entry(queue).or_insert(f64::INFINITY);
            *entry = entry.min(m);
        }
        worst
    };
    let worst_margin = margin(&service, &|k| k.split('/').next().unwrap().to_owned());
    let margin_today = margin(&service_today, &|k| k.to_owned());
    let averages = |metric: &str| -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        for q in queues {
            for media in q["totals"].as_object().unwrap().keys() {
                let n = totals(q, Some(media), metric, "count");
                if n > 0.0 {
                    let average = totals(q, Some(media), metric, "sum") / n;
                    out.insert(format!("{}/{media}", name(q)), average);
                }
            }
        }
        out
    };
    let targets: BTreeMap<String, f64> = queues
        .iter()
        .flat_map(|q| {
            let media = q["totals"].as_object().unwrap().keys();
            media.map(move |m| (format!("{}/{m}", q["name"].as_str().unwrap()), target(q)))
        })
        .collect();
    let per_minute = |metric: &str, statistic: &str| {
        let all: f64 = queues
            .iter()
            .map(|q| totals(q, None, metric, statistic))
            .sum();
        // rate over 5 minutes that hold the whole traffic, per minute.
        BTreeMap::from([(String::new(), all / 300.0 * 60.0)])
    };
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
    let agent_since = |field: &str| -> BTreeMap<String, f64> {
        (agents.iter())
            .map(|a| {
                (
                    a["name"].as_str().unwrap().to_owned(),
                    instant(a[field].as_str().unwrap()),
                )
            })
            .collect()
    };
    let (hourly, occupancy) = time_in_status(agents);
    let one = |v: f64| BTreeMap::from([(String::new(), v)]);
    let sum = |map: &BTreeMap<String, f64>| one(map.values().sum());
    let zeros = per_queue(&|_| 0.0);
    let all_offered: f64 = offered.values().sum();
    let abandoned_all: f64 = queues
        .iter()
        .map(|q| totals(q, None, "tAbandon", "count"))
        .sum();
    let numerator: f64 = queues
        .iter()
        .map(|q| totals(q, None, "oServiceLevel", "numerator"))
        .sum();
    let denominator: f64 = queues
        .iter()
        .map(|q| totals(q, None, "oServiceLevel", "denominator"))
        .sum();
    let longest = oldest_since.values().fold(f64::INFINITY, |a, b| a.min(*b));
    let queue: &[&str] = &["queue"];
    let queue_media: &[&str] = &["queue", "media_type"];
    let nothing: &[&str] = &[];
    let since = |by, values| Want {
        since: true,
        ..Want::of(by, values)
    };
    BTreeMap::from([
        (
            (OVERVIEW, "Queues with stale data", 0),
            Want::of(nothing, one(0.0)),
        ),
        (
            (OVERVIEW, "Polled counters stale", 0),
            Want::of(nothing, one(0.0)),
        ),
        ((OVERVIEW, "Alerts firing", 0), Want::of(nothing, one(0.0))),
        (
            (OVERVIEW, "Firing alerts", 0),
            Want::of(nothing, BTreeMap::new()).every_key(),
        ),
        (
            (OVERVIEW, "Queue status", 0),
            Want::of(queue, waiting.clone()).every_key(),
        ),
        (
            (OVERVIEW, "Queue status", 1),
            since(queue, oldest_since.clone()),
        ),
        (
            (OVERVIEW, "Queue status", 2),
            Want::of(queue, on_queue.clone()).every_key(),
        ),
        (
            (OVERVIEW, "Queue status", 3),
            Want::of(queue, idle.clone()).every_key(),
        ),
        ((OVERVIEW, "Queue status", 4), Want::of(queue, away.clone())),
        (
            (OVERVIEW, "Queue status", 5),
            Want::of(queue, worst_margin).every_key(),
        ),
        (
            (OVERVIEW, "Queue status", 6),
            Want::of(queue, abandon.clone()).every_key(),
        ),
        (
            (OVERVIEW, "Queue status", 7),
            Want::of(queue, zeros.clone()).every_key(),
        ),
        (
            (OVERVIEW, "Queue status", 8),
            Want::of(queue, zeros.clone()).every_key(),
        ),
        (
            (OVERVIEW, "Interactions waiting per queue", 0),
            Want::of(queue, waiting.clone()),
        ),
        (
            (OVERVIEW, "Oldest interaction waiting per queue", 0),
            since(queue, oldest_since.clone()),
        ),
        (
            (OVERVIEW, "Interactions interacting per queue", 0),
            Want::of(queue, interacting),
        ),
        (
            (OVERVIEW, "Members on queue and idle per queue", 0),
            Want::of(queue, on_queue),
        ),
        (
            (OVERVIEW, "Members on queue and idle per queue", 1),
            Want::of(queue, idle.clone()),
        ),
        (
            (
                OVERVIEW,
                "Members on break, meal or away, share per queue",
                0,
            ),
            Want::of(queue, away.clone()),
        ),
        (
            (OVERVIEW, "Queue members by routing status", 0),
            Want::of(&["routing_status"], statuses),
        ),
        (
            (OVERVIEW, "Conversations per minute (5 min average)", 0),
            Want::of(nothing, per_minute("nOffered", "count")),
        ),
        (
            (OVERVIEW, "Conversations per minute (5 min average)", 1),
            Want::of(nothing, per_minute("tAnswered", "count")),
        ),
        (
            (OVERVIEW, "Conversations per minute (5 min average)", 2),
            Want::of(nothing, per_minute("tAbandon", "count")),
        ),
        (
            (OVERVIEW, "Conversations per minute (5 min average)", 3),
            Want::of(nothing, per_minute("nTransferred", "count")),
        ),
        (
            (OVERVIEW, "Abandon share per queue (30 min, all media)", 0),
            Want::of(queue, abandon.clone()).every_key(),
        ),
        (
            (OVERVIEW, "Service level per queue (30 min)", 0),
            Want::of(queue_media, service).every_key(),
        ),
        (
            (OVERVIEW, "Service level per queue (30 min)", 1),
            Want::of(queue_media, targets),
        ),
        (
            (OVERVIEW, "Average handle time (30 min)", 0),
            Want::of(queue_media, averages("tHandle")).every_key(),
        ),
        (
            (OVERVIEW, "Average speed of answer (30 min)", 0),
            Want::of(queue_media, averages("tAnswered")).every_key(),
        ),
        (
            (OVERVIEW, "Average time to abandon (30 min)", 0),
            Want::of(queue_media, averages("tAbandon")).every_key(),
        ),
        (
            (OVERVIEW, "Offered today so far", 0),
            Want::of(queue, offered.clone()).every_key(),
        ),
        (
            (OVERVIEW, "Agents watched", 0),
            Want::of(nothing, one(agents.len() as f64)),
        ),
        (
            (OVERVIEW, "Agents by routing status", 0),
            Want::of(&["routing_status"], count_agents("routingStatus")),
        ),
        (
            (OVERVIEW, "Agents by presence", 0),
            Want::of(&["system_presence"], count_agents("systemPresence")),
        ),
        (
            (OVERVIEW, "Agents: state and time in it", 0),
            since(&["name"], agent_since("routingStatusSince")),
        ),
        (
            (OVERVIEW, "Agents: state and time in it", 1),
            since(&["name"], agent_since("presenceSince")),
        ),
        (
            (OVERVIEW, "Agents in each routing status, hourly average", 0),
            Want::of(&["routing_status"], hourly),
        ),
        (
            (OVERVIEW, "Occupancy, busiest agents (1 h)", 0),
            Want {
                top: Some(10),
                ..Want::of(&["name"], occupancy)
            },
        ),
        (
            (WALLBOARD, "Queues with stale data", 0),
            Want::of(nothing, one(0.0)),
        ),
        (
            (WALLBOARD, "Waiting, all queues", 0),
            Want::of(nothing, sum(&waiting)),
        ),
        (
            (WALLBOARD, "Longest wait, all queues", 0),
            since(nothing, one(longest)),
        ),
        ((WALLBOARD, "Stale queues", 0), Want::of(nothing, one(0.0))),
        (
            (WALLBOARD, "Offered today, all queues", 0),
            Want::of(nothing, one(all_offered)),
        ),
        (
            (WALLBOARD, "Abandoned today, all queues", 0),
            Want::of(nothing, one(abandoned_all / all_offered)),
        ),
        (
            (WALLBOARD, "Answered in service level today, all queues", 0),
            Want::of(nothing, one(numerator / denominator)),
        ),
        (
            (WALLBOARD, "Waiting", 0),
            Want::of(queue, waiting).every_key(),
        ),
        ((WALLBOARD, "Oldest waiting", 0), since(queue, oldest_since)),
        (
            (WALLBOARD, "Available", 0),
            Want::of(queue, idle).every_key(),
        ),
        (
            (WALLBOARD, "On break, meal or away", 0),
            Want::of(queue, away),
        ),
        (
            (WALLBOARD, "Service level − target today", 0),
            Want::of(queue, margin_today).every_key(),
        ),
        (
            (WALLBOARD, "Abandoned today", 0),
            Want::of(queue, abandon).every_key(),
        ),
    ])
}

/// `part` of `whole` (each a metric and statistic of the totals) per queue and per queue and
/// media type (`queue/media`), where `whole` reaches `min` as the alerts ask.
fn shares(
    queues: &[Value],
    min: f64,
    part: (&str, &str),
    whole: (&str, &str),
) -> (BTreeMap<String, f64>, BTreeMap<String, f64>) {
    let mut by_queue = BTreeMap::new();
    let mut by_media = BTreeMap::new();
    for q in queues {
        let name = q["name"].as_str().unwrap();
        let share = |media: Option<&str>| {
            let d = totals(q, media, whole.0, whole.1);
            (d >= min).then(|| totals(q, media, part.0, part.1) / d)
        };
        if let Some(s) = share(None) {
            by_queue.insert(name.to_owned(), s);
        }
        for media in q["totals"].as_object().unwrap().keys() {
            if let Some(s) = share(Some(media)) {
                by_media.insert(format!("{name}/{media}"), s);
            }
        }
    }
    (by_queue, by_media)
}

/// Each queue's share of members on break, at a meal or away (queues with members).
fn away_shares(truth: &Value) -> BTreeMap<String, f64> {
    let definitions = truth["presenceDefinitions"].as_array().unwrap();
    let away = |id: &str| {
        (definitions.iter())
            .find(|d| d["id"] == id)
            .is_some_and(|d| {
                ["Break", "Meal", "Away"].contains(&d["systemPresence"].as_str().unwrap())
            })
    };
    let mut out = BTreeMap::new();
    for q in truth["queues"].as_array().unwrap() {
        let presences = q["presences"].as_object().unwrap();
        let all: f64 = presences.values().map(|n| n.as_f64().unwrap()).sum();
        let gone: f64 = (presences.iter())
            .filter(|(id, _)| away(id))
            .map(|(_, n)| n.as_f64().unwrap())
            .sum();
        if all > 0.0 {
            out.insert(q["name"].as_str().unwrap().to_owned(), gone / all);
        }
    }
    out
}

/// From the agents' time in each routing status: the hourly average of agents in each status
/// (seconds in it over an hour that holds them all), and each agent's occupancy.
fn time_in_status(agents: &[Value]) -> (BTreeMap<String, f64>, BTreeMap<String, f64>) {
    let mut hourly = BTreeMap::new();
    let mut occupancy = BTreeMap::new();
    for agent in agents {
        let statuses = agent["timeInStatus"]["tAgentRoutingStatus"]
            .as_object()
            .unwrap();
        let seconds = |s: &str| statuses.get(s).and_then(Value::as_f64).unwrap_or(0.0) / 1000.0;
        for (status, ms) in statuses {
            *hourly.entry(status.clone()).or_insert(0.0) += ms.as_f64().unwrap() / 1000.0 / 3600.0;
        }
        let busy = seconds("INTERACTING") + seconds("COMMUNICATING");
        let on_queue = busy + seconds("IDLE") + seconds("NOT_RESPONDING");
        if on_queue > 0.0 {
            occupancy.insert(agent["name"].as_str().unwrap().to_owned(), busy / on_queue);
        }
    }
    (hourly, occupancy)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_panel_reads_the_same_with_one_replica_or_two_equals_the_truth_and_says_stale() {
    if !prometheus::available() {
        return;
    }
    let estate = Estate::start().await;
    estate.sim_post("/sim/traffic/resume", Value::Null).await;
    let http = common::client();
    within("a minute of traffic", Duration::from_secs(90), || async {
        let truth = common::sim_truth(&http, &estate.sim_url).await;
        let offered: f64 = (truth["queues"].as_array().unwrap().iter())
            .map(|q| totals(q, None, "nOffered", "count"))
            .sum();
        if offered >= 150.0 {
            Ok(())
        } else {
            Err(format!("{offered} offered"))
        }
    })
    .await;
    estate.sim_post("/sim/traffic/pause", Value::Null).await;
    common::wait_nothing_pending(&http, &estate.sim_url).await;
    let queries = queries();
    let truth = common::sim_truth(&http, &estate.sim_url).await;
    let expected = expected(&truth);
    for (file, title, which) in expected.keys() {
        let found = (queries.iter())
            .filter(|q| q.file == *file && q.title == *title)
            .count();
        assert!(
            found > *which,
            "{file}: no query #{which} of a panel {title:?}"
        );
    }
    let report = estate
        .every_panel(
            "every panel the same with one replica of a shard as with two, and true",
            &queries,
            |panel, one, two| {
                let mut wrong = Vec::new();
                if !same(one, two, grows_with_the_clock(&panel.expr)) {
                    wrong.push(format!(
                        "{}: {}\n one {one:?}\n two {two:?}",
                        panel.title, panel.expr
                    ));
                }
                let key = (panel.file.as_str(), panel.title.as_str(), panel.which);
                let want = expected.iter().find(|(k, _)| **k == key).map(|(_, w)| w);
                if let Some(why) = want.and_then(|w| w.mismatch(two, panel.at)) {
                    wrong.push(format!(
                        "{} #{} against the truth: {why}",
                        panel.title, panel.which
                    ));
                }
                (!wrong.is_empty()).then(|| wrong.join("\n"))
            },
        )
        .await;
    println!("--- traffic paused:\n{}", report.join("\n"));

    // Then the API fails for good: no replica can refresh a queue or poll a counter.
    outage(&estate).await;
    let queues = truth["queues"].as_array().unwrap().len() as f64;
    let stale_counts = [
        ("Queues with stale data", queues),
        ("Stale queues", queues),
        // Two shards, each with both kinds of polled counters, and the flows and data actions
        // of shard 0.
        ("Polled counters stale", 6.0),
    ];
    let report = estate
        .every_panel(
            "every stale queue's value panels say STALE",
            &queries,
            |panel, _, two| {
                let is = |title: &str| panel.title == title;
                if let Some((_, n)) = stale_counts.iter().find(|(t, _)| is(t)) {
                    let got = two.values().next().copied();
                    return (got != Some(*n)).then(|| format!("{}: {got:?}, not {n}", panel.title));
                }
                let says_stale = match says_stale(&panel.file, &panel.title, panel.which) {
                    Some(Stale::EveryQueue) => two.len() as f64 == queues,
                    Some(Stale::Total) => two.len() == 1,
                    None => return None,
                };
                (!says_stale || !two.values().all(|v| v.is_nan()))
                    .then(|| format!("{} #{}: {two:?}, not STALE", panel.title, panel.which))
            },
        )
        .await;
    println!("--- every queue stale:\n{}", report.join("\n"));
}

enum Stale {
    /// One STALE value per queue.
    EveryQueue,
    /// One STALE total.
    Total,
}

/// The value panels that must say STALE when no replica can refresh any queue or poll: the
/// live columns and tiles, the polled ones, the totals over the queues and the IVR's.
fn says_stale(file: &str, title: &str, which: usize) -> Option<Stale> {
    let every_queue = match (file, title) {
        (OVERVIEW, "Queue status") => which <= 6,
        (OVERVIEW, "Offered today so far") => true,
        (WALLBOARD, t) => [
            "Waiting",
            "Oldest waiting",
            "Available",
            "On break, meal or away",
            "Service level − target today",
            "Abandoned today",
        ]
        .contains(&t),
        _ => false,
    };
    let ivr = [
        "In the IVR now",
        "Self-service containment (30 min)",
        "Flow outcomes failing",
        "Data actions failing",
    ];
    let total = (file == WALLBOARD && title.ends_with(", all queues"))
        || (file == OVERVIEW && ivr.contains(&title));
    match (every_queue, total) {
        (true, _) => Some(Stale::EveryQueue),
        (_, true) => Some(Stale::Total),
        _ => None,
    }
}

/// Every API call fails and no channel can be made, as in a Genesys outage.
async fn outage(estate: &Estate) {
    for fault in [
        serde_json::json!({"kind": "refuse_channels", "count": 1_000_000, "status": 400}),
        serde_json::json!({"kind": "server_error", "count": 1_000_000, "status": 503}),
        serde_json::json!({"kind": "expire_channels"}),
    ] {
        estate.sim_post("/sim/faults", fault).await;
    }
}

fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

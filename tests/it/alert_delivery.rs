//! What a person is paged with, through the real thing: a real Prometheus with the shipped
//! rules and a real Alertmanager with the shipped configuration, delivering to webhook
//! receivers this test serves on loopback, watching the exporter as a new user runs it: the
//! `demo` command. For an API outage and for shards the simulator runs in the test and the
//! exporter binary as `run` processes, one per shard, so that one can die as a pod would and
//! their staleness bound and reconnect backoff can be scaled like the rest.
//!
//! Time is scaled, nothing else: every `for:` and `keep_firing_for:` of the rules, every
//! group timing of the Alertmanager configuration and Prometheus's resend delay is a 30th of
//! the shipped one (a 5-minute `for:` is 10 s), so the orderings they were chosen for hold as
//! shipped. Expressions and
//! inhibitions are untouched. The simulator's traffic is off but for surges (a backlog on
//! demand, whose customers all hang up), and the members-away threshold is out of reach, as
//! are the abandon-rate and service-level ones but where the polled counters are what is
//! judged: a surge rightly trips them too, and their firing is the rule unit tests' business.
//! Here the pager's view is what is checked.
//!
//! The `run` processes poll every 5 s, slower than the shipped minute and two scaled (2 s and
//! 4 s): polled data turns stale after three intervals, and GenesysQueueDataStale must page
//! before GenesysPolledDataStale would be sent in an outage of the whole API. As shipped that
//! margin is a minute and a half; scaled it would be 3 s, within the 1-s scrape and evaluation
//! jitter.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common;

use common::alertmanager::{self, Alertmanager, Inbox, Notification};
use common::process::{ExporterProcess, sim_env};
use common::prometheus::{self, Prometheus};
use common::{free_port, within};
use genesys_exporter::sim::{self, Fault, SimConfig, SimHandle};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Shipped durations over this.
const SCALE: u32 = 30;
/// The shipped route's group_interval (5m), scaled: how long a resolution or a change to a
/// notified group may wait before it is sent.
const GROUP_INTERVAL: Duration = Duration::from_secs(10);
/// The backlog threshold as shipped, and a surge above it.
const BACKLOG: usize = 15;
/// GenesysQueueAbandonRateHigh's `for:` (10m), scaled.
const ABANDON_FOR: Duration = Duration::from_secs(20);
/// The path of the conversation aggregates query.
const AGGREGATES_QUERY: &str = "/api/v2/analytics/conversations/aggregates/query";

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// `5m`, `30s`, `12h` over [`SCALE`], in milliseconds.
fn scaled(duration: &str) -> String {
    let (number, unit) = duration.split_at(duration.len() - 1);
    let seconds: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        _ => panic!("{duration}: not a shipped duration"),
    };
    let number: u64 = number.parse().expect("a whole number of units");
    format!("{}ms", number * seconds * 1000 / u64::from(SCALE))
}

/// `text` with the value of every `key: <duration>` line scaled.
fn scale_lines(text: &str, keys: &[&str]) -> String {
    let lines = text.lines().map(|line| {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        for key in keys {
            if let Some(value) = trimmed.strip_prefix(&format!("{key}: ")) {
                return format!("{indent}{key}: {}", scaled(value.trim()));
            }
        }
        line.to_owned()
    });
    lines.collect::<Vec<_>>().join("\n")
}

/// A record of thresholds.yml: its name, its shipped expression and the one used here.
type Threshold = (&'static str, &'static str, &'static str);

/// The abandon-rate and service-level thresholds, out of reach.
const AGGREGATES_UNJUDGED: [Threshold; 2] = [
    ("abandon_min_offered", "vector(10)", "vector(1e9)"),
    (
        "service_level_min_conversations",
        "vector(10)",
        "vector(1e9)",
    ),
];

/// The shipped rules, time scaled and the members-away threshold out of reach, and `lifted`
/// too (see the module doc).
fn rules(dir: &Path, lifted: &[Threshold]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for name in ["thresholds.yml", "recording.yml", "alerts.yml"] {
        let text = std::fs::read_to_string(repo("deploy/prometheus/rules").join(name)).unwrap();
        let mut text = scale_lines(&text, &["for", "keep_firing_for"]);
        if name == "thresholds.yml" {
            let away = ("queue_members_away_ratio", "vector(0.5)", "vector(1)");
            for &(record, shipped, here) in lifted.iter().chain([&away]) {
                let marker = format!("record: genesys:threshold:{record}\n        expr: ");
                let (from, to) = (marker.clone() + shipped, marker + here);
                assert!(text.contains(&from), "the {record} threshold moved");
                text = text.replace(&from, &to);
            }
        }
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        files.push(path);
    }
    files
}

/// The shipped Alertmanager configuration, time scaled, delivering to `inbox`.
fn alertmanager_config(inbox: &Inbox) -> String {
    let text = std::fs::read_to_string(repo("deploy/alertmanager/alertmanager.yml")).unwrap();
    let text = scale_lines(&text, &["group_wait", "group_interval", "repeat_interval"]);
    let text = text
        .replace(
            "http://pager.example.invalid/genesys",
            &format!("{}/genesys-page", inbox.url),
        )
        .replace(
            "http://tickets.example.invalid/genesys",
            &format!("{}/genesys-ticket", inbox.url),
        );
    assert_eq!(
        text.matches(&inbox.url).count(),
        2,
        "both receivers rewired"
    );
    text
}

/// What a rig's exporters watch and its rules judge beyond the queues' live data.
#[derive(Debug, Clone, Copy, Default)]
struct Scope {
    /// Agents are watched (their channels, their time in status polled).
    agents: bool,
    /// The abandon-rate and service-level thresholds are as shipped, within a surge's reach.
    aggregates_judged: bool,
    /// Trunks and Edges are watched.
    telephony: bool,
}

/// How a rig's alerts are judged.
struct Judging {
    /// What the inbox sets apart (see [`Inbox::ignored`]).
    ignore: Option<fn(&Notification) -> bool>,
    /// Thresholds out of reach besides the members-away one.
    lifted: &'static [Threshold],
}

/// Everything between a surge and a page.
struct Rig {
    /// The simulator's base URL, and its queues (id, name).
    sim_url: String,
    queues: Vec<(String, String)>,
    /// The in-process simulator, when the exporters are `run` processes.
    _sim: Option<SimHandle>,
    exporters: Vec<Option<ExporterProcess>>,
    prometheus: Prometheus,
    alertmanager: Alertmanager,
    inbox: Inbox,
    http: reqwest::Client,
    cancel: CancellationToken,
    _dir: tempfile::TempDir,
}

impl Rig {
    /// `demo --arrivals-per-minute 0` as a new user runs it (no traffic but surges), with
    /// Prometheus, Alertmanager and the inbox; all ready. `None` when a tool is missing
    /// outside CI.
    async fn demo() -> Option<Rig> {
        if !prometheus::available() || !alertmanager::available() {
            return None;
        }
        let (port, sim_port) = (free_port(), free_port());
        let demo = ExporterProcess::demo(port, sim_port, &["--arrivals-per-minute", "0"]);
        let sim_url = format!("http://127.0.0.1:{sim_port}");
        let targets = format!("      - targets: ['127.0.0.1:{port}']\n");
        let exporters = vec![Some(demo)];
        let judging = Judging {
            ignore: Some(agent_tickets),
            lifted: &AGGREGATES_UNJUDGED,
        };
        Some(Rig::watch(sim_url, None, exporters, &targets, judging).await)
    }

    /// The simulator, one exporter (`run`) per entry of `shards` (`None`: unsharded),
    /// Prometheus scraping each with its `shard` label, Alertmanager and the inbox; all ready.
    /// The exporters' staleness bound and reconnect backoff are scaled too, their polls nearly
    /// (see the module doc). `None` when a tool is missing outside CI.
    async fn start(shards: &[Option<&str>], scope: Scope) -> Option<Rig> {
        if !prometheus::available() || !alertmanager::available() {
            return None;
        }
        genesys_exporter::genesys::install_crypto_provider();
        let cancel = CancellationToken::new();
        let config = SimConfig {
            queues: 6,
            arrivals_per_minute: 0.0,
            // NB: within the exporter's heartbeat timeout here (3 s), or the stream flaps.
            heartbeat_interval: Duration::from_secs(1),
            ..SimConfig::default()
        };
        let media_types = config.media_types.clone();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sim = sim::start(config, listener, cancel.child_token())
            .await
            .unwrap();
        let mut exporters = Vec::new();
        let mut targets = String::new();
        for shard in shards {
            let port = free_port();
            let mut env = sim_env(&sim, port, &media_types);
            for (key, value) in [
                ("STREAM__FALLBACK_POLL_INTERVAL", "2s"),
                ("STREAM__STALENESS_BOUND", "4s"),
                // The shipped 60 s, scaled: the stream returns within seconds of the API.
                ("STREAM__RECONNECT_BACKOFF_MAX", "2s"),
                ("AGGREGATES__POLL_INTERVAL", "5s"),
                (
                    "AGENTS__ENABLED",
                    if scope.agents { "true" } else { "false" },
                ),
                ("AGENTS__TIME_IN_STATUS_INTERVAL", "5s"),
                (
                    "TELEPHONY__ENABLED",
                    if scope.telephony { "true" } else { "false" },
                ),
            ] {
                env.push((format!("GENESYS_EXPORTER_{key}"), value.to_owned()));
            }
            let mut args = vec!["run"];
            if let Some(shard) = shard {
                args.extend(["--shard", shard]);
            }
            exporters.push(Some(ExporterProcess::spawn_with(&args, &env, port)));
            let labels = shard.map_or(String::new(), |s| {
                let index = s.split('/').next().unwrap();
                format!("\n        labels: {{shard: '{index}'}}")
            });
            targets.push_str(&format!("      - targets: ['127.0.0.1:{port}']{labels}\n"));
        }
        let sim_url = sim.base_url.clone();
        let judging = Judging {
            ignore: None,
            lifted: if scope.aggregates_judged {
                &[]
            } else {
                &AGGREGATES_UNJUDGED
            },
        };
        let sim = Some((sim, cancel));
        Some(Rig::watch(sim_url, sim, exporters, &targets, judging).await)
    }

    /// Prometheus scraping `targets` (static config entries) with the rules as `judging`
    /// says, Alertmanager and the inbox, once every exporter is ready and scraped.
    async fn watch(
        sim_url: String,
        sim: Option<(SimHandle, CancellationToken)>,
        exporters: Vec<Option<ExporterProcess>>,
        targets: &str,
        judging: Judging,
    ) -> Rig {
        let jobs = format!("  - job_name: genesys-exporter\n    static_configs:\n{targets}");
        let inbox = Inbox::serve(judging.ignore).await;
        let alertmanager = Alertmanager::start(&alertmanager_config(&inbox)).await;
        let dir = tempfile::tempdir().unwrap();
        let rules = rules(dir.path(), judging.lifted);
        let resend = Duration::from_secs(60) / SCALE;
        let prometheus =
            Prometheus::start_alerting(&jobs, &rules, &alertmanager.address, resend).await;
        for exporter in exporters.iter().flatten() {
            exporter.wait_ready().await;
        }
        let up = r#"sum(up{job="genesys-exporter"})"#;
        prometheus.wait_for(up, exporters.len() as f64).await;
        let http = reqwest::Client::new();
        let truth = common::sim_truth(&http, &sim_url).await;
        let queues = (truth["queues"].as_array().unwrap().iter())
            .map(|q| {
                (
                    q["id"].as_str().unwrap().to_owned(),
                    q["name"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let (sim, cancel) = sim.unzip();
        Rig {
            sim_url,
            queues,
            _sim: sim,
            exporters,
            prometheus,
            alertmanager,
            inbox,
            http,
            cancel: cancel.unwrap_or_default(),
            _dir: dir,
        }
    }

    /// `customers` call `queue_id` at once, its routing stalled for `seconds`.
    async fn surge(&self, queue_id: &str, seconds: u64) -> Instant {
        let url = format!("{}/sim/queues/{queue_id}/surge", self.sim_url);
        let body = json!({"customers": BACKLOG, "seconds": seconds});
        let response = self.http.post(url).json(&body).send().await.unwrap();
        assert_eq!(response.status(), 204, "{:?}", response.text().await);
        Instant::now()
    }

    async fn arm(&self, fault: Fault) {
        let url = format!("{}/sim/faults", self.sim_url);
        let response = self.http.post(url).json(&fault).send().await.unwrap();
        assert!(response.status().is_success(), "{fault:?}");
    }

    /// SIGKILL to exporter `index`, as a node failure would end it.
    async fn kill(&mut self, index: usize) {
        let exporter = self.exporters[index].take().expect("still running");
        exporter.kill().await;
    }

    /// Whether Prometheus holds an alert named `name` (pending or firing).
    async fn prometheus_has(&self, name: &str) -> bool {
        let alerts = self.prometheus.api("/api/v1/alerts").await;
        let alerts = alerts["alerts"].as_array().unwrap();
        alerts.iter().any(|a| a["labels"]["alertname"] == name)
    }

    /// Waits (up to `limit`) until Prometheus no longer holds `name`: it resolved there.
    async fn resolved_in_prometheus(&self, name: &str, limit: Duration) {
        within(&format!("{name} ends in Prometheus"), limit, || async {
            if self.prometheus_has(name).await {
                Err("still held".to_owned())
            } else {
                Ok(())
            }
        })
        .await;
    }

    /// Checks that `trunk` was out of service since `began` and yet GenesysTrunkOutOfService
    /// never began for it, not even pending: a page explained it (Prometheus's ALERTS series
    /// keeps every state an alert was in).
    async fn never_judged_alone(&self, trunk: &str, began: Instant) {
        let window = format!("{}s", began.elapsed().as_secs() + 1);
        let out =
            format!(r#"min_over_time(genesys:trunk_in_service:max{{trunk="{trunk}"}}[{window}])"#);
        assert_eq!(self.prometheus.value(&out, None).await, Some(0.0), "{out}");
        let alerts =
            format!(r#"ALERTS{{alertname="GenesysTrunkOutOfService",trunk="{trunk}"}}[{window}]"#);
        let states = self.prometheus.query(&alerts, None).await;
        assert!(states.is_empty(), "{alerts}: {states:#?}");
    }

    /// Waits for the next notification after the first `seen` to `receiver` with `status`
    /// about an alert named `name` (`what` it is, for a failure), and checks it has no other.
    async fn alone_after(
        &self,
        seen: usize,
        what: &str,
        (receiver, status, name): (&str, &str, &str),
    ) -> Notification {
        let found = (self.inbox)
            .next_after(seen, what, |n| is(n, receiver, status, name))
            .await;
        let only = [(status.to_owned(), name.to_owned())];
        assert_eq!(alert_names(&found), only, "{what}");
        found
    }

    /// Fails as soon as a notification beyond the first `seen` arrives within `window`.
    async fn quiet_for(&self, seen: usize, window: Duration, why: &str) {
        let until = Instant::now() + window;
        while Instant::now() < until {
            let received = self.inbox.received();
            let extra: Vec<String> = received[seen..].iter().map(Notification::summary).collect();
            let log = self.alertmanager.log();
            assert!(
                extra.is_empty(),
                "{why}, yet: {extra:#?}\nAlertmanager logged:\n{log}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until Alertmanager holds the alert named `name` suppressed for `reason`
    /// (`silencedBy` or `inhibitedBy` in its status); gives what suppresses it.
    async fn suppressed(&self, name: &str, reason: &str) -> Vec<Value> {
        self.suppressed_with(name, &[], reason).await
    }

    /// [`Rig::suppressed`] for the alert named `name` that also has the `labels`.
    async fn suppressed_with(
        &self,
        name: &str,
        labels: &[(&str, &str)],
        reason: &str,
    ) -> Vec<Value> {
        let what = format!("{name}{labels:?} is suppressed ({reason})");
        common::poll_until(&what, Duration::from_millis(100), || async {
            let alerts = self.alertmanager.alerts().await;
            let alert = alerts.into_iter().find(|a| {
                a["labels"]["alertname"] == name
                    && labels.iter().all(|(k, v)| a["labels"][*k] == *v)
            });
            let status = alert.map(|a| a["status"].clone()).unwrap_or_default();
            let held = status["state"] == "suppressed";
            let by = status[reason].as_array().cloned().unwrap_or_default();
            (held && !by.is_empty())
                .then_some(by)
                .ok_or(format!("{status}"))
        })
        .await
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// The demo watches agents, whose breaks (30 minutes of history in, some long) rightly open
/// GenesysAgentInPresenceTooLong tickets for the floor: not what the backlog test judges.
fn agent_tickets(n: &Notification) -> bool {
    let about_agents = |(_, labels): &(String, Value)| {
        (labels["alertname"].as_str()).is_some_and(|name| name.starts_with("GenesysAgent"))
    };
    n.receiver == "genesys-ticket" && n.alerts.iter().all(about_agents)
}

/// The (status, alertname) of each alert of `n`.
fn alert_names(n: &Notification) -> Vec<(String, String)> {
    let name = |labels: &Value| labels["alertname"].as_str().unwrap_or("").to_owned();
    n.alerts.iter().map(|(s, l)| (s.clone(), name(l))).collect()
}

fn is(n: &Notification, receiver: &str, status: &str, alertname: &str) -> bool {
    n.receiver == receiver
        && n.status == status
        && n.alerts
            .iter()
            .any(|(_, labels)| labels["alertname"] == alertname)
}

fn summaries(inbox: &Inbox) -> Vec<String> {
    inbox.received().iter().map(Notification::summary).collect()
}

/// The demo: one backlogged queue is one page naming it, then one all-clear; the same backlog
/// again, silenced through Alertmanager's API once paged, sends nothing more.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backlog_is_one_page_and_one_all_clear_and_a_silence_stops_it() {
    let Some(rig) = Rig::demo().await else {
        return;
    };
    let (queue_id, queue_name) = rig.queues[0].clone();
    let began = rig.surge(&queue_id, 20).await;
    let page = rig
        .alone_after(
            0,
            "the backlog page",
            ("genesys-page", "firing", "GenesysQueueBacklog"),
        )
        .await;
    let delay = page.at - began;
    println!("backlog began → page arrived: {:.1} s", delay.as_secs_f64());
    let labels = &page.alerts[0].1;
    assert_eq!(
        (&labels["queue_id"], &labels["queue"]),
        (&json!(queue_id), &json!(queue_name))
    );
    assert_eq!(
        (&labels["severity"], &labels["data"]),
        (&json!("page"), &json!("live"))
    );
    // for: 10 s, plus at most a publish, a scrape, an evaluation and group_wait.
    assert!(
        delay >= Duration::from_secs(10) && delay < Duration::from_secs(20),
        "{delay:?}"
    );

    rig.alone_after(
        1,
        "the backlog's all-clear",
        ("genesys-page", "resolved", "GenesysQueueBacklog"),
    )
    .await;
    assert_eq!(
        rig.inbox.received().len(),
        2,
        "{:#?}",
        summaries(&rig.inbox)
    );

    // Again, silenced once paged: Alertmanager holds it suppressed, and its end sends nothing.
    rig.surge(&queue_id, 20).await;
    rig.inbox
        .next_after(2, "the second backlog page", |n| {
            is(n, "genesys-page", "firing", "GenesysQueueBacklog")
        })
        .await;
    let silence = rig
        .alertmanager
        .silence(&[
            ("alertname", "GenesysQueueBacklog"),
            ("queue_id", &queue_id),
        ])
        .await;
    let by = rig.suppressed("GenesysQueueBacklog", "silencedBy").await;
    assert_eq!(by, [json!(silence)], "held by the silence made");
    rig.resolved_in_prometheus("GenesysQueueBacklog", Duration::from_secs(60))
        .await;
    rig.quiet_for(3, 2 * GROUP_INTERVAL, "the backlog was silenced")
        .await;
    println!("delivered: {:#?}", summaries(&rig.inbox));
    let floor: Vec<String> = rig
        .inbox
        .ignored()
        .iter()
        .map(Notification::summary)
        .collect();
    println!("and, for the floor, about agents: {floor:#?}");
}

/// The API failing for everything (channel refused, every REST read a 503) while a backlog
/// builds and agents are watched: one page for the cause, the backlog's frozen value pages
/// nothing; the disconnected streams and both kinds of polled counters going stale are held
/// back as part of the same story; when the API returns only the cause's all-clear follows.
/// Nothing else is delivered, tickets included.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_outage_is_one_page_for_its_cause_and_releases_nothing_after() {
    let agents = Scope {
        agents: true,
        ..Scope::default()
    };
    let Some(rig) = Rig::start(&[None], agents).await else {
        return;
    };
    let (queue_id, _) = rig.queues[0].clone();
    rig.surge(&queue_id, 25).await;
    let waiting = format!(r#"genesys:queue_waiting:sum{{queue_id="{queue_id}"}}"#);
    rig.prometheus.wait_at_least(&waiting, BACKLOG as f64).await;
    rig.arm(Fault::RefuseChannels {
        count: 1_000_000,
        status: 400,
    })
    .await;
    rig.arm(Fault::ServerError {
        count: 1_000_000,
        status: 503,
        path: None,
    })
    .await;
    rig.arm(Fault::ExpireChannels).await;

    let page = rig
        .alone_after(
            0,
            "the stale-data page",
            ("genesys-page", "firing", "GenesysQueueDataStale"),
        )
        .await;
    let description = &page.descriptions[0];
    for (_, name) in &rig.queues {
        assert!(description.contains(name), "{description}");
    }
    // The disconnected stream fires in Prometheus, and is held back; so are the polls of both
    // kinds of counters, whose alerts, stale as well, hold back what judges them.
    rig.suppressed("GenesysExporterStreamDisconnected", "inhibitedBy")
        .await;
    for data in ["aggregates", "agent_time"] {
        let by = rig
            .suppressed_with("GenesysPolledDataStale", &[("data", data)], "inhibitedBy")
            .await;
        assert_eq!(
            by.len(),
            1,
            "held back by GenesysQueueDataStale alone: {by:?}"
        );
    }
    // The surge ends during the outage; then the API returns.
    within("the surge ends", Duration::from_secs(40), || async {
        let truth = common::sim_truth(&rig.http, &rig.sim_url).await;
        let entry = truth["queues"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["id"] == queue_id);
        let waiting: u64 = entry.unwrap()["interactions"]
            .as_object()
            .unwrap()
            .values()
            .map(|m| m["waiting"].as_u64().unwrap())
            .sum();
        (waiting == 0)
            .then_some(())
            .ok_or(format!("{waiting} waiting"))
    })
    .await;
    rig.arm(Fault::RefuseChannels {
        count: 0,
        status: 400,
    })
    .await;
    rig.arm(Fault::ServerError {
        count: 0,
        status: 503,
        path: None,
    })
    .await;
    let stale = "(sum(genesys_exporter_queue_stale) or vector(0)) \
        + (sum(genesys_exporter_agent_stale) or vector(0)) \
        + (count(genesys_exporter_stream_connected == 0) or vector(0)) \
        + (sum(genesys:poll_stale:min) or vector(0))";
    rig.prometheus.wait_for(stale, 0.0).await;
    rig.alone_after(
        1,
        "the cause's all-clear",
        ("genesys-page", "resolved", "GenesysQueueDataStale"),
    )
    .await;
    for name in [
        "GenesysExporterStreamDisconnected",
        "GenesysPolledDataStale",
    ] {
        rig.resolved_in_prometheus(name, Duration::from_secs(30))
            .await;
    }
    rig.quiet_for(2, 2 * GROUP_INTERVAL, "only the cause was to be delivered")
        .await;
    println!("delivered: {:#?}", summaries(&rig.inbox));
}

/// The conversation aggregates query failing alone, the stream healthy: one ticket for the
/// cause. Meanwhile a surge whose customers all hang up moves the counters through the
/// stream's running totals, an abandon rate of 100 %, yet no alert judges counters the polls
/// cannot refresh: nothing but the cause is delivered. When the polls return, the cause's
/// all-clear follows, and then the abandon ticket those counters call for, judged now.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_polls_are_one_ticket_and_hold_back_what_judges_their_counters() {
    let judged = Scope {
        aggregates_judged: true,
        ..Scope::default()
    };
    let Some(rig) = Rig::start(&[None], judged).await else {
        return;
    };
    rig.prometheus
        .wait_for(r#"genesys:poll_stale:min{data="aggregates"}"#, 0.0)
        .await;
    let polls = |count| Fault::ServerError {
        count,
        status: 503,
        path: Some(AGGREGATES_QUERY.to_owned()),
    };
    rig.arm(polls(1_000_000)).await;
    // Shorter than any live alert's `for:`: only the polled counters can judge it.
    let (queue_id, _) = rig.queues[0].clone();
    rig.surge(&queue_id, 3).await;
    let abandoned = "sum(genesys_conversations_abandoned_total)";
    rig.prometheus
        .wait_at_least(abandoned, BACKLOG as f64)
        .await;
    let counted = Instant::now();
    let cause = rig
        .alone_after(
            0,
            "the polls' ticket",
            ("genesys-ticket", "firing", "GenesysPolledDataStale"),
        )
        .await;
    assert_eq!(cause.alerts[0].1["data"], "aggregates");
    // Judged, the abandon rate would fire after its `for:` and a group_wait.
    let judged_by = counted + ABANDON_FOR + GROUP_INTERVAL;
    let left = judged_by.saturating_duration_since(Instant::now());
    rig.quiet_for(1, left, "the counters were stale").await;
    assert!(
        !rig.prometheus_has("GenesysQueueAbandonRateHigh").await,
        "the recording rules leave stale counters out: nothing is even pending"
    );

    rig.arm(polls(0)).await;
    let recovered = Instant::now();
    rig.alone_after(
        1,
        "the polls' all-clear",
        ("genesys-ticket", "resolved", "GenesysPolledDataStale"),
    )
    .await;
    let abandon = ("genesys-ticket", "firing", "GenesysQueueAbandonRateHigh");
    let judged = rig
        .alone_after(
            1,
            "the abandon ticket, judged on refreshed counters",
            abandon,
        )
        .await;
    assert!(
        judged.at - recovered >= ABANDON_FOR,
        "judged from the recovery on"
    );
    let labels = &judged.alerts[0].1;
    assert_eq!(labels["queue_id"], queue_id.as_str());
    let delivered = summaries(&rig.inbox);
    println!("delivered: {delivered:#?}");
    let first: Vec<_> = rig
        .inbox
        .received()
        .iter()
        .take(3)
        .map(alert_names)
        .collect();
    let one = |status: &str, name: &str| vec![(status.to_owned(), name.to_owned())];
    assert_eq!(
        first,
        [
            one("firing", "GenesysPolledDataStale"),
            one("resolved", "GenesysPolledDataStale"),
            one("firing", "GenesysQueueAbandonRateHigh"),
        ],
        "{delivered:#?}"
    );
}

/// Two shards: one dies and its cause pages while the other's backlog still pages; then the
/// other dies too, and its down page is all that follows: no all-clear for the backlog.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_shard_pages_its_cause_the_other_still_pages_and_death_sends_no_all_clear() {
    let shards = [Some("0/2"), Some("1/2")];
    let Some(mut rig) = Rig::start(&shards, Scope::default()).await else {
        return;
    };
    let owned = r#"genesys_queue_info{shard="1"}"#;
    let owned = rig.prometheus.query(owned, None).await;
    let queue_id = owned[0]["metric"]["queue_id"].as_str().unwrap().to_owned();

    rig.kill(0).await;
    let down = rig
        .alone_after(
            0,
            "shard 0's down page",
            ("genesys-page", "firing", "GenesysExporterDown"),
        )
        .await;
    assert_eq!(down.alerts[0].1["shard"], "0");

    rig.surge(&queue_id, 120).await;
    let backlog = rig
        .alone_after(
            1,
            "shard 1's backlog page",
            ("genesys-page", "firing", "GenesysQueueBacklog"),
        )
        .await;
    let labels = &backlog.alerts[0].1;
    assert_eq!(
        (&labels["shard"], &labels["queue_id"]),
        (&json!("1"), &json!(queue_id))
    );

    rig.kill(1).await;
    let both = rig
        .inbox
        .next_after(2, "shard 1's down page", |n| {
            n.alerts
                .iter()
                .any(|(_, l)| l["alertname"] == "GenesysExporterDown" && l["shard"] == "1")
        })
        .await;
    assert_eq!(both.status, "firing", "{}", both.summary());
    // Held back by the shard's death.
    rig.suppressed("GenesysQueueBacklog", "inhibitedBy").await;
    rig.resolved_in_prometheus("GenesysQueueBacklog", Duration::from_secs(30))
        .await;
    let seen = rig.inbox.received().len();
    rig.quiet_for(
        seen,
        2 * GROUP_INTERVAL,
        "a dead exporter sends no all-clear",
    )
    .await;
    for n in rig.inbox.received() {
        let names = alert_names(&n);
        assert!(
            n.receiver == "genesys-page"
                && names.iter().all(|(status, name)| status == "firing"
                    && (name == "GenesysExporterDown" || name == "GenesysQueueBacklog")),
            "{:#?}",
            summaries(&rig.inbox)
        );
    }
    println!("delivered: {:#?}", summaries(&rig.inbox));
}

/// Whether every alert of `n` has ended.
fn all_resolved(n: &Notification) -> bool {
    n.status == "resolved" && n.alerts.iter().all(|(status, _)| status == "resolved")
}

/// The (receiver, status, alertname) of each notification delivered, in order.
fn delivered(inbox: &Inbox) -> Vec<(String, String, String)> {
    let first_name = |n: &Notification| alert_names(n).first().map(|(_, name)| name.clone());
    (inbox.received().iter())
        .map(|n| {
            (
                n.receiver.clone(),
                n.status.clone(),
                first_name(n).unwrap_or_default(),
            )
        })
        .collect()
}

fn notice(receiver: &str, status: &str, alertname: &str) -> (String, String, String) {
    (receiver.into(), status.into(), alertname.into())
}

/// Trunks and Edges, one notification per cause. One carrier trunk of two out of service is one
/// ticket naming it; both out is one page for the type, the second trunk never judged on its
/// own and "calls stopped arriving" held back; their return sends the all-clears and nothing
/// else. Then an Edge offline is one page, its carrier trunk (out of service with it) never
/// judged on its own; its return one all-clear, and nothing for the trunk that returns after
/// it. One rig for both, in turn: the suite's threads are better
/// spent than on a second.
///
/// GenesysCallsStoppedArriving compares with the same half hour a week before, which a live
/// test cannot have: its firing is shown by promtool with a week of synthetic history
/// (deploy/prometheus/tests/calls_stopped_test.yml). Here it is sent to the real Alertmanager
/// as Prometheus would send it, with its rule's labels, and held back by the shipped
/// inhibition.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trunks_and_edges_page_once_per_cause_and_their_return_sends_only_all_clears() {
    let telephony = Scope {
        telephony: true,
        ..Scope::default()
    };
    let Some(rig) = Rig::start(&[None], telephony).await else {
        return;
    };
    carrier_trunks_down(&rig).await;
    an_edge_offline(&rig, 4).await;
    // NB: anything still to come would be sent within a group interval of the last.
    rig.quiet_for(6, GROUP_INTERVAL, "the Edge is back").await;
    println!("delivered: {:#?}", summaries(&rig.inbox));
    let want = [
        notice("genesys-ticket", "firing", "GenesysTrunkOutOfService"),
        notice("genesys-page", "firing", "GenesysTrunksOutOfService"),
        notice("genesys-page", "resolved", "GenesysTrunksOutOfService"),
        notice("genesys-ticket", "resolved", "GenesysTrunkOutOfService"),
        notice("genesys-page", "firing", "GenesysEdgeOffline"),
        notice("genesys-page", "resolved", "GenesysEdgeOffline"),
    ];
    let mut got = delivered(&rig.inbox);
    // NB: the two all-clears of the trunks come in either order.
    got[2..4].sort();
    assert_eq!(got, want);
}

/// Carrier A out (one ticket), then Carrier B (one page; Carrier B never judged on its own, the
/// all-clear of Carrier A's ticket held back), then both back: four notifications.
async fn carrier_trunks_down(rig: &Rig) {
    let out = |trunk: &str, restore| Fault::TrunkOutOfService {
        trunk: trunk.into(),
        restore,
    };
    let began = Instant::now();
    rig.arm(out("Carrier A", false)).await;
    let ticket = rig
        .alone_after(
            0,
            "the ticket for Carrier A",
            ("genesys-ticket", "firing", "GenesysTrunkOutOfService"),
        )
        .await;
    let labels = &ticket.alerts[0].1;
    assert_eq!(
        (&labels["trunk"], &labels["trunk_type"], &labels["data"]),
        (&json!("Carrier A"), &json!("EXTERNAL"), &json!("telephony"))
    );

    rig.arm(out("Carrier B", false)).await;
    let page = rig
        .alone_after(
            1,
            "the page for every carrier trunk",
            ("genesys-page", "firing", "GenesysTrunksOutOfService"),
        )
        .await;
    assert_eq!(page.alerts[0].1["trunk_type"], "EXTERNAL");
    let stopped = json!({"alertname": "GenesysCallsStoppedArriving", "severity": "page",
        "data": "aggregates", "job": "genesys-exporter"});
    rig.alertmanager.post_alert(&stopped, true).await;
    rig.suppressed("GenesysCallsStoppedArriving", "inhibitedBy")
        .await;
    rig.alertmanager.post_alert(&stopped, false).await;

    rig.arm(out("Carrier A", true)).await;
    rig.arm(out("Carrier B", true)).await;
    for (receiver, name) in [
        ("genesys-page", "GenesysTrunksOutOfService"),
        ("genesys-ticket", "GenesysTrunkOutOfService"),
    ] {
        let what = format!("the all-clear of {name}");
        let all_clear = (rig.inbox)
            .next_after(2, &what, |n| is(n, receiver, "resolved", name))
            .await;
        assert!(all_resolved(&all_clear), "{}", all_clear.summary());
    }
    rig.never_judged_alone("Carrier B", began).await;
}

/// Edge 1 offline (one page; its carrier trunk, out with it, never judged on its own), then
/// back: two notifications after the first `seen`.
async fn an_edge_offline(rig: &Rig, seen: usize) {
    let offline = |restore| Fault::EdgeOffline {
        edge: "Edge 1".into(),
        restore,
    };
    let began = Instant::now();
    rig.arm(offline(false)).await;
    let page = rig
        .alone_after(
            seen,
            "the Edge's page",
            ("genesys-page", "firing", "GenesysEdgeOffline"),
        )
        .await;
    assert_eq!(
        (&page.alerts[0].1["edge"], &page.alerts[0].1["site"]),
        (&json!("Edge 1"), &json!("Site 1"))
    );
    rig.arm(offline(true)).await;
    rig.alone_after(
        seen + 1,
        "the Edge's all-clear",
        ("genesys-page", "resolved", "GenesysEdgeOffline"),
    )
    .await;
    rig.never_judged_alone("Carrier A", began).await;
}

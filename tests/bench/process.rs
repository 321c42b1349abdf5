//! The exporter process against the simulator: start-up time, event-to-gauge latency, idle
//! CPU and, on request, memory under churn. Real processes on loopback, as deployed.
//!
//! `cargo bench --bench process` prints start-up at 1,000 and 5,000 queues, latency at about
//! 1,000 events/s while scraped, and idle CPU at 1,000 queues. `-- --soak MINUTES` runs the
//! churn soak instead (30 for the figure in BENCHMARKS.md), `-- --latency PROBES` only the
//! latency, `-- --idle SECONDS` only the idle CPU over windows that long, and `-- --binary
//! PATH` runs another build of the exporter.

use std::collections::VecDeque;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use genesys_exporter::sim::{SimConfig, SimHandle};
use serde_json::json;

#[path = "common.rs"]
mod common;
use common::{arg, median, start_sim};

/// A running exporter, killed when dropped.
struct Exporter {
    child: Child,
    base: String,
}

impl Exporter {
    fn spawn(sim: &SimHandle, extra_env: &[(&str, &str)]) -> Exporter {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        // NB: `-- --binary PATH` measures another build, such as an older one, the same way.
        let binary = arg("--binary").unwrap_or(env!("CARGO_BIN_EXE_genesys-exporter").to_owned());
        let mut command = Command::new(binary);
        command
            .arg("run")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("GENESYS_EXPORTER")) {
            command.env_remove(name);
        }
        let env = [
            ("CLIENT_ID", sim.client_id.as_str()),
            ("CLIENT_SECRET", sim.client_secret.as_str()),
            ("API_BASE_URL", sim.base_url.as_str()),
            ("LOGIN_BASE_URL", sim.base_url.as_str()),
            ("LOG__LEVEL", "warn"),
        ];
        for (key, value) in env.iter().chain(extra_env) {
            command.env(format!("GENESYS_EXPORTER_{key}"), value);
        }
        command.env(
            "GENESYS_EXPORTER_LISTEN_ADDRESS",
            format!("127.0.0.1:{port}"),
        );
        let child = command.spawn().expect("the exporter starts");
        Exporter {
            child,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    /// (user + system) CPU seconds so far, from /proc.
    fn cpu_seconds(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // NB: fields after the command name, which is in parentheses and may hold spaces.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest)
            .unwrap_or("")
            .split_whitespace()
            .collect();
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        (ticks(11) + ticks(12)) / 100.0
    }

    fn rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let kib = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok());
        kib.unwrap_or(f64::NAN) / 1024.0
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn get(http: &reqwest::Client, url: &str) -> Option<(u16, String)> {
    let response = http.get(url).send().await.ok()?;
    let status = response.status().as_u16();
    Some((status, response.text().await.ok()?))
}

/// Waits until `/readyz` answers 200, polling every 2 ms; the time it took from `since`.
async fn ready(http: &reqwest::Client, exporter: &Exporter, since: Instant) -> Duration {
    let deadline = since + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some((200, _)) = get(http, &format!("{}/readyz", exporter.base)).await {
            return since.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    panic!("not ready within 60 s");
}

fn series(text: &str, name: &str) -> usize {
    text.lines()
        .filter(|l| l.starts_with(name) && l[name.len()..].starts_with('{'))
        .count()
}

async fn startup(http: &reqwest::Client, queues: usize, runs: usize) {
    let (sim, cancel) = start_sim(SimConfig {
        queues,
        ..SimConfig::default()
    })
    .await;
    let mut times = Vec::new();
    for _ in 0..runs {
        let started = Instant::now();
        let exporter = Exporter::spawn(&sim, &[]);
        let took = ready(http, &exporter, started).await;
        let (_, text) = get(http, &format!("{}/metrics", exporter.base))
            .await
            .expect("a scrape");
        let stamped = series(&text, "genesys_queue_observation_timestamp_seconds");
        assert_eq!(stamped, queues, "every queue resynced once ready");
        times.push(took);
    }
    let median = median(&mut times);
    println!(
        "| start-up to complete /metrics, {queues} queues | {:.0} ms (median of {runs}) |",
        median.as_secs_f64() * 1e3
    );
    cancel.cancel();
    sim.stopped().await;
}

/// A busy simulator over four media types, never `message`, which the probe then has to
/// itself; publish rounds every 20 ms.
fn busy_config(queues: usize, arrivals_per_minute: f64) -> SimConfig {
    SimConfig {
        queues,
        media_types: ["voice", "chat", "email", "callback"]
            .map(String::from)
            .to_vec(),
        publish_interval: Duration::from_millis(20),
        arrivals_per_minute,
        // NB: short conversations keep the queues turning over without a backlog, whose
        // growing waiting lists would make the simulator, not the exporter, the bottleneck.
        agents_per_queue: 40,
        mean_talk: Duration::from_secs(6),
        mean_acw: Duration::from_secs(2),
        mean_patience: Duration::from_secs(30),
        ..SimConfig::default()
    }
}

fn observations_total(text: &str) -> f64 {
    let line = text
        .lines()
        .find(|l| l.starts_with("genesys_exporter_notifications_total{outcome=\"observation\"}"));
    line.and_then(|l| l.rsplit_once(' ')?.1.parse().ok())
        .unwrap_or(0.0)
}

/// Probes one at a time: each is sent, then `/metrics` is scraped every millisecond until it
/// shows. NB: at 50 queues a scrape is small enough that this scraping does not saturate the
/// two cores the exporter shares with the simulator and this client.
async fn latency(http: &reqwest::Client, probes: usize) {
    let queues = 50;
    let (sim, cancel) = start_sim(SimConfig {
        publish_interval: Duration::from_millis(5),
        ..busy_config(queues, 200.0)
    })
    .await;
    let exporter = Exporter::spawn(&sim, &[]);
    ready(http, &exporter, Instant::now()).await;
    let probe_queue = &sim.queues[0];
    let metrics_url = format!("{}/metrics", exporter.base);
    let before = observations_total(&get(http, &metrics_url).await.expect("scrape").1);
    let started = Instant::now();
    let mut latencies = Vec::with_capacity(probes);
    let mut scrapes = 0;
    for i in 0..probes {
        let waiting = 1_000 + i as u64;
        let line = format!(
            "genesys_queue_interactions{{media_type=\"message\",queue=\"{}\",queue_id=\"{}\",state=\"waiting\"}} {waiting}\n",
            probe_queue.name, probe_queue.id
        );
        let sent = Instant::now();
        let body = json!({"queueId": probe_queue.id, "mediaType": "message", "waiting": waiting});
        http.post(format!("{}/sim/probe", sim.base_url))
            .json(&body)
            .send()
            .await
            .expect("probe sent");
        loop {
            let (_, text) = get(http, &metrics_url).await.expect("scrape");
            scrapes += 1;
            if text.contains(&line) {
                latencies.push(sent.elapsed());
                break;
            }
            assert!(
                sent.elapsed() < Duration::from_secs(5),
                "probe {i} never shown"
            );
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    let after = observations_total(&get(http, &metrics_url).await.expect("scrape").1);
    latencies.sort();
    let at = |q: f64| {
        latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)].as_secs_f64()
            * 1e3
    };
    println!(
        "| event to /metrics, {queues} queues, {:.0} observation events/s, {:.0} scrapes/s | p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({probes} probes) |",
        (after - before) / elapsed,
        scrapes as f64 / elapsed,
        at(0.5),
        at(0.99),
        at(1.0)
    );
    cancel.cancel();
    sim.stopped().await;
}

async fn idle(http: &reqwest::Client, window: Duration) {
    let config = SimConfig {
        queues: 1_000,
        start_paused: true,
        ..SimConfig::default()
    };
    let (sim, cancel) = start_sim(config).await;
    let exporter = Exporter::spawn(&sim, &[]);
    ready(http, &exporter, Instant::now()).await;
    // NB: past the start-up's first poll and resyncs.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let per_hour = |cpu: f64| cpu * 3_600.0 / window.as_secs_f64();
    let before = exporter.cpu_seconds();
    tokio::time::sleep(window).await;
    let quiet = per_hour(exporter.cpu_seconds() - before);
    let before = exporter.cpu_seconds();
    let deadline = Instant::now() + window;
    while Instant::now() < deadline {
        get(http, &format!("{}/metrics", exporter.base))
            .await
            .expect("scrape");
        tokio::time::sleep(Duration::from_secs(15).min(deadline - Instant::now())).await;
    }
    let scraped = per_hour(exporter.cpu_seconds() - before);
    println!(
        "| idle, 1,000 queues, heartbeats only ({} s windows) | {quiet:.1} CPU s/hour unscraped, {scraped:.1} CPU s/hour scraped every 15 s |",
        window.as_secs()
    );
    cancel.cancel();
    sim.stopped().await;
}

/// 1,000 queues at about 1,000 events/s, one queue added and the oldest removed every 10 s,
/// scraped every 15 s: RSS, events and stream interruptions sampled each minute.
async fn soak(http: &reqwest::Client, minutes: u64) {
    // NB: `-- --arrivals N` and `-- --agents N` tune the load to the machine; the figure in
    // BENCHMARKS.md quotes the events/s reached.
    let arrivals = arg("--arrivals")
        .and_then(|a| a.parse().ok())
        .unwrap_or(30.0);
    let agents = arg("--agents").and_then(|a| a.parse().ok()).unwrap_or(8);
    let (sim, cancel) = start_sim(SimConfig {
        publish_interval: Duration::from_millis(50),
        agents_per_queue: agents,
        ..busy_config(1_000, arrivals)
    })
    .await;
    let exporter = Exporter::spawn(&sim, &[("QUEUE_REFRESH_INTERVAL", "10s")]);
    ready(http, &exporter, Instant::now()).await;
    let started = Instant::now();
    let metrics_url = format!("{}/metrics", exporter.base);
    let first = observations_total(&get(http, &metrics_url).await.expect("scrape").1);
    let mut samples = Vec::new();
    // NB: the oldest queue goes as a new one comes, originals first, so every channel sees
    // queues leave and the gaps refilled.
    let mut live: VecDeque<String> = sim.queues.iter().map(|q| q.id.clone()).collect();
    let mut tick = 0u64;
    while started.elapsed() < Duration::from_secs(minutes * 60) {
        tokio::time::sleep(Duration::from_secs(5)).await;
        tick += 1;
        if tick.is_multiple_of(2) && arg("--no-churn").is_none() {
            churn(http, &sim, tick, &mut live).await;
        }
        if tick.is_multiple_of(3) {
            get(http, &metrics_url).await.expect("scrape");
        }
        if tick.is_multiple_of(12) {
            let minute = started.elapsed().as_secs_f64() / 60.0;
            samples.push((minute, exporter.rss_mib()));
            let text = get(http, &metrics_url).await.expect("scrape").1;
            println!(
                "minute {minute:.0}: RSS {:.1} MiB, {} observation events so far, {} stream reconnects, {} failed establishes",
                exporter.rss_mib(),
                observations_total(&text),
                sum_of(&text, "genesys_exporter_stream_reconnects_total"),
                sum_of(&text, "genesys_exporter_stream_establish_failures_total"),
            );
        }
    }
    let last = observations_total(&get(http, &metrics_url).await.expect("scrape").1);
    let warm = samples
        .iter()
        .find(|(m, _)| *m >= 5.0)
        .map(|s| s.1)
        .unwrap_or(f64::NAN);
    let end = samples.last().map(|s| s.1).unwrap_or(f64::NAN);
    println!(
        "| soak, {minutes} min, 1,000 queues, {:.0} events/s, a queue added and one removed every 10 s | RSS {warm:.1} MiB after 5 min, {end:.1} MiB at the end: {:+.1} MiB |",
        (last - first) / started.elapsed().as_secs_f64(),
        end - warm
    );
    cancel.cancel();
    sim.stopped().await;
}

/// Adds a queue to the simulator and removes the oldest live one.
async fn churn(http: &reqwest::Client, sim: &SimHandle, tick: u64, live: &mut VecDeque<String>) {
    let body = json!({"name": format!("Churn {tick}")});
    let queue: serde_json::Value = http
        .post(format!("{}/sim/queues", sim.base_url))
        .json(&body)
        .send()
        .await
        .expect("add")
        .json()
        .await
        .expect("queue");
    live.push_back(queue["id"].as_str().unwrap_or_default().to_owned());
    if let Some(gone) = live.pop_front() {
        http.delete(format!("{}/sim/queues/{gone}", sim.base_url))
            .send()
            .await
            .expect("delete");
    }
}

/// The sum of every series of `name` in an exposition.
fn sum_of(text: &str, name: &str) -> f64 {
    let series = text.lines().filter(|l| {
        l.strip_prefix(name)
            .is_some_and(|rest| rest.starts_with(['{', ' ']))
    });
    let values = series.filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok());
    values.fold(0.0, |sum, v| sum + v)
}

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    genesys_exporter::genesys::install_crypto_provider();
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let http = reqwest::Client::new();
        if let Some(minutes) = arg("--soak").and_then(|m| m.parse().ok()) {
            return soak(&http, minutes).await;
        }
        if let Some(seconds) = arg("--idle").and_then(|s| s.parse().ok()) {
            return idle(&http, Duration::from_secs(seconds)).await;
        }
        if let Some(probes) = arg("--latency").and_then(|p| p.parse().ok()) {
            return latency(&http, probes).await;
        }
        if !benching {
            // NB: `cargo test --all-targets`: a quick check that the measurements still run.
            startup(&http, 20, 1).await;
            latency(&http, 20).await;
            return;
        }
        println!("| measurement | result |");
        println!("|---|---|");
        startup(&http, 1_000, 5).await;
        startup(&http, 5_000, 5).await;
        latency(&http, 1_000).await;
        idle(&http, Duration::from_secs(60)).await;
    });
}

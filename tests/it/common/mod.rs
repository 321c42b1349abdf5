//! Shared harness for the black-box tests: the simulator and the exporter on 127.0.0.1:0,
//! `/metrics` scraped over HTTP and parsed, ground truth read from the simulator's control API.
#![allow(dead_code)]

pub mod alertmanager;
pub mod checks;
pub mod forward_proxy;
pub mod private_ca;
pub mod process;
pub mod prometheus;
pub mod required;
pub mod truth;

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use genesys_exporter::app::Exporter;
use genesys_exporter::config::{RawSettings, Settings};
use genesys_exporter::secret::Secret;
use genesys_exporter::sim::{self, SimConfig, SimHandle};
use genesys_exporter::vocabulary::clock::Clock;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// How long any condition in these tests may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(30);
/// How long one request of the harness may take before the test fails on it.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a step whose work grows with `queues` may take (start-up and its first poll, a
/// rotation resyncing every channel): the suite's deadline plus 24 ms a queue, 90 s at 2,500
/// and 150 s at 5,000. A bound on a hang, not a speed check: in a debug build beside the rest
/// of the suite, 5,000 queues and their agents once took over 30 s to start, and a rotation of
/// 2,500 queues' channels over 30 s.
pub fn deadline_for(queues: usize) -> Duration {
    DEADLINE + Duration::from_millis(24) * u32::try_from(queues).unwrap_or(u32::MAX)
}

/// Held for the whole of a test that takes both cores by itself (thousands of queues in a debug
/// build), so no two such tests run at once: side by side they starved each other past their
/// deadlines. The other tests run beside whichever holds it; waiting for it costs no CPU.
pub async fn one_heavy_test_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    HEAVY.lock().await
}

pub struct Harness {
    pub sim: SimHandle,
    pub exporter_url: String,
    pub http: reqwest::Client,
    pub cancel: CancellationToken,
    /// The media types both sides use (the exporter's allow-list).
    pub media_types: Vec<String>,
    /// The ground truth when the exporter took its baseline (see `start_counting`): its
    /// counters count what happened since.
    pub baseline: Option<Value>,
    exporter: Option<Exporter>,
}

/// Exporter settings tuned for a fast simulator: short intervals, millisecond backoffs; as
/// written, so a test can change any key before they are validated.
pub fn fast_settings(sim: &SimHandle, media_types: &[String]) -> RawSettings {
    let mut settings = RawSettings {
        client_id: sim.client_id.clone(),
        client_secret: Some(Secret::new(sim.client_secret.clone())),
        api_base_url: Some(sim.base_url.clone()),
        login_base_url: Some(sim.base_url.clone()),
        media_types: media_types.to_vec(),
        ..RawSettings::default()
    };
    // Every counter, so the tests compare all of them with the ground truth.
    settings.aggregates.metrics = genesys_exporter::genesys::model::AGGREGATE_METRICS
        .iter()
        .map(|m| m.as_str().to_owned())
        .collect();
    settings.stream.heartbeat_timeout = Duration::from_secs(3);
    settings.stream.reconnect_backoff_base = Duration::from_millis(50);
    settings.stream.reconnect_backoff_max = Duration::from_millis(500);
    settings.stream.fallback_poll_interval = Duration::from_millis(500);
    settings.flows.observation_interval = Duration::from_millis(500);
    settings.aggregates.poll_interval = Duration::from_millis(300);
    settings.http.request_timeout = Duration::from_secs(5);
    settings.http.retry_backoff_base = Duration::from_millis(10);
    settings.http.retry_backoff_max = Duration::from_millis(200);
    settings
}

/// `raw` validated, as the exporter would run on it.
pub fn validated(raw: RawSettings) -> Settings {
    Settings::from_raw(raw).expect("the test settings are valid")
}

impl Harness {
    /// Starts the simulator (fast traffic) and an exporter pointed at it.
    pub async fn start(seed: u64) -> Harness {
        Self::start_with(SimConfig::fast_for_tests(seed), |_| {}).await
    }

    pub async fn start_with(config: SimConfig, tweak: impl FnOnce(&mut RawSettings)) -> Harness {
        Self::launch(config, &[], tweak).await
    }

    /// Like `start_with`, with `faults` armed in the simulator before the exporter starts.
    pub async fn start_with_faults(
        config: SimConfig,
        faults: &[genesys_exporter::sim::Fault],
        tweak: impl FnOnce(&mut RawSettings),
    ) -> Harness {
        Self::launch(config, faults, tweak).await
    }

    /// Like `start_with`, with the traffic paused while the exporter takes its baseline (its
    /// first poll), so `baseline` is exactly what its counters do not count.
    pub async fn start_counting(
        mut config: SimConfig,
        tweak: impl FnOnce(&mut RawSettings),
    ) -> Harness {
        config.start_paused = true;
        let deadline = deadline_for(config.queues);
        let mut harness = Self::launch(config, &[], tweak).await;
        within("the exporter has taken its baseline", deadline, || async {
            let scrape = harness.scrape().await;
            // NB: the flows' and data actions' pollers, when their source is on, take theirs too.
            let pollers = [
                ("aggregate", None),
                ("flow", Some("flows")),
                ("action", Some("actions")),
            ];
            let waiting: Vec<&str> = (pollers.into_iter())
                .filter(|(_, source)| {
                    source.is_none_or(|s| {
                        scrape
                            .get(&format!("genesys_exporter_watched_{s}"), &[])
                            .is_some()
                    })
                })
                .filter(|(what, _)| {
                    let polls = format!("genesys_exporter_{what}_polls_total");
                    scrape.get(&polls, &[("result", "success")]).unwrap_or(0.0) < 1.0
                })
                .map(|(what, _)| what)
                .collect();
            if waiting.is_empty() {
                Ok(())
            } else {
                Err(format!("no {waiting:?} poll yet"))
            }
        })
        .await;
        harness.baseline = Some(harness.truth().await);
        harness.sim_post("/sim/traffic/resume", Value::Null).await;
        harness
    }

    /// The simulator, then an exporter on the simulator's clock. A paused simulator first
    /// shows everything it recorded, so an exporter's baseline holds it all.
    async fn launch(
        config: SimConfig,
        faults: &[genesys_exporter::sim::Fault],
        tweak: impl FnOnce(&mut RawSettings),
    ) -> Harness {
        genesys_exporter::genesys::install_crypto_provider();
        let cancel = CancellationToken::new();
        let media_types = config.media_types.clone();
        let (clock, paused) = (config.clock.clone(), config.start_paused);
        let sim_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sim = sim::start(config, sim_listener, cancel.child_token())
            .await
            .unwrap();
        // NB: the exporter closes a keep-alive connection idle for web.header_read_timeout
        // (10 s); a pooled one kept longer can be reused just as it closes (IncompleteMessage).
        let http = client();
        if paused {
            // NB: what is still inside its reporting lag would show after the baseline and be
            // counted, though the truth has it before.
            wait_nothing_pending(&http, &sim.base_url).await;
        }
        for fault in faults {
            let url = format!("{}/sim/faults", sim.base_url);
            let response = http.post(url).json(fault).send().await.unwrap();
            assert!(
                response.status().is_success(),
                "{fault:?}: {}",
                response.status()
            );
        }
        let mut settings = fast_settings(&sim, &media_types);
        tweak(&mut settings);
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let settings = validated(settings);
        let exporter = Exporter::start_with_clock(settings, listener, cancel.child_token(), clock)
            .await
            .unwrap();
        Harness {
            exporter_url: format!("http://{}", exporter.local_addr),
            sim,
            http,
            cancel,
            media_types,
            baseline: None,
            exporter: Some(exporter),
        }
    }

    pub async fn get_text(&self, url: &str) -> (u16, String) {
        get_text(&self.http, url).await
    }

    pub async fn scrape(&self) -> Scrape {
        let (status, text) = self
            .get_text(&format!("{}/metrics", self.exporter_url))
            .await;
        assert_eq!(status, 200, "{text}");
        Scrape::parse(&text)
    }

    /// The in-process exporter, for what `/metrics` does not show.
    pub fn exporter(&self) -> &Exporter {
        self.exporter
            .as_ref()
            .expect("the exporter runs until stop")
    }

    /// A self-metric counter read from the registry directly: not a scrape, so it shows no
    /// counter group and releases no held-back total.
    pub fn self_counter(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let families = self.exporter().metrics.registry().gather();
        let family = families.iter().find(|family| family.name() == name);
        let metrics = family.map(|family| family.get_metric()).unwrap_or_default();
        let matching = metrics.iter().find(|metric| {
            labels.iter().all(|(label, value)| {
                (metric.get_label())
                    .iter()
                    .any(|pair| pair.name() == *label && pair.value() == *value)
            })
        });
        matching.map_or(0.0, |metric| metric.get_counter().get_value())
    }

    pub async fn truth(&self) -> Value {
        sim_truth(&self.http, &self.sim.base_url).await
    }

    pub async fn sim_post(&self, path: &str, body: Value) {
        let url = format!("{}{path}", self.sim.base_url);
        let response = self.http.post(url).json(&body).send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
    }

    pub async fn pause_traffic(&self) {
        self.sim_post("/sim/traffic/pause", Value::Null).await;
    }

    pub async fn resume_traffic(&self) {
        self.sim_post("/sim/traffic/resume", Value::Null).await;
    }

    /// Arms a simulator fault: a [`genesys_exporter::sim::Fault`], or its JSON.
    pub async fn fault(&self, fault: impl serde::Serialize) {
        let body = serde_json::to_value(fault).expect("a fault serializes");
        self.sim_post("/sim/faults", body).await;
    }

    /// Waits, within the deadline, for the exporter to stop by itself; returns how it ended.
    pub async fn ended(mut self) -> Result<(), genesys_exporter::app::AppError> {
        let exporter = self
            .exporter
            .take()
            .expect("the exporter runs until it ends");
        let result = tokio::time::timeout(DEADLINE, exporter.wait())
            .await
            .expect("the exporter stops by itself in time");
        self.cancel.cancel();
        result
    }

    /// Cancels everything and waits for the exporter to finish its shutdown.
    pub async fn stop(mut self) {
        self.cancel.cancel();
        if let Some(exporter) = self.exporter.take() {
            let result = tokio::time::timeout(DEADLINE, exporter.wait())
                .await
                .expect("exporter stops in time");
            result.expect("no task died");
        }
    }
}

/// `GET url`: status and body.
pub async fn get_text(http: &reqwest::Client, url: &str) -> (u16, String) {
    let response = http.get(url).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// The simulator's ground truth (`/sim/truth`).
pub async fn sim_truth(http: &reqwest::Client, sim_base_url: &str) -> Value {
    http.get(format!("{sim_base_url}/sim/truth"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Waits until no recorded conversation is still inside the simulator's reporting lag, so the
/// aggregates query shows everything the truth has.
pub async fn wait_nothing_pending(http: &reqwest::Client, sim_base_url: &str) {
    eventually(
        "every recorded conversation is visible to the query",
        || async {
            match sim_truth(http, sim_base_url).await["pendingRecords"].as_u64() {
                Some(0) => Ok(()),
                other => Err(format!("{other:?} pending")),
            }
        },
    )
    .await;
}

/// A loopback port nothing listens on right now (bound, read, released).
/// What [`watch_monotonic`] saw: the scrapes it took, every watched series that went down
/// between two of them, and every one that vanished.
pub struct Monotonic {
    pub scrapes: usize,
    pub decreases: Vec<String>,
    pub vanished: Vec<String>,
}

/// Scrapes every 150 ms until `stop`, comparing the series `watched` picks from each scrape
/// with the scrape before.
pub fn watch_monotonic(
    harness: &Harness,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    watched: fn(&Scrape) -> Vec<(String, f64)>,
) -> tokio::task::JoinHandle<Monotonic> {
    let url = format!("{}/metrics", harness.exporter_url);
    let http = harness.http.clone();
    tokio::spawn(async move {
        let mut seen = Monotonic {
            scrapes: 0,
            decreases: Vec::new(),
            vanished: Vec::new(),
        };
        let mut previous: Vec<(String, f64)> = Vec::new();
        while !stop.load(std::sync::atomic::Ordering::SeqCst) {
            let text = http.get(&url).send().await.unwrap().text().await.unwrap();
            let scrape = Scrape::parse(&text);
            for (series, value) in &previous {
                match scrape.series.get(series) {
                    Some(now) if now < value => {
                        seen.decreases.push(format!("{series}: {value} then {now}"));
                    }
                    Some(_) => {}
                    None => seen.vanished.push(format!("{series} after {value}")),
                }
            }
            previous = watched(&scrape);
            seen.scrapes += 1;
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        seen
    })
}

/// Three queues on `clock`, about five busy agents of six each: queues form and drain, both
/// sides of the alert thresholds, and agents go on breaks, to lunch and offline over the hour.
pub fn an_hour_of_traffic(clock: &Clock, seed: u64) -> SimConfig {
    SimConfig {
        clock: clock.clone(),
        queues: 3,
        arrivals_per_minute: 6.0,
        mean_talk: Duration::from_secs(40),
        mean_acw: Duration::from_secs(10),
        mean_patience: Duration::from_secs(90),
        alert_timeout: Duration::from_secs(10),
        tick: Duration::from_millis(20),
        publish_interval: Duration::from_millis(100),
        // Four simulated minutes: closed 5-minute buckets are revised, well inside the window.
        reporting_lag: Duration::from_secs(240),
        ..SimConfig::fast_for_tests(seed)
    }
}

/// A loopback port free now, for a process the test starts to listen on, never one handed out
/// before in this run: a port is closed here and bound by the process later, and the kernel
/// hands a closed port out again, so two processes of one test could be given the same port,
/// and the second's scrape would read the first.
pub fn free_port() -> u16 {
    static HANDED_OUT: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    for _ in 0..1_000 {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free loopback port");
        if !handed_out.contains(&port) {
            handed_out.push(port);
            return port;
        }
    }
    panic!("no loopback port not handed out before in 1,000 tries");
}

/// The client every request of the tests goes through: each request ends, as a scrape of
/// thousands of queues in a debug build takes seconds and a hung one must fail the test rather
/// than hold it.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_idle_timeout(Duration::from_secs(5))
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("a reqwest client")
}

/// A client for the HTTP APIs of the tools the tests run (Prometheus, Alertmanager), whose
/// calls never hang a test.
pub fn tool_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("a reqwest client")
}

/// Waits until `GET url` answers 200: a server the test started (`what`) is ready.
pub async fn answers_ok(http: &reqwest::Client, url: &str, what: &str) {
    eventually(&format!("{what} is ready"), || async {
        match http.get(url).send().await {
            Ok(r) if r.status() == 200 => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
}

/// Whether `items` holds at least one item and every one passes `test`: a check over a set
/// that may be empty must not pass by having nothing to check.
pub fn every<T>(items: impl IntoIterator<Item = T>, mut test: impl FnMut(&T) -> bool) -> bool {
    let mut any = false;
    for item in items {
        if !test(&item) {
            return false;
        }
        any = true;
    }
    any
}

/// Polls `check` every 100 ms until it returns `Ok`, failing the test with the last `Err`
/// after `DEADLINE`.
pub async fn eventually<F, Fut>(what: &str, check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    poll_until(what, Duration::from_millis(100), check).await
}

/// Polls `check` every `interval` until it returns `Ok(value)`, and gives that value; fails the
/// test with `what` and the last `Err` after `DEADLINE`. Every wait of the tests goes through
/// here, so none can hang and every failure says what it waited for.
pub async fn poll_until<T, F, Fut>(what: &str, interval: Duration, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    poll_within(what, DEADLINE, interval, check).await
}

/// Like [`eventually`], for waits known to take longer than `DEADLINE`: up to `limit`.
pub async fn within<F, Fut>(what: &str, limit: Duration, check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    poll_within(what, limit, Duration::from_millis(100), check).await
}

/// [`poll_until`] with a `limit` of its own, for waits whose every check is long.
pub async fn poll_within<T, F, Fut>(
    what: &str,
    limit: Duration,
    interval: Duration,
    mut check: F,
) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    let mut last = String::new();
    while tokio::time::Instant::now() < deadline {
        // NB: a check that hangs (a request never answered) is cut off at the deadline too.
        match tokio::time::timeout_at(deadline, check()).await {
            Ok(Ok(value)) => return value,
            Ok(Err(why)) => last = why,
            Err(_) => last = format!("the last check was still running; before it: {last}"),
        }
        tokio::time::sleep(interval).await;
    }
    panic!("{what}: not true within {limit:?}: {last}");
}

/// One `/metrics` body: series name + sorted labels → value.
#[derive(Debug, Default)]
pub struct Scrape {
    pub series: BTreeMap<String, f64>,
}

impl Scrape {
    pub fn parse(text: &str) -> Scrape {
        let mut series = BTreeMap::new();
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        {
            let (key, value) = line.rsplit_once(' ').expect("a sample line has a value");
            series.insert(
                normalise(key),
                value.parse().expect("a sample value is a number"),
            );
        }
        Scrape { series }
    }

    /// Every series, as `name{label="value",…}` with labels sorted.
    pub fn series(&self) -> impl Iterator<Item = &str> {
        self.series.keys().map(String::as_str)
    }

    /// The sum of every series of `name`, whatever its labels.
    pub fn sum(&self, name: &str) -> f64 {
        let prefix = format!("{name}{{");
        self.series
            .iter()
            .filter(|(series, _)| series.starts_with(&prefix))
            .map(|(_, v)| v)
            .sum()
    }

    /// The value of one series as [`Scrape::series`] names it.
    pub fn get_series(&self, series: &str) -> Option<f64> {
        self.series.get(series).copied()
    }

    /// The value of `name{labels}`; labels in any order.
    pub fn get(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        self.series.get(&key(name, labels)).copied()
    }
}

pub fn key(name: &str, labels: &[(&str, &str)]) -> String {
    let mut labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    labels.sort();
    format!("{name}{{{}}}", labels.join(","))
}

fn normalise(series: &str) -> String {
    match series.split_once('{') {
        None => format!("{series}{{}}"),
        Some((name, rest)) => {
            let body = rest.trim_end_matches('}');
            let mut labels: Vec<&str> = split_labels(body);
            labels.sort();
            format!("{name}{{{}}}", labels.join(","))
        }
    }
}

/// Splits `a="x",b="y,z"` on the commas between labels, not inside quoted values.
fn split_labels(body: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in body.char_indices() {
        match c {
            '\\' if quoted => escaped = !escaped,
            '"' if !escaped => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&body[start..i]);
                start = i + 1;
            }
            _ => escaped = false,
        }
        if c != '\\' {
            escaped = false;
        }
    }
    if start < body.len() {
        parts.push(&body[start..]);
    }
    parts
}

//! The thin binary: parses the CLI, starts tracing, loads config and runs the library. The only
//! place that turns an error into an exit code (2: bad config or usage, 1: could not start, or a task died).
#![forbid(unsafe_code)]
// NB: no unwrap or expect outside tests (clippy.toml lets tests): upstream and HTTP input must
// never reach a panic. The few startup-only exceptions say why where they are.
#![warn(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use clap::{Parser, Subcommand};
use genesys_exporter::app::Exporter;
use genesys_exporter::build_info;
use genesys_exporter::config::{LogConfig, LogFormat, RawSettings, Settings};
use genesys_exporter::secret::Secret;
use genesys_exporter::shard::Shard;
use genesys_exporter::sim::{self, FlowsSize, SimConfig, TelephonySize};
use genesys_exporter::vocabulary::metric::GenesysMetric;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    version,
    long_version = build_info::LONG_VERSION,
    about = "Genesys Cloud queues as Prometheus metrics"
)]
struct Cli {
    /// YAML or TOML config file; environment variables GENESYS_EXPORTER_* override it.
    #[arg(long, global = true, env = "GENESYS_EXPORTER_CONFIG")]
    config: Option<PathBuf>,
    #[command(flatten)]
    flags: OperatorFlags,
    #[command(subcommand)]
    command: Command,
}

/// node_exporter's flags, beside the config file; each overrides its key.
#[derive(clap::Args)]
struct OperatorFlags {
    /// Where to serve /metrics; repeatable, `:9856` meaning every interface. Overrides
    /// `listen_address` (run) and `--listen` (demo).
    #[arg(long = "web.listen-address", value_name = "ADDRESS", value_parser = listen_address, global = true)]
    listen_addresses: Vec<SocketAddr>,
    /// Prometheus exporter-toolkit web config (TLS, basic auth); overrides `web.config_file`.
    #[arg(long = "web.config.file", value_name = "PATH", global = true)]
    web_config_file: Option<PathBuf>,
    /// Only log messages of this severity or above; overrides `log.level`.
    #[arg(long = "log.level", value_name = "LEVEL", value_parser = ["debug", "info", "warn", "error"], global = true)]
    log_level: Option<String>,
    /// Log line format; overrides `log.format`.
    #[arg(long = "log.format", value_name = "FORMAT", value_parser = ["logfmt", "json"], global = true)]
    log_format: Option<String>,
}

impl OperatorFlags {
    /// Applies the flags over `settings`.
    fn apply(&self, settings: &mut RawSettings) {
        if let Some(path) = &self.web_config_file {
            settings.web.config_file = Some(path.clone());
        }
        if let Some(level) = &self.log_level {
            settings.log.level.clone_from(level);
        }
        settings.log.format = match self.log_format.as_deref() {
            Some("json") => LogFormat::Json,
            Some("logfmt") => LogFormat::Logfmt,
            _ => settings.log.format,
        };
    }

    /// Where to listen: the flags' addresses, else `default`.
    fn addresses(&self, default: SocketAddr) -> Vec<SocketAddr> {
        if self.listen_addresses.is_empty() {
            vec![default]
        } else {
            self.listen_addresses.clone()
        }
    }
}

/// `host:port`, `[v6]:port`, or `:port` for every interface, as Go's listeners take them.
fn listen_address(text: &str) -> Result<SocketAddr, String> {
    let full = match text.strip_prefix(':') {
        Some(port) => format!("0.0.0.0:{port}"),
        None => text.to_owned(),
    };
    full.parse()
        .map_err(|_| format!("`{text}` is not an address: use host:port, [::1]:port or :port"))
}

#[derive(Subcommand)]
enum Command {
    /// Run the exporter against Genesys Cloud (or any API at `api_base_url`).
    Run {
        /// Export only shard i of N of the queues (overrides the `shard` key), e.g. 0/3.
        #[arg(long, value_name = "i/N", value_parser = shard_arg)]
        shard: Option<Shard>,
    },
    /// Run the embedded simulator and the exporter against it, in one process.
    Demo {
        /// Where the exporter serves /metrics.
        #[arg(long, default_value = "127.0.0.1:9856")]
        listen: SocketAddr,
        /// Where the simulator listens (port 0: any free port).
        #[arg(long, default_value = "127.0.0.1:0")]
        sim_listen: SocketAddr,
        #[command(flatten)]
        traffic: TrafficArgs,
    },
    /// Run only the simulator: a Genesys Cloud API (and login) on one base URL.
    Simulate {
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        #[command(flatten)]
        traffic: TrafficArgs,
    },
    /// Validate the configuration and print it, secrets redacted.
    CheckConfig,
}

#[derive(clap::Args)]
struct TrafficArgs {
    /// Seed of the traffic model; the same seed gives the same queues.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// How many queues to simulate.
    #[arg(long, default_value_t = 5)]
    queues: usize,
    /// Mean arrivals per queue per minute; about 2.4 keeps the default 8 agents busy, more
    /// builds a backlog (to see the backlog panels and alerts move).
    #[arg(long, default_value_t = 2.4, value_parser = arrival_rate)]
    arrivals_per_minute: f64,
    /// Agents per queue (each a member of its queue only).
    #[arg(long, default_value_t = 8)]
    agents: usize,
    /// Trunks (a tenth phone trunks, a tenth Edge-to-Edge, the rest carrier trunks); by default
    /// two carrier trunks, a phone and an Edge-to-Edge trunk.
    #[arg(long)]
    trunks: Option<usize>,
    /// Edges, the trunks spread over them.
    #[arg(long, default_value_t = 2)]
    edges: usize,
    /// Inbound call flows, the queues' calls spread over them (besides one chat flow, one
    /// in-queue flow and one bot).
    #[arg(long, default_value_t = FlowsSize::default().call_flows)]
    flows: usize,
    /// Flow outcomes, two reported by each flow.
    #[arg(long, default_value_t = FlowsSize::default().outcomes)]
    outcomes: usize,
    /// Flow milestones, two passed in each flow.
    #[arg(long, default_value_t = FlowsSize::default().milestones)]
    milestones: usize,
    /// Data actions, two called by each flow.
    #[arg(long, default_value_t = FlowsSize::default().actions)]
    actions: usize,
}

fn shard_arg(text: &str) -> Result<Shard, String> {
    text.parse()
}

fn arrival_rate(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate >= 0.0 => Ok(rate),
        _ => Err(format!(
            "`{text}` is not a rate: use a number of arrivals per minute, 0 or more"
        )),
    }
}

impl TrafficArgs {
    fn sim_config(&self) -> SimConfig {
        SimConfig {
            seed: self.seed,
            queues: self.queues,
            arrivals_per_minute: self.arrivals_per_minute,
            agents_per_queue: self.agents,
            history: Duration::from_secs(1800),
            telephony: self.telephony(),
            flows: FlowsSize {
                call_flows: self.flows,
                outcomes: self.outcomes,
                milestones: self.milestones,
                actions: self.actions,
            },
            ..SimConfig::default()
        }
    }

    fn telephony(&self) -> TelephonySize {
        let trunks = match self.trunks {
            Some(n) => [n - 2 * (n / 10), n / 10, n / 10],
            None => TelephonySize::default().trunks,
        };
        TelephonySize {
            edges: self.edges,
            trunks,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let flags = &cli.flags;
    match cli.command {
        Command::CheckConfig => check_config(cli.config, flags),
        Command::Run { shard } => match load(cli.config, flags) {
            Ok(mut settings) => {
                settings.shard = shard.unwrap_or(settings.shard);
                let addresses = flags.addresses(settings.listen_address);
                runtime.block_on(run_exporter(settings, addresses))
            }
            Err(code) => code,
        },
        Command::Demo {
            listen,
            sim_listen,
            traffic,
        } => runtime.block_on(demo(flags, flags.addresses(listen), sim_listen, traffic)),
        Command::Simulate { listen, traffic } => runtime.block_on(simulate(flags, listen, traffic)),
    }
}

/// The settings from file and environment, the flags over them, validated, the web config
/// file they name included.
fn load(path: Option<PathBuf>, flags: &OperatorFlags) -> Result<Settings, ExitCode> {
    let loaded = Settings::load_then(path.as_deref(), |settings| flags.apply(settings));
    let checked = loaded.and_then(|settings| {
        genesys_exporter::app::open_web_config(&settings.web)?;
        Ok(settings)
    });
    checked.map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })
}

fn check_config(path: Option<PathBuf>, flags: &OperatorFlags) -> ExitCode {
    match load(path, flags) {
        Ok(settings) => {
            for name in &settings.ignored_env {
                eprintln!("warning: {name} names no setting and is ignored (a typo?)");
            }
            println!("{}", settings.to_redacted_json());
            // NB: a proxy set by the environment shows in no key above; say where each
            // upstream goes, since the pod's variables are easy to not know about. Without a
            // proxy stderr stays empty: it is where warnings go.
            let client = settings.client_settings();
            if client.proxy.any() {
                for base in [&client.login_base_url, &client.api_base_url] {
                    if let Ok(url) = reqwest::Url::parse(base) {
                        eprintln!("note: {}", client.proxy.explain(&url));
                    }
                }
            }
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

fn init_tracing(log: &LogConfig) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // NB: the status page's list of recent warnings and errors is one more layer.
    let recent = genesys_exporter::status::RecentLog;
    match log.format {
        LogFormat::Json => builder.json().finish().with(recent).init(),
        LogFormat::Text => builder.finish().with(recent).init(),
        LogFormat::Logfmt => builder
            .event_format(genesys_exporter::logfmt::Logfmt)
            .finish()
            .with(recent)
            .init(),
    }
    tracing::info!(
        version = build_info::VERSION,
        revision = build_info::REVISION,
        branch = build_info::BRANCH,
        rustc = build_info::RUSTC_VERSION,
        "starting genesys-exporter"
    );
}

/// Cancels on Ctrl-C or SIGTERM, whichever comes first.
fn cancel_on_signal() -> CancellationToken {
    let cancel = CancellationToken::new();
    let token = cancel.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        #[cfg(unix)]
        let terminate = async {
            match term.as_mut() {
                Some(term) => {
                    term.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {}
            _ = terminate => {}
        }
        tracing::info!("shutting down");
        token.cancel();
    });
    cancel
}

async fn bind(address: SocketAddr, what: &str) -> Result<TcpListener, ExitCode> {
    TcpListener::bind(address).await.map_err(|e| {
        eprintln!("error: cannot listen on {address} for {what}: {e}");
        ExitCode::FAILURE
    })
}

async fn bind_all(addresses: &[SocketAddr]) -> Result<Vec<TcpListener>, ExitCode> {
    let mut listeners = Vec::with_capacity(addresses.len());
    for address in addresses {
        listeners.push(bind(*address, "metrics").await?);
    }
    Ok(listeners)
}

/// `run`: the exporter alone, configured from file, environment and flags.
async fn run_exporter(settings: Settings, addresses: Vec<SocketAddr>) -> ExitCode {
    init_tracing(&settings.log);
    match bind_all(&addresses).await {
        Ok(listeners) => serve_exporter(settings, listeners, cancel_on_signal()).await,
        Err(code) => code,
    }
}

/// Runs the exporter on `listeners` until `cancel` fires.
async fn serve_exporter(
    settings: Settings,
    listeners: Vec<TcpListener>,
    cancel: CancellationToken,
) -> ExitCode {
    match Exporter::start_on(settings, listeners, cancel).await {
        Ok(exporter) => match exporter.wait().await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e @ genesys_exporter::app::AppError::Config(_)) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
            Err(e) => {
                eprintln!("error: {e}; exiting so the exporter is restarted");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

async fn demo(
    flags: &OperatorFlags,
    addresses: Vec<SocketAddr>,
    sim_listen: SocketAddr,
    traffic: TrafficArgs,
) -> ExitCode {
    let mut log = LogConfig::default();
    let cancel = cancel_on_signal();
    let (sim_listener, listeners) = match (
        bind(sim_listen, "the simulator").await,
        bind_all(&addresses).await,
    ) {
        (Ok(sim_listener), Ok(listeners)) => (sim_listener, listeners),
        (Err(code), _) | (_, Err(code)) => return code,
    };
    let mut settings = RawSettings::default();
    flags.apply(&mut settings);
    std::mem::swap(&mut log, &mut settings.log);
    init_tracing(&log);
    if let Err(e) = genesys_exporter::app::open_web_config(&settings.web) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let sim = match sim::start(traffic.sim_config(), sim_listener, cancel.clone()).await {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("error: cannot start the simulator: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut settings = RawSettings {
        client_id: sim.client_id.clone(),
        client_secret: Some(Secret::new(sim.client_secret.clone())),
        api_base_url: Some(sim.base_url.clone()),
        login_base_url: Some(sim.base_url.clone()),
        log,
        ..settings
    };
    settings.aggregates.poll_interval = Duration::from_secs(15);
    // NB: the demo shows everything, per-agent state, trunks and Edges, IVR flows, data
    // actions and conversation errors included (all off by default elsewhere).
    for errors in [GenesysMetric::NError, GenesysMetric::NStateTransitionError] {
        let name = errors.as_str().to_owned();
        if !settings.aggregates.metrics.contains(&name) {
            settings.aggregates.metrics.push(name);
        }
    }
    settings.agents.enabled = true;
    settings.telephony.enabled = true;
    settings.flows.enabled = true;
    settings.flows.milestones = true;
    settings.actions.enabled = true;
    settings.agents.queue_membership = true;
    settings.agents.time_in_status_interval = Duration::from_secs(15);
    let settings = match Settings::from_raw(settings) {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("error: {e}");
            cancel.cancel();
            return ExitCode::from(2);
        }
    };
    println!(
        "simulator (Genesys Cloud API): {0}  ground truth: {0}/sim/truth",
        sim.base_url
    );
    let scheme = if settings.web.config_file.is_some() {
        "http(s)"
    } else {
        "http"
    };
    for listener in &listeners {
        match listener.local_addr() {
            Ok(address) => println!("metrics: {scheme}://{address}/metrics   (Ctrl-C to stop)"),
            Err(e) => eprintln!("warning: cannot read the metrics address: {e}"),
        }
    }
    let code = serve_exporter(settings, listeners, cancel).await;
    sim.stopped().await;
    code
}

async fn simulate(flags: &OperatorFlags, listen: SocketAddr, traffic: TrafficArgs) -> ExitCode {
    let mut settings = RawSettings::default();
    flags.apply(&mut settings);
    init_tracing(&settings.log);
    let cancel = cancel_on_signal();
    let listener = match bind(listen, "the simulator").await {
        Ok(listener) => listener,
        Err(code) => return code,
    };
    match sim::start(traffic.sim_config(), listener, cancel).await {
        Ok(sim) => {
            println!(
                "Genesys Cloud simulator: base URL {} (API and login)",
                sim.base_url
            );
            println!(
                "demo client id: {}  demo client secret: {}",
                sim.client_id, sim.client_secret
            );
            println!("ground truth: {}/sim/truth", sim.base_url);
            sim.stopped().await;
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot start the simulator: {e}");
            ExitCode::FAILURE
        }
    }
}

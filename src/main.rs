//! The thin binary: parses the CLI, starts tracing, loads config and runs the library. The only
//! place that turns an error into an exit code (2: bad config or usage, 1: could not start, or a task died).
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use clap::{Parser, Subcommand};
use genesys_exporter::app::Exporter;
use genesys_exporter::config::{LogConfig, LogFormat, Settings};
use genesys_exporter::secret::Secret;
use genesys_exporter::shard::Shard;
use genesys_exporter::sim::{self, SimConfig};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(version, about = "Genesys Cloud queues as Prometheus metrics")]
struct Cli {
    /// YAML or TOML config file; environment variables GENESYS_EXPORTER_* override it.
    #[arg(long, global = true, env = "GENESYS_EXPORTER_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
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
            history: Duration::from_secs(1800),
            ..SimConfig::default()
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
    match cli.command {
        Command::CheckConfig => check_config(cli.config),
        Command::Run { shard } => match load(cli.config) {
            Ok(mut settings) => {
                settings.shard = shard.unwrap_or(settings.shard);
                runtime.block_on(run_exporter(settings))
            }
            Err(code) => code,
        },
        Command::Demo {
            listen,
            sim_listen,
            traffic,
        } => runtime.block_on(demo(listen, sim_listen, traffic)),
        Command::Simulate { listen, traffic } => runtime.block_on(simulate(listen, traffic)),
    }
}

fn load(path: Option<PathBuf>) -> Result<Settings, ExitCode> {
    Settings::load(path.as_deref()).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })
}

fn check_config(path: Option<PathBuf>) -> ExitCode {
    match load(path) {
        Ok(settings) => {
            for name in &settings.ignored_env {
                eprintln!("warning: {name} names no setting and is ignored (a typo?)");
            }
            println!("{}", settings.to_redacted_json());
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
    }
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

/// `run`: the exporter alone, configured from file and environment.
async fn run_exporter(settings: Settings) -> ExitCode {
    init_tracing(&settings.log);
    match bind(settings.listen_address, "metrics").await {
        Ok(listener) => serve_exporter(settings, listener, cancel_on_signal()).await,
        Err(code) => code,
    }
}

/// Runs the exporter on `listener` until `cancel` fires.
async fn serve_exporter(
    settings: Settings,
    listener: TcpListener,
    cancel: CancellationToken,
) -> ExitCode {
    match Exporter::start(settings, listener, cancel).await {
        Ok(exporter) => match exporter.wait().await {
            Ok(()) => ExitCode::SUCCESS,
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

async fn demo(listen: SocketAddr, sim_listen: SocketAddr, traffic: TrafficArgs) -> ExitCode {
    init_tracing(&LogConfig::default());
    let cancel = cancel_on_signal();
    let (sim_listener, listener) = match (
        bind(sim_listen, "the simulator").await,
        bind(listen, "metrics").await,
    ) {
        (Ok(sim_listener), Ok(listener)) => (sim_listener, listener),
        (Err(code), _) | (_, Err(code)) => return code,
    };
    let sim = match sim::start(traffic.sim_config(), sim_listener, cancel.clone()).await {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("error: cannot start the simulator: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut settings = Settings {
        client_id: sim.client_id.clone(),
        client_secret: Some(Secret::new(sim.client_secret.clone())),
        api_base_url: Some(sim.base_url.clone()),
        login_base_url: Some(sim.base_url.clone()),
        ..Settings::default()
    };
    settings.aggregates.poll_interval = Duration::from_secs(15);
    println!(
        "simulator (Genesys Cloud API): {0}  ground truth: {0}/sim/truth",
        sim.base_url
    );
    match listener.local_addr() {
        Ok(address) => println!("metrics: http://{address}/metrics   (Ctrl-C to stop)"),
        Err(e) => eprintln!("warning: cannot read the metrics address: {e}"),
    }
    let code = serve_exporter(settings, listener, cancel).await;
    sim.stopped().await;
    code
}

async fn simulate(listen: SocketAddr, traffic: TrafficArgs) -> ExitCode {
    init_tracing(&LogConfig::default());
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

//! Wiring: builds every part once, runs the long-lived tasks under one cancellation token and
//! reports readiness. Start-up never blocks on Genesys: the HTTP server answers at once (with
//! `/readyz` saying what is missing) while the token and queue set are obtained with backoff.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tracing::{error, info, warn};

use crate::actions::counters::ActionCounter;
use crate::actions::table::ActionTable;
use crate::agents::Agents;
use crate::agents::select::{Selection, select};
use crate::agents::table::AgentTable;
use crate::agents::time::{self as agent_time, AgentTimeTotals};
use crate::aggregates::parts::PartCounter;
use crate::aggregates::poller::{PollSettings, Poller};
use crate::aggregates::state::{self, Identity, StateStore};
use crate::aggregates::telemetry::AggregateMetrics;
use crate::aggregates::{ConversationTotals, Shelved, Totals};
use crate::backoff::Backoff;
use crate::config::{CHANNELS_PER_CLIENT, ConfigError, Settings, WebSettings};
use crate::flows::counters::FlowCounter;
use crate::flows::table::FlowTable;
use crate::genesys::client::AggregateScope;
use crate::genesys::egress::log_unless_reported;
use crate::genesys::model::MAX_TOPICS_PER_CHANNEL;
use crate::genesys::{ApiError, GenesysClient};
use crate::health::Health;
use crate::metrics::Metrics;
use crate::metrics::registry::SelfMetrics;
use crate::queues::observations::Observations;
use crate::queues::table::{QueueSeries, QueueTable};
use crate::queues::{QueueSelection, presences, resolve};
use crate::server::{Gate, Limits, ServerState, WebConfigSource, serve};
use crate::stream::carried::{Carried, TimeInStatus};
use crate::stream::connection::{AgentTimeSink, SessionContext};
use crate::stream::placement::{ChannelBudget, Channels, NewChannel, publish, room_beside};
use crate::stream::supervisor::{StreamSettings, Supervisor};
use crate::tasks::Tasks;
use crate::telephony::Telephony;

mod polled;
mod telephony;
use crate::vocabulary::agent::AgentTime;
use crate::vocabulary::clock::Clock;
use crate::vocabulary::labels::{Direction, names};
use crate::vocabulary::listing::MonitoredSet;
use crate::vocabulary::queue::QueueLabels;

/// How long shutdown waits for tasks to finish their current step.
/// The kinds of channel, as readiness and the channel budget name them.
const QUEUES: &str = "queues";
const AGENTS: &str = "agents";

const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Genesys Cloud beats about every 30 s; a shorter silence timeout reconnects needlessly.
const UPSTREAM_HEARTBEAT_GAP: Duration = Duration::from_secs(35);
/// Ceiling of the retry delay while credentials or queue names cannot be resolved.
const BOOTSTRAP_BACKOFF_CAP: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("Genesys client: {0}")]
    Client(#[from] ApiError),
    #[error("HTTP server: {0}")]
    Server(#[source] std::io::Error),
    /// A long-running task died; the exporter stopped so it can be restarted whole.
    #[error("{0}")]
    TaskDied(String),
}

/// A running exporter: its address and the tasks to wait for.
pub struct Exporter {
    pub local_addr: SocketAddr,
    pub metrics: Arc<Metrics>,
    pub health: Arc<Health>,
    totals: Arc<ConversationTotals>,
    observations: Arc<Observations>,
    tasks: Tasks,
    cancel: CancellationToken,
    refusal: Arc<Mutex<Option<ConfigError>>>,
}

/// What the exporter holds in memory, in entries. Each is bounded by the monitored queues,
/// their counter groups and the aggregates window, never by time or traffic: an hour without
/// a scrape leaves them where they were (tests/it/accelerated_hour.rs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Holdings {
    /// Counter groups whose totals wait for a render of `/metrics`.
    pub pending_counter_groups: usize,
    pub ledger_buckets: usize,
    /// High-water marks: one per bucket and counter series.
    pub ledger_marks: usize,
    pub series_totals: usize,
    /// Series whose totals moved since the counters last showed them.
    pub unpublished_series: usize,
    /// What observations keep per queue and media type (on-queue parts, event order) and
    /// the resyncs recording.
    pub observation_entries: usize,
}

impl Exporter {
    pub fn holdings(&self) -> Holdings {
        let ledger = self.totals.holdings();
        Holdings {
            pending_counter_groups: self.observations.table().pending_counter_groups(),
            ledger_buckets: ledger.buckets,
            ledger_marks: ledger.marks,
            series_totals: ledger.series_totals,
            unpublished_series: ledger.unpublished_series,
            observation_entries: self.observations.holdings(),
        }
    }
}

/// Everything the long-running tasks share.
#[derive(Clone)]
struct Parts {
    settings: Arc<Settings>,
    client: GenesysClient,
    metrics: Arc<Metrics>,
    health: Arc<Health>,
    /// One ledger for the poller and the stream, so both count each bucket once.
    totals: Arc<ConversationTotals>,
    observations: Arc<Observations>,
    agents: Arc<Agents>,
    /// The agents' time in status, with `agents.enabled` and `agents.time_in_status`.
    agent_time: Option<Arc<AgentTimeTotals>>,
    /// The watched agents' ids, for the time-in-status poller.
    agent_ids: Arc<watch::Sender<Vec<String>>>,
    /// The one wall clock every producer judges time by.
    clock: Clock,
    /// Why the start was refused (a setting Genesys showed to be wrong), for `wait` to return
    /// as a configuration error.
    refusal: Arc<Mutex<Option<ConfigError>>>,
    tasks: Tasks,
    /// The channels each kind holds of the client's 20.
    budget: Arc<ChannelBudget>,
}

impl Exporter {
    /// Starts serving on `listener` at once and begins talking to Genesys in the background.
    pub async fn start(
        settings: Settings,
        listener: TcpListener,
        cancel: CancellationToken,
    ) -> Result<Exporter, AppError> {
        Self::start_with_clock(settings, listener, cancel, Clock::system()).await
    }

    /// [`Exporter::start`] with the time of Genesys intervals read from `clock` (accelerated
    /// simulations share one with the simulator).
    pub async fn start_with_clock(
        settings: Settings,
        listener: TcpListener,
        cancel: CancellationToken,
        clock: Clock,
    ) -> Result<Exporter, AppError> {
        Self::launch(settings, vec![listener], cancel, clock).await
    }

    /// [`Exporter::start`] serving on every one of `listeners` (`--web.listen-address` is
    /// repeatable); `local_addr` is the first's.
    pub async fn start_on(
        settings: Settings,
        listeners: Vec<TcpListener>,
        cancel: CancellationToken,
    ) -> Result<Exporter, AppError> {
        Self::launch(settings, listeners, cancel, Clock::system()).await
    }

    async fn launch(
        settings: Settings,
        listeners: Vec<TcpListener>,
        cancel: CancellationToken,
        clock: Clock,
    ) -> Result<Exporter, AppError> {
        let addresses: Vec<SocketAddr> = listeners
            .iter()
            .map(TcpListener::local_addr)
            .collect::<Result<_, _>>()
            .map_err(AppError::Server)?;
        let local_addr = *addresses
            .first()
            .ok_or_else(|| AppError::Server(std::io::Error::other("no address to serve on")))?;
        for name in &settings.ignored_env {
            warn!(variable = %name, "environment variable names no setting; ignored (a typo?)");
        }
        if settings.stream.heartbeat_timeout < UPSTREAM_HEARTBEAT_GAP {
            warn!(
                heartbeat_timeout = ?settings.stream.heartbeat_timeout,
                "stream.heartbeat_timeout is shorter than Genesys Cloud's ~30 s heartbeat; expect \
                 needless reconnects unless the server beats faster"
            );
        }
        let metrics = Arc::new(
            Metrics::new()
                .with_stale_policy(settings.stale_policy())
                .with_clock(clock.clone()),
        );
        let series = QueueSeries {
            media_types: settings.media_types.clone(),
            directions: settings.directions.clone(),
            counters: settings.counters(),
        };
        let queue_table = QueueTable::register(&metrics, series);
        let agent_table =
            AgentTable::register(&metrics, settings.agents.export(), queue_table.clone());
        let client_settings = settings.client_settings();
        let client = GenesysClient::new(client_settings.clone(), metrics.clone())?;
        let health = Arc::new(Health::default());
        let tasks = Tasks::new(health.clone(), cancel.clone());
        let totals = Arc::new(conversation_totals(
            &settings,
            &client_settings,
            (&metrics, &queue_table),
            &clock,
        )?);
        let agent_time = match settings.agents.export().time_in_status {
            true => Some(Arc::new(agent_time_totals(
                &settings,
                &client_settings,
                (&metrics, &agent_table),
                &clock,
            )?)),
            false => None,
        };
        let parts = Parts {
            settings: Arc::new(settings),
            client,
            metrics: metrics.clone(),
            health: health.clone(),
            totals,
            observations: Arc::new(Observations::new(&metrics, queue_table, clock.clone())),
            agents: Arc::new(Agents::new(&metrics, agent_table, clock.clone())),
            clock: clock.clone(),
            agent_time,
            agent_ids: Arc::new(watch::channel(Vec::new()).0),
            refusal: Arc::default(),
            tasks: tasks.clone(),
            budget: Arc::default(),
        };

        let state = ServerState::new(metrics.clone(), health.clone());
        let server_cancel = cancel.clone();
        let web = &parts.settings.web;
        let limits = server_limits(web);
        let gate = open_web_config(web)?
            .map(|source| Arc::new(Gate::new(source, web.unauthenticated_probes)));
        let serves_tls = gate.as_ref().is_some_and(|g| g.source.serves_tls);
        for (listener, address) in listeners.into_iter().zip(&addresses) {
            let (state, gate, cancel) = (state.clone(), gate.clone(), server_cancel.clone());
            tasks.spawn(format!("http server {address}"), async move {
                if let Err(e) = serve(listener, state, limits, gate, cancel).await {
                    error!(error = %e, "HTTP server stopped");
                }
            });
        }
        if parts.settings.agents.enabled {
            health.expect(AGENTS);
        }
        let org = parts.settings.shard.owns_the_org();
        if parts.settings.telephony.enabled && !org {
            info!(
                "trunks and Edges are watched by shard 0 alone, as every shard would list the same"
            );
        }
        let watches_telephony = parts.settings.telephony.enabled && org;
        if watches_telephony {
            health.expect(telephony::TRUNKS_AND_EDGES);
        }
        let (totals, observations) = (parts.totals.clone(), parts.observations.clone());
        let refusal = parts.refusal.clone();
        if let Some(agent_time) = &parts.agent_time {
            let poller = parts.agent_time_poller(agent_time.clone());
            let (health, cancel) = (health.clone(), cancel.clone());
            let patience = parts.settings.agents.time_in_status_interval;
            tasks.spawn("time-in-status poller", async move {
                // NB: its first poll (⌈agents/100⌉ calls) waits for the start to finish, or an
                // interval at most, so it never slows the first resyncs.
                let ready = wait_until(|| health.readiness().is_ok(), patience, &cancel);
                if ready.await.is_some() {
                    poller.run(cancel).await;
                }
            });
        }
        if parts.settings.flows.enabled && !org {
            info!("IVR flows are watched by shard 0 alone, as every shard would list the same");
        }
        if parts.settings.flows.enabled && org {
            health.expect(polled::FLOWS);
            parts.watch_flows(&cancel)?;
        }
        if parts.settings.actions.enabled && !org {
            info!("data actions are watched by shard 0 alone, as every shard would list the same");
        }
        if parts.settings.actions.enabled && org {
            parts.watch_actions(&cancel)?;
        }
        if watches_telephony {
            let telephony = telephony_source(&parts.settings, &metrics, clock.clone());
            let watch = parts
                .clone()
                .watch_telephony(Arc::new(telephony), cancel.clone());
            tasks.spawn("telephony refresh", watch);
        }
        tasks.spawn(
            "queue refresh",
            parts.bootstrap_and_watch_queues(cancel.clone()),
        );
        let tls = if serves_tls { "TLS" } else { "plain HTTP" };
        info!(addresses = ?addresses, tls, "serving /metrics, /healthz and /readyz");
        Ok(Exporter {
            local_addr,
            metrics,
            health,
            totals,
            observations,
            tasks,
            cancel,
            refusal,
        })
    }

    /// Runs until cancellation or until a task dies (which cancels the rest), then gives the
    /// tasks `SHUTDOWN_GRACE` to finish; `Err` names the task that died.
    pub async fn wait(self) -> Result<(), AppError> {
        tokio::select! {
            _ = self.cancel.cancelled() => {}
            _ = self.tasks.died() => self.cancel.cancel(),
        }
        self.tasks.drain(SHUTDOWN_GRACE).await;
        if let Some(refused) = crate::sync::lock(&self.refusal).take() {
            return Err(AppError::Config(refused));
        }
        self.health.liveness().map_err(AppError::TaskDied)
    }
}

/// Waits until `done` holds or `patience` passed; `None` if cancelled first.
async fn wait_until(
    done: impl Fn() -> bool,
    patience: Duration,
    cancel: &CancellationToken,
) -> Option<()> {
    let deadline = tokio::time::Instant::now() + patience;
    while !done() && tokio::time::Instant::now() < deadline {
        tokio::select! {
            () = cancel.cancelled() => return None,
            () = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    }
    Some(())
}

/// The ledger and its counters, resuming from `state_dir` when one is configured.
fn conversation_totals(
    settings: &Settings,
    client: &crate::genesys::ClientSettings,
    (metrics, queues): (&Metrics, &Arc<QueueTable>),
    clock: &Clock,
) -> Result<ConversationTotals, ConfigError> {
    let granularity = settings.aggregates.granularity;
    let identity = |dir: &std::path::Path| {
        let identity = Identity::new(
            &client.client_id,
            &client.api_base_url,
            granularity,
            &settings.counters(),
        )
        .with_directions(&names(&settings.directions));
        open_state(settings, dir, state::FILE_NAME, identity)
    };
    totals_in(
        settings,
        (metrics, queues.clone()),
        clock,
        settings.counters(),
        identity,
    )
}

/// The agents' time-in-status ledger, its state beside the conversation counters'.
fn agent_time_totals(
    settings: &Settings,
    client: &crate::genesys::ClientSettings,
    (metrics, agents): (&Metrics, &Arc<AgentTable>),
    clock: &Clock,
) -> Result<AgentTimeTotals, ConfigError> {
    let granularity = settings.aggregates.granularity;
    let times = settings.agents.export().times().to_vec();
    let identity = |dir: &std::path::Path| {
        let identity = Identity::new(&client.client_id, &client.api_base_url, granularity, &times);
        open_state(settings, dir, agent_time::STATE_FILE, identity)
    };
    totals_in(
        settings,
        (metrics, agents.clone()),
        clock,
        times.clone(),
        identity,
    )
}

/// The totals of a source whose series are part series (flows, data actions), its state in
/// `file` of `state_dir`.
fn part_totals<C: PartCounter + Shelved>(
    settings: &Settings,
    shelf: (&Metrics, Arc<C::Shelf>),
    clock: &Clock,
    file: &str,
) -> Result<Totals<C>, ConfigError>
where
    AggregateMetrics<C>: SelfMetrics,
{
    let client = settings.client_settings();
    let granularity = settings.aggregates.granularity;
    let identity = |dir: &std::path::Path| {
        let identity = Identity::new(&client.client_id, &client.api_base_url, granularity, C::ALL);
        open_state(settings, dir, file, identity)
    };
    totals_in(settings, shelf, clock, C::ALL.to_vec(), identity)
}

/// A ledger's totals, resuming from `state_dir` (the store `open` gives) when one is set.
fn totals_in<C: Shelved>(
    settings: &Settings,
    (metrics, shelf): (&Metrics, Arc<C::Shelf>),
    clock: &Clock,
    counters: Vec<C>,
    open: impl FnOnce(&std::path::Path) -> Result<StateStore, ConfigError>,
) -> Result<Totals<C>, ConfigError>
where
    AggregateMetrics<C>: SelfMetrics,
{
    let granularity = settings.aggregates.granularity;
    let Some(dir) = &settings.state_dir else {
        return Ok(Totals::new(metrics, shelf, granularity, counters));
    };
    let store = open(dir)?;
    Ok(Totals::with_store(
        (metrics, shelf),
        granularity,
        counters,
        store,
        clock.now(),
    ))
}

fn open_state(
    settings: &Settings,
    dir: &std::path::Path,
    file: &str,
    identity: Identity,
) -> Result<StateStore, ConfigError> {
    StateStore::open_file(dir, file, identity, settings.aggregates.window).map_err(|e| {
        ConfigError::new(
            "state_dir",
            format!("{} is not a writable directory: {e}", dir.display()),
            "point it at a writable directory (a mounted volume), or remove it",
        )
    })
}

impl Parts {
    /// Obtains a token, resolves the queue set, starts the stream and the poller, then keeps
    /// the queue set current. Every failure here is retried: Genesys outages must not kill us.
    async fn bootstrap_and_watch_queues(self, cancel: CancellationToken) {
        let Some(()) = self
            .retry_until_ok("obtain an OAuth token", &cancel, || {
                self.client.ensure_token()
            })
            .await
        else {
            return;
        };
        self.health.token_obtained();
        let Some(queues) = self
            .retry_until_ok("resolve the configured queues", &cancel, || {
                self.resolve_queues()
            })
            .await
        else {
            return;
        };
        let mut monitored = MonitoredSet::new(self.settings.queues.absent_grace_refreshes);
        let (ids, _) = self.publish_queues(&monitored.update(queues));
        self.health.queues_resolved();
        self.refresh_presences().await;
        let channels = Channels::new(self.queue_topics(), |index| index.to_string());
        let mut channels = channels.keeping_one();
        self.start_channels(channels.place(&monitored.listed(), false), &cancel);
        self.budget.claim(QUEUES, channels.count());
        // NB: the poller first, so agents that cannot be read never hold up the counters.
        let (queue_ids, ids_rx) = watch::channel(ids.clone());
        let poller = self.clone().run_poller(ids_rx, cancel.clone());
        self.tasks.spawn("poller", poller);
        // NB: agents are found in a task of their own, so agents that cannot be read never
        // hold up the queues' refresh.
        let agent_queues = self.settings.agents.enabled.then(|| {
            let (sender, receiver) = watch::channel((ids.clone(), channels.count()));
            let agents = self.clone().find_and_watch_agents(receiver, cancel.clone());
            self.tasks.spawn("agent refresh", agents);
            sender
        });

        let mut refresh = tokio::time::interval(self.settings.queue_refresh_interval);
        refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        refresh.tick().await;
        loop {
            let resolved = tokio::select! {
                _ = cancel.cancelled() => break,
                _ = refresh.tick() => tokio::select! {
                    _ = cancel.cancelled() => break,
                    resolved = self.resolve_queues() => resolved,
                },
            };
            let resolved = match resolved {
                // NB: a listing without any configured queue counts as a listing of none, so
                // they leave after the grace like any other missing queue.
                Err(ApiError::QueueNotFound { missing }) => {
                    warn!(%missing, "no configured queue is in the listing");
                    Ok(Vec::new())
                }
                other => other,
            };
            match resolved {
                Ok(queues) => {
                    // NB: a renamed queue keeps its values under the new name; the forced
                    // resubscribe still has every supervisor resync, renames being rare.
                    let (ids, renamed) = self.publish_queues(&monitored.update(queues));
                    let started = channels.place(&monitored.listed(), renamed);
                    self.start_channels(started, &cancel);
                    self.budget.claim(QUEUES, channels.count());
                    if let Some(agent_queues) = &agent_queues {
                        publish(agent_queues, (ids.clone(), channels.count()), false);
                    }
                    publish(&queue_ids, ids, false);
                }
                Err(e) => {
                    warn!(error = %e, kind = e.kind(), "queue refresh failed; keeping the current set")
                }
            }
            self.refresh_presences().await;
        }
    }

    /// Finds the agents to watch (retrying until it can), refuses a start past `agents.max`
    /// or the channel budget, then finds them again every `queue_refresh_interval` and
    /// whenever the monitored queues change (`queues`: their ids and how many channels they
    /// take, so a change of either finds them again).
    async fn find_and_watch_agents(
        self,
        mut queues: watch::Receiver<(Vec<String>, usize)>,
        cancel: CancellationToken,
    ) {
        let ids = queues.borrow_and_update().0.clone();
        let find = || self.select_agents(&ids);
        let Some(selection) = self
            .retry_until_ok("find the agents to watch", &cancel, find)
            .await
        else {
            return;
        };
        let taken = self.budget.taken_besides(AGENTS);
        if let Err(refused) = self.agents_fit(&selection, taken) {
            error!(error = %refused, "start refused");
            *crate::sync::lock(&self.refusal) = Some(refused);
            cancel.cancel();
            return;
        }
        let mut channels = self.agent_channels(selection.agents.len(), taken);
        self.watch_agents(selection, taken, &mut channels, &cancel);
        let mut refresh = tokio::time::interval(self.settings.queue_refresh_interval);
        refresh.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        refresh.tick().await;
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = refresh.tick() => {}
                changed = queues.changed() => if changed.is_err() { return },
            }
            let ids = queues.borrow_and_update().0.clone();
            let taken = self.budget.taken_besides(AGENTS);
            let found = tokio::select! {
                _ = cancel.cancelled() => return,
                found = self.select_agents(&ids) => found,
            };
            match found {
                Ok(selection) => self.watch_agents(selection, taken, &mut channels, &cancel),
                Err(e) => {
                    warn!(error = %e, kind = e.kind(), "agent refresh failed; keeping the current agents")
                }
            }
        }
    }

    /// The agents `agents.*` selects among the monitored `queue_ids`.
    async fn select_agents(&self, queue_ids: &[String]) -> Result<Selection, ApiError> {
        let who = self.settings.agents.who();
        select(&self.client, &self.agents, &who, queue_ids).await
    }

    /// The agents' channels: with time in status, two topics per agent (activity and running
    /// totals) if `found` agents fit so beside the channels `taken` by other kinds; else the
    /// activity topic alone, the poll keeping the counters.
    fn agent_channels(&self, found: usize, taken: usize) -> Channels {
        let streamed = (self.agent_time.clone())
            .filter(|_| self.settings.agents.time_in_status_stream)
            .map(|totals| {
                let sink: AgentTimeSink = Arc::new(move |body| totals.fold_user(body));
                Carried::agents(self.agents.clone(), TimeInStatus::Streamed(sink))
            })
            .filter(|carried| found <= room_beside(taken, carried.ids_per_channel()));
        info!(
            agents = found,
            running_totals = streamed.is_some(),
            "agents' time in status streamed where the channels allow"
        );
        let carried =
            streamed.unwrap_or_else(|| Carried::agents(self.agents.clone(), TimeInStatus::Polled));
        Channels::new(carried, |index| format!("agents-{index}"))
    }

    /// The refusal of a start whose agents exceed `agents.max`, or need more channels than
    /// the queues leave of the client's 20.
    fn agents_fit(&self, selection: &Selection, taken: usize) -> Result<(), ConfigError> {
        let (found, max) = (selection.agents.len(), self.settings.agents.max);
        let who = self.settings.agents.who();
        if found > max {
            return Err(ConfigError::new(
                "agents.max",
                format!(
                    "{found} agents found ({}), more than agents.max {max}",
                    who.describe()
                ),
                "raise agents.max, or narrow agents.ids, agents.divisions or the queues",
            ));
        }
        if found > room_beside(taken, MAX_TOPICS_PER_CHANNEL) {
            return Err(ConfigError::new(
                "agents.max",
                format!(
                    "{found} agents need more notification channels than the {taken} the other kinds hold leave of {CHANNELS_PER_CLIENT}"
                ),
                "watch fewer agents or queues, or split the org with shard",
            ));
        }
        Ok(())
    }

    /// Watches the agents of `selection` (their state from the read that found them) and
    /// places them on agent channels, starting a supervisor for each new one. A refresh that
    /// finds more than `agents.max`, or than the channels left beside the `taken` ones hold,
    /// keeps the first by id.
    fn watch_agents(
        &self,
        mut selection: Selection,
        taken: usize,
        channels: &mut Channels,
        cancel: &CancellationToken,
    ) {
        let room = room_beside(taken, channels.ids_per_channel());
        let dropped = selection.truncate(self.settings.agents.max.min(room));
        if dropped > 0 {
            error!(
                dropped,
                max = self.settings.agents.max,
                "more agents than agents.max or the channels allow; the last by id are not watched"
            );
        }
        self.agents.watch(&selection.agents, &selection.readings);
        let ids: Vec<String> = selection.agents.iter().map(|a| a.id.clone()).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        publish(&self.agent_ids, sorted, false);
        info!(agents = ids.len(), "watching agents");
        self.start_channels(channels.place(&ids, false), cancel);
        self.budget.claim(AGENTS, channels.count());
        // NB: the channels are registered above, so readiness now waits on their resyncs.
        self.health.placed(AGENTS);
    }

    /// Reads the org's presence definitions, the `presence` label's allow-list, with each queue
    /// listing. A failure keeps the last list; before the first read every presence is counted
    /// as ignored rather than exported.
    async fn refresh_presences(&self) {
        match self.client.list_presence_definitions().await {
            Ok(definitions) => self.metrics.presences().set(&presences(&definitions)),
            Err(e) => log_unless_reported!(
                warn,
                e.kind(),
                error = %e,
                kind = e.kind(),
                "presence definitions not read (permission presence:presenceDefinition:view); queue presences keep the last list"
            ),
        }
    }

    /// The configured queues of this instance's shard.
    async fn resolve_queues(&self) -> Result<Vec<QueueLabels>, ApiError> {
        let selection = QueueSelection {
            ids: self.settings.queues.ids.clone(),
            names: self.settings.queues.names.clone(),
        };
        let mut queues = resolve(&self.client, &selection).await?;
        let shard = self.settings.shard;
        queues.retain(|queue| shard.owns(&queue.id));
        Ok(queues)
    }

    /// What queue channels carry: observations onto the gauges, running totals into the
    /// ledger the poller shares.
    fn queue_topics(&self) -> Carried {
        let totals = self.totals.clone();
        Carried::queues(
            self.observations.clone(),
            Arc::new(move |container| totals.fold(container)),
        )
    }

    /// Starts a supervisor for each channel placed for the first time; each is registered
    /// at once, so readiness waits on its first resync.
    fn start_channels(&self, started: Vec<NewChannel>, cancel: &CancellationToken) {
        for channel in started {
            self.health.channel_started(&channel.label);
            let name = format!("stream {}", channel.label);
            let stream = self.clone().run_stream(channel, cancel.clone());
            self.tasks.spawn(name, stream);
        }
    }

    /// Labels the queues in their table; returns their ids for the watchers and whether any
    /// queue was renamed.
    fn publish_queues(&self, queues: &[QueueLabels]) -> (Vec<String>, bool) {
        let renamed = self.observations.table().set_queues(queues);
        self.observations.forget_departed();
        info!(queues = queues.len(), renamed, "monitoring queues");
        (queues.iter().map(|q| q.id.clone()).collect(), renamed)
    }

    /// Retries `attempt` with capped backoff until it succeeds; `None` means cancelled.
    async fn retry_until_ok<T, F, Fut>(
        &self,
        what: &str,
        cancel: &CancellationToken,
        mut attempt: F,
    ) -> Option<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, ApiError>>,
    {
        let mut backoff = Backoff::new(Duration::from_secs(1), BOOTSTRAP_BACKOFF_CAP);
        loop {
            let result = tokio::select! {
                _ = cancel.cancelled() => return None,
                result = attempt() => result,
            };
            match result {
                Ok(value) => return Some(value),
                Err(e) => {
                    let delay = backoff.next_delay();
                    log_unless_reported!(error, e.kind(), error = %e, kind = e.kind(), retry_in = ?delay, "could not {what}");
                    tokio::select! {
                        _ = cancel.cancelled() => return None,
                        _ = tokio::time::sleep(delay) => {}
                    }
                }
            }
        }
    }

    /// Runs one channel's supervisor.
    async fn run_stream(self, channel: NewChannel, cancel: CancellationToken) {
        let stream = &self.settings.stream;
        let settings = StreamSettings {
            heartbeat_timeout: stream.heartbeat_timeout,
            reconnect_backoff_base: stream.reconnect_backoff_base,
            reconnect_backoff_cap: stream.reconnect_backoff_max,
            fallback_poll_interval: stream.fallback_poll_interval,
            rotate_before_expiry: stream.rotate_before_expiry,
            egress: self.client.egress(),
        };
        let ctx = SessionContext::new(
            channel.carried,
            self.metrics.clone(),
            self.clock.clone(),
            stream.heartbeat_timeout,
        )
        .for_channel(&channel.label);
        let (client, health) = (self.client.clone(), self.health.clone());
        let supervisor = Supervisor::new(client, ctx, health, settings, channel.ids);
        if let Err(e) = supervisor.run(cancel).await {
            error!(error = %e, "stream supervisor stopped");
        }
    }

    /// Polls the watched agents' time in status at `agents.time_in_status_interval`, over the
    /// conversation counters' window and granularity.
    fn agent_time_poller(&self, totals: Arc<AgentTimeTotals>) -> Poller<AgentTime> {
        let aggregates = &self.settings.aggregates;
        let settings = PollSettings {
            poll_interval: self.settings.agents.time_in_status_interval,
            window: aggregates.window,
            granularity: totals.granularity(),
            state_flush_interval: aggregates.state_flush_interval,
            scope: AggregateScope::default(),
        };
        let ids = self.agent_ids.subscribe();
        Poller::new(
            self.client.clone(),
            totals,
            self.metrics.clone(),
            ids,
            settings,
            self.clock.clone(),
        )
    }

    async fn run_poller(self, queue_ids: watch::Receiver<Vec<String>>, cancel: CancellationToken) {
        let aggregates = &self.settings.aggregates;
        let settings = PollSettings {
            poll_interval: aggregates.poll_interval,
            window: aggregates.window,
            granularity: self.totals.granularity(),
            state_flush_interval: aggregates.state_flush_interval,
            scope: AggregateScope {
                media_types: names(&self.settings.media_types),
                directions: names(&self.settings.directions),
            },
        };
        // NB: made before the wait, so the counters' freshness counts from the start.
        let poller = Poller::new(
            self.client.clone(),
            self.totals.clone(),
            self.metrics.clone(),
            queue_ids,
            settings,
            self.clock.clone(),
        );
        // NB: the first poll (⌈queues/100⌉ large answers) waits for the start to finish, or an
        // interval at most, so it never slows the first resyncs.
        let ready = || self.health.readiness().is_ok();
        if wait_until(ready, aggregates.poll_interval, &cancel)
            .await
            .is_some()
        {
            poller.run(cancel).await;
        }
    }
}

/// The web config file (`web.config_file`), loaded and checked; `None` without one.
pub fn open_web_config(web: &WebSettings) -> Result<Option<WebConfigSource>, ConfigError> {
    let Some(path) = &web.config_file else {
        return Ok(None);
    };
    let source = WebConfigSource::open(path).map_err(|e| {
        ConfigError::new(
            "web.config_file",
            format!("{}: {e}", path.display()),
            "fix the file (Prometheus exporter-toolkit web configuration format)",
        )
    })?;
    Ok(Some(source))
}

/// How the HTTP server protects itself (`web.*`).
fn server_limits(web: &WebSettings) -> Limits {
    Limits {
        header_read_timeout: web.header_read_timeout,
        request_timeout: web.request_timeout,
        max_connections: web.max_connections,
        max_header_bytes: web.max_header_bytes,
    }
}

/// The telephony source `telephony.*` selects, its tables registered in `metrics`.
fn telephony_source(settings: &Settings, metrics: &Metrics, clock: Clock) -> Telephony {
    let selection = crate::telephony::TelephonySelection {
        trunk_types: settings.telephony.trunk_types.clone(),
        trunk_names: settings.telephony.trunk_names.clone(),
        edge_sites: settings.telephony.edge_sites.clone(),
    };
    let grace = settings.queues.absent_grace_refreshes;
    Telephony::new(metrics, selection, grace, clock)
}

/// Every family `/metrics` can expose: each table's, the queues' with every counter split by
/// direction, the build info, and each producer's self-metrics (`process_*` aside).
/// `docs/metrics.md` is tested against it.
pub fn metric_families() -> Vec<crate::metrics::FamilyDoc> {
    let metrics = Metrics::new();
    let mut series = QueueSeries::new(Vec::new());
    series.directions = vec![Direction::Inbound];
    let queues = QueueTable::register(&metrics, series);
    AgentTable::register(&metrics, Default::default(), queues);
    crate::telephony::TrunkTable::register(&metrics);
    crate::telephony::EdgeTable::register(&metrics);
    FlowTable::register(&metrics, Vec::new(), true);
    ActionTable::register(&metrics);
    crate::genesys::telemetry::GenesysMetrics::of(&metrics);
    crate::stream::telemetry::StreamMetrics::of(&metrics);
    crate::queues::observations::telemetry::ObservationMetrics::of(&metrics);
    crate::metrics::ignored::IgnoredValues::of(&metrics);
    AggregateMetrics::<crate::vocabulary::counters::ConversationCounter>::of(&metrics);
    AggregateMetrics::<AgentTime>::of(&metrics);
    AggregateMetrics::<FlowCounter>::of(&metrics);
    AggregateMetrics::<ActionCounter>::of(&metrics);
    crate::agents::AgentMetrics::of(&metrics);
    crate::server::telemetry::ServerMetrics::of(&metrics);
    metrics.families()
}

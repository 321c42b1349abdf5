//! The embedded Genesys Cloud simulator (docs/simulator.md): the API subset of
//! `docs/genesys-api.md` — OAuth, REST, notification channels and their WebSockets — on one base
//! URL, driven by a seeded traffic model, plus `/sim/…` endpoints for ground truth, traffic and
//! queue control, and fault injection.
//!
//! A folder per source, over the parts they share:
//!
//! - `queues`: the routing listing, the observations and conversation aggregates queries, a
//!   queue's state rendered three ways, its topic events and its `/sim/queues…` endpoints.
//! - `agents`: the presence definitions, the users listing, the routing activity and users
//!   aggregates queries, and the agents' topic events.
//! - `model`: what every source reads. `directory` is the queue set, which can grow and shrink
//!   at run time (a queue's index is its identity everywhere else, so removed queues keep their
//!   slot, and each agent belongs to one); `traffic` moves customers and agents, each queue with
//!   its own service-level threshold and target; `stats` records every conversation metric event,
//!   `agent_time` every spell an agent ends.
//! - [`config`]: what to simulate and how fast, including the clock. Every instant the simulator
//!   records or reports comes from `SimConfig::clock`, so a scaled clock shared with the exporter
//!   runs hours of traffic in seconds; timers that pace sockets stay on real time.
//! - `auth` issues tokens; `guard` gates every `/api/` request (token, faults, headers, request
//!   log) and `api_faults` decides which armed fault a request gets; `api` holds the request
//!   rules the handlers share; `control` the `/sim/…` endpoints no source owns.
//! - `notify`: the registry of channels, subscriptions and sockets, its REST, channel expiry, each
//!   socket, and the publisher, whose rounds each source fills and `round_faults` shapes.
//! - `faults`: [`Fault`] is every fault `POST /sim/faults` takes, as a type whose JSON is the
//!   endpoint's; `inject` applies one where it acts and lists what is armed; `socket_faults`
//!   sends what the socket faults send.
//!
//! This module is where a source is registered, and with `faults` (which reaches whatever a fault
//! breaks) the only shared part that names one: its REST paths (`rest_routes`), its `/sim/…`
//! routes (`router`), its part of a publish round (`round_parts`), of a subscription's topics
//! (`unknown_topic`) and of the truth (`truth_json`), and its state in [`Sim`].
//!
//! `/sim/…` (no auth): `GET /sim/truth`; `POST /sim/traffic/pause` and `…/resume` (or start
//! paused with `SimConfig::start_paused`); `POST /sim/queues`, `PATCH /sim/queues/{id}` (rename,
//! move to another division), `DELETE /sim/queues/{id}`,
//! `POST /sim/queues/{id}/release`, `POST /sim/queues/{id}/surge` (`{"customers": 15,
//! "seconds": 40}`: that many call at once while the queue's routing stalls that long, then
//! hang up); `POST /sim/faults` and `GET /sim/faults`;
//! `GET /sim/requests`.
//!
//! `POST /sim/faults` takes one [`Fault`] as JSON. The API faults `rate_limit`, `server_error`,
//! `malformed_body` and `slow_response` take a `count` and an optional exact `path`;
//! `revoke_tokens`, `close_sockets`, `socket_closing`, `stop_heartbeats`, `resume_heartbeats`,
//! `expire_channels` and `malformed_message` act at once; and
//! - `{"kind": "refuse_channels", "count": 2, "status": 400}` refuses the next channel
//!   creations as at the per-client limit (`status` defaults to 400; a count of 0 disarms);
//! - `{"kind": "oversized_message", "bytes": 2097152}` sends every socket one valid event padded
//!   to at least `bytes` (default 2 MiB, at most 64 MiB);
//! - `{"kind": "duplicate_events", "rounds": 3}` sends every event of the next rounds twice;
//! - `{"kind": "reorder_events", "rounds": 1}` delivers a round's observations after the next
//!   round's, which repeats each held group newer;
//! - `{"kind": "shorten_channels", "ttlMs": 500}` makes every channel expire that soon, silently
//!   (channels also expire after `SimConfig::channel_ttl`, closing the socket without notice).
//!
//! `GET /sim/faults` lists what is armed, each with the requests, creations or rounds
//! `remaining`.

mod actions;
mod agents;
mod api;
mod api_faults;
mod auth;
pub(crate) mod config;
mod control;
mod faults;
mod flows;
mod guard;
mod model;
mod notify;
mod queues;
mod telephony;
mod tls;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use axum::Router;
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::genesys::model::Queue;
use crate::genesys::time::{format_instant, from_epoch_millis};
use crate::sync::lock;

pub use config::SimConfig;
pub use faults::fault::Fault;
pub use model::ivr::FlowsSize;
pub use telephony::TelephonySize;

use model::directory::Directory;
use model::traffic::{Model, PRESENCES, uuid};

/// A running simulator. The credentials are throwaway demo values, not secrets.
pub struct SimHandle {
    /// `http://127.0.0.1:PORT`: API, login and WebSocket host in one.
    pub base_url: String,
    pub client_id: String,
    pub client_secret: String,
    /// The queues configured at start; `/sim/queues` changes show in the API, not here.
    pub queues: Vec<Queue>,
    task: JoinHandle<()>,
    sim: Arc<Sim>,
}

impl SimHandle {
    /// Every access token issued so far (revoked ones too), for tests that look for them where
    /// they must not be.
    pub fn issued_tokens(&self) -> Vec<String> {
        self.sim.auth.issued()
    }

    /// Waits until the server and every simulator task have ended (after cancellation).
    pub async fn stopped(self) {
        if let Err(error) = self.task.await {
            tracing::warn!(%error, "simulator task ended abnormally");
        }
    }
}

/// Starts serving on `listener` and returns once requests are accepted; everything stops when
/// `cancel` fires.
pub async fn start(
    config: SimConfig,
    listener: tokio::net::TcpListener,
    cancel: CancellationToken,
) -> std::io::Result<SimHandle> {
    let address = listener.local_addr()?;
    let now = config.clock.now_ms();
    let history = i64::try_from(config.history.as_millis()).unwrap_or(i64::MAX / 2);
    let mut model = Model::new(&config, now - history);
    model.step(now);
    let sim = Arc::new(Sim::new(config, model, address, cancel.clone()));
    if sim.config.start_paused {
        sim.pause();
    }
    let app = router(sim.clone());
    let tick = tokio::spawn(tick_loop(sim.clone(), cancel.clone()));
    let publisher = notify::publish::Publisher::new(round_parts());
    let publish = tokio::spawn(publisher.run(sim.clone(), cancel.clone()));
    let expiry = tokio::spawn(notify::expiry::expiry_loop(sim.clone(), cancel.clone()));
    let server_cancel = cancel.clone();
    let tls = sim.config.tls.clone();
    let server = tokio::spawn(async move {
        let shutdown = server_cancel.cancelled_owned();
        let served = match tls {
            Some(config) => {
                let listener = tls::TlsListener::new(listener, config);
                axum::serve(listener, app)
                    .with_graceful_shutdown(shutdown)
                    .await
            }
            None => {
                // NB: small frames go out at once, as a latency benchmark needs, not after
                // the receiver's delayed ACK.
                let listener = listener.tap_io(|tcp| {
                    let _ = tcp.set_nodelay(true);
                });
                axum::serve(listener, app)
                    .with_graceful_shutdown(shutdown)
                    .await
            }
        };
        if let Err(error) = served {
            tracing::error!(%error, "simulator server failed");
        }
    });
    let task = tokio::spawn(async move {
        let tasks = [
            ("server", server),
            ("tick", tick),
            ("publish", publish),
            ("expiry", expiry),
        ];
        for (name, task) in tasks {
            if let Err(error) = task.await {
                tracing::warn!(task = name, %error, "simulator task ended abnormally");
            }
        }
    });
    let queues = sim.queues().live().map(|(_, q)| q.clone()).collect();
    Ok(SimHandle {
        base_url: format!(
            "{}://{address}",
            if sim.config.tls.is_some() {
                "https"
            } else {
                "http"
            }
        ),
        client_id: sim.config.client_id.clone(),
        client_secret: sim.config.client_secret.clone(),
        queues,
        task,
        sim,
    })
}

/// Everything the handlers and tasks share. Each lock is held only for a synchronous step and
/// never across an await.
///
/// NB: lock order is `model`, then `queues`, then `paused_since`; `channels` and `publishing`
/// are never taken with another lock held. Whoever changes the queue set holds the model too, so anyone holding
/// the model sees a directory and a traffic model with the same slots.
pub(crate) struct Sim {
    pub config: SimConfig,
    pub queues: RwLock<Directory>,
    /// Organization presence ids, one per `PRESENCES` entry (the `oUserPresences` qualifiers).
    pub presence_ids: Vec<String>,
    /// The org's presence definitions: the agents' (under `presence_ids`), then the unused.
    pub presences: Vec<crate::genesys::model::PresenceDefinition>,
    pub model: Mutex<Model>,
    /// When the traffic was paused, if it is, in simulated epoch milliseconds: resuming shifts
    /// the model by the simulated time the pause lasted.
    pub paused_since: Mutex<Option<i64>>,
    pub auth: auth::AuthState,
    pub gate: guard::Gate,
    pub channels: Mutex<notify::channels::Registry>,
    /// The publish faults armed for the next rounds, and a held-back round.
    pub publishing: Mutex<notify::round_faults::RoundFaults>,
    pub heartbeats: AtomicBool,
    /// `reject_user_topics`: user topics of agents whose index is a multiple of this are
    /// refused; 0, none.
    pub reject_user_topics: AtomicU32,
    /// `reject_telephony_topics`: every trunk's and Edge's metrics topic is refused.
    pub reject_telephony_topics: AtomicBool,
    /// The faults of the agents' REST reads (`truncate_activity_details`, `missing_expand`).
    pub agent_faults: Mutex<agents::users::AgentFaults>,
    /// The trunks and Edges. NB: taken after `model` when both are held.
    pub telephony: Mutex<telephony::Estate>,
    /// The names of the IVR's flows, outcomes and milestones. NB: never held with `model`.
    pub flows: Mutex<flows::Catalog>,
    /// The names of the data actions the flows call. NB: never held with `model`.
    pub actions: Mutex<actions::Actions>,
    /// Asks the publisher to send every group's current state once (after a pause).
    pub publish_all: AtomicBool,
    pub address: SocketAddr,
    pub cancel: CancellationToken,
}

impl Sim {
    fn new(
        config: SimConfig,
        model: Model,
        address: SocketAddr,
        cancel: CancellationToken,
    ) -> Self {
        // NB: ids come from their own seeded stream so they never depend on traffic settings.
        let mut ids = StdRng::seed_from_u64(config.seed ^ 0x9e37_79b9_7f4a_7c15);
        let queues = Directory::new(&config, &mut ids);
        let presence_ids: Vec<String> = PRESENCES.iter().map(|_| uuid(&mut ids)).collect();
        // NB: drawn after the agents' ids, so adding these changed none of those.
        let unused_ids: Vec<String> = (0..agents::presence::UNUSED_PRESENCES)
            .map(|_| uuid(&mut ids))
            .collect();
        let presences = agents::presence::definitions(&presence_ids, &unused_ids);
        let estate = telephony::Estate::new(&config, config.clock.now_ms());
        let catalog = flows::Catalog::new(&model.ivr, config.seed, &queues.home_division());
        let data_actions = actions::Actions::new(&model.ivr, config.seed);
        Self {
            auth: auth::AuthState::new(&config),
            gate: guard::Gate::default(),
            channels: Mutex::new(notify::channels::Registry::new(config.channel_ttl)),
            config,
            queues: RwLock::new(queues),
            presence_ids,
            presences,
            model: Mutex::new(model),
            paused_since: Mutex::new(None),
            publishing: Mutex::new(notify::round_faults::RoundFaults::default()),
            heartbeats: AtomicBool::new(true),
            reject_user_topics: AtomicU32::new(0),
            reject_telephony_topics: AtomicBool::new(false),
            agent_faults: Mutex::default(),
            telephony: Mutex::new(estate),
            flows: Mutex::new(catalog),
            actions: Mutex::new(data_actions),
            publish_all: AtomicBool::new(false),
            address,
            cancel,
        }
    }

    /// The simulated now, in epoch milliseconds; the only clock the simulator reads.
    pub(crate) fn now_ms(&self) -> i64 {
        self.config.clock.now_ms()
    }

    pub(crate) fn model(&self) -> MutexGuard<'_, Model> {
        lock(&self.model)
    }

    pub(crate) fn queues(&self) -> RwLockReadGuard<'_, Directory> {
        crate::sync::read(&self.queues)
    }

    fn queues_mut(&self) -> RwLockWriteGuard<'_, Directory> {
        crate::sync::write(&self.queues)
    }

    /// The index of the live queue with `id`.
    pub(crate) fn queue_index(&self, id: &str) -> Option<usize> {
        self.queues().index_of(id)
    }

    pub(crate) fn is_paused(&self) -> bool {
        lock(&self.paused_since).is_some()
    }

    /// Where the model's time stands: the pause instant while paused, so what is added during a
    /// pause starts with the rest of the traffic on resume. Call with the model locked.
    fn traffic_now(&self) -> i64 {
        lock(&self.paused_since).unwrap_or_else(|| self.now_ms())
    }

    // NB: pausing and resuming hold the model, so they are atomic with respect to a tick: no
    // step runs after the pause is visible.
    pub(crate) fn pause(&self) {
        let _model = self.model();
        let mut since = lock(&self.paused_since);
        if since.is_none() {
            *since = Some(self.now_ms());
            self.publish_all.store(true, Ordering::SeqCst);
        }
    }

    pub(crate) fn resume(&self) {
        let mut model = self.model();
        let since = lock(&self.paused_since).take();
        if let Some(since) = since {
            model.shift((self.now_ms() - since).max(0));
        }
    }
}

/// The REST API, each path to the handler of the source that owns it; `api` holds only what
/// the handlers share, so it imports none of them.
fn rest_routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/api/v2/routing/queues", get(queues::routing::list_queues))
        .route(
            "/api/v2/routing/queues/{id}",
            get(queues::routing::get_queue),
        )
        .route(
            "/api/v2/presence/definitions",
            get(agents::presence::list_definitions),
        )
        .route("/api/v2/users", get(agents::users::list_users))
        .route(
            "/api/v2/analytics/routing/activity/query",
            post(agents::users::routing_activity),
        )
        .route(
            "/api/v2/analytics/queues/observations/query",
            post(queues::analytics::observations),
        )
        .route(
            "/api/v2/analytics/conversations/aggregates/query",
            post(queues::analytics::aggregates),
        )
        .route(
            "/api/v2/analytics/users/aggregates/query",
            post(agents::user_aggregates::user_aggregates),
        )
        .route(
            "/api/v2/telephony/providers/edges/trunks",
            get(telephony::rest::list_trunks),
        )
        .route(
            "/api/v2/telephony/providers/edges/trunks/metrics",
            get(telephony::rest::trunk_metrics),
        )
        .route(
            "/api/v2/telephony/providers/edges",
            get(telephony::rest::list_edges),
        )
        .route(
            "/api/v2/telephony/providers/edges/metrics",
            get(telephony::rest::edge_metrics),
        )
        .route("/api/v2/flows", get(flows::rest::list_flows))
        .route("/api/v2/flows/outcomes", get(flows::rest::list_outcomes))
        .route(
            "/api/v2/flows/milestones",
            get(flows::rest::list_milestones),
        )
        .route(
            "/api/v2/analytics/flows/aggregates/query",
            post(flows::rest::flow_aggregates),
        )
        .route(
            "/api/v2/analytics/flows/observations/query",
            post(flows::rest::flow_observations),
        )
        .route(
            "/api/v2/integrations/actions",
            get(actions::rest::list_actions),
        )
        .route(
            "/api/v2/analytics/actions/aggregates/query",
            post(actions::rest::action_aggregates),
        )
}

fn router(sim: Arc<Sim>) -> Router {
    Router::new()
        .route("/oauth/token", post(auth::token))
        .merge(rest_routes())
        .merge(notify::notifications::routes())
        .route("/channels/{id}", get(notify::ws::upgrade))
        .merge(control::routes())
        .merge(queues::control::routes())
        .merge(faults::inject::routes())
        .fallback(api::not_found)
        // NB: after every route (it applies to those registered before it) and before the
        // guard layer, so the envelope gets its correlation id like any other error.
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            sim.clone(),
            guard::guard,
        ))
        .with_state(sim)
}

/// Each source's part of a publish round, in the order a round sends them.
fn round_parts() -> Vec<Box<dyn notify::publish::RoundPart>> {
    vec![
        Box::new(queues::events::QueueEvents::default()),
        Box::new(agents::events::AgentEvents::default()),
        Box::new(telephony::events::TelephonyEvents::default()),
        Box::new(flows::events::FlowEvents::default()),
    ]
}

/// The first of `topics` no source serves: each knows its own (a live queue's observations, a
/// live agent's activity or time in status, a flow's or outcome's running totals).
fn unknown_topic<'t>(sim: &Sim, topics: &'t [String]) -> Option<&'t String> {
    let users = agents::events::UserTopics::of(sim, topics);
    (topics.iter()).find(|topic| {
        !(queues::events::serves(sim, topic)
            || users.serves(topic)
            || telephony::events::serves(sim, topic)
            || flows::events::serves(sim, topic))
    })
}

/// The ground truth, in the exact shape the black-box tests read: each source's part beside
/// the simulated now and what the reporting lag still holds back.
fn truth_json(sim: &Sim) -> Value {
    let now = sim.now_ms();
    let model = sim.model();
    let directory = sim.queues();
    let queues = queues::control::truth(&model, &directory, &sim.presence_ids);
    let at = from_epoch_millis(now)
        .map(format_instant)
        .unwrap_or_default();
    let pending = model.ledger.pending() + model.agent_time.pending() + model.ivr.pending();
    let agents = agents::users::agents_truth(sim, &model, &directory);
    let telephony = lock(&sim.telephony).truth(&model, now);
    let queue_ids: Vec<String> = (0..model.queues.len())
        .map(|q| {
            directory
                .get(q)
                .map(|queue| queue.id.clone())
                .unwrap_or_default()
        })
        .collect();
    let flows = lock(&sim.flows).truth(&model, &queue_ids);
    let actions = lock(&sim.actions).truth(&model.ivr);
    json!({"now": at, "paused": sim.is_paused(), "pendingRecords": pending, "queues": queues,
        "presenceDefinitions": sim.presences, "agents": agents, "telephony": telephony,
        "flows": flows, "actions": actions})
}

/// Advances the model to the simulated now every real tick; while paused only the reporting lag
/// moves on.
async fn tick_loop(sim: Arc<Sim>, cancel: CancellationToken) {
    let mut ticks = tokio::time::interval(sim.config.tick);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = cancel.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let mut model = sim.model();
        let now = sim.now_ms();
        if sim.is_paused() {
            model.flush(now);
        } else {
            model.step(now);
        }
    }
}

#[cfg(test)]
pub(crate) mod harness;

#[cfg(test)]
mod tests;

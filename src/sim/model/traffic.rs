//! The seeded traffic model: customers arrive, wait, alert an idle agent (who may not respond),
//! talk (maybe on hold), are maybe transferred, wrap up, or abandon when their patience runs
//! out. Events are processed at their own instants in time order, so one `step(now)` call is
//! exact whether it covers 20 ms of live traffic or a day of pre-generated history.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::agent_time::{AgentTime, Dimension};
use super::ivr::Ivr;
use super::stats::{Ledger, Metric, Record};
use crate::sim::config::SimConfig;

/// Routing statuses in the order of `RoutingStatus::ALL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Idle = 0,
    Interacting = 1,
    Communicating = 2,
    NotResponding = 3,
    OffQueue = 4,
}

/// System presences; index 0 is "on queue" and the last is "offline" (not an active user).
pub(crate) const PRESENCES: [&str; 8] = [
    "ON_QUEUE",
    "AVAILABLE",
    "AWAY",
    "BREAK",
    "MEAL",
    "TRAINING",
    "MEETING",
    "OFFLINE",
];
pub(crate) const OFFLINE: usize = PRESENCES.len() - 1;

#[derive(Debug, Clone)]
pub(crate) struct Agent {
    pub status: Status,
    pub presence: usize,
    /// Since when (simulated epoch ms) the agent has had its routing status, and its presence.
    pub status_since: i64,
    pub presence_since: i64,
    /// When the current NOT_RESPONDING, COMMUNICATING or off-queue spell ends.
    until: i64,
    /// When this agent next steps away, checked only while IDLE.
    next_break: i64,
}

impl Agent {
    /// The agent's routing status from `at`; its since-instant moves only on a change, and
    /// then the spell that ended is returned (status, since).
    fn set_status(&mut self, status: Status, at: i64) -> Option<(Status, i64)> {
        let ended = (self.status != status).then_some((self.status, self.status_since));
        if ended.is_some() {
            self.status = status;
            self.status_since = at;
        }
        ended
    }

    /// The agent's presence (an index of `PRESENCES`) from `at`, as [`Agent::set_status`].
    fn set_presence(&mut self, presence: usize, at: i64) -> Option<(usize, i64)> {
        let ended = (self.presence != presence).then_some((self.presence, self.presence_since));
        if ended.is_some() {
            self.presence = presence;
            self.presence_since = at;
        }
        ended
    }
}

#[derive(Debug, Clone)]
pub(crate) enum Phase {
    Waiting,
    Alerting {
        agent: usize,
        until: i64,
        answers: bool,
    },
    Connected {
        agent: usize,
        answered: i64,
        end: i64,
        talk: u64,
        held: u64,
    },
    Acw {
        agent: usize,
        talk: u64,
        held: u64,
        acw: u64,
        end: i64,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Interaction {
    pub conversation_id: String,
    pub media: usize,
    /// An index into [`DIRECTIONS`].
    pub direction: usize,
    /// When it entered the queue; waiting time counts from here even after a failed alert.
    pub entered: i64,
    patience_deadline: i64,
    pub phase: Phase,
}

/// A queue's service-level goal: `target` of conversations answered within `threshold_ms`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct ServiceLevel {
    pub threshold_ms: u64,
    pub target: f64,
}

impl ServiceLevel {
    /// Queues differ, so a client that mixes up one queue's service level with another's shows;
    /// derived from the index alone, so runs are reproducible. `base_ms` is a sixth of the mean
    /// patience, so fast test configs still see both sides of the threshold.
    fn for_queue(index: usize, base_ms: f64) -> Self {
        const FACTORS: [f64; 3] = [1.0, 0.5, 1.5];
        const TARGETS: [f64; 3] = [0.8, 0.9, 0.7];
        Self {
            threshold_ms: (base_ms * FACTORS[index % 3]) as u64,
            target: TARGETS[index % 3],
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct QueueState {
    pub service_level: ServiceLevel,
    /// None while the queue is held or after it was removed.
    next_arrival: Option<i64>,
    /// Until when nothing waiting is offered to an agent (a surge).
    stalled_until: Option<i64>,
    /// Removed queues keep their slot (indices are identities) but never move again.
    removed: bool,
    pub agents: Vec<Agent>,
    pub interactions: Vec<Interaction>,
}

/// Mean durations in milliseconds, derived once from the config.
#[derive(Debug, Clone)]
struct Timing {
    arrival_gap: f64,
    talk: f64,
    acw: f64,
    patience: f64,
    alert: f64,
    /// The service-level threshold every queue's own is a multiple of.
    sla_base: f64,
    lag: u64,
}

/// Where and when a metric event happened, and the model's now when it was processed.
#[derive(Debug, Clone, Copy)]
struct Event {
    queue: usize,
    media: usize,
    direction: usize,
    at: i64,
    now: i64,
}

enum Due {
    Arrival,
    /// A stall ends: what waits is offered again.
    Resume,
    Interaction(usize),
    Agent(usize),
}

pub(crate) struct Model {
    rng: StdRng,
    /// Separate so that the lag draws never perturb the traffic sequence.
    lag_rng: StdRng,
    /// Draws the conversation errors.
    error_rng: StdRng,
    timing: Timing,
    media_weights: Vec<f64>,
    agents_per_queue: usize,
    pub media_types: Vec<String>,
    pub queues: Vec<QueueState>,
    pub ledger: Ledger,
    /// The agents' time in each status and presence.
    pub agent_time: AgentTime,
    /// The share of voice arrivals that reach a queue: those that come over a carrier trunk in
    /// service. 1 unless a trunk or an Edge is down.
    pub voice_reach: f64,
    /// The flows calls and chats meet before their queue.
    pub ivr: Ivr,
}

const ANSWER_PROBABILITY: f64 = 0.9;
const HOLD_PROBABILITY: f64 = 0.2;
const TRANSFER_PROBABILITY: f64 = 0.08;
/// The share of talks that end with an error, and with a failed state transition (both
/// drawn from their own generator, so the rest of the traffic is the same with or without).
const ERROR_PROBABILITY: f64 = 0.03;
const STATE_TRANSITION_ERROR_PROBABILITY: f64 = 0.02;
const ON_QUEUE_AT_START: f64 = 0.8;

impl Model {
    pub(crate) fn new(config: &SimConfig, start_ms: i64) -> Self {
        let ms = |d: std::time::Duration| (d.as_secs_f64() * 1000.0).max(1.0);
        let timing = Timing {
            arrival_gap: 60_000.0 / config.arrivals_per_minute.max(1e-6),
            talk: ms(config.mean_talk),
            acw: ms(config.mean_acw),
            patience: ms(config.mean_patience),
            alert: ms(config.alert_timeout),
            sla_base: ms(config.mean_patience) / 6.0,
            lag: config.reporting_lag.as_millis() as u64,
        };
        let media_weights = config.media_types.iter().map(|m| media_weight(m)).collect();
        let mut model = Self {
            rng: StdRng::seed_from_u64(config.seed),
            lag_rng: StdRng::seed_from_u64(config.seed ^ 0x5eed_1a90),
            error_rng: StdRng::seed_from_u64(config.seed ^ 0xe220_2e11),
            timing,
            media_weights,
            agents_per_queue: config.agents_per_queue,
            media_types: config.media_types.clone(),
            queues: Vec::new(),
            ledger: Ledger::default(),
            agent_time: AgentTime::default(),
            voice_reach: 1.0,
            ivr: Ivr::new(
                config.flows,
                config.seed,
                config.reporting_lag.as_millis() as u64,
            ),
        };
        for _ in 0..config.queues {
            model.add_queue(start_ms, false);
        }
        model
    }

    /// A new queue of fresh agents at `now_ms`; a `held` one has no arrivals until released.
    pub(crate) fn add_queue(&mut self, now_ms: i64, held: bool) -> usize {
        let agents = (0..self.agents_per_queue)
            .map(|_| self.new_agent(now_ms))
            .collect();
        let next_arrival = (!held).then(|| now_ms + self.exp(self.timing.arrival_gap));
        let service_level = ServiceLevel::for_queue(self.queues.len(), self.timing.sla_base);
        self.queues.push(QueueState {
            service_level,
            next_arrival,
            stalled_until: None,
            removed: false,
            agents,
            interactions: Vec::new(),
        });
        self.queues.len() - 1
    }

    /// Starts a held queue's arrivals; a queue already taking arrivals is left alone.
    pub(crate) fn release_queue(&mut self, queue: usize, now_ms: i64) {
        let live = self.queues.get(queue).is_some_and(|q| !q.removed);
        if live && self.queues[queue].next_arrival.is_none() {
            let first = now_ms + self.exp(self.timing.arrival_gap);
            self.queues[queue].next_arrival = Some(first);
        }
    }

    /// `customers` call the queue at `now_ms` while its routing stalls for `hold_ms`: they wait,
    /// and hang up just before it resumes, so the queue's backlog is at least that for exactly
    /// that long, then clears. A broken routing flow looks so to the people watching it.
    pub(crate) fn surge(&mut self, queue: usize, now_ms: i64, customers: usize, hold_ms: i64) {
        if self.queues.get(queue).is_none_or(|q| q.removed) {
            return;
        }
        let resume = now_ms + hold_ms.max(1);
        let stalled = &mut self.queues[queue].stalled_until;
        *stalled = Some(stalled.map_or(resume, |until| until.max(resume)));
        for _ in 0..customers {
            self.enter(queue, now_ms, now_ms, Some(resume - 1));
        }
    }

    /// Ends a queue's traffic for good: its customers leave unrecorded, like the queue.
    pub(crate) fn remove_queue(&mut self, queue: usize) {
        if let Some(state) = self.queues.get_mut(queue) {
            state.removed = true;
            state.next_arrival = None;
            state.interactions.clear();
        }
    }

    fn new_agent(&mut self, now: i64) -> Agent {
        let next_break = now + self.exp(self.timing.talk * 8.0);
        if self.rng.random_bool(ON_QUEUE_AT_START) {
            Agent {
                status: Status::Idle,
                presence: 0,
                status_since: now,
                presence_since: now,
                until: now,
                next_break,
            }
        } else {
            let presence = self.rng.random_range(1..PRESENCES.len());
            let until = now + self.exp(self.timing.talk * 2.0);
            Agent {
                status: Status::OffQueue,
                presence,
                status_since: now,
                presence_since: now,
                until,
                next_break,
            }
        }
    }

    /// Advances every queue to `now_ms`, then lets lagged records whose time has come show.
    pub(crate) fn step(&mut self, now_ms: i64) {
        for queue in 0..self.queues.len() {
            if self.queues[queue].removed {
                continue;
            }
            while let Some((at, due)) = self.next_due(queue) {
                if at > now_ms {
                    break;
                }
                self.handle(queue, at, due, now_ms);
                self.route(queue, at);
            }
        }
        self.ivr.advance(now_ms);
        self.flush(now_ms);
    }

    /// Lets every lagged record whose time has come show, conversations' and agents'.
    pub(crate) fn flush(&mut self, now_ms: i64) {
        self.ledger.flush(now_ms);
        self.agent_time.flush(now_ms);
        self.ivr.flush(now_ms);
    }

    /// Sets an agent's routing status from `at`, recording the spell it ends.
    fn set_status(&mut self, queue: usize, agent: usize, status: Status, at: i64) {
        if let Some((old, since)) = self.queues[queue].agents[agent].set_status(status, at) {
            let key = ((queue, agent), Dimension::RoutingStatus, old as usize);
            let visible = at + self.timing.lag as i64;
            self.agent_time.record(key, since, at, visible);
        }
    }

    /// Sets an agent's presence from `at`, recording the spell it ends in both dimensions.
    fn set_presence(&mut self, queue: usize, agent: usize, presence: usize, at: i64) {
        if let Some((old, since)) = self.queues[queue].agents[agent].set_presence(presence, at) {
            let visible = at + self.timing.lag as i64;
            for dimension in [Dimension::SystemPresence, Dimension::OrganizationPresence] {
                let key = ((queue, agent), dimension, old);
                self.agent_time.record(key, since, at, visible);
            }
        }
    }

    /// Moves every pending deadline by `delta_ms`, so a paused model resumes where it stopped
    /// instead of firing everything that fell due during the pause at once.
    pub(crate) fn shift(&mut self, delta_ms: i64) {
        self.ivr.shift(delta_ms);
        for queue in &mut self.queues {
            if let Some(next) = &mut queue.next_arrival {
                *next += delta_ms;
            }
            if let Some(until) = &mut queue.stalled_until {
                *until += delta_ms;
            }
            for agent in &mut queue.agents {
                agent.until += delta_ms;
                agent.next_break += delta_ms;
            }
            for interaction in &mut queue.interactions {
                interaction.patience_deadline += delta_ms;
                match &mut interaction.phase {
                    Phase::Waiting => {}
                    Phase::Alerting { until: end, .. }
                    | Phase::Connected { end, .. }
                    | Phase::Acw { end, .. } => *end += delta_ms,
                }
            }
        }
    }

    fn next_due(&self, queue: usize) -> Option<(i64, Due)> {
        let state = &self.queues[queue];
        let arrival = state.next_arrival.map(|at| (at, Due::Arrival));
        let resume = state.stalled_until.map(|at| (at, Due::Resume));
        let interactions = state
            .interactions
            .iter()
            .enumerate()
            .map(|(i, interaction)| {
                let at = match interaction.phase {
                    Phase::Waiting => interaction.patience_deadline,
                    Phase::Alerting { until, .. } => until,
                    Phase::Connected { end, .. } | Phase::Acw { end, .. } => end,
                };
                (at, Due::Interaction(i))
            });
        let agents = state.agents.iter().enumerate().filter_map(|(i, agent)| {
            let at = match agent.status {
                // NB: a break planned for while the agent was busy is taken once it is idle,
                // never back in time: each state begins no earlier than the one before.
                Status::Idle => agent.next_break.max(agent.status_since),
                Status::Interacting => return None,
                Status::Communicating | Status::NotResponding | Status::OffQueue => agent.until,
            };
            Some((at, Due::Agent(i)))
        });
        // NB: the first of equal instants wins, as before: arrival, interactions, agents.
        arrival
            .into_iter()
            .chain(resume)
            .chain(interactions)
            .chain(agents)
            .reduce(|best, next| if next.0 < best.0 { next } else { best })
    }

    fn handle(&mut self, queue: usize, at: i64, due: Due, now: i64) {
        match due {
            Due::Arrival => self.arrive(queue, at, now),
            Due::Resume => self.queues[queue].stalled_until = None,
            Due::Interaction(i) => self.advance_interaction(queue, i, at, now),
            Due::Agent(i) => self.advance_agent(queue, i, at),
        }
    }

    fn arrive(&mut self, queue: usize, at: i64, now: i64) {
        let media = self.pick_media();
        // NB: a voice call that would have come over a trunk out of service never arrives; the
        // draw is made only then, so traffic with every trunk up is the same as without trunks.
        let lost = self.media_types[media] == "voice"
            && self.voice_reach < 1.0
            && !self.rng.random_bool(self.voice_reach.clamp(0.0, 1.0));
        if !lost {
            self.enter_as(queue, media, (at, now), None);
        }
        self.queues[queue].next_arrival = Some(at + self.exp(self.timing.arrival_gap));
    }

    /// A customer enters the queue at `at`, patient until `patience` (else a random while).
    fn enter(&mut self, queue: usize, at: i64, now: i64, patience: Option<i64>) {
        let media = self.pick_media();
        self.enter_as(queue, media, (at, now), patience);
    }

    fn enter_as(
        &mut self,
        queue: usize,
        media: usize,
        (at, now): (i64, i64),
        patience: Option<i64>,
    ) {
        let conversation_id = uuid(&mut self.rng);
        let direction = direction_of(&self.media_types[media], &conversation_id);
        let patience_deadline = patience.unwrap_or_else(|| at + self.exp(self.timing.patience));
        self.queues[queue].interactions.push(Interaction {
            conversation_id,
            media,
            direction,
            entered: at,
            patience_deadline,
            phase: Phase::Waiting,
        });
        let event = Event {
            queue,
            media,
            direction,
            at,
            now,
        };
        self.record(event, &[(Metric::NOffered, 0)]);
        let media_type = (media, self.media_types[media].as_str());
        self.ivr.reached(queue, media_type, (at, now));
    }

    fn advance_interaction(&mut self, queue: usize, index: usize, at: i64, now: i64) {
        let interaction = self.queues[queue].interactions[index].clone();
        let event = Event {
            queue,
            media: interaction.media,
            direction: interaction.direction,
            at,
            now,
        };
        let waited = (at - interaction.entered).max(0) as u64;
        match interaction.phase {
            Phase::Waiting => self.abandon(event, index, waited),
            Phase::Alerting {
                agent,
                answers: false,
                ..
            } => {
                let until = at + self.exp(self.timing.alert * 2.0);
                self.set_status(queue, agent, Status::NotResponding, at);
                let state = &mut self.queues[queue];
                state.agents[agent].until = until;
                state.interactions[index].phase = Phase::Waiting;
            }
            Phase::Alerting {
                agent,
                answers: true,
                ..
            } => self.answer(event, index, agent, waited),
            Phase::Connected {
                agent, talk, held, ..
            } => self.end_talk(event, index, agent, talk, held),
            Phase::Acw {
                agent,
                talk,
                held,
                acw,
                ..
            } => {
                self.record(
                    event,
                    &[(Metric::TAcw, acw), (Metric::THandle, talk + held + acw)],
                );
                self.set_status(queue, agent, Status::Idle, at);
                self.queues[queue].interactions.remove(index);
            }
        }
    }

    fn over_threshold(&self, queue: usize, waited: u64) -> bool {
        waited > self.queues[queue].service_level.threshold_ms
    }

    fn abandon(&mut self, event: Event, index: usize, waited: u64) {
        let mut metrics = vec![(Metric::TAbandon, waited), (Metric::TWait, waited)];
        if self.over_threshold(event.queue, waited) {
            metrics.push((Metric::NOverSla, 0));
        }
        self.record(event, &metrics);
        self.queues[event.queue].interactions.remove(index);
    }

    fn answer(&mut self, event: Event, index: usize, agent: usize, waited: u64) {
        let service_level = if self.over_threshold(event.queue, waited) {
            Metric::NOverSla
        } else {
            Metric::AnsweredInServiceLevel
        };
        let metrics = [
            (Metric::NConnected, 0),
            (Metric::TAnswered, waited),
            (Metric::TWait, waited),
            (service_level, 0),
        ];
        self.record(event, &metrics);
        let talk = self.exp(self.timing.talk) as u64;
        let held = if self.rng.random_bool(HOLD_PROBABILITY) {
            (talk as f64 * self.rng.random_range(0.1..0.5)) as u64
        } else {
            0
        };
        let end = event.at + (talk + held) as i64;
        let phase = Phase::Connected {
            agent,
            answered: event.at,
            end,
            talk,
            held,
        };
        self.queues[event.queue].interactions[index].phase = phase;
    }

    fn end_talk(&mut self, event: Event, index: usize, agent: usize, talk: u64, held: u64) {
        let mut metrics = vec![(Metric::TTalk, talk)];
        if held > 0 {
            metrics.push((Metric::THeld, held));
        }
        if self.rng.random_bool(TRANSFER_PROBABILITY) {
            metrics.push((Metric::NTransferred, 0));
        }
        if self.error_rng.random_bool(ERROR_PROBABILITY) {
            metrics.push((Metric::NError, 0));
        }
        if self
            .error_rng
            .random_bool(STATE_TRANSITION_ERROR_PROBABILITY)
        {
            metrics.push((Metric::NStateTransitionError, 0));
        }
        self.record(event, &metrics);
        let acw = self.exp(self.timing.acw) as u64;
        let end = event.at + acw as i64;
        self.queues[event.queue].interactions[index].phase = Phase::Acw {
            agent,
            talk,
            held,
            acw,
            end,
        };
    }

    fn advance_agent(&mut self, queue: usize, index: usize, at: i64) {
        let status = self.queues[queue].agents[index].status;
        let (status, presence, until) = match status {
            Status::Idle if self.rng.random_bool(0.4) => (
                Status::Communicating,
                0,
                at + self.exp(self.timing.talk / 2.0),
            ),
            Status::Idle => {
                let presence = self.rng.random_range(1..PRESENCES.len());
                (
                    Status::OffQueue,
                    presence,
                    at + self.exp(self.timing.talk * 2.0),
                )
            }
            _ => (Status::Idle, 0, at),
        };
        let next_break = if status == Status::Idle {
            self.queues[queue].agents[index].next_break
        } else {
            until + self.exp(self.timing.talk * 8.0)
        };
        self.set_status(queue, index, status, at);
        self.set_presence(queue, index, presence, at);
        let agent = &mut self.queues[queue].agents[index];
        agent.until = until;
        agent.next_break = next_break;
    }

    /// Offers waiting interactions, oldest first, to randomly chosen idle agents.
    fn route(&mut self, queue: usize, at: i64) {
        if self.queues[queue]
            .stalled_until
            .is_some_and(|until| at < until)
        {
            return;
        }
        loop {
            let state = &self.queues[queue];
            let idle: Vec<usize> = (0..state.agents.len())
                .filter(|&i| state.agents[i].status == Status::Idle)
                .collect();
            let oldest = (0..state.interactions.len())
                .filter(|&i| matches!(state.interactions[i].phase, Phase::Waiting))
                .min_by_key(|&i| state.interactions[i].entered);
            let (Some(interaction), false) = (oldest, idle.is_empty()) else {
                return;
            };
            let agent = idle[self.rng.random_range(0..idle.len())];
            let answers = self.rng.random_bool(ANSWER_PROBABILITY);
            let delay = if answers {
                self.timing.alert * self.rng.random_range(0.1..0.6)
            } else {
                self.timing.alert
            };
            let until = at + (delay as i64).max(1);
            self.set_status(queue, agent, Status::Interacting, at);
            let state = &mut self.queues[queue];
            state.interactions[interaction].phase = Phase::Alerting {
                agent,
                until,
                answers,
            };
        }
    }

    /// Records the metrics of one event with one reporting lag: Genesys reports a conversation
    /// event as a whole, so `oServiceLevel`'s numerator never shows before its denominator.
    fn record(&mut self, event: Event, metrics: &[(Metric, u64)]) {
        let lag = self.lag_rng.random_range(0..=self.timing.lag) as i64;
        for &(metric, value) in metrics {
            let record = Record {
                queue: event.queue,
                media: event.media,
                direction: event.direction,
                metric,
                at_ms: event.at,
                value,
                visible_ms: event.at + lag,
            };
            self.ledger.record(record, event.now);
        }
    }

    fn pick_media(&mut self) -> usize {
        let total: f64 = self.media_weights.iter().sum();
        let mut point = self.rng.random_range(0.0..total.max(f64::MIN_POSITIVE));
        for (i, weight) in self.media_weights.iter().enumerate() {
            if point < *weight {
                return i;
            }
            point -= weight;
        }
        self.media_weights.len().saturating_sub(1)
    }

    /// An exponential draw with the given mean, at least 1 ms so every event moves time on.
    fn exp(&mut self, mean: f64) -> i64 {
        let u: f64 = self.rng.random();
        ((-mean * (1.0 - u).ln()) as i64).max(1)
    }
}

/// The conversation directions the simulator reports, as Genesys spells them.
pub(crate) const DIRECTIONS: [&str; 2] = ["inbound", "outbound"];

/// The direction of a conversation of `media`: a share of them outbound (campaigns, agents
/// calling back), read off the conversation id so it costs no draw of the traffic's RNG and
/// a seed's traffic stays what it was.
fn direction_of(media: &str, conversation_id: &str) -> usize {
    let outbound_per_256 = match media {
        "voice" => 64,
        "email" => 48,
        "message" => 24,
        "callback" => 256,
        _ => 0,
    };
    let draw = u32::from_str_radix(&conversation_id[..2], 16).unwrap_or(0);
    usize::from(draw < outbound_per_256)
}

/// Voice dominates a typical contact centre; unknown media types get a neutral weight.
fn media_weight(media: &str) -> f64 {
    match media {
        "voice" => 4.0,
        "chat" | "message" => 2.0,
        "email" => 1.5,
        _ => 1.0,
    }
}

/// A UUID-shaped (version 4 layout) id drawn from `rng`, so seeded ids are reproducible.
pub(crate) fn uuid(rng: &mut impl Rng) -> String {
    let bits: u128 = rng.random();
    let bits = (bits & !(0xf << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests;

//! The seeded traffic model: customers arrive, wait, alert an idle agent (who may not respond),
//! talk (maybe on hold), are maybe transferred, wrap up, or abandon when their patience runs
//! out. Events are processed at their own instants in time order, so one `step(now)` call is
//! exact whether it covers 20 ms of live traffic or a day of pre-generated history.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::config::SimConfig;
use super::stats::{Ledger, Metric, Record};

/// Routing statuses in the order of `ROUTING_STATUSES`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Idle = 0,
    Interacting = 1,
    Communicating = 2,
    NotResponding = 3,
    OffQueue = 4,
}

/// System presences; index 0 is "on queue" and the last is "offline" (not an active user).
pub(crate) const PRESENCES: [&str; 6] =
    ["ON_QUEUE", "AVAILABLE", "AWAY", "BREAK", "MEAL", "OFFLINE"];
pub(crate) const OFFLINE: usize = PRESENCES.len() - 1;

#[derive(Debug, Clone)]
pub(crate) struct Agent {
    pub status: Status,
    pub presence: usize,
    /// When the current NOT_RESPONDING, COMMUNICATING or off-queue spell ends.
    until: i64,
    /// When this agent next steps away, checked only while IDLE.
    next_break: i64,
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
    /// When it entered the queue; waiting time counts from here even after a failed alert.
    pub entered: i64,
    patience_deadline: i64,
    pub phase: Phase,
}

#[derive(Debug, Clone)]
pub(crate) struct QueueState {
    /// None while the queue is held or after it was removed.
    next_arrival: Option<i64>,
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
    sla: u64,
    lag: u64,
}

enum Due {
    Arrival,
    Interaction(usize),
    Agent(usize),
}

pub(crate) struct Model {
    rng: StdRng,
    /// Separate so that the lag draws never perturb the traffic sequence.
    lag_rng: StdRng,
    timing: Timing,
    media_weights: Vec<f64>,
    agents_per_queue: usize,
    pub media_types: Vec<String>,
    pub queues: Vec<QueueState>,
    pub ledger: Ledger,
}

const ANSWER_PROBABILITY: f64 = 0.9;
const HOLD_PROBABILITY: f64 = 0.2;
const TRANSFER_PROBABILITY: f64 = 0.08;
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
            sla: (ms(config.mean_patience) / 6.0) as u64,
            lag: config.reporting_lag.as_millis() as u64,
        };
        let media_weights = config.media_types.iter().map(|m| media_weight(m)).collect();
        let mut model = Self {
            rng: StdRng::seed_from_u64(config.seed),
            lag_rng: StdRng::seed_from_u64(config.seed ^ 0x5eed_1a90),
            timing,
            media_weights,
            agents_per_queue: config.agents_per_queue,
            media_types: config.media_types.clone(),
            queues: Vec::new(),
            ledger: Ledger::default(),
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
        self.queues.push(QueueState {
            next_arrival,
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
                until: now,
                next_break,
            }
        } else {
            let presence = self.rng.random_range(1..PRESENCES.len());
            let until = now + self.exp(self.timing.talk * 2.0);
            Agent {
                status: Status::OffQueue,
                presence,
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
        self.ledger.flush(now_ms);
    }

    /// Moves every pending deadline by `delta_ms`, so a paused model resumes where it stopped
    /// instead of firing everything that fell due during the pause at once.
    pub(crate) fn shift(&mut self, delta_ms: i64) {
        for queue in &mut self.queues {
            if let Some(next) = &mut queue.next_arrival {
                *next += delta_ms;
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
                Status::Idle => agent.next_break,
                Status::Interacting => return None,
                Status::Communicating | Status::NotResponding | Status::OffQueue => agent.until,
            };
            Some((at, Due::Agent(i)))
        });
        // NB: the first of equal instants wins, as before: arrival, interactions, agents.
        arrival
            .into_iter()
            .chain(interactions)
            .chain(agents)
            .reduce(|best, next| if next.0 < best.0 { next } else { best })
    }

    fn handle(&mut self, queue: usize, at: i64, due: Due, now: i64) {
        match due {
            Due::Arrival => self.arrive(queue, at, now),
            Due::Interaction(i) => self.advance_interaction(queue, i, at, now),
            Due::Agent(i) => self.advance_agent(queue, i, at),
        }
    }

    fn arrive(&mut self, queue: usize, at: i64, now: i64) {
        let media = self.pick_media();
        let conversation_id = uuid(&mut self.rng);
        let patience_deadline = at + self.exp(self.timing.patience);
        self.queues[queue].interactions.push(Interaction {
            conversation_id,
            media,
            entered: at,
            patience_deadline,
            phase: Phase::Waiting,
        });
        self.record(queue, media, Metric::NOffered, at, 0, now);
        self.queues[queue].next_arrival = Some(at + self.exp(self.timing.arrival_gap));
    }

    fn advance_interaction(&mut self, queue: usize, index: usize, at: i64, now: i64) {
        let interaction = self.queues[queue].interactions[index].clone();
        let media = interaction.media;
        match interaction.phase {
            Phase::Waiting => {
                let waited = (at - interaction.entered).max(0) as u64;
                self.record(queue, media, Metric::TAbandon, at, waited, now);
                self.record(queue, media, Metric::TWait, at, waited, now);
                if waited > self.timing.sla {
                    self.record(queue, media, Metric::NOverSla, at, 0, now);
                }
                self.queues[queue].interactions.remove(index);
            }
            Phase::Alerting {
                agent,
                answers: false,
                ..
            } => {
                let until = at + self.exp(self.timing.alert * 2.0);
                let state = &mut self.queues[queue];
                state.agents[agent].status = Status::NotResponding;
                state.agents[agent].until = until;
                state.interactions[index].phase = Phase::Waiting;
            }
            Phase::Alerting {
                agent,
                answers: true,
                ..
            } => {
                let waited = (at - interaction.entered).max(0) as u64;
                self.record(queue, media, Metric::NConnected, at, 0, now);
                self.record(queue, media, Metric::TAnswered, at, waited, now);
                self.record(queue, media, Metric::TWait, at, waited, now);
                if waited > self.timing.sla {
                    self.record(queue, media, Metric::NOverSla, at, 0, now);
                }
                let talk = self.exp(self.timing.talk) as u64;
                let held = if self.rng.random_bool(HOLD_PROBABILITY) {
                    (talk as f64 * self.rng.random_range(0.1..0.5)) as u64
                } else {
                    0
                };
                let end = at + (talk + held) as i64;
                let phase = Phase::Connected {
                    agent,
                    answered: at,
                    end,
                    talk,
                    held,
                };
                self.queues[queue].interactions[index].phase = phase;
            }
            Phase::Connected {
                agent, talk, held, ..
            } => {
                self.record(queue, media, Metric::TTalk, at, talk, now);
                if held > 0 {
                    self.record(queue, media, Metric::THeld, at, held, now);
                }
                if self.rng.random_bool(TRANSFER_PROBABILITY) {
                    self.record(queue, media, Metric::NTransferred, at, 0, now);
                }
                let acw = self.exp(self.timing.acw) as u64;
                let end = at + acw as i64;
                self.queues[queue].interactions[index].phase = Phase::Acw {
                    agent,
                    talk,
                    held,
                    acw,
                    end,
                };
            }
            Phase::Acw {
                agent,
                talk,
                held,
                acw,
                ..
            } => {
                self.record(queue, media, Metric::TAcw, at, acw, now);
                self.record(queue, media, Metric::THandle, at, talk + held + acw, now);
                let state = &mut self.queues[queue];
                state.agents[agent].status = Status::Idle;
                state.interactions.remove(index);
            }
        }
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
        self.queues[queue].agents[index] = Agent {
            status,
            presence,
            until,
            next_break,
        };
    }

    /// Offers waiting interactions, oldest first, to randomly chosen idle agents.
    fn route(&mut self, queue: usize, at: i64) {
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
            let state = &mut self.queues[queue];
            state.agents[agent].status = Status::Interacting;
            state.interactions[interaction].phase = Phase::Alerting {
                agent,
                until,
                answers,
            };
        }
    }

    fn record(
        &mut self,
        queue: usize,
        media: usize,
        metric: Metric,
        at: i64,
        value: u64,
        now: i64,
    ) {
        let lag = self.lag_rng.random_range(0..=self.timing.lag) as i64;
        let record = Record {
            queue,
            media,
            metric,
            at_ms: at,
            value,
            visible_ms: at + lag,
        };
        self.ledger.record(record, now);
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
mod tests {
    use super::*;
    use crate::sim::stats::stat_of;

    fn offered(model: &Model, queue: usize) -> u64 {
        (0..model.media_types.len())
            .filter_map(|m| model.ledger.totals(queue, m))
            .map(|set| stat_of(set, Metric::NOffered).count)
            .sum()
    }

    #[test]
    fn a_held_queue_has_no_arrivals_until_released_and_a_removed_one_stops() {
        let config = SimConfig::fast_for_tests(9);
        let mut model = Model::new(&config, 0);
        let held = model.add_queue(0, true);
        model.step(2_000);
        assert!(offered(&model, 0) > 0, "busy fast traffic in the others");
        assert_eq!(offered(&model, held), 0);
        model.release_queue(held, 2_000);
        model.step(4_000);
        assert!(offered(&model, held) > 0);

        model.remove_queue(0);
        let (before, other) = (offered(&model, 0), offered(&model, 1));
        model.step(6_000);
        assert_eq!(offered(&model, 0), before);
        assert!(model.queues[0].interactions.is_empty());
        assert!(offered(&model, 1) > other, "the remaining queues go on");
        model.release_queue(0, 6_000);
        model.step(8_000);
        assert_eq!(
            offered(&model, 0),
            before,
            "a removed queue is not released"
        );
    }
}

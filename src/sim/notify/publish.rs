//! The publisher (docs/genesys-api.md#queue-events): every `publish_interval` one round of topic
//! events, each source's part (`RoundPart`, registered in `sim/mod.rs`) in turn, shaped by the
//! `round_faults` armed.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use tokio_util::sync::CancellationToken;

use crate::genesys::time::{format_interval, from_epoch_millis};
use crate::sim::Sim;
use crate::sync::lock;

/// An observation group: (queue slot, media index), the media index `None` for user metrics.
pub(crate) type GroupKey = (usize, Option<usize>);

/// One topic event of a round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Frame {
    pub topic: String,
    /// The observation's group; `None` for running totals, which are never held back.
    pub group: Option<GroupKey>,
    pub text: String,
}

/// What every part of one round shares.
pub(crate) struct Round {
    /// The simulated now the round was taken at, in epoch milliseconds.
    pub now: i64,
    /// The round's instant as a zero-width interval (`t/t`), the observations' interval.
    pub instant: String,
    /// Every group's current state goes out, changed or not (after a pause).
    pub force: bool,
    /// The groups whose held observation this round must precede with a newer one.
    pub held: HashSet<GroupKey>,
}

/// A source's part of every round: the events of what changed since its last round, which the
/// part remembers, so the publisher knows no source's state.
pub(crate) trait RoundPart: std::fmt::Debug + Send {
    fn frames(&mut self, sim: &Sim, round: &Round) -> Vec<Frame>;
}

/// Turns model changes into events, one round per `publish_interval`.
#[derive(Debug)]
pub(crate) struct Publisher {
    /// Each source's part, in the order a round sends them.
    parts: Vec<Box<dyn RoundPart>>,
    /// The instant of the last round's observations, in epoch milliseconds.
    last_instant: i64,
}

impl Publisher {
    pub(crate) fn new(parts: Vec<Box<dyn RoundPart>>) -> Self {
        Self {
            parts,
            last_instant: 0,
        }
    }

    /// Publishes every `publish_interval`, so each queue gets at most one round of events per
    /// interval.
    pub(crate) async fn run(mut self, sim: Arc<Sim>, cancel: CancellationToken) {
        let mut ticks = tokio::time::interval(sim.config.publish_interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                () = cancel.cancelled() => break,
                _ = ticks.tick() => self.publish_once(&sim),
            }
        }
        // NB: a round held back by `reorder_events` goes out rather than being left behind.
        let held = lock(&sim.publishing).take_held();
        send(&sim, held);
    }

    /// One round of events.
    fn publish_once(&mut self, sim: &Sim) {
        let force = sim.publish_all.swap(false, Ordering::SeqCst);
        let now = sim.now_ms();
        // NB: strictly increasing, so an observation held back by `reorder_events` is always
        // recognisably older than the one sent before it, even on a coarse or stopped clock.
        let instant_ms = now.max(self.last_instant + 1);
        let Some(instant) = from_epoch_millis(instant_ms) else {
            return;
        };
        self.last_instant = instant_ms;
        let held = lock(&sim.publishing).held_groups();
        let round = Round {
            now,
            instant: format_interval(instant, instant),
            force,
            held,
        };
        let mut frames = Vec::new();
        for part in &mut self.parts {
            frames.extend(part.frames(sim, &round));
        }
        let frames = lock(&sim.publishing).shape(frames);
        send(sim, frames);
    }
}

fn send(sim: &Sim, frames: Vec<Frame>) {
    let channels = lock(&sim.channels);
    for frame in frames {
        channels.send_topic(&frame.topic, &frame.text);
    }
}

#[cfg(test)]
mod tests;

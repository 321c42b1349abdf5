//! What `duplicate_events` and `reorder_events` do to the publish rounds: pure state over the
//! frames each round made, so the order a client sees is decided (and tested) in one place.

use std::collections::HashSet;

use serde_json::{Value, json};

use super::publish::{Frame, GroupKey};

/// What `duplicate_events` and `reorder_events` do to the next rounds. Armed by `inject`,
/// applied by the publisher; rounds count only when they have frames the fault acts on, so a
/// quiet round does not use one up.
#[derive(Debug, Default)]
pub(crate) struct RoundFaults {
    /// Rounds left whose every frame is sent twice in a row.
    duplicate_rounds: u32,
    /// Rounds left whose observations are held back until after the next round's frames.
    reorder_rounds: u32,
    /// The observations of a held round. Whatever is armed, the next round sends them (after
    /// its own frames), so nothing stays held.
    held: Vec<Frame>,
}

impl RoundFaults {
    /// Duplicates the frames of the next `rounds` rounds that have any; 0 disarms.
    pub(crate) fn duplicate(&mut self, rounds: u32) {
        self.duplicate_rounds = rounds;
    }

    /// Holds back the observations of the next `rounds` rounds that have any, each until after
    /// the round that follows it (which is never held itself); 0 disarms, and what is already
    /// held still follows the next round.
    pub(crate) fn reorder(&mut self, rounds: u32) {
        self.reorder_rounds = rounds;
    }

    /// The groups whose held observation the next round must precede with a newer one.
    pub(crate) fn held_groups(&self) -> HashSet<GroupKey> {
        self.held.iter().filter_map(|f| f.group).collect()
    }

    /// The frames a round sends, in order, given the frames it made.
    pub(crate) fn shape(&mut self, frames: Vec<Frame>) -> Vec<Frame> {
        let mut sent = if !self.held.is_empty() {
            let mut sent = frames;
            sent.append(&mut self.held);
            sent
        } else if self.reorder_rounds > 0 && frames.iter().any(|f| f.group.is_some()) {
            self.reorder_rounds -= 1;
            let (held, sent) = frames.into_iter().partition(|f| f.group.is_some());
            self.held = held;
            sent
        } else {
            frames
        };
        if self.duplicate_rounds > 0 && !sent.is_empty() {
            self.duplicate_rounds -= 1;
            sent = sent.into_iter().flat_map(|f| [f.clone(), f]).collect();
        }
        sent
    }

    /// Empties what is held, to send it now (on shutdown).
    pub(crate) fn take_held(&mut self) -> Vec<Frame> {
        std::mem::take(&mut self.held)
    }

    /// The entries `GET /sim/faults` lists for what is still armed or held.
    pub(crate) fn armed(&self) -> Vec<Value> {
        let mut armed = Vec::new();
        if self.duplicate_rounds > 0 {
            armed.push(json!({"kind": "duplicate_events", "remaining": self.duplicate_rounds}));
        }
        if self.reorder_rounds > 0 || !self.held.is_empty() {
            armed.push(
                json!({"kind": "reorder_events", "remaining": self.reorder_rounds,
                              "heldFrames": self.held.len()}),
            );
        }
        armed
    }
}

#[cfg(test)]
mod tests;

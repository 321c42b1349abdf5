//! The org's presences as the exporter labels them. Presence definitions are the org's own
//! (`Lunch`, `Coaching`, …), so their set is read from Genesys, not fixed here; it is the
//! allow-list of the `presence` label: a presence id not in it is counted, never exported.

use super::labels::SystemPresence;

/// One active presence definition: its id, the label it is exported under, and its system
/// presence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presence {
    pub id: String,
    pub label: String,
    pub system: SystemPresence,
}

impl Presence {
    pub fn new(id: &str, label: &str, system: SystemPresence) -> Self {
        Self {
            id: id.to_owned(),
            label: label.to_owned(),
            system,
        }
    }
}

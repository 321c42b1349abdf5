//! The org's presences by id: the allow-list of the `presence` label, which the queues' and the
//! agents' tables both read. Replaced whole when the definitions are read again.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::vocabulary::presence::Presence;

#[derive(Debug, Default)]
pub struct Presences {
    by_id: RwLock<Arc<HashMap<String, Presence>>>,
}

impl Presences {
    /// Makes `presences` the allow-list (the org's active definitions).
    pub fn set(&self, presences: &[Presence]) {
        let by_id = presences
            .iter()
            .map(|p| (p.id.clone(), p.clone()))
            .collect();
        *crate::sync::write(&self.by_id) = Arc::new(by_id);
    }

    /// Whether `id` is one of the org's presences.
    pub(crate) fn knows(&self, id: &str) -> bool {
        crate::sync::read(&self.by_id).contains_key(id)
    }

    /// The allow-list as it stands, for one render.
    pub(crate) fn current(&self) -> Arc<HashMap<String, Presence>> {
        crate::sync::read(&self.by_id).clone()
    }
}

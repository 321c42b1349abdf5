//! Which queues the exporter watches: configured ids and names (with `*` wildcards) resolved
//! against routing (docs/genesys-api.md#routing-queues), and how their topics are spread over
//! notification channels.

use std::collections::BTreeMap;

use tracing::warn;

use crate::genesys::ApiError;
use crate::genesys::GenesysClient;
use crate::genesys::model::{PresenceDefinition, Queue};
use crate::vocabulary::labels::SystemPresence;
use crate::vocabulary::presence::Presence;
use crate::vocabulary::queue::{QueueLabels, name_matches};

mod counters;
pub(crate) mod events;
pub mod observations;
pub mod table;

/// The configured queues. Both empty means every queue in the org.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct QueueSelection {
    /// Queue ids, each of which must exist.
    pub ids: Vec<String>,
    /// Queue names, `*` matching any run of characters; each must match at least one queue.
    pub names: Vec<String>,
}

/// The queues `selection` names, deduplicated and sorted by name then id, so the monitored set
/// and its channel shards are the same on every run. One paged listing of the org whatever the
/// selection holds: a call per configured id would cost 5,000 calls for 5,000 ids, the listing
/// costs its pages (⌈queues/100⌉).
pub(crate) async fn resolve(
    client: &GenesysClient,
    selection: &QueueSelection,
) -> Result<Vec<QueueLabels>, ApiError> {
    select(client.list_queues(None).await?, selection)
}

/// The part of `listing` that `selection` names; an error only when nothing matches.
pub(crate) fn select(
    listing: Vec<Queue>,
    selection: &QueueSelection,
) -> Result<Vec<QueueLabels>, ApiError> {
    let everything = selection.ids.is_empty() && selection.names.is_empty();
    let mut ids_seen = vec![false; selection.ids.len()];
    let mut names_seen = vec![false; selection.names.len()];
    let mut found: BTreeMap<String, Queue> = BTreeMap::new();
    for queue in listing {
        let by_id = selection.ids.iter().position(|id| *id == queue.id);
        let by_name: Vec<usize> = (0..selection.names.len())
            .filter(|&i| name_matches(&selection.names[i], &queue.name))
            .collect();
        if let Some(i) = by_id {
            ids_seen[i] = true;
        }
        for &i in &by_name {
            names_seen[i] = true;
        }
        if everything || by_id.is_some() || !by_name.is_empty() {
            found.insert(queue.id.clone(), queue);
        }
    }
    let missing_ids = selection
        .ids
        .iter()
        .zip(&ids_seen)
        .filter(|(_, seen)| !**seen);
    let missing_names = selection
        .names
        .iter()
        .zip(&names_seen)
        .filter(|(_, seen)| !**seen);
    let missing: Vec<String> = missing_ids
        .map(|(id, _)| format!("queue id {id:?}"))
        .chain(missing_names.map(|(name, _)| format!("queue name {name:?}")))
        .collect();
    // NB: one renamed queue must not stop monitoring of the others; only an empty result fails.
    if !missing.is_empty() {
        let missing = missing.join(", ");
        if found.is_empty() {
            return Err(ApiError::QueueNotFound { missing });
        }
        warn!(%missing, "configured queues not found; monitoring the rest");
    }
    let mut labels: Vec<QueueLabels> = found.into_values().map(labels_of).collect();
    labels.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    Ok(labels)
}

fn labels_of(queue: Queue) -> QueueLabels {
    QueueLabels {
        division: queue.division.map(|d| d.name).unwrap_or_default(),
        id: queue.id,
        name: queue.name,
    }
}

/// The presences of `definitions` as the exporter labels them
/// (docs/genesys-api.md#presence-definitions): the `en_US` label, and the system presence read in
/// either spelling. A definition whose system presence we do not know is left out, so its members
/// are counted as ignored, never exported under a guess.
pub(crate) fn presences(definitions: &[PresenceDefinition]) -> Vec<Presence> {
    let mut presences = Vec::new();
    for definition in definitions.iter().filter(|d| !d.deactivated) {
        match SystemPresence::parse_any_case(&definition.system_presence) {
            Some(system) => {
                presences.push(Presence::new(&definition.id, definition.label(), system))
            }
            None => tracing::warn!(
                presence = definition.label(),
                system_presence = definition.system_presence,
                "presence definition with an unknown system presence left out"
            ),
        }
    }
    presences
}

#[cfg(test)]
mod tests;

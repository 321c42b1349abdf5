//! Who is watched (`agents.*`, docs/operations.md#agents): the members of the monitored queues, the
//! users of some divisions, or listed ids; read with each queue refresh. The reads that find them
//! also carry their state, which becomes their first resync.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::{AgentReading, Agents};
use crate::genesys::GenesysClient;
use crate::genesys::error::ApiError;
use crate::genesys::model::User;
use crate::vocabulary::agent::{AgentLabels, Who};

/// The agents found, sorted by id, with the state each read showed.
#[derive(Debug, Default)]
pub(crate) struct Selection {
    pub agents: Vec<AgentLabels>,
    pub readings: HashMap<String, AgentReading>,
}

impl Selection {
    /// Keeps the first `max` agents by id; returns how many were dropped.
    pub(crate) fn truncate(&mut self, max: usize) -> usize {
        let dropped = self.agents.len().saturating_sub(max);
        self.agents.truncate(max);
        dropped
    }
}

/// Finds the agents `who` names among `queue_ids` (the monitored queues).
pub(crate) async fn select(
    client: &GenesysClient,
    agents: &Agents,
    who: &Who,
    queue_ids: &[String],
) -> Result<Selection, ApiError> {
    let (users, memberships) = match who {
        Who::QueueMembers => {
            let memberships = queue_members(client, queue_ids).await?;
            let ids: Vec<String> = memberships.keys().cloned().collect();
            (client.users_by_id(&ids).await?, memberships)
        }
        Who::Ids(ids) => (client.users_by_id(ids).await?, BTreeMap::new()),
        Who::Divisions(divisions) => {
            let mut users = client.list_users().await?;
            users.retain(|u| {
                u.division
                    .as_ref()
                    .is_some_and(|d| divisions.contains(&d.id))
            });
            (users, BTreeMap::new())
        }
    };
    Ok(selection(agents, users, &memberships))
}

/// Each member of `queue_ids` with the monitored queues it belongs to, from the routing
/// activity query: its members' entities, and the ids its counts list.
async fn queue_members(
    client: &GenesysClient,
    queue_ids: &[String],
) -> Result<BTreeMap<String, BTreeSet<String>>, ApiError> {
    let mut members: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for result in client.query_routing_activity(queue_ids).await? {
        let Some(queue) = result.group.get("queueId") else {
            continue;
        };
        if result.truncated {
            tracing::warn!(
                queue_id = queue,
                "the routing activity query truncated this queue's members; those left out are not watched until a later read lists them"
            );
        }
        let listed = (result.entities.iter().map(|e| &e.user_id))
            .chain(result.data.iter().flat_map(|d| &d.entity_ids));
        for user in listed {
            members
                .entry(user.clone())
                .or_default()
                .insert(queue.clone());
        }
    }
    Ok(members)
}

fn selection(
    agents: &Agents,
    users: Vec<User>,
    memberships: &BTreeMap<String, BTreeSet<String>>,
) -> Selection {
    let now = agents.clock().now_seconds();
    let mut selection = Selection::default();
    let mut by_id: BTreeMap<String, User> = BTreeMap::new();
    for user in users {
        by_id.insert(user.id.clone(), user);
    }
    for (id, user) in by_id {
        let division = user.division.clone().unwrap_or_default();
        selection.agents.push(AgentLabels {
            id: id.clone(),
            name: user.name.clone(),
            division_id: division.id,
            division: division.name,
            queue_ids: (memberships.get(&id).into_iter().flatten().cloned()).collect(),
        });
        selection
            .readings
            .insert(id, agents.reading_of_user(&user, now));
    }
    selection
}

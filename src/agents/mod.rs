//! Agents (docs/operations.md#agents): who is watched, and each agent's routing status and presence
//! from the two sources Genesys offers: `v2.users.{id}.activity` events, and REST reads after any
//! gap (the routing activity query with details, one per 100 queues, then the users listing by id
//! for whoever it did not list). Both carry since-instants, so the newer state wins whatever order
//! they arrive in (`agents/table/mod.rs`).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tracing::{debug, warn};

use crate::genesys::GenesysClient;
use crate::genesys::error::ApiError;
use crate::genesys::model::{
    ActivityEntity, RoutingActivityData, User, UserActivityEvent, UserPresence, UserRoutingStatus,
};
use crate::genesys::time::parse_instant;
use crate::metrics::Metrics;
use crate::metrics::ignored::{Ignored, IgnoredValues};
use crate::metrics::registry::SelfMetrics;
use crate::vocabulary::agent::{AgentLabels, PresenceState, RoutingState};
use crate::vocabulary::clock::Clock;
use crate::vocabulary::labels::{LabelValue, RoutingStatus, SystemPresence};
use table::{AgentTable, Applied};

pub(crate) mod events;
pub(crate) mod select;
pub mod table;
mod telemetry;
pub(crate) mod time;

pub(crate) use telemetry::AgentMetrics;

/// The REST reads an agent resync needs, behind a trait so the stream's tests script them.
pub(crate) trait AgentSource: Send + Sync + 'static {
    fn query_routing_activity(
        &self,
        queue_ids: &[String],
    ) -> impl Future<Output = Result<Vec<RoutingActivityData>, ApiError>> + Send;

    fn users_by_id(
        &self,
        ids: &[String],
    ) -> impl Future<Output = Result<Vec<User>, ApiError>> + Send;
}

impl AgentSource for GenesysClient {
    fn query_routing_activity(
        &self,
        queue_ids: &[String],
    ) -> impl Future<Output = Result<Vec<RoutingActivityData>, ApiError>> + Send {
        GenesysClient::query_routing_activity(self, queue_ids)
    }

    fn users_by_id(
        &self,
        ids: &[String],
    ) -> impl Future<Output = Result<Vec<User>, ApiError>> + Send {
        GenesysClient::users_by_id(self, ids)
    }
}

/// An agent's state as one read or event reported it; `None` halves were not reported.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentReading {
    pub routing: Option<RoutingState>,
    pub presence: Option<PresenceState>,
}

/// Turns agent events and reads into the store's agent series.
pub struct Agents {
    /// The agent series they write.
    table: Arc<AgentTable>,
    /// The one wall clock `app` hands every producer: when a read was current.
    clock: Clock,
    telemetry: AgentMetrics,
    ignored: IgnoredValues,
}

fn seconds(instant: Option<&str>) -> Option<f64> {
    let at: DateTime<Utc> = parse_instant(instant?)?;
    Some(at.timestamp_millis() as f64 / 1000.0)
}

impl Agents {
    /// Writes into `table`, with self-metrics on `metrics`.
    pub fn new(metrics: &Metrics, table: Arc<AgentTable>, clock: Clock) -> Self {
        Self {
            telemetry: AgentMetrics::of(metrics),
            ignored: IgnoredValues::of(metrics),
            table,
            clock,
        }
    }

    /// The agent series they write.
    pub(crate) fn table(&self) -> &AgentTable {
        &self.table
    }

    pub(crate) fn clock(&self) -> &Clock {
        &self.clock
    }

    /// A routing status as upstream spells it, since `since` (else `fallback`); an unknown
    /// status is counted, never exported.
    fn routing(
        &self,
        status: Option<&str>,
        since: Option<f64>,
        fallback: f64,
    ) -> Option<RoutingState> {
        let status = status?;
        let Some(status) = RoutingStatus::parse(status) else {
            self.ignored.count(Ignored::RoutingStatus);
            return None;
        };
        Some(RoutingState {
            status,
            since: since.unwrap_or(fallback),
        })
    }

    /// A presence by definition id and system presence (either spelling); the id need not be
    /// one of the org's: only its info series needs that.
    fn presence(
        &self,
        id: &str,
        system: &str,
        since: Option<f64>,
        fallback: f64,
    ) -> Option<PresenceState> {
        let Some(system) = SystemPresence::parse_any_case(system) else {
            self.ignored.count(Ignored::Presence);
            return None;
        };
        if !self.table.knows_presence(id) {
            self.ignored.count(Ignored::Presence);
        }
        Some(PresenceState {
            presence_id: id.to_owned(),
            system,
            since: since.unwrap_or(fallback),
        })
    }

    fn reading_of_parts(
        &self,
        routing: Option<&UserRoutingStatus>,
        presence: Option<&UserPresence>,
        now: f64,
    ) -> AgentReading {
        AgentReading {
            routing: routing
                .and_then(|r| self.routing(Some(&r.status), seconds(r.start_time.as_deref()), now)),
            presence: presence.and_then(|p| {
                let definition = &p.presence_definition;
                let since = seconds(p.modified_date.as_deref());
                self.presence(&definition.id, &definition.system_presence, since, now)
            }),
        }
    }

    /// An agent as the users listing shows it; a missing `expand` leaves that half unknown.
    pub(crate) fn reading_of_user(&self, user: &User, now: f64) -> AgentReading {
        self.reading_of_parts(user.routing_status.as_ref(), user.presence.as_ref(), now)
    }

    fn reading_of_entity(&self, entity: &ActivityEntity, now: f64) -> AgentReading {
        let presence = match (&entity.organization_presence_id, &entity.system_presence) {
            (Some(id), Some(system)) => {
                self.presence(id, system, seconds(entity.presence_date.as_deref()), now)
            }
            _ => None,
        };
        AgentReading {
            routing: self.routing(
                entity.routing_status.as_deref(),
                seconds(entity.routing_status_date.as_deref()),
                now,
            ),
            presence,
        }
    }

    /// One `v2.users.{id}.activity` event, current as of `now_ms`.
    pub(crate) fn apply_event(&self, event: &UserActivityEvent, now_ms: i64) -> Applied {
        let now = now_ms as f64 / 1000.0;
        let reading =
            self.reading_of_parts(event.routing_status.as_ref(), event.presence.as_ref(), now);
        self.table
            .agent_event(&event.id, reading.routing, reading.presence, now)
    }

    /// Reads the state of `ids` over REST: the routing activity query for the monitored queues
    /// they are members of, then the users listing by id for whoever it did not list (agents
    /// outside monitored queues, or in the part of a truncated list left out). A failed read
    /// marks the agents it was for stale; a user listed without its state stays stale until a
    /// later read completes it.
    pub(crate) async fn resync(
        &self,
        ids: &[String],
        source: &impl AgentSource,
    ) -> Result<(), ApiError> {
        let wanted: HashSet<&str> = ids.iter().map(String::as_str).collect();
        let queues: BTreeSet<String> = self.table.agent_queue_ids(ids).into_iter().collect();
        let mut read: HashSet<String> = HashSet::new();
        if !queues.is_empty() {
            let queues: Vec<String> = queues.into_iter().collect();
            let results = source.query_routing_activity(&queues).await;
            self.telemetry.resynced(results.is_ok());
            let results = results.inspect_err(|_| self.all_stale(ids))?;
            let now = self.clock.now_seconds();
            for entity in results.iter().flat_map(|r| &r.entities) {
                if wanted.contains(entity.user_id.as_str()) && !read.contains(&entity.user_id) {
                    let reading = self.reading_of_entity(entity, now);
                    let (routing, presence) = (reading.routing, reading.presence);
                    (self.table).agent_read(&entity.user_id, routing, presence, now, true);
                    read.insert(entity.user_id.clone());
                }
            }
        }
        let rest: Vec<String> = ids
            .iter()
            .filter(|id| !read.contains(*id))
            .cloned()
            .collect();
        if rest.is_empty() {
            return Ok(());
        }
        debug!(
            agents = rest.len(),
            "reading agents through the users listing"
        );
        let users = source.users_by_id(&rest).await;
        self.telemetry.resynced(users.is_ok());
        let users = users.inspect_err(|_| self.all_stale(&rest))?;
        let now = self.clock.now_seconds();
        let mut listed: HashMap<&str, &User> = HashMap::new();
        for user in &users {
            listed.insert(user.id.as_str(), user);
        }
        for id in &rest {
            match listed.get(id.as_str()) {
                Some(user) => {
                    let reading = self.reading_of_user(user, now);
                    let (routing, presence) = (reading.routing, reading.presence);
                    self.table.agent_read(id, routing, presence, now, true);
                }
                None => self.table.set_agent_stale(id),
            }
        }
        Ok(())
    }

    fn all_stale(&self, ids: &[String]) {
        warn!(
            agents = ids.len(),
            "agent resync failed; their state is stale until the next one"
        );
        for id in ids {
            self.table.set_agent_stale(id);
        }
    }

    /// Starts watching `agents`, with the states read while selecting them.
    pub fn watch(&self, agents: &[AgentLabels], readings: &HashMap<String, AgentReading>) {
        self.table.set_agents(agents);
        let now = self.clock.now_seconds();
        for agent in agents {
            if let Some(reading) = readings.get(&agent.id) {
                let AgentReading { routing, presence } = reading.clone();
                (self.table).agent_read(&agent.id, routing, presence, now, false);
            }
        }
    }
}

#[cfg(test)]
mod tests;

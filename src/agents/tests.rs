use std::sync::Mutex;

use super::*;
use crate::genesys::model::{DivisionRef, PresenceRef};
use crate::queues::table::{QueueSeries, QueueTable};
use crate::vocabulary::labels::MediaType;
use crate::vocabulary::presence::Presence;

const ON_QUEUE: &str = "aaaaaaaa-0000-0000-0000-000000000001";
const LUNCH: &str = "aaaaaaaa-0000-0000-0000-000000000002";

fn agents_of(ids: &[(&str, &[&str])]) -> (Agents, Arc<Metrics>) {
    let metrics = Arc::new(Metrics::new());
    let queues = QueueTable::register(&metrics, QueueSeries::new(vec![MediaType::Voice]));
    let table = AgentTable::register(&metrics, Default::default(), queues);
    metrics.presences().set(&[
        Presence::new(ON_QUEUE, "On Queue", SystemPresence::OnQueue),
        Presence::new(LUNCH, "Lunch", SystemPresence::Meal),
    ]);
    let labels: Vec<AgentLabels> = (ids.iter())
        .map(|(id, queues)| AgentLabels {
            id: (*id).to_owned(),
            name: format!("Agent {id}"),
            queue_ids: queues.iter().map(|q| (*q).to_owned()).collect(),
            ..AgentLabels::default()
        })
        .collect();
    table.set_agents(&labels);
    (Agents::new(&metrics, table, Clock::system()), metrics)
}

fn event(
    id: &str,
    status: &str,
    status_at: &str,
    presence: &str,
    presence_at: &str,
) -> UserActivityEvent {
    UserActivityEvent {
        id: id.to_owned(),
        routing_status: Some(UserRoutingStatus {
            user_id: None,
            status: status.to_owned(),
            start_time: Some(status_at.to_owned()),
        }),
        presence: Some(UserPresence {
            presence_definition: PresenceRef {
                id: presence.to_owned(),
                system_presence: if presence == LUNCH {
                    "MEAL"
                } else {
                    "ON_QUEUE"
                }
                .to_owned(),
            },
            modified_date: Some(presence_at.to_owned()),
        }),
        active_queue_ids: None,
    }
}

const T0: &str = "2026-12-03T09:00:00.000Z";
const T1: &str = "2026-12-03T09:05:00.000Z";
const T2: &str = "2026-12-03T09:10:00.000Z";

fn seconds_of(text: &str) -> f64 {
    seconds(Some(text)).unwrap()
}

#[test]
fn an_event_older_than_the_state_held_is_skipped_and_a_newer_one_wins() {
    let (agents, _) = agents_of(&[("u1", &[])]);
    let now = 1_800_000_000_000;
    assert_eq!(
        agents.apply_event(&event("u1", "IDLE", T1, ON_QUEUE, T1), now),
        Applied::Current
    );
    assert_eq!(
        agents.apply_event(&event("u1", "INTERACTING", T0, LUNCH, T0), now),
        Applied::Older
    );
    let (routing, presence) = agents.table().agent_state("u1").unwrap();
    assert_eq!(
        (routing.status, routing.since),
        (RoutingStatus::Idle, seconds_of(T1))
    );
    assert_eq!(presence.presence_id, ON_QUEUE);
    agents.apply_event(&event("u1", "OFF_QUEUE", T2, LUNCH, T2), now);
    let (routing, presence) = agents.table().agent_state("u1").unwrap();
    assert_eq!(
        (routing.status, presence.system),
        (RoutingStatus::OffQueue, SystemPresence::Meal)
    );
    assert_eq!(
        agents.apply_event(&event("u9", "IDLE", T2, LUNCH, T2), now),
        Applied::Unwatched
    );
}

#[test]
fn the_state_sets_show_exactly_one_value_and_the_presence_its_label() {
    let (agents, metrics) = agents_of(&[("u1", &[])]);
    agents.apply_event(&event("u1", "IDLE", T1, LUNCH, T0), 1_800_000_000_000);
    let text = metrics.render(1_800_000_000_000);
    let lines = |name: &str| -> Vec<&str> {
        text.lines()
            .filter(|l| l.starts_with(&format!("{name}{{")))
            .collect()
    };
    let routing = lines("genesys_agent_routing_status");
    assert_eq!(routing.len(), 5);
    assert_eq!(
        routing
            .iter()
            .filter(|l| l.ends_with(" 1"))
            .collect::<Vec<_>>(),
        [&r#"genesys_agent_routing_status{routing_status="IDLE",user_id="u1"} 1"#]
    );
    let systems = lines("genesys_agent_system_presence");
    assert_eq!(systems.len(), 10);
    assert_eq!(systems.iter().filter(|l| l.ends_with(" 1")).count(), 1);
    assert_eq!(
        lines("genesys_agent_presence_info"),
        [r#"genesys_agent_presence_info{presence="Lunch",system_presence="MEAL",user_id="u1"} 1"#]
    );
    assert_eq!(
        lines("genesys_agent_presence_since_timestamp_seconds"),
        [format!(
            "genesys_agent_presence_since_timestamp_seconds{{user_id=\"u1\"}} {}",
            seconds_of(T0)
        )]
    );
}

/// A scripted Genesys for resyncs: the activity query lists `listed`, the users listing
/// answers `users`; both record what they were asked.
#[derive(Default)]
struct Script {
    listed: Vec<ActivityEntity>,
    users: Vec<User>,
    fail: bool,
    asked_queues: Mutex<Vec<Vec<String>>>,
    asked_users: Mutex<Vec<Vec<String>>>,
}

impl AgentSource for Script {
    fn query_routing_activity(
        &self,
        queue_ids: &[String],
    ) -> impl Future<Output = Result<Vec<RoutingActivityData>, ApiError>> + Send {
        self.asked_queues.lock().unwrap().push(queue_ids.to_vec());
        let result = match self.fail {
            true => Err(ApiError::Status {
                endpoint: "routing_activity",
                status: 503,
                message: "scripted".into(),
                correlation_id: "c".into(),
            }),
            false => Ok(vec![RoutingActivityData {
                entities: self.listed.clone(),
                ..RoutingActivityData::default()
            }]),
        };
        async move { result }
    }

    fn users_by_id(
        &self,
        ids: &[String],
    ) -> impl Future<Output = Result<Vec<User>, ApiError>> + Send {
        self.asked_users.lock().unwrap().push(ids.to_vec());
        let users = (self.users.iter())
            .filter(|u| ids.contains(&u.id))
            .cloned()
            .collect();
        async move { Ok(users) }
    }
}

fn entity(id: &str, status: &str, at: &str) -> ActivityEntity {
    ActivityEntity {
        user_id: id.to_owned(),
        routing_status: Some(status.to_owned()),
        routing_status_date: Some(at.to_owned()),
        organization_presence_id: Some(ON_QUEUE.to_owned()),
        system_presence: Some("ON_QUEUE".to_owned()),
        presence_date: Some(at.to_owned()),
        ..ActivityEntity::default()
    }
}

fn user(id: &str, expanded: bool) -> User {
    User {
        id: id.to_owned(),
        name: id.to_owned(),
        division: Some(DivisionRef::default()),
        routing_status: expanded.then(|| UserRoutingStatus {
            user_id: None,
            status: "IDLE".to_owned(),
            start_time: Some(T2.to_owned()),
        }),
        presence: Some(UserPresence {
            presence_definition: PresenceRef {
                id: LUNCH.to_owned(),
                system_presence: "Meal".to_owned(),
            },
            modified_date: Some(T2.to_owned()),
        }),
        ..User::default()
    }
}

#[tokio::test]
async fn a_resync_reads_queue_members_once_and_everyone_else_through_the_users_listing() {
    let (agents, _) = agents_of(&[
        ("m1", &["q1"]),
        ("m2", &["q1", "q2"]),
        ("lone", &[]),
        ("half", &[]),
    ]);
    let script = Script {
        listed: vec![entity("m1", "IDLE", T1), entity("m2", "INTERACTING", T1)],
        users: vec![user("lone", true), user("half", false)],
        ..Script::default()
    };
    let ids: Vec<String> = ["m1", "m2", "lone", "half"].map(String::from).to_vec();
    agents.resync(&ids, &script).await.unwrap();
    assert_eq!(
        *script.asked_queues.lock().unwrap(),
        [vec!["q1".to_owned(), "q2".to_owned()]]
    );
    assert_eq!(
        *script.asked_users.lock().unwrap(),
        [vec!["lone".to_owned(), "half".to_owned()]]
    );
    assert_eq!(
        agents.table().agent_state("m2").unwrap().0.status,
        RoutingStatus::Interacting
    );
    assert_eq!(
        agents.table().agent_state("lone").unwrap().1.system,
        SystemPresence::Meal
    );
    // NB: `expand` is best effort: a user without its routing status stays stale.
    assert_eq!(agents.table().agents_stale(&ids), ["half"]);
}

#[tokio::test]
async fn a_failed_resync_marks_its_agents_stale_until_one_succeeds() {
    let (agents, _) = agents_of(&[("m1", &["q1"])]);
    let ids = vec!["m1".to_owned()];
    let failing = Script {
        fail: true,
        ..Script::default()
    };
    assert!(agents.resync(&ids, &failing).await.is_err());
    assert_eq!(agents.table().agents_stale(&ids), ids);
    let working = Script {
        listed: vec![entity("m1", "IDLE", T1)],
        ..Script::default()
    };
    agents.resync(&ids, &working).await.unwrap();
    assert!(agents.table().agents_stale(&ids).is_empty());
}

//! The agent series as a scrape shows them: what a stale agent, names turned off, queue
//! membership, an unknown presence and an agent that leaves do to them.

use std::ops::Deref;
use std::sync::Arc;

use super::AgentTable;
use crate::metrics::Metrics;
use crate::queues::table::{QueueSeries, QueueTable};
use crate::vocabulary::agent::{AgentExport, AgentLabels, PresenceState, RoutingState};
use crate::vocabulary::labels::{MediaType, RoutingStatus, SystemPresence};
use crate::vocabulary::presence::Presence;
use crate::vocabulary::queue::{QueueLabels, StaleGauges, StalePolicy};

const LUNCH: &str = "p-lunch";

/// A store with a queue table and the agents' table, which labels agents' queues by it.
struct Store {
    metrics: Metrics,
    agents: Arc<AgentTable>,
}

impl Deref for Store {
    type Target = AgentTable;

    fn deref(&self) -> &AgentTable {
        &self.agents
    }
}

impl Store {
    fn render(&self, now_ms: i64) -> String {
        self.metrics.render(now_ms)
    }
}

fn store(export: AgentExport, gauges: StaleGauges) -> Store {
    let metrics = Metrics::new().with_stale_policy(StalePolicy {
        bound_seconds: None,
        gauges,
    });
    let queues = QueueTable::register(&metrics, QueueSeries::new(vec![MediaType::Voice]));
    let agents = AgentTable::register(&metrics, export, queues.clone());
    queues.set_queues(&[QueueLabels {
        id: "q1".into(),
        name: "Billing".into(),
        division: "Home".into(),
    }]);
    metrics
        .presences()
        .set(&[Presence::new(LUNCH, "Lunch", SystemPresence::Meal)]);
    agents.set_agents(&[AgentLabels {
        id: "u1".into(),
        name: "Ann \"A\" Lee".into(),
        division_id: "d1".into(),
        division: "Home".into(),
        queue_ids: vec!["q1".into()],
    }]);
    Store { metrics, agents }
}

fn read(metrics: &Store, presence_id: &str) {
    let routing = RoutingState {
        status: RoutingStatus::Idle,
        since: 1_000.0,
    };
    let presence = PresenceState {
        presence_id: presence_id.into(),
        system: SystemPresence::Meal,
        since: 900.5,
    };
    metrics.agent_read("u1", Some(routing), Some(presence), 1_010.0, true);
}

fn lines(text: &str, family: &str) -> Vec<String> {
    let prefix = format!("{family}{{");
    text.lines()
        .filter(|l| l.starts_with(&prefix))
        .map(str::to_owned)
        .collect()
}

#[test]
fn an_agent_read_whole_shows_every_series_with_its_labels_escaped() {
    let export = AgentExport {
        names: true,
        queue_membership: true,
        ..AgentExport::default()
    };
    let metrics = store(export, StaleGauges::Keep);
    read(&metrics, LUNCH);
    let text = metrics.render(1_020_000);
    assert_eq!(
        lines(&text, "genesys_agent_info"),
        [
            r#"genesys_agent_info{division="Home",division_id="d1",name="Ann \"A\" Lee",user_id="u1"} 1"#
        ]
    );
    assert_eq!(
        lines(&text, "genesys_agent_queue_member"),
        [r#"genesys_agent_queue_member{queue="Billing",queue_id="q1",user_id="u1"} 1"#]
    );
    assert_eq!(
        lines(&text, "genesys_agent_presence_since_timestamp_seconds"),
        [r#"genesys_agent_presence_since_timestamp_seconds{user_id="u1"} 900.5"#]
    );
    assert_eq!(
        lines(&text, "genesys_agent_observation_timestamp_seconds"),
        [r#"genesys_agent_observation_timestamp_seconds{user_id="u1"} 1010"#]
    );
    assert_eq!(
        lines(&text, "genesys_exporter_agent_stale"),
        [r#"genesys_exporter_agent_stale{user_id="u1"} 0"#]
    );
    let per_agent = text
        .lines()
        .filter(|l| l.contains(r#"user_id="u1""#))
        .count();
    assert_eq!(
        per_agent,
        21 + 1,
        "21 series per agent, and one per queue it is a member of"
    );
}

#[test]
fn names_off_leaves_the_name_out_and_membership_off_leaves_out_the_queues() {
    let export = AgentExport {
        names: false,
        queue_membership: false,
        ..AgentExport::default()
    };
    let metrics = store(export, StaleGauges::Keep);
    read(&metrics, LUNCH);
    let text = metrics.render(1_020_000);
    assert_eq!(
        lines(&text, "genesys_agent_info"),
        [r#"genesys_agent_info{division="Home",division_id="d1",user_id="u1"} 1"#]
    );
    assert!(lines(&text, "genesys_agent_queue_member").is_empty());
    assert!(!text.contains("Ann"), "no name anywhere");
}

#[test]
fn a_presence_the_org_does_not_define_keeps_its_system_presence_but_no_label() {
    let metrics = store(AgentExport::default(), StaleGauges::Keep);
    read(&metrics, "p-unknown");
    let text = metrics.render(1_020_000);
    assert!(lines(&text, "genesys_agent_presence_info").is_empty());
    let meal = lines(&text, "genesys_agent_system_presence");
    assert!(meal.contains(
        &r#"genesys_agent_system_presence{system_presence="MEAL",user_id="u1"} 1"#.to_owned()
    ));
}

#[test]
fn a_stale_agent_hides_its_state_under_remove_and_an_agent_that_leaves_takes_its_series() {
    let metrics = store(AgentExport::default(), StaleGauges::Remove);
    read(&metrics, LUNCH);
    metrics.set_agent_stale("u1");
    let text = metrics.render(1_020_000);
    for family in [
        "genesys_agent_routing_status",
        "genesys_agent_system_presence",
        "genesys_agent_presence_info",
        "genesys_agent_routing_status_since_timestamp_seconds",
    ] {
        assert!(
            lines(&text, family).is_empty(),
            "{family} hidden while stale"
        );
    }
    assert_eq!(
        lines(&text, "genesys_exporter_agent_stale"),
        [r#"genesys_exporter_agent_stale{user_id="u1"} 1"#]
    );
    assert_eq!(
        lines(&text, "genesys_agent_info").len(),
        1,
        "who it is stays"
    );

    read(&metrics, LUNCH);
    assert_eq!(
        lines(&metrics.render(1_020_000), "genesys_agent_routing_status").len(),
        5
    );
    metrics.set_agents(&[]);
    assert!(
        !metrics.render(1_020_000).contains("user_id="),
        "the agent's series left with it"
    );
}

//! Agents' time in status through the ledger: what a user's buckets do to the counters, which
//! qualifiers become series, and a restart resuming them from the state file.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::*;
use crate::agents::table::AgentTable;
use crate::aggregates::ledger::Ledger;
use crate::aggregates::state::{Identity, StateStore};
use crate::aggregates::test_support::sample;
use crate::genesys::time::parse_instant;
use crate::metrics::Metrics;
use crate::queues::table::{QueueSeries, QueueTable};
use crate::vocabulary::agent::AgentExport;
use crate::vocabulary::agent::AgentLabels;
use crate::vocabulary::labels::{MediaType, SystemPresence};
use crate::vocabulary::presence::Presence;

const HALF_HOUR: Duration = Duration::from_secs(1800);
const B0930: &str = "2026-11-25T09:30:00.000Z/2026-11-25T10:00:00.000Z";
const B1000: &str = "2026-11-25T10:00:00.000Z/2026-11-25T10:30:00.000Z";

fn export(organization_presence_time: bool) -> AgentExport {
    AgentExport {
        time_in_status: true,
        organization_presence_time,
        ..AgentExport::default()
    }
}

/// The counters `export` counts, as `app` gives them to the ledger.
fn times(organization_presence_time: bool) -> Vec<AgentTime> {
    export(organization_presence_time).times().to_vec()
}

/// A store with the agents' table, read as the store it is.
struct Store {
    metrics: Metrics,
    agents: Arc<AgentTable>,
}

impl std::ops::Deref for Store {
    type Target = Metrics;

    fn deref(&self) -> &Metrics {
        &self.metrics
    }
}

impl Store {
    /// What `Totals` is built on.
    fn shelf(&self) -> (&Metrics, Arc<AgentTable>) {
        (&self.metrics, self.agents.clone())
    }
}

fn metrics(organization_presence_time: bool) -> Store {
    let export = export(organization_presence_time);
    let metrics = Metrics::new();
    let queues = QueueTable::register(&metrics, QueueSeries::new(vec![MediaType::Voice]));
    let agents = AgentTable::register(&metrics, export, queues);
    metrics
        .presences()
        .set(&[Presence::new("p-lunch", "Lunch", SystemPresence::Meal)]);
    agents.set_agents(&[AgentLabels {
        id: "u1".into(),
        name: "Ann".into(),
        division_id: "d1".into(),
        division: "Home".into(),
        queue_ids: Vec::new(),
    }]);
    Store { metrics, agents }
}

fn totals(store: &Store, organization_presence_time: bool) -> AgentTimeTotals {
    let times = times(organization_presence_time);
    let (metrics, agents) = store.shelf();
    let totals = AgentTimeTotals::new(metrics, agents, HALF_HOUR, times);
    totals.watch(&["u1".into()], DateTime::<Utc>::MIN_UTC);
    totals
}

/// One bucket of `user` with (metric, qualifier, milliseconds) entries.
fn container(
    user: &str,
    interval: &str,
    entries: &[(&str, &str, f64)],
) -> UserAggregateDataContainer {
    let metrics: Vec<String> = entries
        .iter()
        .map(|(metric, qualifier, ms)| {
            format!(r#"{{"metric":"{metric}","qualifier":"{qualifier}","stats":{{"sum":{ms}}}}}"#)
        })
        .collect();
    let json = format!(
        r#"{{"group":{{"userId":"{user}"}},"data":[{{"interval":"{interval}","metrics":[{}]}}]}}"#,
        metrics.join(",")
    );
    serde_json::from_str(&json).unwrap()
}

const IDLE: &str =
    r#"genesys_agent_routing_status_seconds_total{routing_status="IDLE",user_id="u1"}"#;
const BREAK: &str =
    r#"genesys_agent_system_presence_seconds_total{system_presence="BREAK",user_id="u1"}"#;
const LUNCH: &str =
    r#"genesys_agent_presence_seconds_total{presence="Lunch",system_presence="MEAL",user_id="u1"}"#;

#[test]
fn buckets_become_seconds_per_status_and_revisions_add_only_their_difference() {
    let metrics = metrics(false);
    let totals = totals(&metrics, false);
    let first = container("u1", B0930, &[("tAgentRoutingStatus", "IDLE", 90_000.0)]);
    assert_eq!(totals.fold_user(&first), 1);
    assert_eq!(sample(&metrics, IDLE), Some(90.0));
    let revised = container(
        "u1",
        B0930,
        &[
            ("tAgentRoutingStatus", "IDLE", 120_000.0),
            ("tSystemPresence", "BREAK", 60_000.0),
        ],
    );
    assert_eq!(totals.fold_user(&revised), 2);
    let next = container("u1", B1000, &[("tAgentRoutingStatus", "IDLE", 5_000.0)]);
    totals.fold_user(&next);
    assert_eq!(sample(&metrics, IDLE), Some(125.0));
    assert_eq!(sample(&metrics, BREAK), Some(60.0));
    assert_eq!(totals.fold_user(&revised), 0, "a repeat owes nothing");
}

#[test]
fn qualifiers_outside_the_labels_other_users_and_uncounted_metrics_make_no_series() {
    let metrics = metrics(false);
    let totals = totals(&metrics, false);
    let entries = [
        ("tAgentRoutingStatus", "DANCING", 1_000.0),
        ("tSystemPresence", "Lunch", 1_000.0),
        ("tOrganizationPresence", "p-lunch", 1_000.0),
        ("tHandle", "IDLE", 1_000.0),
    ];
    assert_eq!(totals.fold_user(&container("u1", B0930, &entries)), 0);
    assert_eq!(totals.fold_user(&container("u2", B0930, &[entries[0]])), 0);
    let text = metrics.render(0);
    assert!(!text.contains("seconds_total{"), "{text}");
}

#[test]
fn the_orgs_presences_count_when_asked_for_and_only_known_definitions() {
    let metrics = metrics(true);
    let totals = totals(&metrics, true);
    let entries = [
        ("tOrganizationPresence", "p-lunch", 30_000.0),
        ("tOrganizationPresence", "p-unknown", 30_000.0),
    ];
    assert_eq!(totals.fold_user(&container("u1", B0930, &entries)), 1);
    assert_eq!(sample(&metrics, LUNCH), Some(30.0));
}

#[test]
fn a_restart_resumes_every_series_from_the_state_file() {
    let dir = tempfile::tempdir().unwrap();
    let now = parse_instant("2026-11-25T10:10:00.000Z").unwrap();
    let store = || {
        let identity = Identity::new("c", "http://api", HALF_HOUR, &AgentTime::ALL[..2]);
        StateStore::open_file(dir.path(), STATE_FILE, identity, HALF_HOUR * 4).unwrap()
    };
    let first_metrics = metrics(false);
    let first =
        AgentTimeTotals::with_store(first_metrics.shelf(), HALF_HOUR, times(false), store(), now);
    first.watch(&["u1".into()], DateTime::<Utc>::MIN_UTC);
    first.fold_user(&container(
        "u1",
        B0930,
        &[("tAgentRoutingStatus", "IDLE", 90_000.0)],
    ));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    first_metrics.render(0);
    runtime.block_on(first.save(now));
    assert_eq!(sample(&first_metrics, IDLE), Some(90.0));
    runtime.block_on(first.save(now));
    let text = std::fs::read_to_string(dir.path().join(STATE_FILE)).unwrap();
    assert!(text.contains(r#""agents":{"u1""#), "{text}");
    assert!(text.contains(r#""groups":[["tAgentRoutingStatus","IDLE"]]"#));

    let second_metrics = metrics(false);
    let second = AgentTimeTotals::with_store(
        second_metrics.shelf(),
        HALF_HOUR,
        times(false),
        store(),
        now,
    );
    second.watch(&["u1".into()], now);
    assert_eq!(
        sample(&second_metrics, IDLE),
        Some(90.0),
        "resumed, not reset"
    );
    let more = container("u1", B0930, &[("tAgentRoutingStatus", "IDLE", 100_000.0)]);
    assert_eq!(
        second.fold_user(&more),
        1,
        "what the first saw is not counted again"
    );
    second_metrics.render(0);
    runtime.block_on(second.save(now));
    assert_eq!(sample(&second_metrics, IDLE), Some(100.0));
}

#[test]
fn a_state_naming_a_metric_or_qualifier_no_series_has_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let now = parse_instant("2026-11-25T10:10:00.000Z").unwrap();
    let counted = &AgentTime::ALL[..2];
    let identity = Identity::new("c", "http://api", HALF_HOUR, counted);
    let store = StateStore::open_file(dir.path(), STATE_FILE, identity, HALF_HOUR * 4).unwrap();
    let (metrics, times) = (metrics(false), times(false));
    let totals = AgentTimeTotals::with_store(metrics.shelf(), HALF_HOUR, times, store.clone(), now);
    totals.watch(&["u1".into()], DateTime::<Utc>::MIN_UTC);
    totals.fold_user(&container(
        "u1",
        B0930,
        &[("tAgentRoutingStatus", "IDLE", 90_000.0)],
    ));
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(totals.save(now));
    let text = std::fs::read_to_string(store.path()).unwrap();
    let load = |text: &str| {
        std::fs::write(store.path(), text).unwrap();
        let mut ledger = Ledger::new(HALF_HOUR, counted.to_vec());
        store.load_into(&mut ledger, now)
    };
    assert!(load(&text).is_ok());
    let group = r#"["tAgentRoutingStatus","IDLE"]"#;
    for (other, why) in [
        (
            r#"["tHandle","IDLE"]"#,
            "unknown metric tHandle qualifier IDLE",
        ),
        (
            r#"["tAgentRoutingStatus",null]"#,
            "unknown metric tAgentRoutingStatus",
        ),
    ] {
        let error = load(&text.replace(group, other)).unwrap_err();
        assert_eq!(error.as_str(), "corrupt", "{error}");
        assert!(error.to_string().contains(why), "{error} (expected: {why})");
    }
}

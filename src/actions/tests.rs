//! The data actions' counters through the ledger: each response a series of executions and of
//! time, other groups none, and the selection of actions.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::counters::{ActionCounter, ActionTotals};
use super::table::{ActionLabels, ActionTable};
use super::*;
use crate::aggregates::test_support::sample;
use crate::genesys::model::KeyedAggregateDataContainer;
use crate::metrics::Metrics;

const B0930: &str = "2026-11-25T09:30:00.000Z/2026-11-25T10:00:00.000Z";

fn store() -> (Metrics, Arc<ActionTable>, ActionTotals) {
    let metrics = Metrics::new();
    let table = ActionTable::register(&metrics);
    table.set_actions(&[ActionLabels {
        id: "a1".into(),
        name: "Take payment".into(),
        integration_id: "i1".into(),
        category: "Payments gateway".into(),
    }]);
    let half_hour = Duration::from_secs(1800);
    let totals = ActionTotals::new(
        &metrics,
        table.clone(),
        half_hour,
        ActionCounter::ALL.to_vec(),
    );
    totals.watch(&["a1".into()], DateTime::<Utc>::MIN_UTC);
    (metrics, table, totals)
}

fn group(dimensions: &[(&str, &str)], count: u64, sum: f64) -> KeyedAggregateDataContainer {
    let group: serde_json::Map<String, serde_json::Value> = (dimensions.iter())
        .map(|(k, v)| ((*k).to_owned(), (*v).into()))
        .collect();
    let metrics = serde_json::json!([{"metric": "tTotalExecution",
        "stats": {"count": count, "sum": sum}}]);
    let data = serde_json::json!([{"interval": B0930, "metrics": metrics}]);
    serde_json::from_value(serde_json::json!({"group": group, "data": data})).unwrap()
}

#[test]
fn each_response_is_a_series_of_executions_and_of_their_time() {
    let (metrics, _table, totals) = store();
    let ok = group(
        &[("actionId", "a1"), ("responseStatus", "200")],
        40,
        8_000.0,
    );
    let timeouts = [
        ("actionId", "a1"),
        ("responseStatus", "504"),
        ("errorType", "TIMEOUT"),
    ];
    let failed = group(&timeouts, 3, 90_000.0);
    assert_eq!(totals.fold_group(&ok) + totals.fold_group(&failed), 4);
    let series = [
        (
            r#"genesys_action_executions_total{action_id="a1",response_status="200"}"#,
            40.0,
        ),
        (
            r#"genesys_action_execution_seconds_total{action_id="a1",response_status="200"}"#,
            8.0,
        ),
        (
            r#"genesys_action_executions_total{action_id="a1",error_type="TIMEOUT",response_status="504"}"#,
            3.0,
        ),
        (
            r#"genesys_action_info{action="Take payment",action_id="a1",category="Payments gateway",integration_id="i1"}"#,
            1.0,
        ),
    ];
    for (name, value) in series {
        assert_eq!(sample(&metrics, name), Some(value), "{name}");
    }
    assert_eq!(totals.fold_group(&failed), 0, "a repeat owes nothing");
    let other = group(&[("actionId", "a2"), ("responseStatus", "200")], 5, 1.0);
    let no_status = group(&[("actionId", "a1")], 5, 1.0);
    assert_eq!(totals.fold_group(&other) + totals.fold_group(&no_status), 0);
}

#[test]
fn an_action_is_watched_by_its_name() {
    let (_, table, _) = store();
    let actions = Actions::new(table, vec!["Take *".into()], 2);
    let action = |name: &str| Action {
        name: name.into(),
        ..Action::default()
    };
    assert!(actions.admits(&action("Take payment")));
    assert!(!actions.admits(&action("Look up account")));
}

//! The flows' counters through the ledger: what a flow's groups do to its series, which
//! groups make none, and the selection of flows.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::counters::{FlowCounter, FlowTotals};
use super::table::{FlowLabels, FlowTable};
use super::*;
use crate::aggregates::test_support::sample;
use crate::genesys::model::KeyedAggregateDataContainer;
use crate::metrics::Metrics;

const HALF_HOUR: Duration = Duration::from_secs(1800);
const B0930: &str = "2026-11-25T09:30:00.000Z/2026-11-25T10:00:00.000Z";

fn store() -> (Metrics, Arc<FlowTable>) {
    let metrics = Metrics::new();
    let table = FlowTable::register(&metrics, vec!["INBOUNDCALL".into()], true);
    let flow = FlowLabels {
        id: "f1".into(),
        name: "Main menu".into(),
        flow_type: "INBOUNDCALL".into(),
    };
    let names = FlowNames {
        outcomes: HashMap::from([("o1".to_owned(), "Caller identified".to_owned())]),
        milestones: HashMap::from([("m1".to_owned(), "Menu choice made".to_owned())]),
    };
    table.set_flows(&[flow], names);
    (metrics, table)
}

fn totals(metrics: &Metrics, table: &Arc<FlowTable>) -> FlowTotals {
    let totals = FlowTotals::new(metrics, table.clone(), HALF_HOUR, FlowCounter::ALL.to_vec());
    totals.watch(&["f1".into()], DateTime::<Utc>::MIN_UTC);
    totals
}

/// One bucket of a group (dimension, value pairs, flowId first) with (metric, count, sum).
fn group(dimensions: &[(&str, &str)], entries: &[(&str, u64, f64)]) -> KeyedAggregateDataContainer {
    let group: serde_json::Map<String, serde_json::Value> = (dimensions.iter())
        .map(|(k, v)| ((*k).to_owned(), (*v).into()))
        .collect();
    let metrics: Vec<serde_json::Value> = (entries.iter())
        .map(|(metric, count, sum)| {
            serde_json::json!({"metric": metric, "stats": {"count": count, "sum": sum}})
        })
        .collect();
    let data = serde_json::json!([{"interval": B0930, "metrics": metrics}]);
    serde_json::from_value(serde_json::json!({"group": group, "data": data})).unwrap()
}

#[test]
fn entries_time_exits_disconnects_and_outcomes_become_their_series() {
    let (metrics, table) = store();
    let totals = totals(&metrics, &table);
    let flow = ("flowId", "f1");
    let groups = [
        group(&[flow], &[("nFlow", 10, 0.0), ("tFlow", 8, 240_000.0)]),
        group(
            &[flow, ("exitReason", "TRANSFER"), ("transferType", "ACD")],
            &[("tFlowExit", 5, 100_000.0)],
        ),
        group(
            &[flow, ("exitReason", "DISCONNECT")],
            &[("tFlowDisconnect", 3, 9.0)],
        ),
        group(
            &[
                flow,
                ("flowOutcomeId", "o1"),
                ("flowOutcomeValue", "FAILURE"),
            ],
            &[("nFlowOutcome", 2, 0.0)],
        ),
        group(
            &[flow, ("flowMilestoneId", "m1")],
            &[("nFlowMilestone", 6, 0.0)],
        ),
    ];
    let owed: usize = groups.iter().map(|g| totals.fold_group(g)).sum();
    assert_eq!(owed, 6);
    let series = [
        (r#"genesys_flow_entries_total{flow_id="f1"}"#, 10.0),
        (r#"genesys_flow_seconds_total{flow_id="f1"}"#, 240.0),
        (
            r#"genesys_flow_exits_total{exit_reason="TRANSFER",flow_id="f1",transfer_type="ACD"}"#,
            5.0,
        ),
        (
            r#"genesys_flow_disconnects_total{exit_reason="DISCONNECT",flow_id="f1"}"#,
            3.0,
        ),
        (
            r#"genesys_flow_outcomes_total{flow_id="f1",flow_outcome_id="o1",result="failure"}"#,
            2.0,
        ),
        (
            r#"genesys_flow_info{flow="Main menu",flow_id="f1",flow_type="INBOUNDCALL"}"#,
            1.0,
        ),
        (
            r#"genesys_flow_outcome_info{flow_outcome="Caller identified",flow_outcome_id="o1"}"#,
            1.0,
        ),
        (
            r#"genesys_flow_milestones_total{flow_id="f1",flow_milestone_id="m1"}"#,
            6.0,
        ),
        (
            r#"genesys_flow_milestone_info{flow_milestone="Menu choice made",flow_milestone_id="m1"}"#,
            1.0,
        ),
    ];
    for (name, value) in series {
        assert_eq!(sample(&metrics, name), Some(value), "{name}");
    }
    assert_eq!(totals.fold_group(&groups[1]), 0, "a repeat owes nothing");
}

#[test]
fn groups_of_other_flows_without_their_dimension_or_of_unknown_values_make_no_series() {
    let (metrics, table) = store();
    let totals = totals(&metrics, &table);
    let groups = [
        group(&[("flowId", "f2")], &[("nFlow", 4, 0.0)]),
        group(&[("flowId", "f1")], &[("tFlowExit", 4, 1.0)]),
        group(
            &[
                ("flowId", "f1"),
                ("flowOutcomeId", "o1"),
                ("flowOutcomeValue", "UNKNOWN"),
            ],
            &[("nFlowOutcome", 1, 0.0)],
        ),
        group(&[("flowId", "f1")], &[("nOffered", 4, 0.0)]),
    ];
    let owed: usize = groups.iter().map(|g| totals.fold_group(g)).sum();
    assert_eq!(owed, 0);
    let text = metrics.render(0);
    assert!(!text.contains("_total{flow_id"), "{text}");
}

#[test]
fn a_flow_is_watched_by_its_type_and_name() {
    let (_, table) = store();
    let flows = Flows::new(table, vec!["Main*".into()], 2);
    let flow = |name: &str, flow_type: &str| Flow {
        id: "x".into(),
        name: name.into(),
        flow_type: flow_type.into(),
        ..Flow::default()
    };
    assert!(flows.admits(&flow("Main menu", "INBOUNDCALL")));
    assert!(!flows.admits(&flow("Main menu", "INQUEUECALL")));
    assert!(!flows.admits(&flow("Billing", "INBOUNDCALL")));
}

#[test]
fn a_restart_resumes_every_series_from_the_flows_state_file() {
    use crate::aggregates::state::{Identity, StateStore};
    let dir = tempfile::tempdir().unwrap();
    let now = crate::genesys::time::parse_instant("2026-11-25T10:10:00.000Z").unwrap();
    let state = || {
        let identity = Identity::new("c", "http://api", HALF_HOUR, &FlowCounter::ALL);
        let file = super::counters::STATE_FILE;
        StateStore::open_file(dir.path(), file, identity, HALF_HOUR * 4).unwrap()
    };
    let counters = || FlowCounter::ALL.to_vec();
    let exits = |n| {
        let flow = [
            ("flowId", "f1"),
            ("exitReason", "TRANSFER"),
            ("transferType", "ACD"),
        ];
        group(&flow, &[("tFlowExit", n, 1.0)])
    };
    const EXITS: &str =
        r#"genesys_flow_exits_total{exit_reason="TRANSFER",flow_id="f1",transfer_type="ACD"}"#;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();

    let (first_metrics, first_table) = store();
    let first = FlowTotals::with_store(
        (&first_metrics, first_table),
        HALF_HOUR,
        counters(),
        state(),
        now,
    );
    first.watch(&["f1".into()], DateTime::<Utc>::MIN_UTC);
    first.fold_group(&exits(5));
    first_metrics.render(0);
    runtime.block_on(first.save(now));
    assert_eq!(sample(&first_metrics, EXITS), Some(5.0));
    runtime.block_on(first.save(now));
    let text = std::fs::read_to_string(dir.path().join(super::counters::STATE_FILE)).unwrap();
    assert!(text.contains(r#""flows":{"f1""#), "{text}");

    let (second_metrics, second_table) = store();
    let second = FlowTotals::with_store(
        (&second_metrics, second_table),
        HALF_HOUR,
        counters(),
        state(),
        now,
    );
    second.watch(&["f1".into()], now);
    assert_eq!(
        sample(&second_metrics, EXITS),
        Some(5.0),
        "resumed, not reset"
    );
    assert_eq!(
        second.fold_group(&exits(7)),
        1,
        "what the first saw is not counted again"
    );
    second_metrics.render(0);
    runtime.block_on(second.save(now));
    assert_eq!(sample(&second_metrics, EXITS), Some(7.0));
}

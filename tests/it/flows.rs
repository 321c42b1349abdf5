//! IVR flows and data actions (docs/operations.md#ivr-flows, docs/operations.md#data-actions)
//! against the simulator: with `flows.enabled` and `actions.enabled`, every flow of the watched
//! types and every data action is exported with its names, and their counters (a flow's
//! entries, time, exits, disconnects and outcomes; an action's executions and their time by
//! response) equal the ground truth of what happened since the exporter took its baseline.

use std::collections::BTreeMap;

use crate::common;

use common::{Harness, eventually};
use genesys_exporter::sim::SimConfig;
use serde_json::Value;

/// (name, labels) → value.
type Series = BTreeMap<(String, Vec<(String, String)>), f64>;

/// Each series the truth says a flow or an action should show since `baseline`.
fn wanted(truth: &Value, baseline: &Value) -> Series {
    let mut want = BTreeMap::new();
    for (side, sign) in [(truth, 1.0), (baseline, -1.0)] {
        for flow in side["flows"]["flows"].as_array().unwrap() {
            let id = flow["flow"]["id"].as_str().unwrap();
            let measured =
                ["INBOUNDCALL", "INBOUNDCHAT"].contains(&flow["flow"]["type"].as_str().unwrap());
            if !measured {
                continue;
            }
            for group in flow["groups"].as_array().unwrap() {
                let dims = &group["group"];
                let text = |k: &str| dims[k].as_str().unwrap_or("").to_owned();
                let metrics = &group["metrics"];
                let own = ("flow_id".to_owned(), id.to_owned());
                let mut add = |name: &str, labels: Vec<(String, String)>, value: f64| {
                    let mut labels: Vec<(String, String)> =
                        labels.into_iter().filter(|(_, v)| !v.is_empty()).collect();
                    labels.push(own.clone());
                    labels.sort();
                    *want.entry((name.to_owned(), labels)).or_insert(0.0) += sign * value;
                };
                let count = |m: &str| metrics[m]["count"].as_f64();
                if let Some(n) = count("nFlow") {
                    add("genesys_flow_entries_total", vec![], n);
                }
                if let Some(sum) = metrics["tFlow"]["sum"].as_f64() {
                    add("genesys_flow_seconds_total", vec![], sum / 1000.0);
                }
                let reason = ("exit_reason".to_owned(), text("exitReason"));
                if let Some(n) = count("tFlowExit") {
                    let transfer = ("transfer_type".to_owned(), text("transferType"));
                    add(
                        "genesys_flow_exits_total",
                        vec![reason.clone(), transfer],
                        n,
                    );
                }
                if let Some(n) = count("tFlowDisconnect") {
                    add("genesys_flow_disconnects_total", vec![reason], n);
                }
                if let Some(n) = count("nFlowOutcome") {
                    let result = match text("flowOutcomeValue").as_str() {
                        "SUCCESS" => "success",
                        _ => "failure",
                    };
                    let labels = vec![
                        ("flow_outcome_id".to_owned(), text("flowOutcomeId")),
                        ("result".to_owned(), result.to_owned()),
                    ];
                    add("genesys_flow_outcomes_total", labels, n);
                }
            }
        }
    }
    add_actions(&mut want, truth, baseline);
    want.retain(|_, v| v.abs() > 1e-9);
    want
}

/// Each data action's executions and their time since `baseline`, into `want`.
fn add_actions(want: &mut Series, truth: &Value, baseline: &Value) {
    for (side, sign) in [(truth, 1.0), (baseline, -1.0)] {
        for action in side["actions"].as_array().unwrap() {
            let id = action["action"]["id"].as_str().unwrap();
            for result in action["executions"].as_array().unwrap() {
                let mut labels = vec![
                    ("action_id".to_owned(), id.to_owned()),
                    (
                        "response_status".to_owned(),
                        result["responseStatus"].as_str().unwrap().to_owned(),
                    ),
                ];
                if let Some(error) = result["errorType"].as_str() {
                    labels.push(("error_type".to_owned(), error.to_owned()));
                }
                labels.sort();
                let (count, sum) = (
                    result["count"].as_f64().unwrap(),
                    result["sum"].as_f64().unwrap(),
                );
                let executions = ("genesys_action_executions_total".to_owned(), labels.clone());
                *want.entry(executions).or_insert(0.0) += sign * count;
                let seconds = ("genesys_action_execution_seconds_total".to_owned(), labels);
                *want.entry(seconds).or_insert(0.0) += sign * sum / 1000.0;
            }
        }
    }
}

fn mismatches(scrape: &common::Scrape, truth: &Value, baseline: &Value) -> Vec<String> {
    let mut wrong = Vec::new();
    for ((name, labels), want) in wanted(truth, baseline) {
        let labels: Vec<(&str, &str)> = labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let got = scrape.get(&name, &labels);
        if got.is_none_or(|got| (got - want).abs() > 1e-6) {
            wrong.push(format!(
                "{} = {got:?}, truth {want}",
                common::key(&name, &labels)
            ));
        }
    }
    wrong
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_inbound_flow_and_data_action_is_named_and_their_counters_equal_the_truth() {
    let config = SimConfig {
        start_paused: true,
        ..SimConfig::fast_for_tests(31)
    };
    let harness = Harness::start_with(config, |settings| {
        settings.flows.enabled = true;
        settings.actions.enabled = true;
    })
    .await;
    eventually("the flows' and actions' baseline polls", || async {
        let scrape = harness.scrape().await;
        let polls = ["flow", "action"].map(|what| {
            let name = format!("genesys_exporter_{what}_polls_total");
            scrape.get(&name, &[("result", "success")]).unwrap_or(0.0)
        });
        match polls {
            [flows, actions] if flows >= 1.0 && actions >= 1.0 => Ok(()),
            other => Err(format!("{other:?} polls")),
        }
    })
    .await;
    let baseline = harness.truth().await;
    harness.sim_post("/sim/traffic/resume", Value::Null).await;
    eventually("some flow traffic", || async {
        let truth = harness.truth().await;
        let entries = wanted(&truth, &baseline).len();
        if entries > 10 {
            Ok(())
        } else {
            Err(format!("{entries} series"))
        }
    })
    .await;
    harness.sim_post("/sim/traffic/pause", Value::Null).await;
    eventually("the flow counters equal the truth", || async {
        let truth = harness.truth().await;
        if truth["pendingRecords"] != 0 {
            return Err("records inside the reporting lag".to_owned());
        }
        let wrong = mismatches(&harness.scrape().await, &truth, &baseline);
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(format!("{wrong:#?}"))
        }
    })
    .await;
    let scrape = harness.scrape().await;
    let truth = harness.truth().await;
    for flow in truth["flows"]["flows"].as_array().unwrap() {
        let (id, name, kind) = (
            flow["flow"]["id"].as_str().unwrap(),
            flow["flow"]["name"].as_str().unwrap(),
            flow["flow"]["type"].as_str().unwrap(),
        );
        let info = scrape.get(
            "genesys_flow_info",
            &[("flow_id", id), ("flow", name), ("flow_type", kind)],
        );
        let inbound = kind.starts_with("INBOUND");
        assert_eq!(info, inbound.then_some(1.0), "{name} ({kind})");
    }
    for action in truth["actions"].as_array().unwrap() {
        let action = &action["action"];
        let labels =
            ["id", "name", "integrationId", "category"].map(|k| action[k].as_str().unwrap());
        let info = scrape.get(
            "genesys_action_info",
            &[
                ("action_id", labels[0]),
                ("action", labels[1]),
                ("integration_id", labels[2]),
                ("category", labels[3]),
            ],
        );
        assert_eq!(info, Some(1.0), "{action}");
    }
    for outcome in truth["flows"]["outcomes"].as_array().unwrap() {
        let (id, name) = (
            outcome["id"].as_str().unwrap(),
            outcome["name"].as_str().unwrap(),
        );
        let info = scrape.get(
            "genesys_flow_outcome_info",
            &[("flow_outcome_id", id), ("flow_outcome", name)],
        );
        assert_eq!(info, Some(1.0), "{name}");
    }
}

//! IVR flows (docs/operations.md#ivr-flows) against the simulator: with `flows.enabled`, every
//! flow of the watched types is exported with its names, and its counters (entries, time,
//! exits, disconnects, outcomes) equal the ground truth of what happened since the exporter
//! took its baseline.

use std::collections::BTreeMap;

use crate::common;

use common::{Harness, eventually};
use genesys_exporter::sim::SimConfig;
use serde_json::Value;

/// Each series the truth says a flow should show since `baseline`: (name, labels) → value.
fn wanted(truth: &Value, baseline: &Value) -> BTreeMap<(String, Vec<(String, String)>), f64> {
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
    want.retain(|_, v| v.abs() > 1e-9);
    want
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
async fn every_inbound_flow_is_named_and_its_counters_equal_the_truth() {
    let config = SimConfig {
        start_paused: true,
        ..SimConfig::fast_for_tests(31)
    };
    let harness = Harness::start_with(config, |settings| settings.flows.enabled = true).await;
    eventually("the flows' baseline poll", || async {
        let scrape = harness.scrape().await;
        let polls = scrape.get(
            "genesys_exporter_flow_polls_total",
            &[("result", "success")],
        );
        match polls {
            Some(n) if n >= 1.0 => Ok(()),
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

//! IVR flows and data actions (docs/operations.md#ivr-flows, docs/operations.md#data-actions)
//! against the simulator: with `flows.enabled` and `actions.enabled`, every flow of the watched
//! types and every data action is exported with its names, and their counters (a flow's
//! entries, time, exits, disconnects and outcomes; an action's executions and their time by
//! response) equal the ground truth of what happened since the exporter took its baseline.

use crate::common;

use common::truth::flow_and_action_series;
use common::{Harness, eventually};
use std::time::Duration;

use genesys_exporter::sim::SimConfig;
use serde_json::Value;

fn mismatches(scrape: &common::Scrape, truth: &Value, baseline: &Value) -> Vec<String> {
    mismatches_of(scrape, truth, baseline, |_| true)
}

/// The series of `picked` families that differ from the truth since `baseline`.
fn mismatches_of(
    scrape: &common::Scrape,
    truth: &Value,
    baseline: &Value,
    picked: impl Fn(&str) -> bool,
) -> Vec<String> {
    let mut wrong = Vec::new();
    for ((name, labels), want) in flow_and_action_series(truth, baseline) {
        if !picked(&name) {
            continue;
        }
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
        settings.flows.milestones = true;
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
        let entries = flow_and_action_series(&truth, &baseline).len();
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
    eventually("the conversations in each flow equal the truth", || async {
        let (truth, scrape) = (harness.truth().await, harness.scrape().await);
        let wrong: Vec<String> = (truth["flows"]["flows"].as_array().unwrap().iter())
            .filter(|flow| {
                flow["flow"]["type"]
                    .as_str()
                    .unwrap()
                    .starts_with("INBOUND")
            })
            .filter_map(|flow| {
                let id = flow["flow"]["id"].as_str().unwrap();
                let got = scrape.get("genesys_flow_conversations", &[("flow_id", id)]);
                let want = flow["inFlow"].as_f64();
                (got != want).then(|| format!("{id}: {got:?}, truth {want:?}"))
            })
            .collect();
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(format!("{wrong:?}"))
        }
    })
    .await;
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
    for milestone in truth["flows"]["milestones"].as_array().unwrap() {
        let (id, name) = (
            milestone["id"].as_str().unwrap(),
            milestone["name"].as_str().unwrap(),
        );
        let labels = [("flow_milestone_id", id), ("flow_milestone", name)];
        assert_eq!(
            scrape.get("genesys_flow_milestone_info", &labels),
            Some(1.0),
            "{name}"
        );
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

/// Every flow counter the topics carry (all but the milestones, which are polled only).
fn streamed(name: &str) -> bool {
    name.starts_with("genesys_flow_") && !name.starts_with("genesys_flow_milestones")
}

/// A flow exporter polling once an hour, against a simulator whose flow topics cover
/// `interval`-wide buckets; its baseline poll done, then traffic, then paused: the truth
/// since the baseline and the harness.
async fn traffic_between_polls(interval: Duration) -> (Harness, Value) {
    let config = SimConfig {
        start_paused: true,
        flow_topic_interval: interval,
        ..SimConfig::fast_for_tests(33)
    };
    let harness = Harness::start_with(config, |settings| {
        settings.flows.enabled = true;
        settings.aggregates.poll_interval = Duration::from_secs(3600);
    })
    .await;
    eventually("the flows' baseline poll", || async {
        let scrape = harness.scrape().await;
        let polls = flow_polls(&scrape);
        (polls >= 1.0).then_some(()).ok_or(format!("{polls} polls"))
    })
    .await;
    let baseline = harness.truth().await;
    harness.sim_post("/sim/traffic/resume", Value::Null).await;
    eventually("some flow traffic", || async {
        let truth = harness.truth().await;
        let moved = flow_and_action_series(&truth, &baseline)
            .into_iter()
            .filter(|((name, _), want)| name == "genesys_flow_entries_total" && *want > 0.0)
            .count();
        (moved >= 2)
            .then_some(())
            .ok_or(format!("{moved} flows entered"))
    })
    .await;
    harness.sim_post("/sim/traffic/pause", Value::Null).await;
    (harness, baseline)
}

fn flow_polls(scrape: &common::Scrape) -> f64 {
    let polls = "genesys_exporter_flow_polls_total";
    scrape.get(polls, &[("result", "success")]).unwrap_or(0.0)
}

/// The flow topics' running totals (docs/genesys-api.md#ivr-flows) move the flow counters
/// between polls, exactly: with one poll an hour, every streamed flow series equals the truth
/// after its traffic, its baseline poll the only one. An org whose topics cover 15-minute
/// intervals, with the exporter's 30-minute granularity, has its events refused for their
/// width and counted as such: nothing moves until the poll.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_flow_topics_move_the_counters_between_polls_only_at_the_granularity() {
    let (harness, baseline) = traffic_between_polls(Duration::from_secs(30 * 60)).await;
    eventually("the streamed flow counters equal the truth", || async {
        let truth = harness.truth().await;
        if truth["pendingRecords"] != 0 {
            return Err("records inside the reporting lag".to_owned());
        }
        let wrong = mismatches_of(&harness.scrape().await, &truth, &baseline, streamed);
        wrong.is_empty().then_some(()).ok_or(format!("{wrong:#?}"))
    })
    .await;
    assert_eq!(
        flow_polls(&harness.scrape().await),
        1.0,
        "the topics did it, not a poll"
    );
    harness.stop().await;

    let (harness, _) = traffic_between_polls(Duration::from_secs(15 * 60)).await;
    let rejected = "genesys_exporter_flow_buckets_rejected_total";
    eventually(
        "15-minute running totals refused for their width",
        || async {
            let scrape = harness.scrape().await;
            let refused = scrape
                .get(rejected, &[("reason", "other_width")])
                .unwrap_or(0.0);
            (refused >= 1.0)
                .then_some(())
                .ok_or(format!("{refused} refused"))
        },
    )
    .await;
    let scrape = harness.scrape().await;
    let entered = scrape.sum("genesys_flow_entries_total");
    assert_eq!(entered, 0.0, "nothing counted before the poll");
    assert_eq!(flow_polls(&scrape), 1.0);
    harness.stop().await;
}

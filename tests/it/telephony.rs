//! Trunks and Edges (docs/operations.md#trunks-and-edges) against the simulator: with
//! `telephony.enabled` every trunk and Edge the selection takes is exported with its statuses
//! and metrics equal to the ground truth, a status a trunk does not report is absent, and the
//! status page lists them.

use crate::common;

use common::checks::ready;
use common::{Harness, eventually};
use genesys_exporter::sim::SimConfig;
use serde_json::Value;

async fn start(tweak: impl FnOnce(&mut genesys_exporter::config::RawSettings)) -> Harness {
    let harness = Harness::start_with(SimConfig::fast_for_tests(23), |settings| {
        settings.telephony.enabled = true;
        tweak(settings);
    })
    .await;
    ready(&harness).await;
    harness
}

/// Each trunk's calls, statuses and each Edge's online status in the scrape, against the truth
/// (traffic paused, so the calls hold still).
async fn telephony_mismatches(harness: &Harness, trunk_types: &[&str]) -> Result<(), String> {
    let truth = harness.truth().await;
    let scrape = harness.scrape().await;
    let mut wrong = Vec::new();
    let trunks = truth["telephony"]["trunks"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let taken = |t: &&Value| trunk_types.contains(&t["trunk"]["trunkType"].as_str().unwrap_or(""));
    for trunk in trunks.iter().filter(taken) {
        let id = trunk["trunk"]["id"].as_str().unwrap_or_default();
        let labels = [("trunk_id", id)];
        let calls = &trunk["metrics"]["calls"];
        for (direction, key) in [
            ("inbound", "inboundCallCount"),
            ("outbound", "outboundCallCount"),
        ] {
            let got = scrape.get(
                "genesys_trunk_calls",
                &[("direction", direction), ("trunk_id", id)],
            );
            if got != calls[key].as_f64() {
                wrong.push(format!(
                    "{id} {direction} calls {got:?}, truth {}",
                    calls[key]
                ));
            }
        }
        let in_service = trunk["trunk"]["inService"]
            .as_bool()
            .map(|b| f64::from(u8::from(b)));
        if scrape.get("genesys_trunk_in_service", &labels) != in_service {
            wrong.push(format!("{id} in service"));
        }
        let registers = trunk["trunk"]["registersStatus"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let exported = (scrape.series())
            .filter(|s| s.starts_with("genesys_trunk_proxy_register_up{") && s.contains(id))
            .count();
        if exported != registers.len() {
            wrong.push(format!(
                "{id}: {exported} REGISTER series, {} reported",
                registers.len()
            ));
        }
        let info = [
            ("trunk_id", id),
            (
                "trunk_type",
                trunk["trunk"]["trunkType"].as_str().unwrap_or(""),
            ),
        ];
        if !scrape.series().any(|s| {
            s.starts_with("genesys_trunk_info{") && s.contains(info[0].1) && s.contains(info[1].1)
        }) {
            wrong.push(format!("{id}: no info series"));
        }
    }
    let watched = scrape.get("genesys_exporter_watched_trunks", &[]);
    let wanted = trunks.iter().filter(taken).count() as f64;
    if watched != Some(wanted) {
        wrong.push(format!(
            "watched trunks {watched:?}, the selection takes {wanted}"
        ));
    }
    for edge in truth["telephony"]["edges"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let id = edge["edge"]["id"].as_str().unwrap_or_default();
        let online = scrape.get("genesys_edge_online", &[("edge_id", id)]);
        if online != Some(1.0) {
            wrong.push(format!("Edge {id} online {online:?}"));
        }
        let cpu = edge["metrics"]["processors"][0]["activeTimePct"]
            .as_f64()
            .map(|p| p / 100.0);
        if scrape.get("genesys_edge_cpu_active_ratio", &[("edge_id", id)]) != cpu {
            wrong.push(format!("Edge {id} cpu"));
        }
    }
    match wrong.is_empty() {
        true => Ok(()),
        false => Err(wrong.join("; ")),
    }
}

#[tokio::test]
async fn every_trunk_and_edge_is_exported_as_the_truth_has_it() {
    let harness = start(|_| {}).await;
    harness.pause_traffic().await;
    eventually("trunks and Edges equal the truth", || {
        telephony_mismatches(&harness, &["EXTERNAL", "PHONE", "EDGE"])
    })
    .await;
    let scrape = harness.scrape().await;
    let calls = scrape.sum("genesys_trunk_calls");
    assert!(calls > 0.0, "the paused traffic has calls up");
    assert_eq!(
        scrape.sum("genesys_trunk_connected"),
        4.0,
        "every trunk reports its connection"
    );
    let (_, page) = harness
        .get_text(&format!("{}/", harness.exporter_url))
        .await;
    assert!(
        page.contains("<table id=trunks>") && page.contains("Carrier A"),
        "{page}"
    );
    assert!(
        page.contains("<table id=edges>") && page.contains("Site 1"),
        "{page}"
    );
    harness.stop().await;
}

#[tokio::test]
async fn the_selection_takes_trunk_types_and_names() {
    let harness = start(|settings| {
        settings.telephony.trunk_types = vec!["EXTERNAL".into()];
        settings.telephony.trunk_names = vec!["*B".into()];
    })
    .await;
    eventually("only Carrier B is watched", || async {
        let scrape = harness.scrape().await;
        let info: Vec<&str> = (scrape.series())
            .filter(|s| s.starts_with("genesys_trunk_info{"))
            .collect();
        match info.as_slice() {
            [one] if one.contains("trunk=\"Carrier B\"") => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    harness.stop().await;
}

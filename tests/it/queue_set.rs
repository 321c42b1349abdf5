//! The monitored queue set over refreshes: a rename or a division change moves labels without
//! resetting a counter, and a queue missing from the listing keeps its series for the grace.

use crate::common;

use std::time::Duration;

use common::checks::{gauges_match_truth, ready, value};
use common::truth::{check_against_truth, counter_mismatches};
use common::{Harness, Scrape, eventually, wait_nothing_pending};
use genesys_exporter::sim::SimConfig;
use serde_json::{Value, json};

const INFO: &str = "genesys_queue_info";
const OFFERED: &str = "genesys_conversations_offered_total";

/// The sum of `name` over the series of queue `id`, whatever its other labels.
fn queue_sum(scrape: &Scrape, name: &str, id: &str) -> f64 {
    let (prefix, label) = (format!("{name}{{"), format!("queue_id=\"{id}\""));
    let series = scrape.series.iter();
    let of_queue = series.filter(|(k, _)| k.starts_with(&prefix) && k.contains(&label));
    of_queue.map(|(_, v)| v).sum()
}

/// The labels of `genesys_queue_info` for queue `id`, if it is listed.
fn info_of(scrape: &Scrape, id: &str) -> Option<String> {
    let label = format!("queue_id=\"{id}\"");
    let prefix = format!("{INFO}{{");
    let mut listed = scrape
        .series
        .keys()
        .filter(|k| k.starts_with(&prefix) && k.contains(&label));
    listed.next().cloned()
}

async fn patch_queue(harness: &Harness, id: &str, body: Value) {
    let url = format!("{}/sim/queues/{id}", harness.sim.base_url);
    let response = harness.http.patch(url).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

fn listings(scrape: &Scrape) -> f64 {
    let labels = [("endpoint", "routing_queues"), ("status", "200")];
    value(scrape, "genesys_exporter_api_requests_total", &labels)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renamed_and_moved_queues_keep_their_counters_and_a_missing_one_stays_for_the_grace() {
    let harness = Harness::start_counting(SimConfig::fast_for_tests(51), |settings| {
        settings.queue_refresh_interval = Duration::from_millis(300);
    })
    .await;
    ready(&harness).await;
    let truth = harness.truth().await;
    let queues = truth["queues"].as_array().unwrap().clone();
    let (renamed, moved, removed) = (
        queues[0]["id"].as_str().unwrap().to_owned(),
        queues[1]["id"].as_str().unwrap().to_owned(),
        queues[2]["id"].as_str().unwrap().to_owned(),
    );
    let other_division = queues[2]["division"]["id"].as_str().unwrap().to_owned();
    assert_ne!(queues[1]["division"]["id"], queues[2]["division"]["id"]);
    eventually("both queues have counted conversations", || async {
        let scrape = harness.scrape().await;
        let counted = [&renamed, &moved].map(|id| queue_sum(&scrape, OFFERED, id));
        if counted.iter().all(|n| *n > 0.0) {
            Ok(())
        } else {
            Err(format!("{counted:?}"))
        }
    })
    .await;
    let before = harness.scrape().await;
    patch_queue(&harness, &renamed, json!({"name": "Renamed Support"})).await;
    patch_queue(&harness, &moved, json!({"divisionId": other_division})).await;
    eventually("the new labels are exported", || async {
        let scrape = harness.scrape().await;
        let name_ok =
            info_of(&scrape, &renamed).is_some_and(|k| k.contains("queue=\"Renamed Support\""));
        let division = queues[2]["division"]["name"].as_str().unwrap();
        let division_ok = info_of(&scrape, &moved)
            .is_some_and(|k| k.contains(&format!("division=\"{division}\"")));
        if name_ok && division_ok {
            Ok(())
        } else {
            Err(format!(
                "{:?} {:?}",
                info_of(&scrape, &renamed),
                info_of(&scrape, &moved)
            ))
        }
    })
    .await;
    let after = harness.scrape().await;
    for id in [&renamed, &moved] {
        let (was, is) = (
            queue_sum(&before, OFFERED, id),
            queue_sum(&after, OFFERED, id),
        );
        assert!(is >= was, "queue {id}: {was} → {is}, a counter went back");
    }
    let old_name = format!("queue=\"{}\"", queues[0]["name"].as_str().unwrap());
    let label = format!("queue_id=\"{renamed}\"");
    assert!(
        !after
            .series
            .keys()
            .any(|k| k.contains(&label) && k.contains(&old_name)),
        "no series keeps the old name"
    );

    let listed_before = listings(&harness.scrape().await);
    let url = format!("{}/sim/queues/{removed}", harness.sim.base_url);
    assert_eq!(harness.http.delete(url).send().await.unwrap().status(), 204);
    let kept = std::cell::Cell::new(listed_before);
    let every = Duration::from_millis(50);
    common::poll_until("the missing queue is dropped", every, || async {
        let scrape = harness.scrape().await;
        if info_of(&scrape, &removed).is_none() {
            let listed = listings(&scrape) - listed_before;
            assert!(listed >= 3.0, "dropped after {listed} listings without it");
            return Ok(());
        }
        kept.set(listings(&scrape));
        Err("still listed".to_owned())
    })
    .await;
    let listed_while_kept = kept.get();
    assert!(
        listed_while_kept - listed_before >= 2.0,
        "kept through two listings without it"
    );

    harness.pause_traffic().await;
    wait_nothing_pending(&harness.http, &harness.sim.base_url).await;
    gauges_match_truth(&harness).await;
    let media_types = harness.media_types.clone();
    eventually("every counter equals the truth since the baseline", || {
        check_against_truth(&harness, &media_types, counter_mismatches)
    })
    .await;
    harness.stop().await;
}

/// The sim's request log from entry `from` on: (method, path, predicates) of each request.
async fn requests_since(harness: &Harness, from: usize) -> Vec<(String, String, Option<u64>)> {
    let url = format!("{}/sim/requests", harness.sim.base_url);
    let log: Value = serde_json::from_str(&harness.get_text(&url).await.1).unwrap();
    let entries = log["requests"].as_array().unwrap().iter().skip(from);
    let entry = |r: &Value| {
        let text = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
        (text("method"), text("path"), r["predicates"].as_u64())
    };
    entries.map(entry).collect()
}

const RESYNC_PATH: &str = "/api/v2/analytics/queues/observations/query";

/// Waits until the channel carries `topics` topics and `check` holds on the scrape.
async fn subscribed_to(harness: &Harness, topics: f64, check: impl Fn(&Scrape) -> bool) {
    eventually(&format!("{topics} topics subscribed"), || async {
        let scrape = harness.scrape().await;
        let subscribed = value(
            &scrape,
            "genesys_exporter_subscribed_topics",
            &[("channel", "0")],
        );
        if subscribed == topics && check(&scrape) {
            Ok(())
        } else {
            Err(format!("{subscribed} topics"))
        }
    })
    .await;
}

/// Nothing interrupted the stream: no reconnect, no failed establish, connected now.
fn stream_stayed_up(scrape: &Scrape, when: &str) {
    let reconnects = scrape.sum("genesys_exporter_stream_reconnects_total");
    let failures = scrape.sum("genesys_exporter_stream_establish_failures_total");
    let connected = value(
        scrape,
        "genesys_exporter_stream_connected",
        &[("channel", "0")],
    );
    assert_eq!(
        (reconnects, failures, connected),
        (0.0, 0.0, 1.0),
        "{when}: reconnects, establish failures, connected"
    );
}

/// A queue deleted upstream stays exported through its grace but leaves the subscription at
/// once: the simulator, like Genesys may, refuses a topic of a queue it no longer has, and one
/// refused topic fails the whole request and so the channel. A queue added meanwhile is
/// subscribed and resynced alone; the others' events never stop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_and_added_queues_keep_the_stream_up_and_resync_only_the_added_one() {
    let config = SimConfig {
        queues: 5,
        ..SimConfig::fast_for_tests(52)
    };
    let harness = Harness::start_with(config, |settings| {
        settings.queue_refresh_interval = Duration::from_millis(300);
        settings.queues.absent_grace_refreshes = 8;
    })
    .await;
    ready(&harness).await;
    subscribed_to(&harness, 5.0, |_| true).await;
    let truth = harness.truth().await;
    let removed = truth["queues"][0]["id"].as_str().unwrap().to_owned();
    let url = format!("{}/sim/queues/{removed}", harness.sim.base_url);
    assert_eq!(harness.http.delete(url).send().await.unwrap().status(), 204);
    subscribed_to(&harness, 4.0, |scrape| info_of(scrape, &removed).is_some()).await;

    let mark = requests_since(&harness, 0).await.len();
    let url = format!("{}/sim/queues", harness.sim.base_url);
    let added: Value = harness
        .http
        .post(url)
        .json(&json!({"name": "Added"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let added = added["id"].as_str().unwrap().to_owned();
    subscribed_to(&harness, 5.0, |scrape| {
        info_of(scrape, &added).is_some() && info_of(scrape, &removed).is_some()
    })
    .await;
    eventually("the added queue is resynced", || async {
        let resyncs: Vec<_> = requests_since(&harness, mark)
            .await
            .into_iter()
            .filter(|(method, path, _)| method == "POST" && path == RESYNC_PATH)
            .collect();
        match resyncs.as_slice() {
            [] => Err("no resync yet".to_owned()),
            [(_, _, Some(1))] => Ok(()),
            more => panic!("only the added queue is resynced, once: {more:?}"),
        }
    })
    .await;
    stream_stayed_up(&harness.scrape().await, "with a deleted queue in its grace");

    eventually("the deleted queue leaves after its grace", || async {
        match info_of(&harness.scrape().await, &removed) {
            None => Ok(()),
            Some(info) => Err(info),
        }
    })
    .await;
    stream_stayed_up(&harness.scrape().await, "after the grace");
    harness.pause_traffic().await;
    wait_nothing_pending(&harness.http, &harness.sim.base_url).await;
    gauges_match_truth(&harness).await;
    harness.stop().await;
}

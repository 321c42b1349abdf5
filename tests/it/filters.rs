//! Media-type and direction filters: the exporter asks upstream only for the media types and
//! directions it exports, splits its counters by direction only when configured, and its
//! counters still equal the simulator's ground truth, direction by direction.

use crate::common;

use common::truth::{counter_mismatches_by_direction, since_baseline, total_offered};
use common::{Harness, eventually};
use serde_json::Value;

/// Runs traffic until both directions have had some, pauses it, and waits for every counter of
/// `media_types` × `directions` to equal the truth; returns the last scrape's series.
async fn counted_by_direction(seed: u64, media_types: &[&str], directions: &[&str]) -> Vec<String> {
    let config = genesys_exporter::sim::SimConfig::fast_for_tests(seed);
    let media: Vec<String> = media_types.iter().map(|m| (*m).to_owned()).collect();
    let wanted = directions.iter().map(|d| (*d).to_owned()).collect();
    let exported = media.clone();
    let harness = Harness::start_counting(config, move |settings| {
        settings.media_types = exported;
        settings.directions = wanted;
    })
    .await;
    eventually("traffic in both directions", || async {
        let truth = harness.truth().await;
        let outbound = direction_total(&truth, "outbound");
        let offered = total_offered(&truth);
        if offered >= 40.0 && outbound >= 4.0 {
            Ok(())
        } else {
            Err(format!("{offered} offered, {outbound} outbound"))
        }
    })
    .await;
    harness.pause_traffic().await;
    eventually("every counter equals its direction's truth", || async {
        let truth = since_baseline(&harness.truth().await, harness.baseline.as_ref().unwrap());
        let scrape = harness.scrape().await;
        let wrong = counter_mismatches_by_direction(&scrape, &truth, &media, directions);
        if wrong.is_empty() {
            Ok(())
        } else {
            Err(wrong.join("\n"))
        }
    })
    .await;
    let series = harness.scrape().await.series().map(str::to_owned).collect();
    harness.stop().await;
    series
}

/// Conversations offered in `direction`, over every queue and media type.
fn direction_total(truth: &Value, direction: &str) -> f64 {
    truth["queues"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|q| {
            q["totalsByDirection"]
                .as_object()
                .into_iter()
                .flat_map(|m| m.values())
        })
        .map(|by| common::truth::count(&by[direction]["nOffered"]["count"]))
        .sum()
}

fn conversation_series(series: &[String]) -> impl Iterator<Item = &String> {
    series
        .iter()
        .filter(|s| s.starts_with("genesys_conversation"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counters_split_by_both_directions_equal_the_truth_and_other_media_are_not_exported() {
    let series = counted_by_direction(31, &["voice", "email"], &["inbound", "outbound"]).await;
    assert!(
        common::every(conversation_series(&series), |s| s.contains("direction=\"")),
        "every conversation counter carries its direction"
    );
    assert!(
        conversation_series(&series).any(|s| s.contains("direction=\"outbound\"")),
        "{series:?}"
    );
    let chat: Vec<&String> = series
        .iter()
        .filter(|s| s.contains("media_type=\"chat\""))
        .collect();
    assert!(chat.is_empty(), "chat is outside the filter: {chat:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_direction_counts_only_its_own_conversations() {
    let series = counted_by_direction(32, &["voice", "chat", "email"], &["inbound"]).await;
    assert!(
        common::every(conversation_series(&series), |s| {
            s.contains("direction=\"inbound\"")
        }),
        "{series:?}"
    );
}

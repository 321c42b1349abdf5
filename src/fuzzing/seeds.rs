//! The fuzz targets' seed corpus (`tests/fuzz/corpus`), taken from what the simulator sends:
//! notification frames, observation and aggregates query bodies. Queue ids become the fuzz
//! state's (`tests/fuzz/src/lib.rs`), so the seeds reach the store, not just the parser.
//! `cargo test --lib fuzzing::seeds -- --ignored` writes them afresh; the other tests keep the
//! checked-in ones honest (each still parses as its target expects) and replay every input of
//! the corpus, and any a fuzzer left in `tests/fuzz/artifacts`, through the targets' own code
//! (`super`), on the stable toolchain the suite runs with.

use std::path::{Path, PathBuf};

use serde_json::json;

use crate::genesys::model::{
    ConversationAggregateQueryResponse, QueueObservationQueryResponse, queue_observation_topic,
};
use crate::sim::harness::{TestSim, channel, connect, next_text};

use super::QUEUES as FUZZ_QUEUES;

fn corpus(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz/corpus")
        .join(target)
}

#[tokio::test]
#[ignore = "writes tests/fuzz/corpus; run when the wire formats change"]
async fn write_the_fuzz_seed_corpus() {
    let sim = TestSim::start(crate::sim::SimConfig {
        history: std::time::Duration::from_secs(3600),
        ..crate::sim::SimConfig::fast_for_tests(11)
    })
    .await;
    let token = sim.token().await;
    let ids: Vec<String> = sim
        .handle
        .queues
        .iter()
        .take(2)
        .map(|q| q.id.clone())
        .collect();
    let rename = |text: String| {
        ids.iter()
            .zip(FUZZ_QUEUES)
            .fold(text, |text, (id, fuzz)| text.replace(id.as_str(), fuzz))
    };
    let predicates: Vec<_> = ids
        .iter()
        .map(|id| json!({"type": "dimension", "dimension": "queueId", "value": id}))
        .collect();
    let filter = json!({"type": "or", "predicates": predicates});
    let observations = sim
        .post_json(
            &token,
            "/api/v2/analytics/queues/observations/query",
            &json!({"filter": filter, "metrics": ["oWaiting", "oInteracting", "oAlerting", "oOnQueueUsers", "oUserRoutingStatuses", "oMemberUsers", "oActiveUsers", "oLongestWaiting"], "detailMetrics": ["oWaiting"]}),
        )
        .await
        .text()
        .await
        .unwrap();
    let now = chrono::Utc::now();
    let interval = format!(
        "{}/{}",
        (now - chrono::Duration::hours(2)).format("%Y-%m-%dT%H:00:00.000Z"),
        (now + chrono::Duration::hours(1)).format("%Y-%m-%dT%H:00:00.000Z")
    );
    let aggregates = sim
        .post_json(
            &token,
            "/api/v2/analytics/conversations/aggregates/query",
            &json!({"interval": interval, "granularity": "PT30M", "groupBy": ["queueId", "mediaType"], "filter": filter, "metrics": ["nOffered", "tAnswered", "tAbandon", "tHandle", "oServiceLevel"]}),
        )
        .await
        .text()
        .await
        .unwrap();
    let channel = channel(&sim, &token).await;
    let topics: Vec<_> = ids
        .iter()
        .map(|id| json!({"id": queue_observation_topic(id)}))
        .collect();
    let path = format!(
        "/api/v2/notifications/channels/{}/subscriptions",
        channel.id
    );
    sim.put_json(&token, &path, &json!(topics)).await;
    let mut socket = connect(&channel).await;
    let mut frames = Vec::new();
    while frames.len() < 12 {
        let Some(frame) = next_text(&mut socket).await else {
            break;
        };
        frames.push(frame);
    }
    let seeds = [
        ("observations_response", vec![observations]),
        ("aggregates_response", vec![aggregates]),
        ("message", frames),
    ];
    for (target, texts) in seeds {
        let dir = corpus(target);
        std::fs::create_dir_all(&dir).unwrap();
        for (i, text) in texts.into_iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i:02}.json")), rename(text)).unwrap();
        }
    }
    sim.stop().await;
}

fn seeds(target: &str) -> Vec<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus(target))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("seed-"))
        })
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

#[test]
fn the_checked_in_seeds_parse_as_their_targets_expect() {
    for body in seeds("observations_response") {
        let response: QueueObservationQueryResponse = serde_json::from_str(&body).unwrap();
        assert!(response.malformed.is_empty() && !response.results.is_empty());
        assert!(body.contains(FUZZ_QUEUES[0]), "ids rewritten");
    }
    for body in seeds("aggregates_response") {
        let response: ConversationAggregateQueryResponse = serde_json::from_str(&body).unwrap();
        assert!(response.malformed.is_empty() && !response.results.is_empty());
    }
    let frames = seeds("message");
    assert!(frames.len() >= 2, "{} frames", frames.len());
    for frame in frames {
        assert!(
            crate::stream::message::parse::<crate::queues::events::QueueTopics>(&frame).is_ok(),
            "{frame}"
        );
    }
}

/// Every file under `dir` (none if it does not exist).
fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries.map(|entry| entry.unwrap().path()).collect();
    files.sort();
    files
}

#[test]
fn every_corpus_input_and_fuzzer_finding_runs_through_its_target_without_a_panic() {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz");
    let mut replayed = 0;
    for (target, run) in super::TARGETS {
        let files = [corpus(target), fuzz.join("artifacts").join(target)];
        for file in files.iter().flat_map(|dir| inputs(dir)) {
            run(&std::fs::read(&file).unwrap());
            replayed += 1;
        }
    }
    assert!(replayed >= 14, "{replayed} inputs");
}

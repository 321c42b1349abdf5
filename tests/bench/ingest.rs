//! Ingest: parsing and applying the simulator's queue-observation notifications, against bare
//! `serde_json` parsing of the same messages into `serde_json::Value`, side by side.
//!
//! `cargo bench --bench ingest` starts the simulator with 1,000 queues, subscribes one channel
//! to all of them, keeps the first 20,000 observation messages it sends and then feeds them,
//! in order, through the exporter's frame handler (parse, order check, apply to the gauges) on
//! a fresh state each round, and through `serde_json::from_str::<Value>`.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use genesys_exporter::metrics::Metrics;
use genesys_exporter::observations::Observations;
use genesys_exporter::sim::SimConfig;
use genesys_exporter::stream::connection::SessionContext;
use genesys_exporter::vocabulary::labels::LabelValue;
use genesys_exporter::vocabulary::queue::QueueLabels;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

#[path = "common.rs"]
mod common;
use common::{side_by_side, start_sim};

/// Observation messages of the simulator: `queues` queues, `count` messages.
async fn capture(
    queues: usize,
    count: usize,
    arrivals_per_minute: f64,
) -> (Vec<QueueLabels>, Vec<String>) {
    let config = SimConfig {
        queues,
        publish_interval: Duration::from_millis(50),
        arrivals_per_minute,
        ..SimConfig::default()
    };
    let (sim, cancel) = start_sim(config).await;
    genesys_exporter::genesys::install_crypto_provider();
    let http = reqwest::Client::new();
    let token: Value = http
        .post(format!("{}/oauth/token", sim.base_url))
        .basic_auth(&sim.client_id, Some(&sim.client_secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .expect("token")
        .json()
        .await
        .expect("token body");
    let bearer = token["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned();
    let channel: Value = http
        .post(format!("{}/api/v2/notifications/channels", sim.base_url))
        .bearer_auth(&bearer)
        .json(&json!({}))
        .send()
        .await
        .expect("channel")
        .json()
        .await
        .expect("channel body");
    let topics: Vec<Value> = sim
        .queues
        .iter()
        .map(|q| json!({"id": format!("v2.analytics.queues.{}.observations", q.id)}))
        .collect();
    let id = channel["id"].as_str().expect("channel id");
    http.put(format!(
        "{}/api/v2/notifications/channels/{id}/subscriptions",
        sim.base_url
    ))
    .bearer_auth(&bearer)
    .json(&topics)
    .send()
    .await
    .and_then(|r| r.error_for_status())
    .expect("subscribed");
    let uri = channel["connectUri"].as_str().expect("connectUri");
    let (mut socket, _) = tokio_tungstenite::connect_async(uri).await.expect("socket");
    let mut messages = Vec::with_capacity(count);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while messages.len() < count {
        let next = tokio::time::timeout_at(deadline, socket.next()).await;
        let Ok(Some(Ok(Message::Text(text)))) = next else {
            assert!(
                tokio::time::Instant::now() < deadline,
                "only {} messages",
                messages.len()
            );
            continue;
        };
        if is_observation(&text) {
            messages.push(text.to_string());
        }
    }
    let labels = sim
        .queues
        .iter()
        .map(|q| QueueLabels {
            id: q.id.clone(),
            name: q.name.clone(),
            division: "Home".to_owned(),
        })
        .collect();
    cancel.cancel();
    sim.stopped().await;
    (labels, messages)
}

/// Whether a frame is a queue observation (a `t/t` instant), not running totals or a
/// heartbeat.
fn is_observation(text: &str) -> bool {
    let frame: Value = serde_json::from_str(text).unwrap_or_default();
    let interval = frame["eventBody"]["data"][0]["interval"]
        .as_str()
        .unwrap_or_default();
    interval
        .split_once('/')
        .is_some_and(|(start, end)| start == end)
}

fn fresh_context(queues: &[QueueLabels]) -> SessionContext {
    let metrics = Arc::new(Metrics::new(
        ["voice", "chat", "email", "callback", "message"]
            .map(String::from)
            .to_vec(),
    ));
    metrics.set_queues(queues);
    let observations = Arc::new(Observations::new(metrics.clone()));
    SessionContext::new(
        observations,
        Arc::new(|_| 0),
        metrics,
        Duration::from_secs(60),
    )
}

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    // NB: as a test (`cargo test --all-targets`) it only has to run: busier queues give its 200
    // messages in a second instead of ten.
    let (queues, count, rounds, arrivals) = if benching {
        (1_000, 20_000, 11, 30.0)
    } else {
        (20, 200, 1, 600.0)
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let (labels, messages) = runtime.block_on(capture(queues, count, arrivals));
    let bytes: usize = messages.iter().map(String::len).sum();

    let mut contexts: Vec<SessionContext> = (0..rounds).map(|_| fresh_context(&labels)).collect();
    let mut applied = 0;
    let pair = side_by_side(
        rounds,
        || {
            let ctx = contexts.pop().expect("one context per round");
            applied = messages
                .iter()
                .filter(|m| ctx.handle_text(m).0.as_str() == "observation")
                .count();
        },
        || {
            for message in &messages {
                std::hint::black_box(serde_json::from_str::<Value>(message).expect("JSON"));
            }
        },
    );
    assert_eq!(applied, messages.len(), "every message applied");
    let rate = |d: Duration| messages.len() as f64 / d.as_secs_f64();
    println!(
        "{} observation messages of {queues} queues, {:.0} bytes each on average",
        messages.len(),
        bytes as f64 / messages.len() as f64
    );
    println!("| path | median ms | messages per second |");
    println!("|---|---|---|");
    println!(
        "| exporter: parse + order check + apply | {:.1} | {:.0} |",
        pair.a.as_secs_f64() * 1e3,
        rate(pair.a)
    );
    println!(
        "| serde_json::from_str::<Value> | {:.1} | {:.0} |",
        pair.b.as_secs_f64() * 1e3,
        rate(pair.b)
    );
    println!(
        "exporter rate / bare serde_json rate, median of {rounds} pairs: {:.0} %",
        pair.ratio_b_over_a * 100.0
    );
}

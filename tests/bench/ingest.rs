//! Ingest: parsing and applying the simulator's notifications, against bare `serde_json` parsing
//! of the same messages into `serde_json::Value`, side by side.
//!
//! `cargo bench --bench ingest` starts the simulator with 1,000 queues, subscribes one channel
//! to all of them, keeps the first 20,000 observation messages it sends and then feeds them,
//! in order, through the exporter's frame handler (parse, order check, apply to the gauges) on
//! a fresh state each round, and through `serde_json::from_str::<Value>`. Then the same for
//! agents: 1,000 agents' activity topics on one channel, 20,000 activity events, through the
//! frame handler of an agent channel (parse, since-instant order, apply to the agent series).

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use std::collections::HashMap;

use genesys_exporter::agents::Agents;
use genesys_exporter::agents::table::AgentTable;
use genesys_exporter::metrics::Metrics;
use genesys_exporter::queues::observations::Observations;
use genesys_exporter::queues::table::{QueueSeries, QueueTable};
use genesys_exporter::sim::SimConfig;
use genesys_exporter::stream::carried::{Carried, TimeInStatus};
use genesys_exporter::stream::connection::SessionContext;
use genesys_exporter::vocabulary::agent::AgentLabels;
use genesys_exporter::vocabulary::clock::Clock;
use genesys_exporter::vocabulary::labels::{LabelValue, MediaType};
use genesys_exporter::vocabulary::queue::QueueLabels;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

#[path = "common.rs"]
mod common;
use common::{side_by_side, start_sim};

/// What to capture: queue observations, or agents' activity events.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Observations,
    Activity,
}

/// Messages of the simulator: `queues` queues, `count` messages of `kind`; the queues' labels
/// and, for activity, the agents' ids.
async fn capture(
    queues: usize,
    count: usize,
    arrivals_per_minute: f64,
    kind: Kind,
) -> (Vec<QueueLabels>, Vec<String>, Vec<String>) {
    // NB: agents change state as conversations come and go: short ones keep 1,000 agents busy.
    let base = match kind {
        Kind::Observations => SimConfig::default(),
        Kind::Activity => SimConfig {
            agents_per_queue: 8,
            ..SimConfig::fast_for_tests(7)
        },
    };
    let config = SimConfig {
        queues,
        publish_interval: Duration::from_millis(50),
        arrivals_per_minute,
        ..base
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
    let truth: Value = http
        .get(format!("{}/sim/truth", sim.base_url))
        .send()
        .await
        .expect("truth")
        .json()
        .await
        .expect("truth body");
    let agents: Vec<String> = (truth["agents"].as_array().expect("agents").iter())
        .take(1_000)
        .map(|a| a["id"].as_str().expect("agent id").to_owned())
        .collect();
    let topics: Vec<Value> = match kind {
        Kind::Observations => (sim.queues.iter())
            .map(|q| json!({"id": format!("v2.analytics.queues.{}.observations", q.id)}))
            .collect(),
        Kind::Activity => (agents.iter())
            .map(|id| json!({"id": format!("v2.users.{id}.activity")}))
            .collect(),
    };
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
        let wanted = match kind {
            Kind::Observations => is_observation(&text),
            Kind::Activity => text.contains("\"topicName\":\"v2.users."),
        };
        if wanted {
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
    (labels, messages, agents)
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

/// A fresh state watching `queues` and, on an agent channel, `agents`.
fn fresh_context(queues: &[QueueLabels], agents: &[String]) -> SessionContext {
    let metrics = Arc::new(Metrics::new());
    let series = QueueSeries::new(vec![
        MediaType::Voice,
        MediaType::Chat,
        MediaType::Email,
        MediaType::Callback,
        MediaType::Message,
    ]);
    let table = QueueTable::register(&metrics, series);
    table.set_queues(queues);
    let observations = Arc::new(Observations::new(&metrics, table.clone(), Clock::system()));
    if agents.is_empty() {
        let carried = Carried::queues(observations, Arc::new(|_| 0));
        return SessionContext::new(carried, metrics, Clock::system(), Duration::from_secs(60));
    }
    let agent_table = AgentTable::register(&metrics, Default::default(), table);
    let watched = Agents::new(&metrics, agent_table, Clock::system());
    let labels: Vec<AgentLabels> = (agents.iter())
        .map(|id| AgentLabels {
            id: id.clone(),
            ..AgentLabels::default()
        })
        .collect();
    watched.watch(&labels, &HashMap::new());
    let carried = Carried::agents(Arc::new(watched), TimeInStatus::Polled);
    SessionContext::new(carried, metrics, Clock::system(), Duration::from_secs(60))
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
    for kind in [Kind::Observations, Kind::Activity] {
        // NB: 125 queues of 8 hold the 1,000 agents one channel carries.
        let (queues, arrivals) = match kind {
            Kind::Observations => (queues, arrivals),
            Kind::Activity => (queues.min(125), 900.0),
        };
        let (labels, messages, agents) = runtime.block_on(capture(queues, count, arrivals, kind));
        let watched = if kind == Kind::Activity {
            &agents[..]
        } else {
            &[]
        };
        compare(kind, queues, rounds, &labels, watched, &messages);
    }
}

/// Times the frame handler against bare `serde_json` on `messages`, and prints the result.
fn compare(
    kind: Kind,
    queues: usize,
    rounds: usize,
    labels: &[QueueLabels],
    agents: &[String],
    messages: &[String],
) {
    let (what, outcome) = match kind {
        Kind::Observations => ("observation", "observation"),
        Kind::Activity => ("agent activity", "activity"),
    };
    let bytes: usize = messages.iter().map(String::len).sum();
    let mut contexts: Vec<SessionContext> =
        (0..rounds).map(|_| fresh_context(labels, agents)).collect();
    let mut applied = 0;
    let pair = side_by_side(
        rounds,
        || {
            let ctx = contexts.pop().expect("one context per round");
            applied = messages
                .iter()
                .filter(|m| ctx.handle_text(m).0.as_str() == outcome)
                .count();
        },
        || {
            for message in messages {
                std::hint::black_box(serde_json::from_str::<Value>(message).expect("JSON"));
            }
        },
    );
    assert_eq!(applied, messages.len(), "every message applied");
    let rate = |d: Duration| messages.len() as f64 / d.as_secs_f64();
    println!(
        "{} {what} messages of {queues} queues, {:.0} bytes each on average",
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

//! Agents (docs/metrics.md#agents) against the simulator: every agent's routing status, presence
//! and since-instants equal the ground truth after start-up, after each kind of gap, and with half
//! the user topics rejected; a queue's members by routing status summed over its agents equal the
//! queue's own gauge.

use crate::common;

use common::checks::{ready, value_now};
use common::truth::{agent_mismatches, check_against_truth};
use common::{Harness, eventually};
use genesys_exporter::sim::{Fault, SimConfig};
use serde_json::Value;

const REJECTED: &str = "genesys_exporter_rejected_topics";
const REQUESTS: &str = "genesys_exporter_api_requests_total";

async fn start(seed: u64) -> Harness {
    let harness = Harness::start_with(SimConfig::fast_for_tests(seed), |settings| {
        settings.agents.enabled = true;
        settings.agents.queue_membership = true;
    })
    .await;
    ready(&harness).await;
    eventually("the agent channel is ready", || async {
        let connected = value_now(
            &harness,
            "genesys_exporter_stream_connected",
            &[("channel", "agents-0")],
        )
        .await;
        if connected == 1.0 {
            Ok(())
        } else {
            Err(format!("agents-0 connected {connected}"))
        }
    })
    .await;
    harness
}

/// With the traffic paused, every agent series equals the truth; then traffic resumes.
async fn agents_match_truth(harness: &Harness, when: &str) {
    harness.pause_traffic().await;
    let media_types = harness.media_types.clone();
    eventually(&format!("every agent equals the truth {when}"), || {
        check_against_truth(harness, &media_types, agent_mismatches)
    })
    .await;
    harness.sim_post("/sim/traffic/resume", Value::Null).await;
}

/// Lets traffic move every agent's state a little before the next comparison.
async fn some_traffic(harness: &Harness) {
    let before = harness.truth().await;
    eventually("agents changed state", || async {
        let now = harness.truth().await;
        let changed = (now["agents"].as_array().unwrap().iter())
            .zip(before["agents"].as_array().unwrap())
            .filter(|(a, b)| a["routingStatusSince"] != b["routingStatusSince"])
            .count();
        if changed >= 3 {
            Ok(())
        } else {
            Err(format!("{changed} agents changed"))
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_agent_equals_the_truth_after_start_up_reconnects_socket_closing_and_rotation() {
    let harness = start(71).await;
    agents_match_truth(&harness, "after start-up").await;
    for (fault, when) in [
        (Fault::CloseSockets, "after the sockets closed"),
        (Fault::SocketClosing, "after socket_closing"),
        (Fault::ExpireChannels, "after the channels expired"),
    ] {
        harness.fault(fault).await;
        some_traffic(&harness).await;
        agents_match_truth(&harness, when).await;
    }
    let reconnects = harness
        .scrape()
        .await
        .sum("genesys_exporter_stream_reconnects_total");
    assert!(
        reconnects >= 2.0,
        "the faults made the stream reconnect ({reconnects})"
    );
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_whose_topics_are_rejected_are_kept_current_by_the_poll() {
    let harness = start(72).await;
    let agents = harness.truth().await["agents"].as_array().unwrap().len();
    harness.fault(Fault::RejectUserTopics { every: 2 }).await;
    // NB: a reconnect resubscribes the same channel, which now answers half the topics Rejected.
    harness.fault(Fault::CloseSockets).await;
    let labels = [("channel", "agents-0"), ("reason", "missing_permission")];
    eventually("half the user topics are rejected", || async {
        let rejected = value_now(&harness, REJECTED, &labels).await;
        let subscribed = value_now(
            &harness,
            "genesys_exporter_subscribed_topics",
            &[("channel", "agents-0")],
        )
        .await;
        // NB: two topics per agent (activity and running totals), both refused for half.
        let want = (agents / 2) as f64;
        if rejected == 2.0 * want && subscribed == 2.0 * (agents as f64 - want) {
            Ok(())
        } else {
            Err(format!(
                "{rejected} rejected, {subscribed} subscribed of {agents}"
            ))
        }
    })
    .await;
    for round in 0..2 {
        some_traffic(&harness).await;
        agents_match_truth(
            &harness,
            &format!("with half the topics rejected ({round})"),
        )
        .await;
    }
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_that_finds_more_agents_than_agents_max_is_refused_naming_the_key() {
    let harness = Harness::start_with(SimConfig::fast_for_tests(73), |settings| {
        settings.agents.enabled = true;
        settings.agents.max = 10;
    })
    .await;
    let error = match harness.ended().await {
        Err(genesys_exporter::app::AppError::Config(error)) => error,
        other => panic!("the start was not refused as a configuration error: {other:?}"),
    };
    let line = error.to_string();
    assert_eq!(error.key, "agents.max", "{line}");
    assert!(
        line.contains("18 agents found (members of the monitored queues)"),
        "{line}"
    );
    assert!(!line.contains('\n'), "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_member_lists_and_users_without_their_expand_are_read_again_not_believed() {
    let harness = start(74).await;
    let users_before = harness.self_counter(REQUESTS, &[("endpoint", "users")]);
    harness
        .fault(Fault::TruncateActivityDetails { limit: 2 })
        .await;
    harness.fault(Fault::MissingExpand { count: 1 }).await;
    // NB: the reconnect's resync lists 2 of each queue's 6 members; the other 4 come from the
    // users listing by id, whose first user then lacks its state and stays stale until read again.
    harness.fault(Fault::CloseSockets).await;
    eventually(
        "the users listing read the members the activity query left out",
        || async {
            let users = harness.self_counter(REQUESTS, &[("endpoint", "users")]);
            if users > users_before {
                Ok(())
            } else {
                Err(format!("{users} users requests"))
            }
        },
    )
    .await;
    some_traffic(&harness).await;
    agents_match_truth(&harness, "after truncated details and a missing expand").await;
    eventually("every agent is read whole again", || async {
        let stale = harness.scrape().await.sum("genesys_exporter_agent_stale");
        if stale == 0.0 {
            Ok(())
        } else {
            Err(format!("{stale} agents stale"))
        }
    })
    .await;
    harness.stop().await;
}

/// The agents `/metrics` shows, by id.
async fn watched(harness: &Harness) -> Vec<String> {
    let scrape = harness.scrape().await;
    let mut ids: Vec<String> = (scrape.series())
        .filter(|s| s.starts_with("genesys_agent_info{"))
        .filter_map(|s| {
            s.split("user_id=\"")
                .nth(1)?
                .split('"')
                .next()
                .map(str::to_owned)
        })
        .collect();
    ids.sort();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listed_ids_or_a_division_choose_the_agents_instead_of_the_queues() {
    // Listed ids: exactly those, whatever queue they serve (the seed fixes every id).
    let probe = Harness::start(75).await;
    let truth = probe.truth().await;
    probe.stop().await;
    let agents = truth["agents"].as_array().unwrap();
    let mut chosen: Vec<String> = [0, 7, 13]
        .map(|i| agents[i]["id"].as_str().unwrap().to_owned())
        .to_vec();
    chosen.sort();
    let ids = chosen.clone();
    let harness = Harness::start_with(SimConfig::fast_for_tests(75), move |settings| {
        settings.agents.enabled = true;
        settings.agents.ids = ids;
    })
    .await;
    ready(&harness).await;
    eventually("exactly the listed agents are watched", || async {
        let got = watched(&harness).await;
        if got == chosen {
            Ok(())
        } else {
            Err(format!("{got:?}"))
        }
    })
    .await;
    harness.stop().await;

    // A division: the agents of its queues (every third queue is in the second one).
    let division = truth["queues"][2]["division"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let in_division: Vec<String> = {
        let queues: Vec<&str> = (truth["queues"].as_array().unwrap().iter())
            .filter(|q| q["division"]["id"] == division.as_str())
            .map(|q| q["id"].as_str().unwrap())
            .collect();
        let mut ids: Vec<String> = (agents.iter())
            .filter(|a| queues.contains(&a["queueId"].as_str().unwrap()))
            .map(|a| a["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids
    };
    assert!(!in_division.is_empty() && in_division.len() < agents.len());
    let harness = Harness::start_with(SimConfig::fast_for_tests(75), move |settings| {
        settings.agents.enabled = true;
        settings.agents.divisions = vec![division];
    })
    .await;
    ready(&harness).await;
    eventually("the division's agents are watched", || async {
        let got = watched(&harness).await;
        if got == in_division {
            Ok(())
        } else {
            Err(format!("{got:?}"))
        }
    })
    .await;
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_that_cannot_be_read_hold_up_readiness_but_never_the_queues() {
    let users = Fault::ServerError {
        count: 1_000_000,
        status: 503,
        path: Some("/api/v2/users".to_owned()),
    };
    let harness = Harness::start_with_faults(SimConfig::fast_for_tests(76), &[users], |settings| {
        settings.agents.enabled = true;
    })
    .await;
    common::checks::gauges_match_truth(&harness).await;
    let (status, body) = common::checks::exporter_get(&harness, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("agents"), "{body}");
    assert!(watched(&harness).await.is_empty());
    harness
        .fault(Fault::ServerError {
            count: 0,
            status: 503,
            path: Some("/api/v2/users".to_owned()),
        })
        .await;
    ready(&harness).await;
    agents_match_truth(&harness, "once the users listing answers").await;
    harness.stop().await;
}

/// Time-in-status series of a scrape and their values.
fn time_in_status(scrape: &common::Scrape) -> Vec<(String, f64)> {
    (scrape.series.iter())
        .filter(|(k, _)| k.starts_with("genesys_agent_") && k.contains("_seconds_total"))
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

/// An hour of the floor in 30 s (a clock 120 times real time, shared with the simulator):
/// agents go on and off queue, on breaks, to lunch, to training, offline. At every scrape no
/// time-in-status counter went down; at the end every agent's counters equal the truth's time
/// in status since the exporter began watching, to the millisecond, in all three metrics.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accelerated_hour_of_time_in_status_equals_the_truth_and_never_decreases() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    let clock = genesys_exporter::vocabulary::clock::Clock::scaled(120.0);
    let config = SimConfig {
        agents_per_queue: 4,
        start_paused: true,
        ..common::an_hour_of_traffic(&clock, 74)
    };
    let harness = Harness::start_with(config, |settings| {
        settings.agents.enabled = true;
        settings.agents.organization_presence_time = true;
        settings.agents.time_in_status_interval = Duration::from_millis(250);
        settings.aggregates.granularity = "PT5M".into();
        settings.aggregates.window = Duration::from_secs(2 * 3600);
        settings.aggregates.poll_interval = Duration::from_millis(250);
    })
    .await;
    ready(&harness).await;
    const POLLS: &str = "genesys_exporter_agent_time_polls_total";
    let polls = |scrape: &common::Scrape| scrape.get(POLLS, &[("result", "success")]);
    let before = polls(&harness.scrape().await).unwrap_or(0.0);
    eventually("a time-in-status poll of the watched agents", || async {
        let now = polls(&harness.scrape().await).unwrap_or(0.0);
        if now > before {
            Ok(())
        } else {
            Err(format!("{now} polls"))
        }
    })
    .await;
    let baseline = harness.truth().await;
    let started = clock.now();
    harness.sim_post("/sim/traffic/resume", Value::Null).await;
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = common::watch_monotonic(&harness, stop.clone(), time_in_status);
    // NB: the hour is simulated time passing, not a condition to wait for.
    tokio::time::sleep(Duration::from_secs(30)).await;
    harness.pause_traffic().await;
    common::wait_nothing_pending(&harness.http, &harness.sim.base_url).await;
    eventually("every agent's time in status equals the truth", || async {
        let truth = harness.truth().await;
        let wrong =
            common::truth::agent_time_mismatches(&harness.scrape().await, &truth, &baseline);
        match wrong.len() {
            0 => Ok(()),
            n => Err(format!("{n} mismatches: {wrong:?}")),
        }
    })
    .await;
    stop.store(true, Ordering::SeqCst);
    let seen = tokio::time::timeout(common::DEADLINE, watcher)
        .await
        .unwrap()
        .unwrap();
    assert!(
        seen.decreases.is_empty(),
        "counters went down: {:?}",
        seen.decreases
    );
    assert!(
        seen.vanished.is_empty(),
        "counters vanished: {:?}",
        seen.vanished
    );
    let scrapes = seen.scrapes;
    let hours = (clock.now() - started).num_seconds() as f64 / 3600.0;
    let scrape = harness.scrape().await;
    let series = time_in_status(&scrape);
    for family in ["routing_status", "system_presence", "presence"] {
        let name = format!("genesys_agent_{family}_seconds_total");
        assert!(scrape.sum(&name) > 0.0, "{name} counted nothing");
    }
    eprintln!(
        "{hours:.2} simulated hours, {scrapes} scrapes, {} time-in-status series of {} agents",
        series.len(),
        baseline["agents"].as_array().map_or(0, Vec::len)
    );
    assert!(hours >= 0.95, "an hour passed ({hours:.2})");
    harness.stop().await;
}

/// With the users aggregates poll an hour away, only the agents' running-totals topics can
/// move the time-in-status counters: they do, two topics per agent are subscribed, and no
/// counter passes the truth (a bucket's running total and the poll of it count once).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_totals_on_the_stream_move_time_in_status_between_polls() {
    let config = SimConfig {
        start_paused: true,
        ..SimConfig::fast_for_tests(75)
    };
    let harness = Harness::start_with(config, |settings| {
        settings.agents.enabled = true;
        settings.agents.time_in_status_interval = std::time::Duration::from_secs(3600);
    })
    .await;
    ready(&harness).await;
    const POLLS: &str = "genesys_exporter_agent_time_polls_total";
    eventually("the baseline poll of the watched agents", || async {
        let polls = harness.self_counter(POLLS, &[("result", "success")]);
        if polls >= 1.0 {
            Ok(())
        } else {
            Err(format!("{polls} polls"))
        }
    })
    .await;
    let baseline = harness.truth().await;
    let agents = baseline["agents"].as_array().unwrap().len() as f64;
    let subscribed = value_now(
        &harness,
        "genesys_exporter_subscribed_topics",
        &[("channel", "agents-0")],
    )
    .await;
    assert_eq!(subscribed, 2.0 * agents, "activity and aggregates topics");
    harness.sim_post("/sim/traffic/resume", Value::Null).await;
    let time = |scrape: &common::Scrape| time_in_status(scrape).iter().map(|(_, v)| v).sum::<f64>();
    eventually("the running totals moved the counters", || async {
        let seconds = time(&harness.scrape().await);
        if seconds > 0.0 {
            Ok(())
        } else {
            Err(format!("{seconds} s"))
        }
    })
    .await;
    harness.pause_traffic().await;
    common::wait_nothing_pending(&harness.http, &harness.sim.base_url).await;
    let truth = harness.truth().await;
    let scrape = harness.scrape().await;
    let over = common::truth::agent_time_excess(&scrape, &truth, &baseline);
    assert!(over.is_empty(), "counted past the truth: {over:?}");
    assert_eq!(
        harness.self_counter(POLLS, &[("result", "success")]),
        1.0,
        "no poll but the baseline's"
    );
    eprintln!(
        "{} s of time in status from the stream alone",
        time(&scrape)
    );
    harness.stop().await;
}

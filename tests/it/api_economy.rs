//! API economy (docs/operations.md#api-budget): what one full resync, one queue refresh and one
//! aggregates poll cost in Genesys Cloud API calls for 50, 500 and 5,000 queues, counted in the
//! simulator's request log; each must be the floor the API allows: ⌈queues/100⌉ observation
//! queries, the listing's pages (100 queues a page), ⌈queues/100⌉ aggregate queries, and one
//! channel (one create, one subscription) per 1,000 queues. Prints one table row per size
//! (BENCHMARKS.md quotes them).

use crate::common;

use std::time::Duration;

use common::checks::ready;
use common::{Harness, eventually};
use genesys_exporter::config::RawSettings;
use genesys_exporter::sim::{FlowsSize, SimConfig, TelephonySize};
use serde_json::Value;

/// Exactly one cycle of each timer (then hourly), on a loaded machine: the fast settings' 5 s
/// request timeout and 3 s heartbeat timeout suit tests of recovery, but here a simulator of
/// 5,000 queues on cores shared with three other tests can answer or beat slower, and a
/// request sent again or a reconnect's resync is a cost of the machine, not of the exporter.
fn one_cycle(settings: &mut RawSettings) {
    settings.aggregates.poll_interval = Duration::from_secs(3600);
    settings.queue_refresh_interval = Duration::from_secs(3600);
    settings.stream.fallback_poll_interval = Duration::from_secs(3600);
    settings.flows.observation_interval = Duration::from_secs(3600);
    settings.stream.staleness_bound = Duration::from_secs(7200);
    settings.http.request_timeout = Duration::from_secs(60);
    settings.stream.heartbeat_timeout = Duration::from_secs(60);
}

/// `queues` queues of two agents each with little traffic. NB: these tests count requests, not
/// events, so the simulator publishes twice a second instead of the fast settings' twenty times:
/// at 5,000 queues and 10,000 agents the publisher took a third of the test's CPU.
fn estate(queues: usize, seed: u64) -> SimConfig {
    SimConfig {
        queues,
        agents_per_queue: 2,
        arrivals_per_minute: 1.0,
        tick: Duration::from_millis(100),
        publish_interval: Duration::from_millis(500),
        ..SimConfig::fast_for_tests(seed)
    }
}

/// The logged requests to `path` with `method`.
fn calls<'a>(log: &'a [Value], method: &str, path: &str) -> Vec<&'a Value> {
    log.iter()
        .filter(|r| r["method"] == method && r["path"] == path)
        .collect()
}

/// The simulator's request log, once the exporter is ready.
async fn requests(harness: &Harness) -> Vec<Value> {
    ready(harness).await;
    let log = harness
        .get_text(&format!("{}/sim/requests", harness.sim.base_url))
        .await
        .1;
    let mut log: Value = serde_json::from_str(&log).unwrap();
    log["requests"].take().as_array().cloned().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resync_a_refresh_and_a_poll_each_cost_the_floor_the_api_allows() {
    let _heavy = common::one_heavy_test_at_a_time().await;
    eprintln!(
        "| queues | resync: observation queries | refresh: listing pages | poll: aggregate queries | channels: create + subscribe |"
    );
    for queues in [50, 500, 5_000] {
        let config = estate(queues, 43);
        let harness = Harness::start_counting(config, one_cycle).await;
        let log = requests(&harness).await;
        let log = &log[..];
        let resync = calls(log, "POST", "/api/v2/analytics/queues/observations/query");
        let listing = calls(log, "GET", "/api/v2/routing/queues");
        let poll = calls(
            log,
            "POST",
            "/api/v2/analytics/conversations/aggregates/query",
        );
        let created = calls(log, "POST", "/api/v2/notifications/channels");
        let subscribed = log
            .iter()
            .filter(|r| {
                r["method"] == "PUT"
                    && r["path"]
                        .as_str()
                        .is_some_and(|p| p.ends_with("/subscriptions"))
            })
            .count();
        eprintln!(
            "| {queues} | {} | {} | {} | {} + {subscribed} |",
            resync.len(),
            listing.len(),
            poll.len(),
            created.len()
        );
        let floor = queues.div_ceil(100);
        assert_eq!(
            resync.len(),
            floor,
            "{queues} queues: observation queries of the resync"
        );
        let resynced: u64 = resync
            .iter()
            .map(|r| r["predicates"].as_u64().unwrap_or(0))
            .sum();
        assert_eq!(resynced, queues as u64, "every queue in exactly one query");
        assert_eq!(listing.len(), floor, "{queues} queues: listing pages");
        assert_eq!(poll.len(), floor, "{queues} queues: aggregate queries");
        let polled: u64 = poll
            .iter()
            .map(|r| r["predicates"].as_u64().unwrap_or(0))
            .sum();
        assert_eq!(polled, queues as u64);
        let channels = queues.div_ceil(1_000);
        assert_eq!(
            (created.len(), subscribed),
            (channels, channels),
            "{queues} queues: channels"
        );
        harness.stop().await;
    }
}

const USER_AGGREGATES: &str = "/api/v2/analytics/users/aggregates/query";
const REQUESTS: &str = "genesys_exporter_api_requests_total";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watching_agents_costs_the_floor_too() {
    let _heavy = common::one_heavy_test_at_a_time().await;
    eprintln!(
        "| queues | agents | activity queries (finding them, then each channel's first resync) | users pages | agent channels | user aggregate queries per poll |"
    );
    for queues in [500, 5_000] {
        let config = estate(queues, 44);
        let agents = queues * 2;
        let harness = Harness::start_counting(config, |settings| {
            one_cycle(settings);
            settings.agents.enabled = true;
            settings.agents.max = 10_000;
            settings.agents.time_in_status_interval = Duration::from_secs(3600);
            // NB: running totals would make two topics per agent, so channels of 500 agents,
            // each resync reading its own agents' queues: one topic keeps one floor to check.
            settings.agents.time_in_status_stream = false;
        })
        .await;
        // NB: the time-in-status poller polls once the agents are found, then hourly here.
        let floor_of_agents = agents.div_ceil(100);
        eventually("the agents' time in status polled", || async {
            let polled = harness.self_counter(REQUESTS, &[("endpoint", "user_aggregates")]);
            if polled >= floor_of_agents as f64 {
                Ok(())
            } else {
                Err(format!("{polled} user aggregate queries"))
            }
        })
        .await;
        let log = requests(&harness).await;
        let log = &log[..];
        let time_in_status = calls(log, "POST", USER_AGGREGATES);
        let activity = calls(log, "POST", "/api/v2/analytics/routing/activity/query");
        let users = calls(log, "GET", "/api/v2/users");
        let created = calls(log, "POST", "/api/v2/notifications/channels");
        let floor = queues.div_ceil(100);
        // NB: finding the agents reads every queue's members once, then every agent by id; each
        // agent channel's first resync reads its agents' queues once more, and lists them all.
        let (find, resync) = (floor, floor);
        eprintln!(
            "| {queues} | {agents} | {} | {} | {} | {} |",
            activity.len(),
            users.len(),
            created.len() - queues.div_ceil(1_000),
            time_in_status.len(),
        );
        assert_eq!(
            time_in_status.len(),
            agents.div_ceil(100),
            "{agents} agents: one user aggregates query per 100"
        );
        let users_named: u64 = (time_in_status.iter())
            .map(|r| r["predicates"].as_u64().unwrap_or(0))
            .sum();
        assert_eq!(users_named, agents as u64, "every agent in one query");
        // What the exporter saw, should a count be off: each request's outcome and every
        // reconnect (each costs a resync).
        let seen: Vec<String> = (harness.scrape().await.series.into_iter())
            .filter(|(k, _)| {
                k.contains(r#"endpoint="routing_activity""#) && k.contains("requests_total")
                    || k.starts_with("genesys_exporter_stream_reconnects_total")
            })
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        assert_eq!(
            activity.len(),
            find + resync,
            "{queues} queues: activity queries; {seen:?}"
        );
        let predicates: u64 = (activity.iter())
            .map(|r| r["predicates"].as_u64().unwrap_or(0))
            .sum();
        assert_eq!(
            predicates,
            2 * queues as u64,
            "every queue in one query of each"
        );
        assert_eq!(
            users.len(),
            agents.div_ceil(100),
            "{agents} agents: users pages"
        );
        let channels = queues.div_ceil(1_000) + agents.div_ceil(1_000);
        assert_eq!(
            created.len(),
            channels,
            "{queues} queues, {agents} agents: channels"
        );
        harness.stop().await;
    }
}

const TRUNKS: &str = "/api/v2/telephony/providers/edges/trunks";
const EDGES: &str = "/api/v2/telephony/providers/edges";

/// 1,000 trunks and 100 Edges beside 50 queues (light enough to run beside the heavy tests),
/// counted at start-up: the listings once to find
/// them (100 a page), then each channel's first resync reads its kind's listing for the
/// statuses and its own ids' metrics (100 a request); two trunk channels (two topics a trunk,
/// 500 trunks a channel) and one Edge channel.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watching_trunks_and_edges_costs_the_floor_too() {
    let (trunks, edges): (usize, usize) = (1_000, 100);
    let config = SimConfig {
        telephony: TelephonySize {
            edges,
            trunks: [800, 100, 100],
        },
        ..estate(50, 45)
    };
    let harness = Harness::start_counting(config, |settings| {
        one_cycle(settings);
        settings.telephony.enabled = true;
    })
    .await;
    let log = requests(&harness).await;
    let log = &log[..];
    let count = |path: &str| calls(log, "GET", path).len();
    let created = calls(log, "POST", "/api/v2/notifications/channels").len();
    let (trunk_pages, edge_pages) = (trunks.div_ceil(100), edges.div_ceil(100));
    let (trunk_channels, edge_channels) = (trunks.div_ceil(500), edges.div_ceil(500));
    eprintln!(
        "| trunks | Edges | trunk listing pages (finding, resyncs) | trunk metrics requests | Edge listing pages | Edge metrics requests | channels |"
    );
    eprintln!(
        "| {trunks} | {edges} | {} | {} | {} | {} | {} |",
        count(TRUNKS),
        count(&format!("{TRUNKS}/metrics")),
        count(EDGES),
        count(&format!("{EDGES}/metrics")),
        created - 1,
    );
    assert_eq!(count(TRUNKS), trunk_pages * (1 + trunk_channels));
    assert_eq!(count(&format!("{TRUNKS}/metrics")), trunks.div_ceil(100));
    assert_eq!(count(EDGES), edge_pages * (1 + edge_channels));
    assert_eq!(count(&format!("{EDGES}/metrics")), edges.div_ceil(100));
    assert_eq!(created, 1 + trunk_channels + edge_channels, "channels");
    harness.stop().await;
}

const FLOWS: &str = "/api/v2/flows";
const ACTIONS: &str = "/api/v2/integrations/actions";

/// 1,000 inbound call flows (and the simulator's chat flow), 200 outcomes and 500 data
/// actions cost, at start-up, what docs/operations.md's budget says a refresh, a poll and an
/// observation read each cost: the listings' pages, three flow aggregate queries whatever the
/// number of flows, one observation query per 100 flows and one data action query per 100
/// actions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watching_flows_and_actions_costs_the_floor_too() {
    let (call_flows, outcomes, actions) = (1_000, 200, 500);
    let config = SimConfig {
        flows: FlowsSize {
            call_flows,
            outcomes,
            milestones: 4,
            actions,
        },
        ..estate(50, 47)
    };
    let harness = Harness::start_counting(config, |settings| {
        one_cycle(settings);
        settings.flows.enabled = true;
        settings.actions.enabled = true;
    })
    .await;
    // The watched types hold the call flows and the one chat flow.
    let flows = call_flows + 1;
    const OBSERVATIONS: &str = "/api/v2/analytics/flows/observations/query";
    // NB: the conversations in the flows are read once the listing is in, which readiness
    // does not wait for.
    let log = common::poll_until(
        "the flows' first observation read",
        Duration::from_millis(100),
        || async {
            let log = requests(&harness).await;
            let read = calls(&log, "POST", OBSERVATIONS).len();
            (read >= flows.div_ceil(100))
                .then_some(log)
                .ok_or(format!("{read} queries"))
        },
    )
    .await;
    let log = &log[..];
    let get = |path: &str| calls(log, "GET", path).len();
    let post = |path: &str| calls(log, "POST", path).len();
    let row = [
        get(FLOWS),
        get(&format!("{FLOWS}/outcomes")),
        post("/api/v2/analytics/flows/aggregates/query"),
        post(OBSERVATIONS),
        get(ACTIONS),
        post("/api/v2/analytics/actions/aggregates/query"),
    ];
    eprintln!(
        "| flows | outcomes | actions | flow listing pages | outcome pages | flow aggregate queries | flow observation queries | action listing pages | action aggregate queries |"
    );
    let cells: Vec<String> = row.iter().map(usize::to_string).collect();
    eprintln!(
        "| {flows} | {outcomes} | {actions} | {} |",
        cells.join(" | ")
    );
    let floor = [
        flows.div_ceil(100),
        outcomes.div_ceil(100),
        3,
        flows.div_ceil(100),
        actions.div_ceil(100),
        actions.div_ceil(100),
    ];
    assert_eq!(
        row, floor,
        "flows, outcomes, flow queries, observations, actions"
    );
    harness.stop().await;
}

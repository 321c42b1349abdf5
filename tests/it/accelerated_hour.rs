//! An hour of contact-centre traffic in about a minute: simulator and exporter share a clock
//! running 60 times faster than real time. Reporting lag revises closed buckets, buckets leave
//! the 30-minute window, a queue is added and another removed mid-way, and the aggregates
//! endpoint fails in four ways (a 5xx burst, a malformed body, timeouts, 429s with
//! Retry-After). At every scrape no counter went down; while polls failed no counter moved;
//! at the end every counter equals the simulator's ground truth exactly, and so does every
//! queue's service level.

use crate::common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::truth::{check_against_truth, count, counter_mismatches, flow_and_action_series};
use common::{DEADLINE, Harness, Scrape, an_hour_of_traffic, eventually};
use genesys_exporter::sim::SimConfig;
use genesys_exporter::vocabulary::clock::Clock;
use serde_json::{Value, json};

const SCALE: f64 = 60.0;
const AGGREGATES: &str = "/api/v2/analytics/conversations/aggregates/query";
const POLLS: &str = "genesys_exporter_aggregate_polls_total";

fn polls(scrape: &Scrape, result: &str) -> f64 {
    scrape.get(POLLS, &[("result", result)]).unwrap_or(0.0)
}

/// Conversation counter series (and their values) of a scrape.
fn counters(scrape: &Scrape) -> Vec<(String, f64)> {
    scrape
        .series
        .iter()
        .filter(|(k, _)| k.starts_with("genesys_conversation"))
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}

async fn sim_json(
    harness: &Harness,
    method: reqwest::Method,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let response = harness
        .http
        .request(method, format!("{}{path}", harness.sim.base_url))
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Lets the traffic run for `real` (60 times that in simulated time).
async fn run_traffic(harness: &Harness, real: Duration) {
    harness.sim_post("/sim/traffic/resume", Value::Null).await;
    tokio::time::sleep(real).await;
}

async fn wait_nothing_pending(harness: &Harness) {
    common::wait_nothing_pending(&harness.http, &harness.sim.base_url).await;
}

async fn wait_polls(harness: &Harness, result: &str, more_than: f64) {
    eventually(&format!("more than {more_than} {result} polls"), || async {
        let n = polls(&harness.scrape().await, result);
        if n > more_than {
            Ok(())
        } else {
            Err(format!("{n}"))
        }
    })
    .await;
}

/// Pauses the traffic and breaks the aggregates endpoint with `fault` while what the lag held
/// back becomes visible: failing polls must count none of it; once the fault is lifted, the
/// next polls count it all.
async fn failing_polls_change_nothing(harness: &Harness, fault: Value) {
    harness.pause_traffic().await;
    let held_back = harness.truth().await["pendingRecords"]
        .as_u64()
        .unwrap_or(0);
    let mut armed = fault.clone();
    armed["path"] = json!(AGGREGATES);
    harness.fault(armed.clone()).await;
    let failed = polls(&harness.scrape().await, "failure");
    wait_nothing_pending(harness).await;
    wait_polls(harness, "failure", failed + 1.0).await;
    let before = harness.scrape().await;
    wait_polls(harness, "failure", polls(&before, "failure")).await;
    let after = harness.scrape().await;
    assert_eq!(
        counters(&before),
        counters(&after),
        "{fault}: a failed poll moved a counter"
    );
    assert_eq!(
        polls(&before, "success"),
        polls(&after, "success"),
        "{fault}: no poll succeeded"
    );
    if held_back > 0 {
        let mismatches = {
            let truth = common::truth::since_baseline(
                &harness.truth().await,
                harness.baseline.as_ref().unwrap(),
            );
            counter_mismatches(&after, &truth, &harness.media_types)
        };
        assert!(
            !mismatches.is_empty(),
            "{fault}: {held_back} lagged records were withheld"
        );
        eprintln!(
            "{}: {} polls failed, {held_back} lagged records withheld from {} counter series",
            fault["kind"],
            polls(&after, "failure") - failed,
            mismatches.len()
        );
    } else {
        eprintln!("{}: nothing was inside the reporting lag", fault["kind"]);
    }
    armed["count"] = json!(0);
    harness.fault(armed).await;
    let succeeded = polls(&after, "success");
    wait_polls(harness, "success", succeeded + 1.0).await;
}

/// 5-minute buckets over a 30-minute window, polled every 250 ms of real time.
fn five_minute_buckets(settings: &mut genesys_exporter::config::RawSettings) {
    settings.aggregates.granularity = "PT5M".into();
    settings.aggregates.window = Duration::from_secs(1800);
    settings.aggregates.poll_interval = Duration::from_millis(250);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accelerated_hour_ends_with_every_counter_equal_to_the_ground_truth() {
    let clock = Clock::scaled(SCALE);
    let harness = Harness::start_counting(an_hour_of_traffic(&clock, 51), |settings| {
        five_minute_buckets(settings);
        settings.flows.enabled = true;
        settings.flows.milestones = true;
        settings.actions.enabled = true;
        settings.queue_refresh_interval = Duration::from_millis(500);
        settings.http.max_retries = 1;
        settings.http.request_timeout = Duration::from_secs(1);
    })
    .await;
    let started = clock.now();
    let stop = Arc::new(AtomicBool::new(false));
    let watcher = common::watch_monotonic(&harness, stop.clone(), counters);

    run_traffic(&harness, Duration::from_secs(8)).await;

    // A queue joins: held without traffic until the exporter watches it, so all of its
    // conversations are news.
    let (status, added) = sim_json(
        &harness,
        reqwest::Method::POST,
        "/sim/queues",
        json!({"name": "Late Queue", "held": true}),
    )
    .await;
    assert_eq!(status, 200, "{added}");
    let added_id = added["id"].as_str().unwrap().to_owned();
    eventually("the exporter watches the new queue", || async {
        let scrape = harness.scrape().await;
        let watched = scrape
            .series
            .keys()
            .any(|k| k.starts_with("genesys_queue_info{") && k.contains(&added_id));
        if watched {
            Ok(())
        } else {
            Err("not yet".into())
        }
    })
    .await;
    let succeeded = polls(&harness.scrape().await, "success");
    wait_polls(&harness, "success", succeeded + 1.0).await;
    let release = format!("/sim/queues/{added_id}/release");
    harness.sim_post(&release, Value::Null).await;
    run_traffic(&harness, Duration::from_secs(6)).await;

    // A queue leaves: its series go with it.
    let removed_id = harness.sim.queues[1].id.clone();
    let (status, _) = sim_json(
        &harness,
        reqwest::Method::DELETE,
        &format!("/sim/queues/{removed_id}"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 204);
    eventually("the removed queue's series are gone", || async {
        let scrape = harness.scrape().await;
        let left = scrape
            .series
            .keys()
            .filter(|k| k.contains(&removed_id))
            .count();
        if left == 0 {
            Ok(())
        } else {
            Err(format!("{left} series left"))
        }
    })
    .await;

    for fault in [
        json!({"kind": "server_error", "count": 1000, "status": 503}),
        json!({"kind": "malformed_body", "count": 1000}),
        json!({"kind": "slow_response", "count": 1000, "delayMs": 1500}),
        json!({"kind": "rate_limit", "count": 1000, "retryAfterSeconds": 1}),
    ] {
        failing_polls_change_nothing(&harness, fault).await;
        run_traffic(&harness, Duration::from_secs(6)).await;
    }
    while clock.now() - started < chrono::TimeDelta::minutes(60) {
        run_traffic(&harness, Duration::from_secs(1)).await;
    }

    harness.pause_traffic().await;
    wait_nothing_pending(&harness).await;
    let succeeded = polls(&harness.scrape().await, "success");
    wait_polls(&harness, "success", succeeded + 1.0).await;
    eventually("every counter equals the ground truth", || {
        check_against_truth(&harness, &harness.media_types, counter_mismatches)
    })
    .await;
    eventually(
        "every flow and data action counter equals the ground truth",
        || async {
            let truth = harness.truth().await;
            let baseline = harness.baseline.as_ref().unwrap();
            let scrape = harness.scrape().await;
            let want = flow_and_action_series(&truth, baseline);
            let wrong: Vec<String> = (want.iter())
                .filter_map(|((name, labels), value)| {
                    let labels: Vec<(&str, &str)> = labels
                        .iter()
                        .map(|(k, v)| (k.as_str(), v.as_str()))
                        .collect();
                    let got = scrape.get(name, &labels);
                    let off = got.is_none_or(|got| (got - value).abs() > 1e-6);
                    off.then(|| format!("{} = {got:?}, truth {value}", common::key(name, &labels)))
                })
                .collect();
            match (want.len(), wrong.len()) {
                (0, _) => Err("no flow or action traffic".to_owned()),
                (_, 0) => Ok(()),
                (n, _) => Err(format!(
                    "{} of {n}: {:?}",
                    wrong.len(),
                    &wrong[..wrong.len().min(5)]
                )),
            }
        },
    )
    .await;
    stop.store(true, Ordering::SeqCst);
    // NB: a series may vanish here: a queue leaves the monitored set mid-way.
    let common::Monotonic {
        scrapes, decreases, ..
    } = tokio::time::timeout(DEADLINE, watcher)
        .await
        .unwrap()
        .unwrap();
    assert!(decreases.is_empty(), "counters went down: {decreases:?}");

    let truth = harness.truth().await;
    let scrape = harness.scrape().await;
    let simulated = (clock.now() - started).num_minutes();
    let mut checked = 0;
    for queue in truth["queues"].as_array().unwrap() {
        let id = queue["id"].as_str().unwrap();
        let name = queue["name"].as_str().unwrap();
        let (mut numerator, mut denominator) = (0.0, 0.0);
        let (mut ours_numerator, mut ours_denominator) = (0.0, 0.0);
        for media in &harness.media_types {
            let level = &queue["totals"][media]["oServiceLevel"];
            numerator += count(&level["numerator"]);
            denominator += count(&level["denominator"]);
            let labels = [
                ("queue_id", id),
                ("queue", name),
                ("media_type", media.as_str()),
            ];
            let get = |name: &str| scrape.get(name, &labels).unwrap_or(0.0);
            ours_numerator += get("genesys_conversations_service_level_numerator_total");
            ours_denominator += get("genesys_conversations_service_level_denominator_total");
            if count(&level["denominator"]) > 0.0 {
                let target = scrape.get("genesys_queue_service_level_target", &labels);
                assert_eq!(
                    target,
                    queue["serviceLevelTarget"].as_f64(),
                    "{name} {media}"
                );
            }
        }
        assert!(denominator > 0.0, "{name} answered or abandoned something");
        let (theirs, ours) = (numerator / denominator, ours_numerator / ours_denominator);
        eprintln!(
            "{name}: service level {ours:.4} (simulator {theirs:.4}, target {})",
            queue["serviceLevelTarget"]
        );
        assert_eq!(ours, theirs, "{name}: service level");
        checked += 1;
    }
    assert_eq!(checked, 3, "two initial queues and the added one");
    assert!(
        !truth["queues"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q["id"] == removed_id)
    );
    let offered: f64 = common::truth::total(&truth, "nOffered", "count");
    let compared = counters(&scrape).len();
    eprintln!(
        "{simulated} simulated minutes, {offered} conversations offered, {scrapes} scrapes, \
         {compared} counter series equal to the truth"
    );
    assert!(simulated >= 60, "{simulated} simulated minutes");
    assert!(scrapes >= 100, "{scrapes} scrapes");
    harness.stop().await;
}

/// Channel expiry is judged by the clock the simulator keeps, as Genesys's own: on a clock ten
/// minutes a second, a channel living 30 minutes is replaced 10 minutes before it expires, 2 s
/// of real time after it was made, as a real exporter would after 20 real minutes. Judged by
/// the machine's clock, the channel would look good for 20 more minutes, and the simulator
/// would close it expired (a reconnect for `closed`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_an_accelerated_clock_channels_are_rotated_before_they_expire() {
    const RECONNECTS: &str = "genesys_exporter_stream_reconnects_total";
    let clock = Clock::scaled(600.0);
    let config = SimConfig {
        clock,
        channel_ttl: Duration::from_secs(30 * 60),
        // NB: no traffic: at this speed it would be thousands of conversations a second.
        start_paused: true,
        ..SimConfig::fast_for_tests(52)
    };
    let harness = Harness::start_with(config, |settings| {
        settings.stream.rotate_before_expiry = Duration::from_secs(10 * 60);
    })
    .await;
    let reconnects = |scrape: &Scrape, reason| scrape.get(RECONNECTS, &[("reason", reason)]);
    common::poll_until("three rotations", Duration::from_millis(200), || async {
        let scrape = harness.scrape().await;
        match reconnects(&scrape, "channel_expiring").unwrap_or(0.0) {
            rotations if rotations >= 3.0 => Ok(()),
            rotations => Err(format!("{rotations} rotations")),
        }
    })
    .await;
    let scrape = harness.scrape().await;
    assert_eq!(
        reconnects(&scrape, "closed").unwrap_or(0.0),
        0.0,
        "the simulator closed a channel that had expired"
    );
    harness.stop().await;
}

/// An hour of traffic no one scrapes, as with Prometheus down: what the exporter holds stays
/// within bounds set by its queues, media types and window (each counter group holds back one
/// set of totals however many arrive), and once a scrape has shown the series it had never
/// shown (at 0, as every new counter series first appears), the next shows every total exact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_hour_without_a_scrape_holds_memory_flat_then_the_counters_are_exact() {
    const POLLS_OK: [(&str, &str); 1] = [("result", "success")];
    let clock = Clock::scaled(240.0);
    let harness =
        Harness::start_counting(an_hour_of_traffic(&clock, 53), five_minute_buckets).await;
    let groups = 3 * harness.media_types.len();
    let started = clock.now();
    harness.sim_post("/sim/traffic/resume", Value::Null).await;
    let mut samples = Vec::new();
    while clock.now() - started < chrono::TimeDelta::minutes(60) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        samples.push(harness.exporter().holdings());
    }
    harness.pause_traffic().await;
    let peak = |field: fn(&genesys_exporter::app::Holdings) -> usize| {
        samples.iter().map(field).max().unwrap_or(0)
    };
    eprintln!(
        "{} samples; peaks: pending groups {}, buckets {}, marks {}, totals {}, unpublished {}, \
         observation entries {}",
        samples.len(),
        peak(|held| held.pending_counter_groups),
        peak(|held| held.ledger_buckets),
        peak(|held| held.ledger_marks),
        peak(|held| held.series_totals),
        peak(|held| held.unpublished_series),
        peak(|held| held.observation_entries),
    );
    let moved = |held: &genesys_exporter::app::Holdings| held.series_totals > 0;
    assert!(samples.iter().any(moved), "no conversation was counted");
    // NB: the window is six 5-minute buckets; the bucket in progress and one just past it
    // may be held beside them.
    let over: Vec<_> = (samples.iter())
        .filter(|held| {
            held.pending_counter_groups > groups
                || held.series_totals > groups
                || held.unpublished_series > groups
                || held.ledger_buckets > 8
                || held.ledger_marks > 8 * groups
                || held.observation_entries > 2 * (3 + groups)
        })
        .collect();
    assert!(
        over.is_empty(),
        "{} of {} samples past the bounds, {groups} counter groups: {:?}",
        over.len(),
        samples.len(),
        over.first()
    );

    wait_nothing_pending(&harness).await;
    let succeeded = harness.self_counter(POLLS, &POLLS_OK);
    common::poll_until(
        "a poll after the last conversation",
        Duration::from_millis(50),
        || async {
            match harness.self_counter(POLLS, &POLLS_OK) {
                n if n > succeeded => Ok(()),
                n => Err(format!("{n} polls")),
            }
        },
    )
    .await;
    // NB: the first two scrapes show at 0 the series no scrape had shown (Prometheus takes a
    // series' first sample as its base, and may lose one scrape); the third must show every
    // total.
    harness.scrape().await;
    harness.scrape().await;
    let exact = check_against_truth(&harness, &harness.media_types, counter_mismatches).await;
    assert!(exact.is_ok(), "{exact:?}");
    harness.stop().await;
}

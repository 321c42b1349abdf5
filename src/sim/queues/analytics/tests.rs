use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::genesys::model::{ConversationAggregateQueryResponse, QueueObservationQueryResponse};
use crate::genesys::time::{bucket_start, format_interval, parse_interval};
use crate::sim::SimConfig;
use crate::sim::harness::{DEADLINE, TestSim, total_offered, truth_now};
use crate::vocabulary::clock::Clock;
use crate::vocabulary::labels::{LabelValue, RoutingStatus};

const OBSERVATIONS: &str = "/api/v2/analytics/queues/observations/query";
const AGGREGATES: &str = "/api/v2/analytics/conversations/aggregates/query";

fn predicates(ids: &[String]) -> Value {
    let list: Vec<Value> = ids
        .iter()
        .map(|id| json!({"type": "dimension", "dimension": "queueId", "operator": "matches", "value": id}))
        .collect();
    json!({"type": "or", "predicates": list})
}

#[tokio::test]
async fn paused_observations_equal_the_ground_truth() {
    let sim = TestSim::fast().await;
    let token = sim.token().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    sim.control("/sim/traffic/pause", json!({})).await;
    let truth = sim.truth().await;
    assert_eq!(truth["paused"], true);
    let ids: Vec<String> = sim.handle.queues.iter().map(|q| q.id.clone()).collect();
    let metrics: Vec<&str> = (crate::genesys::model::OBSERVATION_METRICS.iter())
        .map(|m| m.as_str())
        .collect();
    let body =
        json!({"filter": predicates(&ids), "metrics": metrics, "detailMetrics": ["oWaiting"]});
    let response = sim.post_json(&token, OBSERVATIONS, &body).await;
    assert_eq!(response.status(), 200);
    let response: QueueObservationQueryResponse = response.json().await.unwrap();
    let mut checked = 0;
    for container in &response.results {
        let queue_id = container.group.queue_id.as_deref().unwrap();
        let queue = truth["queues"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["id"] == queue_id)
            .unwrap();
        let value = |metric: &str, qualifier: Option<&str>| {
            container
                .data
                .iter()
                .filter(|d| d.metric == metric && d.qualifier.as_deref() == qualifier)
                .map(|d| d.stats.count.unwrap_or(0))
                .sum::<u64>()
        };
        match &container.group.media_type {
            Some(media) => {
                let expected = &queue["interactions"][media];
                assert_eq!(
                    value("oWaiting", None),
                    expected["waiting"].as_u64().unwrap()
                );
                assert_eq!(
                    value("oInteracting", None),
                    expected["interacting"].as_u64().unwrap()
                );
                assert_eq!(
                    value("oAlerting", None),
                    expected["alerting"].as_u64().unwrap()
                );
                let longest = container
                    .data
                    .iter()
                    .find(|d| d.metric == "oLongestWaiting");
                let since = queue["longestWaitingSince"][media].as_i64();
                assert_eq!(longest.and_then(|d| d.stats.calculated_metric_value), since);
                let waiting = container
                    .data
                    .iter()
                    .find(|d| d.metric == "oWaiting")
                    .unwrap();
                let details = waiting.observations.as_ref().unwrap();
                assert_eq!(details.len() as u64, expected["waiting"].as_u64().unwrap());
                assert!(
                    details
                        .windows(2)
                        .all(|w| w[0].observation_date <= w[1].observation_date)
                );
            }
            None => {
                for status in RoutingStatus::ALL.iter().map(|s| s.as_str()) {
                    let expected = queue["users"][status].as_u64().unwrap();
                    assert_eq!(value("oUserRoutingStatuses", Some(status)), expected);
                }
                let on_queue: u64 = container
                    .data
                    .iter()
                    .filter(|d| d.metric == "oOnQueueUsers")
                    .map(|d| d.stats.count.unwrap_or(0))
                    .sum();
                assert_eq!(on_queue, queue["onQueueUsers"].as_u64().unwrap());
                assert_eq!(
                    value("oMemberUsers", None),
                    queue["members"].as_u64().unwrap()
                );
                assert_eq!(
                    value("oActiveUsers", None),
                    queue["activeUsers"].as_u64().unwrap()
                );
                assert_eq!(
                    value("oOffQueueUsers", None),
                    queue["offQueueUsers"].as_u64().unwrap()
                );
            }
        }
        checked += 1;
    }
    assert_eq!(
        checked,
        ids.len() * 4,
        "3 media groups and 1 user group per queue"
    );
    sim.stop().await;
}

#[tokio::test]
async fn more_than_100_predicates_are_rejected_with_the_error_envelope() {
    let sim = TestSim::fast().await;
    let token = sim.token().await;
    let ids: Vec<String> = (0..101).map(|i| format!("queue-{i}")).collect();
    for (path, body) in [
        (
            OBSERVATIONS,
            json!({"filter": predicates(&ids), "metrics": ["oWaiting"]}),
        ),
        (
            AGGREGATES,
            json!({"interval": "2026-11-25T08:00:00.000Z/2026-11-25T09:00:00.000Z",
                   "granularity": "PT30M", "groupBy": ["queueId", "mediaType"],
                   "filter": predicates(&ids), "metrics": ["nOffered"]}),
        ),
    ] {
        let response = sim.post_json(&token, path, &body).await;
        assert_eq!(response.status(), 400, "{path}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "bad.request");
    }
    let log = sim.requests_log().await;
    assert_eq!(log["requests"][0]["predicates"], 101);
    sim.stop().await;
}

#[tokio::test]
async fn hostile_granularities_get_the_error_envelope_and_the_simulator_keeps_serving() {
    let sim = TestSim::fast().await;
    let token = sim.token().await;
    let ids: Vec<String> = vec![sim.handle.queues[0].id.clone()];
    let query = |granularity: &str| {
        json!({"interval": "2026-11-25T08:00:00.000Z/2026-11-25T09:00:00.000Z",
               "granularity": granularity, "groupBy": ["queueId"],
               "filter": predicates(&ids), "metrics": ["nOffered"]})
    };
    for granularity in [
        "PT2305843009213693952S",
        "PT9223372036854775807M",
        "P106751991167300D",
        "PT0M",
        "PT0S",
        "PT2H",
        "P1D",
        "PT7M",
    ] {
        let response = sim.post_json(&token, AGGREGATES, &query(granularity)).await;
        assert_eq!(response.status(), 400, "{granularity}");
        assert!(response.headers().contains_key("inin-correlation-id"));
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "bad.request", "{granularity}");
    }
    let fine = sim.post_json(&token, AGGREGATES, &query("PT30M")).await;
    assert_eq!(fine.status(), 200);
    sim.stop().await;
}

/// nOffered over `interval` in every bucket, by bucket start.
async fn offered_by_bucket(
    sim: &TestSim,
    token: &str,
    interval: &str,
    granularity: &str,
) -> BTreeMap<DateTime<Utc>, u64> {
    let ids: Vec<String> = sim.handle.queues.iter().map(|q| q.id.clone()).collect();
    let body = json!({"interval": interval, "granularity": granularity,
                      "groupBy": ["queueId"], "filter": predicates(&ids),
                      "metrics": ["nOffered"]});
    let response = sim.post_json(token, AGGREGATES, &body).await;
    assert_eq!(response.status(), 200);
    let body: ConversationAggregateQueryResponse = response.json().await.unwrap();
    let mut buckets = BTreeMap::new();
    for data in body.results.iter().flat_map(|r| &r.data) {
        let (from, _) = parse_interval(&data.interval).unwrap();
        let offered: u64 = data.metrics.iter().filter_map(|m| m.stats.count).sum();
        *buckets.entry(from).or_default() += offered;
    }
    buckets
}

#[tokio::test]
async fn a_scaled_clock_records_minutes_of_traffic_in_simulated_buckets_within_real_seconds() {
    let clock = Clock::scaled(600.0);
    let config = SimConfig {
        clock: clock.clone(),
        arrivals_per_minute: 30.0,
        mean_talk: Duration::from_secs(60),
        mean_acw: Duration::from_secs(10),
        mean_patience: Duration::from_secs(90),
        alert_timeout: Duration::from_secs(10),
        reporting_lag: Duration::from_secs(5),
        ..SimConfig::fast_for_tests(21)
    };
    let real_start = Instant::now();
    let started = clock.now();
    let sim = TestSim::start(config).await;
    let token = sim.token().await;
    let five_minutes_on = started + chrono::Duration::minutes(5);
    tokio::time::timeout(DEADLINE, async {
        while truth_now(&sim.truth().await) < five_minutes_on {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the truth's clock passes five simulated minutes");
    sim.control("/sim/traffic/pause", json!({})).await;
    let truth = sim.truth().await;
    let minute = Duration::from_secs(60);
    let start = bucket_start(started, minute);
    let end = bucket_start(truth_now(&truth), minute) + chrono::Duration::minutes(2);
    let interval = format_interval(start, end);
    let expected = total_offered(&truth);
    let buckets = tokio::time::timeout(DEADLINE, async {
        loop {
            let buckets = offered_by_bucket(&sim, &token, &interval, "PT1M").await;
            if buckets.values().sum::<u64>() == expected {
                return buckets;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the aggregates reach the truth after the simulated reporting lag");
    assert!(
        buckets.len() >= 5,
        "one-minute buckets over five simulated minutes: {buckets:?}"
    );
    assert!(buckets.keys().all(|from| *from >= start && *from < end));
    assert!(
        real_start.elapsed() < Duration::from_secs(60),
        "five simulated minutes took {:?} of real time",
        real_start.elapsed()
    );
    sim.stop().await;
}

/// Per queue id: (numerator, denominator) of oServiceLevel summed over media types.
fn truth_service_levels(truth: &Value) -> BTreeMap<String, (u64, u64)> {
    let mut out = BTreeMap::new();
    for queue in truth["queues"].as_array().unwrap() {
        let id = queue["id"].as_str().unwrap().to_owned();
        let entry: &mut (u64, u64) = out.entry(id).or_default();
        for media in queue["totals"].as_object().unwrap().values() {
            let level = &media["oServiceLevel"];
            entry.0 += level["numerator"].as_u64().unwrap_or(0);
            entry.1 += level["denominator"].as_u64().unwrap_or(0);
        }
    }
    out
}

/// Per queue id: oServiceLevel summed over every bucket and media type, checking each
/// bucket's ratio and target on the way.
fn aggregated_service_levels(
    body: &ConversationAggregateQueryResponse,
    targets: &BTreeMap<String, f64>,
) -> BTreeMap<String, (u64, u64)> {
    let mut out = BTreeMap::new();
    for result in &body.results {
        let id = result.group.queue_id.clone().unwrap();
        let target = targets[&id];
        let entry: &mut (u64, u64) = out.entry(id).or_default();
        for stats in result
            .data
            .iter()
            .flat_map(|d| &d.metrics)
            .map(|m| &m.stats)
        {
            let (numerator, denominator) = (stats.numerator.unwrap(), stats.denominator.unwrap());
            assert!(denominator > 0.0 && numerator <= denominator);
            assert_eq!(stats.ratio, Some(numerator / denominator));
            assert_eq!(stats.target, Some(target));
            entry.0 += numerator as u64;
            entry.1 += denominator as u64;
        }
    }
    out
}

#[tokio::test]
async fn service_levels_carry_each_queues_target_and_add_up_to_the_truth_after_the_lag() {
    let sim = TestSim::fast().await;
    let token = sim.token().await;
    let ids: Vec<String> = sim.handle.queues.iter().map(|q| q.id.clone()).collect();
    tokio::time::timeout(DEADLINE, async {
        while truth_service_levels(&sim.truth().await)
            .values()
            .any(|(_, d)| *d == 0)
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("every queue answers or loses conversations");
    sim.control("/sim/traffic/pause", json!({})).await;
    let truth = sim.truth().await;
    let expected = truth_service_levels(&truth);
    let targets: BTreeMap<String, f64> = truth["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| {
            (
                q["id"].as_str().unwrap().to_owned(),
                q["serviceLevelTarget"].as_f64().unwrap(),
            )
        })
        .collect();
    let distinct: Vec<f64> = ids.iter().map(|id| targets[id]).collect();
    assert_eq!(distinct, [0.8, 0.9, 0.7]);

    let granularity = Duration::from_secs(300);
    let start = bucket_start(truth_now(&truth), granularity) - chrono::Duration::minutes(5);
    let window = format_interval(start, start + chrono::Duration::minutes(15));
    let query = json!({"interval": window, "granularity": "PT5M",
                       "groupBy": ["queueId", "mediaType"], "filter": predicates(&ids),
                       "metrics": ["oServiceLevel"]});
    tokio::time::timeout(DEADLINE, async {
        loop {
            let response = sim.post_json(&token, AGGREGATES, &query).await;
            let body: ConversationAggregateQueryResponse = response.json().await.unwrap();
            if aggregated_service_levels(&body, &targets) == expected {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("bucket numerators and denominators add up to the truth's");
    sim.stop().await;
}

#[tokio::test]
async fn aggregates_fill_whole_buckets_and_converge_on_the_truth_after_the_lag() {
    let sim = TestSim::fast().await;
    let token = sim.token().await;
    let ids: Vec<String> = sim.handle.queues.iter().map(|q| q.id.clone()).collect();
    let query = |interval: String, granularity: &str| {
        json!({"interval": interval, "granularity": granularity,
               "groupBy": ["queueId", "mediaType"], "filter": predicates(&ids),
               "metrics": ["nOffered", "tHandle", "tAnswered", "tAbandon", "oServiceLevel"]})
    };
    let empty = query(
        "2020-01-01T00:00:00.000Z/2020-01-01T01:00:00.000Z".into(),
        "PT30M",
    );
    let response = sim.post_json(&token, AGGREGATES, &empty).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "{}");
    let ragged = query(
        "2020-01-01T00:00:00.000Z/2020-01-01T01:10:00.000Z".into(),
        "PT30M",
    );
    assert_eq!(
        sim.post_json(&token, AGGREGATES, &ragged).await.status(),
        400
    );
    let zoneless = query("2020-01-01T00:00:00/2020-01-01T01:00:00".into(), "PT30M");
    let response = sim.post_json(&token, AGGREGATES, &zoneless).await;
    assert_eq!(response.status(), 200);
    let mut in_berlin = zoneless.clone();
    in_berlin["timeZone"] = json!("Europe/Berlin");
    let response = sim.post_json(&token, AGGREGATES, &in_berlin).await;
    assert_eq!(response.status(), 400, "we serve UTC only, and say so");

    tokio::time::sleep(Duration::from_millis(500)).await;
    sim.control("/sim/traffic/pause", json!({})).await;
    let truth = sim.truth().await;
    let granularity = Duration::from_secs(300);
    let now = chrono::Utc::now();
    let start = bucket_start(now, granularity) - chrono::Duration::minutes(5);
    let end = start + chrono::Duration::minutes(15);
    let window = format_interval(start, end);
    let offered_in = |body: &ConversationAggregateQueryResponse| -> u64 {
        body.results
            .iter()
            .flat_map(|r| &r.data)
            .flat_map(|d| &d.metrics)
            .filter(|m| m.metric == "nOffered")
            .map(|m| m.stats.count.unwrap_or(0))
            .sum()
    };
    let expected = total_offered(&truth);
    assert!(
        expected > 0,
        "busy fast traffic offers conversations within 500 ms"
    );
    let converged = tokio::time::timeout(DEADLINE, async {
        loop {
            let response = sim
                .post_json(&token, AGGREGATES, &query(window.clone(), "PT5M"))
                .await;
            let body: ConversationAggregateQueryResponse = response.json().await.unwrap();
            if offered_in(&body) == expected {
                return body;
            }
            assert!(offered_in(&body) < expected, "never more than recorded");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("visible aggregates reach the truth once the reporting lag has passed");
    for result in &converged.results {
        assert!(result.group.media_type.is_some());
        for data in &result.data {
            let (from, to) = parse_interval(&data.interval).unwrap();
            assert_eq!(to - from, chrono::Duration::minutes(5));
            assert!(from >= start && to <= end);
            assert_eq!(bucket_start(from, granularity), from);
        }
    }
    let any_of = |dimension: &str, values: &[&str]| {
        let list: Vec<Value> = values
            .iter()
            .map(|v| json!({"type": "dimension", "dimension": dimension, "value": v}))
            .collect();
        json!({"type": "or", "predicates": list})
    };
    let mut narrowed = query(window.clone(), "PT5M");
    narrowed["groupBy"] = json!(["queueId", "mediaType", "direction"]);
    narrowed["filter"] = json!({"type": "and", "clauses": [
        predicates(&ids), any_of("mediaType", &["voice"]), any_of("direction", &["outbound"])]});
    let response = sim.post_json(&token, AGGREGATES, &narrowed).await;
    let body: ConversationAggregateQueryResponse = response.json().await.unwrap();
    for result in &body.results {
        assert_eq!(result.group.media_type.as_deref(), Some("voice"));
        assert_eq!(result.group.direction.as_deref(), Some("outbound"));
    }
    let voice_outbound: u64 = truth["queues"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["totalsByDirection"]["voice"]["outbound"]["nOffered"]["count"].as_u64())
        .map(Option::unwrap_or_default)
        .sum();
    assert_eq!(offered_in(&body), voice_outbound);
    let by_direction = json!({"filter": narrowed["filter"].clone(),
        "metrics": ["oWaiting"]});
    let refused = sim.post_json(&token, OBSERVATIONS, &by_direction).await;
    assert_eq!(
        refused.status(),
        400,
        "observations have no direction dimension"
    );
    narrowed["filter"]["clauses"][1] = any_of("wrapUpCode", &["x"]);
    let refused = sim.post_json(&token, AGGREGATES, &narrowed).await;
    assert_eq!(refused.status(), 400, "a dimension it cannot filter by");
    sim.stop().await;
}

/// The queue topic's running totals leave the error counts to the aggregates query (Genesys
/// does not say the topic carries them), and the query gives them when asked.
#[test]
fn error_counts_are_answered_by_the_query_and_left_off_the_topic() {
    use crate::sim::model::stats::{Metric, StatSet};
    let mut set = StatSet::default();
    for metric in [
        Metric::NOffered,
        Metric::NError,
        Metric::NStateTransitionError,
    ] {
        set[metric as usize].count = 2;
    }
    let names = |metrics: Vec<crate::genesys::model::AggregateMetricData>| -> Vec<String> {
        metrics
            .into_iter()
            .map(|m| m.metric.as_str().to_owned())
            .collect()
    };
    let streamed = names(super::aggregate_metrics(&set, None, 0.8));
    assert_eq!(streamed, ["nOffered"]);
    let wanted = ["nError", "nStateTransitionError"].map(String::from);
    let polled = names(super::aggregate_metrics(&set, Some(&wanted), 0.8));
    assert_eq!(polled, wanted);
}

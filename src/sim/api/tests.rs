use std::time::Duration;

use serde_json::Value;

use super::*;
use crate::sim::harness::TestSim;

#[tokio::test]
async fn an_unserved_method_on_an_api_path_gets_the_error_envelope() {
    let sim = TestSim::fast().await;
    let token = sim.token().await;
    let id = &sim.handle.queues[0].id;
    for (method, path) in [
        (reqwest::Method::DELETE, "/api/v2/routing/queues".to_owned()),
        (
            reqwest::Method::POST,
            format!("/api/v2/routing/queues/{id}"),
        ),
        (
            reqwest::Method::GET,
            "/api/v2/analytics/queues/observations/query".to_owned(),
        ),
    ] {
        let response = sim.request(method.clone(), &token, &path).await;
        assert_eq!(response.status(), 405, "{method} {path}");
        assert!(response.headers().contains_key("allow"), "{method} {path}");
        let correlation = response.headers()["inin-correlation-id"]
            .to_str()
            .unwrap()
            .to_owned();
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], 405, "{method} {path}");
        assert_eq!(body["code"], "method.not.allowed", "{method} {path}");
        assert_eq!(body["contextId"], correlation.as_str(), "{method} {path}");
    }
    let control = sim.http.delete(sim.url("/sim/truth")).send().await.unwrap();
    assert_eq!(
        control.status(),
        405,
        "the simulator's own paths stay plain"
    );
    sim.stop().await;
}

#[test]
fn granularity_must_be_positive_whole_minutes_within_the_interval() {
    let hour = 3_600_000;
    assert_eq!(bucket_width(None, hour).unwrap(), hour);
    assert_eq!(bucket_width(Some("PT30M"), hour).unwrap(), hour / 2);
    assert_eq!(bucket_width(Some("PT1H"), hour).unwrap(), hour);
    for (granularity, message) in [
        ("PT2H", "not be longer than the interval"),
        ("P1D", "not be longer than the interval"),
        ("PT7M", "whole number of granularity buckets"),
        ("PT0M", "whole minutes"),
        ("PT30S", "whole minutes"),
        ("-PT30M", "whole minutes"),
        ("PT2305843009213693952S", "whole minutes"),
        ("PT", "whole minutes"),
    ] {
        let failure = bucket_width(Some(granularity), hour).unwrap_err();
        assert_eq!(failure.status, 400, "{granularity}");
        assert!(
            format!("{failure:?}").contains(message),
            "{granularity}: {failure:?}"
        );
    }
    assert!(bucket_width(Some("PT30M"), 0).is_err());
}

#[test]
fn millisecond_conversions_and_bucket_bounds_never_wrap() {
    // NB: `as i64` made this 0, and `% 0` then panicked.
    let huge = Duration::from_secs(2_305_843_009_213_693_952);
    assert_eq!(duration_ms(huge), None);
    assert_eq!(duration_ms(Duration::from_secs(1_800)), Some(1_800_000));
    assert_eq!(bucket_bound(1_000, 2, 60_000), Some(121_000));
    assert_eq!(bucket_bound(i64::MAX - 10, 1, 60_000), None);
    assert_eq!(bucket_bound(0, i64::MAX, 2), None);
}

#[test]
fn intervals_may_carry_a_zone_or_none_which_means_utc() {
    let expected = query_interval("2026-11-25T08:00:00.000Z/2026-11-25T08:30:00.000Z");
    assert!(expected.is_some());
    for text in [
        "2026-11-25T08:00:00/2026-11-25T08:30:00",
        "2026-11-25T08:00:00.000/2026-11-25T08:30:00.000",
        "2026-11-25T09:00:00+01:00/2026-11-25T08:30:00Z",
    ] {
        assert_eq!(query_interval(text), expected, "{text}");
    }
    for text in ["2026-11-25T08:00:00Z", "2026-11-25/2026-11-26", "a/b"] {
        assert_eq!(query_interval(text), None, "{text}");
    }
}

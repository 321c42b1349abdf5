//! Waiting on what the exporter shows: readiness, metric values and the ground truth.

use std::time::Duration;

use super::truth::{check_against_truth, gauge_mismatches};
use super::{DEADLINE, Harness, Scrape, eventually, within};

pub fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    scrape.get(name, labels).unwrap_or(0.0)
}

/// `name{labels}` in a fresh scrape.
pub async fn value_now(harness: &Harness, name: &str, labels: &[(&str, &str)]) -> f64 {
    value(&harness.scrape().await, name, labels)
}

/// The exporter's answer to `GET path`: status and body.
pub async fn exporter_get(harness: &Harness, path: &str) -> (u16, String) {
    harness
        .get_text(&format!("{}{path}", harness.exporter_url))
        .await
}

/// `/healthz` and `/readyz` both answer 200 (`when` names the moment in a failure).
pub async fn assert_alive_and_ready(harness: &Harness, when: &str) {
    let (health, body) = exporter_get(harness, "/healthz").await;
    assert_eq!(health, 200, "{when}: {body}");
    let (ready, body) = exporter_get(harness, "/readyz").await;
    assert_eq!(ready, 200, "{when}: {body}");
}

pub async fn ready(harness: &Harness) {
    eventually("the exporter is ready and streaming", || async {
        let (status, body) = exporter_get(harness, "/readyz").await;
        let connected = value_now(
            harness,
            "genesys_exporter_stream_connected",
            &[("channel", "0")],
        )
        .await;
        if status == 200 && connected == 1.0 {
            Ok(())
        } else {
            Err(format!("readyz {status} {body}, connected {connected}"))
        }
    })
    .await;
}

/// Waits until `name{labels}` reaches `at_least`.
pub async fn metric_reaches(harness: &Harness, name: &str, labels: &[(&str, &str)], at_least: f64) {
    metric_reaches_within(harness, name, labels, at_least, DEADLINE).await;
}

/// [`metric_reaches`] with a `limit` of its own. A miss shows every series of `name`, should
/// the value have gone to another label set.
pub async fn metric_reaches_within(
    harness: &Harness,
    name: &str,
    labels: &[(&str, &str)],
    at_least: f64,
    limit: Duration,
) {
    within(&format!("{name} reaches {at_least}"), limit, || async {
        let scrape = harness.scrape().await;
        let got = value(&scrape, name, labels);
        if got >= at_least {
            Ok(())
        } else {
            let family = format!("{name}{{");
            let all: Vec<String> = (scrape.series())
                .filter(|series| series.starts_with(&family))
                .map(|series| format!("{series} {:?}", scrape.get_series(series)))
                .collect();
            Err(format!("{name} = {got}; every series: {all:?}"))
        }
    })
    .await;
}

/// A counter's value when it was read, to wait later for it to grow from there.
pub struct Reading<'a> {
    name: &'a str,
    labels: &'a [(&'a str, &'a str)],
    value: f64,
}

impl Reading<'_> {
    /// Waits until the counter has grown by `by` since it was read.
    pub async fn grows_by(&self, harness: &Harness, by: f64) {
        metric_reaches(harness, self.name, self.labels, self.value + by).await;
    }
}

/// Reads `name{labels}` now.
pub async fn reading<'a>(
    harness: &Harness,
    name: &'a str,
    labels: &'a [(&'a str, &'a str)],
) -> Reading<'a> {
    let value = value_now(harness, name, labels).await;
    Reading {
        name,
        labels,
        value,
    }
}

/// Waits until `name{labels}` has grown by `by` from its value now.
pub async fn metric_grows(harness: &Harness, name: &str, labels: &[(&str, &str)], by: f64) {
    reading(harness, name, labels)
        .await
        .grows_by(harness, by)
        .await;
}

pub async fn gauges_match_truth(harness: &Harness) {
    let media_types = harness.media_types.clone();
    eventually("every queue gauge equals the ground truth", || {
        check_against_truth(harness, &media_types, gauge_mismatches)
    })
    .await;
}

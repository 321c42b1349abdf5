use std::io::Read;
use std::time::Duration;

use super::*;
use crate::queues::table::{QueueSeries, QueueTable};
use crate::vocabulary::labels::MediaType;
use crate::vocabulary::queue::{QueueLabels, StaleGauges, StalePolicy};

fn scrapes() -> (Arc<Metrics>, Arc<QueueTable>, Arc<Scrapes>) {
    let metrics = Arc::new(Metrics::new());
    let queues = voice_queues(&metrics);
    (metrics.clone(), queues, Scrapes::new(metrics))
}

fn voice_queues(metrics: &Metrics) -> Arc<QueueTable> {
    QueueTable::register(metrics, QueueSeries::new(vec![MediaType::Voice]))
}

/// The rest of a scrape's body, within a deadline so a scrape left waiting fails the test.
async fn rest(scrape: &mut Scrape) -> Vec<u8> {
    let mut body = Vec::new();
    let read = async {
        while let Some(chunk) = scrape.next().await {
            body.extend_from_slice(&chunk);
        }
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .expect("the body ends");
    body
}

fn text(body: Vec<u8>) -> String {
    String::from_utf8(body).unwrap()
}

fn gunzip(body: &[u8]) -> String {
    let mut text = String::new();
    flate2::read::GzDecoder::new(body)
        .read_to_string(&mut text)
        .unwrap();
    text
}

fn open_connections(text: &str) -> &str {
    let line = text
        .lines()
        .find(|l| l.starts_with("genesys_exporter_http_connections "));
    line.expect("the gauge is rendered")
}

#[tokio::test]
async fn scrapes_arriving_during_a_render_share_the_next_which_starts_after_them() {
    let (metrics, _, scrapes) = scrapes();
    let telemetry = ServerMetrics::of(&metrics);
    let mut first = scrapes.join(false);
    let head = first.next().await.expect("a first part");
    // The first render is being written: these two wait for the next, and see what
    // changed after they arrived.
    let mut plain = scrapes.join(false);
    let mut gzip = scrapes.join(true);
    telemetry.connections_open(7);
    let first = text([head.to_vec(), rest(&mut first).await].concat());
    let (plain, gzip) = tokio::join!(rest(&mut plain), rest(&mut gzip));
    let plain = text(plain);
    assert_eq!(gunzip(&gzip), plain, "one render, in both encodings");
    assert_eq!(
        open_connections(&plain),
        "genesys_exporter_http_connections 7"
    );
    assert_ne!(
        open_connections(&first),
        "genesys_exporter_http_connections 7"
    );
    assert_eq!((telemetry.scrapes(false), telemetry.scrapes(true)), (1, 2));
}

fn support(name: &str) -> QueueLabels {
    QueueLabels {
        id: "q1".into(),
        name: name.into(),
        division: "Home".into(),
    }
}

#[tokio::test]
async fn a_gzip_scrape_arriving_while_nothing_turned_stale_joins_the_render_being_written() {
    let (metrics, queues, scrapes) = scrapes();
    queues.set_queues(&[support("Support")]);
    let telemetry = ServerMetrics::of(&metrics);
    let mut first = scrapes.join(true);
    let head = first.next().await.expect("a first part");
    let mut joined = scrapes.join(true);
    // A render started after the join would carry the new name throughout.
    queues.set_queues(&[support("Renamed")]);
    let first = [head.to_vec(), rest(&mut first).await].concat();
    assert_eq!(
        rest(&mut joined).await,
        first,
        "the same render, byte for byte"
    );
    assert!(gunzip(&first).contains(r#"queue="Support""#));
    assert_eq!((telemetry.scrapes(false), telemetry.scrapes(true)), (1, 1));
    // Once its last part is written, a render takes no one: that part judged as it was.
    let mut last = scrapes.join(true);
    while !lock(&last.render.state).sealed {
        last.next().await.expect("parts until the last");
    }
    let after = scrapes.join(true);
    assert!(!Arc::ptr_eq(&last.render, &after.render));
}

#[tokio::test]
async fn a_scrape_arriving_after_a_queue_turned_stale_waits_for_a_render_that_says_so() {
    let metrics = Metrics::new().with_stale_policy(StalePolicy {
        bound_seconds: Some(0.05),
        gauges: StaleGauges::Keep,
    });
    voice_queues(&metrics).set_queues(&[support("Support")]);
    let metrics = Arc::new(metrics);
    let turns_ms = metrics.clock().now_ms() + 50;
    let scrapes = Scrapes::new(metrics.clone());
    let mut first = scrapes.join(true);
    let head = first.next().await.expect("a first part");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while metrics.clock().now_ms() <= turns_ms + 1 {
        assert!(tokio::time::Instant::now() < deadline, "the clock moves");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut later = scrapes.join(true);
    let first = gunzip(&[head.to_vec(), rest(&mut first).await].concat());
    let later = gunzip(&rest(&mut later).await);
    let stale = r#"genesys_exporter_queue_stale{queue="Support",queue_id="q1"}"#;
    assert!(first.contains(&format!("{stale} 0")), "{first}");
    assert!(later.contains(&format!("{stale} 1")), "{later}");
}

#[tokio::test]
async fn a_render_whose_scrapes_all_went_away_lets_the_waiting_ones_have_theirs() {
    let (_, _, scrapes) = scrapes();
    let mut first = scrapes.join(true);
    first.next().await.expect("a first part");
    let mut waiting = scrapes.join(true);
    drop(first);
    let body = rest(&mut waiting).await;
    assert!(gunzip(&body).contains("genesys_exporter_build_info"));
    // Nothing is left writing: the next scrape starts at once.
    let mut alone = scrapes.join(false);
    assert!(text(rest(&mut alone).await).contains("# TYPE"));
}

#[tokio::test]
async fn a_scraper_that_stops_reading_holds_up_no_one_and_still_gets_its_render() {
    let (_, _, scrapes) = scrapes();
    let mut slow = scrapes.join(false);
    let head = slow.next().await.expect("a first part");
    let mut waiting = scrapes.join(false);
    // The slow scrape reads nothing more; the waiting one is served all the same.
    assert!(text(rest(&mut waiting).await).contains("# TYPE"));
    let whole = text([head.to_vec(), rest(&mut slow).await].concat());
    assert!(whole.contains("genesys_exporter_build_info"), "{whole}");
}

#[test]
fn gzip_is_what_the_scraper_accepts() {
    for (header, gzip) in [
        (None, false),
        (Some("gzip"), true),
        (Some("identity"), false),
        (Some("deflate, GZip;q=0.5"), true),
        (Some("gzip;q=0, identity"), false),
        (Some("gzip; q=0.0"), false),
        (Some("*"), true),
        (Some("*;q=0"), false),
        (Some("br, *;q=0.1"), true),
        (Some("gzip;q=0, *"), false),
        (Some("x-gzip"), true),
    ] {
        assert_eq!(accepts_gzip(header), gzip, "{header:?}");
    }
}

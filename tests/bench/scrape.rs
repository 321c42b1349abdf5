//! Scrape cost at 5,000 queues: the queue-series store against the `prometheus` crate's
//! registry on the same state, side by side, with the floor (copying the same bytes) and gzip.
//!
//! `cargo bench --bench scrape` prints the table in BENCHMARKS.md. `-- --queues N` changes
//! the size; `-- --hold store` or `-- --hold registry` builds only that representation, scrapes
//! it five times and prints the process's peak memory, for a side-by-side memory figure.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use flate2::Compression;
use flate2::write::GzEncoder;
use genesys_exporter::metrics::{Metrics, ScrapeParts};
use genesys_exporter::queues::table::{MediaSnapshot, QueueSeries, QueueSnapshot, QueueTable};
use genesys_exporter::vocabulary::counters::ConversationCounter;
use genesys_exporter::vocabulary::labels::{LabelValue, MediaType};
use genesys_exporter::vocabulary::queue::QueueLabels;
use prometheus::{Encoder, Registry, TextEncoder};

#[path = "common.rs"]
mod common;
use common::{arg, median, peak_rss_mib, side_by_side, time};

const MEDIA: [&str; 5] = ["voice", "chat", "email", "callback", "message"];
const NOW_MS: i64 = 1_764_633_600_000;
const NAMES: [&str; 8] = [
    "Billing",
    "Claims",
    "Escalations",
    "Sales",
    "Support",
    "Retention",
    "Onboarding",
    "Returns",
];

/// The simulator's default mix: every queue has had all five media types, so every media
/// group exists, with the default metric set's counters.
fn state(queues: usize) -> (Metrics, Arc<QueueTable>) {
    let defaults = genesys_exporter::config::DEFAULT_AGGREGATE_METRICS;
    let counters = ConversationCounter::for_metrics(defaults);
    let media = MEDIA.iter().filter_map(|m| MediaType::parse(m)).collect();
    let metrics = Metrics::new();
    let mut series = QueueSeries::new(media);
    series.counters = counters.clone();
    let table = QueueTable::register(&metrics, series);
    let labels: Vec<QueueLabels> = (0..queues)
        .map(|i| QueueLabels {
            id: format!("{:08x}-c7db-442f-aea0-{:012x}", i * 7919, i),
            name: format!("{} {}", NAMES[i % NAMES.len()], i / NAMES.len()),
            division: "Home".to_owned(),
        })
        .collect();
    table.set_queues(&labels);
    for (i, queue) in labels.iter().enumerate() {
        let n = i as i64;
        let snapshot = QueueSnapshot {
            media: (MEDIA.iter().zip(0..))
                .map(|(media, m)| {
                    let snapshot = MediaSnapshot {
                        interactions: [(n + m) % 4 + 1, (n * m) % 7, m % 2],
                        waiting_since_ms: Some(NOW_MS - 1_000 * (n % 300 + m)),
                    };
                    ((*media).to_owned(), snapshot)
                })
                .collect(),
            users: [n % 5, n % 7, 1, 0, n % 3],
            user_counts: [12, 8, 9],
            // NB: none, so the figures compare with the runs before presences.
            presences: Vec::new(),
        };
        table.apply_snapshot(&queue.id, NOW_MS as f64 / 1000.0, &snapshot);
        for (m, media) in MEDIA.iter().enumerate() {
            let totals = (counters.iter().enumerate())
                .map(|(c, counter)| (*counter, (i * 31 + m * 7 + c) as f64 * 1.5));
            table.set_conversation_totals(&queue.id, *media, totals, false);
            table.set_service_level_target(&queue.id, media, 0.8);
        }
    }
    // NB: two renders, so every counter group's held totals are shown.
    metrics.render_bytes(NOW_MS);
    metrics.render_bytes(NOW_MS);
    (metrics, table)
}

fn through_registry(reference: &Registry, metrics: &Metrics) -> Vec<u8> {
    let mut out = Vec::new();
    let mut families = reference.gather();
    families.extend(metrics.registry().gather());
    TextEncoder::new()
        .encode(&families, &mut out)
        .expect("encodes");
    out
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(bytes).expect("in memory");
    encoder.finish().expect("in memory")
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn hold(what: &str, queues: usize) {
    let (metrics, table) = state(queues);
    let reference = (what == "registry").then(|| table.reference_registry(NOW_MS, false));
    let mut bytes = 0;
    for _ in 0..5 {
        bytes = match &reference {
            Some(registry) => through_registry(registry, &metrics).len(),
            None => ScrapeParts::new(&metrics, NOW_MS).map(|p| p.len()).sum(),
        };
    }
    let peak = peak_rss_mib().unwrap_or(f64::NAN);
    println!("{what}: {queues} queues, {bytes} bytes a scrape, peak RSS {peak:.0} MiB");
}

fn main() {
    // NB: `cargo bench` passes `--bench`; `cargo test --all-targets` runs this without it, as
    // a quick check that it still works, on a small state.
    let benching = std::env::args().any(|a| a == "--bench");
    let default_queues = if benching { 5_000 } else { 20 };
    let queues: usize = arg("--queues")
        .and_then(|q| q.parse().ok())
        .unwrap_or(default_queues);
    if let Some(what) = arg("--hold") {
        return hold(&what, queues);
    }
    let (metrics, table) = state(queues);
    let reference = table.reference_registry(NOW_MS, false);
    let text = metrics.render_bytes(NOW_MS);
    let series = text
        .split(|b| *b == b'\n')
        .filter(|l| l.windows(9).any(|w| w == b"queue_id="))
        .count();
    let rounds = if benching { 11 } else { 1 };
    assert_eq!(series, queues * (11 + MEDIA.len() * 15), "series per queue");

    let pair = side_by_side(
        rounds,
        // NB: as `/metrics` consumes it: part by part, never whole.
        || {
            std::hint::black_box(
                ScrapeParts::new(&metrics, NOW_MS)
                    .map(|p| p.len())
                    .sum::<usize>(),
            );
        },
        || drop(through_registry(&reference, &metrics)),
    );
    let mut floor: Vec<Duration> = (0..rounds)
        .map(|_| time(&mut || drop(std::hint::black_box(text.clone()))))
        .collect();
    let floor = median(&mut floor);
    let mut compressed = 0;
    let mut gzip_times: Vec<Duration> = (0..rounds)
        .map(|_| time(&mut || compressed = gzip(&text).len()))
        .collect();
    let gzip_time = median(&mut gzip_times);

    let per_series = |d: Duration| d.as_nanos() as f64 / series as f64;
    println!(
        "{queues} queues, {series} queue series, {} bytes ({:.0} bytes per series)",
        text.len(),
        text.len() as f64 / series as f64
    );
    println!("| path | median ms | ns per series |");
    println!("|---|---|---|");
    println!(
        "| prometheus crate registry (gather + encode) | {:.1} | {:.0} |",
        ms(pair.b),
        per_series(pair.b)
    );
    println!(
        "| queue-series store | {:.1} | {:.0} |",
        ms(pair.a),
        per_series(pair.a)
    );
    println!(
        "| floor: copying the same bytes | {:.1} | {:.1} |",
        ms(floor),
        per_series(floor)
    );
    println!(
        "| gzip (fastest level) of the scrape | {:.1} | {:.0} |",
        ms(gzip_time),
        per_series(gzip_time)
    );
    println!(
        "registry / store, median of {rounds} pairs: {:.1}x",
        pair.ratio_b_over_a
    );
    println!(
        "store / floor: {:.1}x",
        pair.a.as_secs_f64() / floor.as_secs_f64()
    );
    println!(
        "gzip: {} bytes ({:.1}x smaller)",
        compressed,
        text.len() as f64 / compressed as f64
    );
}

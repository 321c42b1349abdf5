//! What the benchmarks in this directory share (run by `cargo bench`; results in
//! BENCHMARKS.md): timing two things in turn (A B A B …) so the ratio holds when the machine's
//! speed drifts, peak memory, arguments and a simulator on loopback.

// NB: each benchmark uses part of this.
#![allow(dead_code)]

use std::time::{Duration, Instant};

use genesys_exporter::sim::{self, SimConfig, SimHandle};
use tokio_util::sync::CancellationToken;

/// Medians of `rounds` alternating runs of `a` and `b`, and the median of their ratios taken
/// pair by pair.
pub struct Pair {
    pub a: Duration,
    pub b: Duration,
    pub ratio_b_over_a: f64,
}

pub fn side_by_side(rounds: usize, mut a: impl FnMut(), mut b: impl FnMut()) -> Pair {
    let mut times_a = Vec::with_capacity(rounds);
    let mut times_b = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        times_a.push(time(&mut a));
        times_b.push(time(&mut b));
    }
    let mut ratios: Vec<f64> = times_a
        .iter()
        .zip(&times_b)
        .map(|(a, b)| b.as_secs_f64() / a.as_secs_f64())
        .collect();
    Pair {
        a: median(&mut times_a),
        b: median(&mut times_b),
        ratio_b_over_a: median(&mut ratios),
    }
}

pub fn time(f: &mut impl FnMut()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

pub fn median<T: PartialOrd + Copy>(values: &mut [T]) -> T {
    values.sort_by(|x, y| x.partial_cmp(y).unwrap_or(std::cmp::Ordering::Equal));
    values[values.len() / 2]
}

/// This process's peak resident memory in MiB (`VmHWM`), on Linux.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// The value after `--flag` on the command line, if given.
pub fn arg(flag: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == flag)?;
    args.get(at + 1).cloned()
}

/// The simulator on a free loopback port; it stops when the token is cancelled.
pub async fn start_sim(config: SimConfig) -> (SimHandle, CancellationToken) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("loopback");
    let cancel = CancellationToken::new();
    let sim = sim::start(config, listener, cancel.clone())
        .await
        .expect("simulator");
    (sim, cancel)
}

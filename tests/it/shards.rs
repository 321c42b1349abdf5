//! `shard: i/N`: N exporters against one org split its queues with no overlap and no gap, each
//! with its own channel, and a shard that happens to own no queue is still ready.

use crate::common;

use std::collections::BTreeSet;

use common::{Scrape, eventually, fast_settings, get_text, validated};
use genesys_exporter::app::Exporter;
use genesys_exporter::shard::Shard;
use genesys_exporter::sim::{self, SimConfig};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The queue ids an exporter exports (its `genesys_queue_info` series).
fn exported(scrape: &Scrape) -> BTreeSet<String> {
    scrape
        .series
        .keys()
        .filter(|k| k.starts_with("genesys_queue_info{"))
        .filter_map(|k| {
            k.split("queue_id=\"")
                .nth(1)?
                .split('"')
                .next()
                .map(str::to_owned)
        })
        .collect()
}

async fn scrape(http: &reqwest::Client, url: &str) -> (u16, Scrape) {
    let (_, metrics) = get_text(http, &format!("{url}/metrics")).await;
    let (ready, _) = get_text(http, &format!("{url}/readyz")).await;
    (ready, Scrape::parse(&metrics))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_shards_split_the_queues_exactly_and_an_empty_shard_is_ready() {
    genesys_exporter::genesys::install_crypto_provider();
    let cancel = CancellationToken::new();
    let config = SimConfig {
        queues: 12,
        ..SimConfig::fast_for_tests(71)
    };
    let media_types = config.media_types.clone();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim = sim::start(config, listener, cancel.child_token())
        .await
        .unwrap();
    let all: BTreeSet<String> = sim.queues.iter().map(|q| q.id.clone()).collect();
    let empty = (0..64)
        .map(|i| Shard::new(i, 64).unwrap())
        .find(|s| all.iter().all(|id| !s.owns(id)))
        .expect("64 shards of 12 queues leave one empty");
    let shards = ["0/3", "1/3", "2/3"].map(|s| s.parse::<Shard>().unwrap());
    let mut exporters = Vec::new();
    for shard in shards.iter().chain([&empty]) {
        let mut settings = fast_settings(&sim, &media_types);
        settings.shard = *shard;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let exporter = Exporter::start(validated(settings), listener, cancel.child_token())
            .await
            .unwrap();
        exporters.push((format!("http://{}", exporter.local_addr), exporter));
    }
    let http = reqwest::Client::new();
    let urls: Vec<String> = exporters.iter().map(|(url, _)| url.clone()).collect();
    eventually(
        "every shard is ready and streams its own channel",
        || async {
            for url in &urls {
                let (ready, scrape) = scrape(&http, url).await;
                let streaming =
                    scrape.get("genesys_exporter_stream_connected", &[("channel", "0")]);
                if ready != 200 || streaming != Some(1.0) {
                    return Err(format!("{url}: readyz {ready}, streaming {streaming:?}"));
                }
            }
            Ok(())
        },
    )
    .await;
    let mut seen = Vec::new();
    for url in &urls {
        seen.push(exported(&scrape(&http, url).await.1));
    }
    let (split, idle) = seen.split_at(3);
    let union: BTreeSet<String> = split.iter().flatten().cloned().collect();
    assert_eq!(union, all, "no gap");
    assert_eq!(
        split.iter().map(BTreeSet::len).sum::<usize>(),
        all.len(),
        "no overlap"
    );
    assert!(
        split.iter().all(|s| !s.is_empty()),
        "12 queues over 3 shards: {split:?}"
    );
    assert!(
        idle[0].is_empty(),
        "shard {empty} owns nothing and is ready anyway"
    );
    cancel.cancel();
    for (_, exporter) in exporters {
        exporter.wait().await.expect("no task died");
    }
}

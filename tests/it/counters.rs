//! The conversation counters against the simulator: the stream's running totals move them
//! before the poll, the poll then adds nothing it already has, and a queue costs series only
//! for the media types it has had.

use crate::common;

use std::time::Duration;

use common::{Harness, Scrape, eventually};
use genesys_exporter::sim::SimConfig;

const OFFERED: &str = "genesys_conversations_offered_total";
const POLLS: &str = "genesys_exporter_aggregate_polls_total";

/// Every conversation counter series of a scrape.
fn conversations(scrape: &Scrape) -> Vec<(&String, &f64)> {
    scrape
        .series
        .iter()
        .filter(|(k, _)| k.starts_with("genesys_conversation"))
        .collect()
}

fn polls(scrape: &Scrape) -> f64 {
    scrape.get(POLLS, &[("result", "success")]).unwrap_or(0.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_totals_move_the_counters_before_the_poll_which_then_adds_nothing() {
    let config = SimConfig {
        // NB: no reporting lag, so the poll reports exactly what the stream already did.
        reporting_lag: Duration::ZERO,
        ..SimConfig::fast_for_tests(41)
    };
    let harness = Harness::start_with(config, |settings| {
        settings.aggregates.poll_interval = Duration::from_secs(4);
    })
    .await;
    eventually("the first poll is done", || async {
        let polled = polls(&harness.scrape().await);
        if polled >= 1.0 {
            Ok(())
        } else {
            Err(format!("{polled} polls"))
        }
    })
    .await;
    let before = harness.scrape().await;
    eventually(
        "a streamed total moves a counter before the next poll",
        || async {
            let now = harness.scrape().await;
            assert_eq!(polls(&now), polls(&before), "no poll in between");
            let (was, is) = (before.sum(OFFERED), now.sum(OFFERED));
            if is > was {
                Ok(())
            } else {
                Err(format!("{was} → {is}"))
            }
        },
    )
    .await;

    harness.pause_traffic().await;
    // The stream's last running totals arrive within a publish interval or two.
    let settled = std::cell::RefCell::new(harness.scrape().await);
    let quiet = std::cell::Cell::new(0);
    let every = Duration::from_millis(300);
    common::poll_until("the counters settle", every, || async {
        let now = harness.scrape().await;
        let before = settled.replace(now);
        let now = settled.borrow();
        let same = conversations(&now) == conversations(&before) && polls(&now) == polls(&before);
        quiet.set(if same { quiet.get() + 1 } else { 0 });
        // NB: the first comparison is with the scrape just taken; three more span 900 ms.
        match quiet.get() {
            4.. => Ok(()),
            n => Err(format!("{n} scrapes in a row unchanged")),
        }
    })
    .await;
    let settled = settled.into_inner();
    let polled = polls(&settled);
    eventually("the next poll returns", || async {
        let now = harness.scrape().await;
        if polls(&now) > polled {
            Ok(())
        } else {
            Err("no poll yet".into())
        }
    })
    .await;
    let after = harness.scrape().await;
    for (series, value) in &settled.series {
        if series.starts_with("genesys_conversation") {
            assert_eq!(
                after.series.get(series),
                Some(value),
                "{series} moved again"
            );
        }
    }
    assert!(after.sum(OFFERED) > 0.0);
    harness.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_default_metric_set_a_queue_costs_11_series_per_media_type_it_has_had() {
    let config = SimConfig {
        media_types: vec!["voice".into(), "chat".into()],
        ..SimConfig::fast_for_tests(42)
    };
    let harness = Harness::start_with(config, |settings| {
        settings.media_types = vec!["voice".into(), "chat".into(), "email".into()];
        settings.aggregates.metrics = genesys_exporter::config::DEFAULT_AGGREGATE_METRICS
            .iter()
            .map(|m| m.as_str().to_owned())
            .collect();
    })
    .await;
    let queue = harness.sim.queues[0].id.clone();
    let per_media = |scrape: &Scrape, media: &str| {
        let label = format!("media_type=\"{media}\"");
        let queue = format!("queue_id=\"{queue}\"");
        scrape
            .series
            .keys()
            .filter(|k| {
                (k.starts_with("genesys_conversation")
                    || k.starts_with("genesys_queue_service_level"))
                    && k.contains(&label)
                    && k.contains(&queue)
            })
            .count()
    };
    eventually("voice and chat have their counters", || async {
        let scrape = harness.scrape().await;
        let (voice, chat) = (per_media(&scrape, "voice"), per_media(&scrape, "chat"));
        if voice == 11 && chat == 11 {
            Ok(())
        } else {
            Err(format!("voice {voice}, chat {chat}"))
        }
    })
    .await;
    let scrape = harness.scrape().await;
    assert_eq!(
        per_media(&scrape, "email"),
        0,
        "no email ever: no email counters"
    );
    harness.stop().await;
}

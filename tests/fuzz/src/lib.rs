//! What the fuzz targets share: a small exporter state (two monitored queues, every media
//! type) that each input is applied to, and a render of `/metrics` after it, so a value that
//! parses but breaks the store or the exposition is found too.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use genesys_exporter::aggregates::ConversationTotals;
use genesys_exporter::config::KNOWN_MEDIA_TYPES;
use genesys_exporter::metrics::{Metrics, QueueLabels};
use genesys_exporter::observations::Observations;
use genesys_exporter::stream::connection::SessionContext;

/// The queue ids the seeds use (the simulator's first two queues with seed 1).
pub const QUEUES: [&str; 2] = [
    "00000000-0000-4000-8000-000000000000",
    "00000000-0000-4000-8000-000000000001",
];

pub struct State {
    pub metrics: Arc<Metrics>,
    pub observations: Arc<Observations>,
    pub totals: Arc<ConversationTotals>,
    pub session: SessionContext,
    pub queue_ids: Vec<String>,
}

/// One state per process: building it per input would dwarf the parsing being fuzzed.
pub fn state() -> &'static State {
    static STATE: OnceLock<State> = OnceLock::new();
    STATE.get_or_init(|| {
        let media: Vec<String> = KNOWN_MEDIA_TYPES.iter().map(|m| (*m).to_owned()).collect();
        let metrics = Arc::new(Metrics::new(media));
        let queues: Vec<QueueLabels> = QUEUES
            .iter()
            .enumerate()
            .map(|(i, id)| QueueLabels {
                id: (*id).to_owned(),
                name: format!("Queue \"{i}\"\n\\"),
                division: "Home".to_owned(),
            })
            .collect();
        metrics.set_queues(&queues);
        let queue_ids: Vec<String> = QUEUES.iter().map(|q| (*q).to_owned()).collect();
        let observations = Arc::new(Observations::new(metrics.clone()));
        let totals = Arc::new(ConversationTotals::new(
            metrics.clone(),
            Duration::from_secs(1800),
        ));
        totals.watch(&queue_ids, chrono::Utc::now());
        totals.establish(&queue_ids);
        let sink = totals.clone();
        let session = SessionContext::new(
            observations.clone(),
            Arc::new(move |container| sink.fold(container)),
            metrics.clone(),
            Duration::from_secs(60),
        );
        State {
            metrics,
            observations,
            totals,
            session,
            queue_ids,
        }
    })
}

/// Renders `/metrics`, as a scrape after the input would.
pub fn scrape(state: &State) {
    let _ = state.metrics.render(1_795_000_000_000);
}

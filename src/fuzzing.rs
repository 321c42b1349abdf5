//! The work each fuzz target (`tests/fuzz`) does with one input, here so that the normal test
//! suite replays the seed corpus (and any input a fuzzer found) through exactly the same code on
//! the stable toolchain. Not an API: the fuzz crate is its only user outside the tests.
//!
//! Every input is applied to one small exporter state (two monitored queues with awkward names,
//! every known media type) and followed by a render of `/metrics`, so a value that parses but
//! breaks the store or the exposition is found too.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::aggregates::ConversationTotals;
use crate::genesys::model::{ConversationAggregateQueryResponse, QueueObservationQueryResponse};
use crate::metrics::Metrics;
use crate::queues::observations::Observations;
use crate::queues::table::{QueueSeries, QueueTable};
use crate::stream::carried::Carried;
use crate::stream::connection::SessionContext;
use crate::vocabulary::clock::Clock;
use crate::vocabulary::labels::{LabelValue, MediaType};
use crate::vocabulary::queue::QueueLabels;

/// The queue ids the seeds use (`src/fuzzing/seeds.rs` rewrites the simulator's to these).
pub const QUEUES: [&str; 2] = [
    "00000000-0000-4000-8000-000000000000",
    "00000000-0000-4000-8000-000000000001",
];

/// A fixed scrape instant, so runs repeat.
const NOW_MS: i64 = 1_795_000_000_000;

struct State {
    metrics: Arc<Metrics>,
    observations: Arc<Observations>,
    totals: Arc<ConversationTotals>,
    session: SessionContext,
    queue_ids: Vec<String>,
}

/// One state per process: building it per input would dwarf the parsing being fuzzed.
fn state() -> &'static State {
    static STATE: OnceLock<State> = OnceLock::new();
    STATE.get_or_init(|| {
        let metrics = Arc::new(Metrics::new());
        let table = QueueTable::register(&metrics, QueueSeries::new(MediaType::ALL.to_vec()));
        let queues: Vec<QueueLabels> = QUEUES
            .iter()
            .enumerate()
            .map(|(i, id)| QueueLabels {
                id: (*id).to_owned(),
                name: format!("Queue \"{i}\"\n\\"),
                division: "Home".to_owned(),
            })
            .collect();
        table.set_queues(&queues);
        let queue_ids: Vec<String> = QUEUES.iter().map(|q| (*q).to_owned()).collect();
        let counters = table.counters().to_vec();
        let observations = Arc::new(Observations::new(&metrics, table.clone(), Clock::system()));
        let totals = Arc::new(ConversationTotals::new(
            &metrics,
            table,
            Duration::from_secs(1800),
            counters,
        ));
        totals.watch(&queue_ids, chrono::Utc::now());
        totals.establish(&queue_ids);
        let sink = totals.clone();
        let carried = Carried::queues(
            observations.clone(),
            Arc::new(move |container| sink.fold(container)),
        );
        let session = SessionContext::new(
            carried,
            metrics.clone(),
            Clock::system(),
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

/// A notification frame, as the socket hands it over: size check, parse, apply, render.
pub fn message(data: &[u8]) {
    let state = state();
    let _ = state.session.handle_text(&String::from_utf8_lossy(data));
    let _ = state.metrics.render(NOW_MS);
}

/// A queue observation query body: parsed result by result, applied as a resync, rendered.
pub fn observations_response(data: &[u8]) {
    let state = state();
    if let Ok(response) = serde_json::from_slice::<QueueObservationQueryResponse>(data) {
        state
            .observations
            .apply_resync(&state.queue_ids, &response, NOW_MS);
        let _ = state.metrics.render(NOW_MS);
    }
}

/// A conversation aggregates body: parsed result by result, folded into the ledger, rendered.
pub fn aggregates_response(data: &[u8]) {
    let state = state();
    if let Ok(response) = serde_json::from_slice::<ConversationAggregateQueryResponse>(data) {
        for result in &response.results {
            state.totals.fold(result);
        }
        let _ = state.metrics.render(NOW_MS);
    }
}

/// What a fuzz target does with one input.
pub type Target = fn(&[u8]);

/// The fuzz targets by name, as `tests/fuzz/corpus` names their directories.
pub const TARGETS: [(&str, Target); 3] = [
    ("message", message),
    ("observations_response", observations_response),
    ("aggregates_response", aggregates_response),
];

#[cfg(test)]
mod seeds;

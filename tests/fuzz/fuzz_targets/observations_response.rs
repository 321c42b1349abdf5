//! A queue observation query response body: parsed result by result, applied as a resync.
#![no_main]

use genesys_exporter::genesys::model::QueueObservationQueryResponse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let state = genesys_exporter_fuzz::state();
    if let Ok(response) = serde_json::from_slice::<QueueObservationQueryResponse>(data) {
        state
            .observations
            .apply_resync(&state.queue_ids, &response, 1_795_000_000_000);
        genesys_exporter_fuzz::scrape(state);
    }
});

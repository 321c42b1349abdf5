//! A conversation aggregates response body: parsed result by result, folded into the ledger.
#![no_main]

use genesys_exporter::genesys::model::ConversationAggregateQueryResponse;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let state = genesys_exporter_fuzz::state();
    if let Ok(response) = serde_json::from_slice::<ConversationAggregateQueryResponse>(data) {
        for result in &response.results {
            state.totals.fold(result);
        }
        genesys_exporter_fuzz::scrape(state);
    }
});

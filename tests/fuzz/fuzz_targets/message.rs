//! A notification frame, as the socket hands it over: size check, parse, apply, render.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let state = genesys_exporter_fuzz::state();
    let text = String::from_utf8_lossy(data);
    let _ = state.session.handle_text(&text);
    genesys_exporter_fuzz::scrape(state);
});

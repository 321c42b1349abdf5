//! A queue observation query body (`genesys_exporter::fuzzing::observations_response`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| genesys_exporter::fuzzing::observations_response(data));

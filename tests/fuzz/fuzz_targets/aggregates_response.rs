//! A conversation aggregates body (`genesys_exporter::fuzzing::aggregates_response`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| genesys_exporter::fuzzing::aggregates_response(data));

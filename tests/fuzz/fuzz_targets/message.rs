//! A notification frame, as the socket hands it over (`genesys_exporter::fuzzing::message`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| genesys_exporter::fuzzing::message(data));

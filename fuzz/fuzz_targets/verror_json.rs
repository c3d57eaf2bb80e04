#![no_main]
//! `VError` read from arbitrary JSON, then printed and written back.
//! The harness is `tests/fuzz_harness/mod.rs`, shared with `tests/fuzz_corpus.rs`.

#[path = "../../tests/fuzz_harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::verror_json(data));

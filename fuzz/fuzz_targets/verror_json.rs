#![no_main]
//! `VError` read from arbitrary JSON, then printed and written back.
//! The harness is `tests/errors/fuzz_harness/mod.rs`, shared with `tests/errors/fuzz_corpus.rs`.

#[path = "../../tests/errors/fuzz_harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::verror_json(data));

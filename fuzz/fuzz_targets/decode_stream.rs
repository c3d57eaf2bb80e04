#![no_main]
//! The frame decoder on arbitrary streams cut into arbitrary reads.
//! The harness is `tests/errors/fuzz_harness/mod.rs`, shared with `tests/errors/fuzz_corpus.rs`.

#[path = "../../tests/errors/fuzz_harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::decode_stream(data));

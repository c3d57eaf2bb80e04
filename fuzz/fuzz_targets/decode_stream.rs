#![no_main]
//! The frame decoder on arbitrary streams cut into arbitrary reads.
//! The harness is `tests/fuzz_harness/mod.rs`, shared with `tests/fuzz_corpus.rs`.

#[path = "../../tests/fuzz_harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::decode_stream(data));

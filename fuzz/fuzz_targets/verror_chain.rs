#![no_main]
//! Arbitrary generated error chains in every output mode; no sensitive value leaks.
//! The harness is `tests/fuzz_harness/mod.rs`, shared with `tests/fuzz_corpus.rs`.

#[path = "../../tests/fuzz_harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::verror_chain(data));

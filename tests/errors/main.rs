//! The error core: construction, context, printing, JSON, interop with other error
//! crates, node-verror's own behaviour, and the replayed fuzz corpora. One test
//! binary for the area, one module per concern.

mod backtraces;
mod bounds;
mod context;
mod escaping;
mod fuzz_corpus;
mod fuzz_harness;
mod generated_chains;
mod interop;
mod node_verror;
#[path = "../support/process.rs"]
mod process;
#[path = "../support/property.rs"]
mod property;
mod public_view;
mod question_mark;
mod readme;
#[path = "../support/redact.rs"]
mod redact;
mod repr;
mod robustness;
mod roundtrip;
mod sensitive;
mod snapshots;

//! Reliability at the edge: load with faults, shutdown under load, and the
//! server's limits (see RELIABILITY.md). The heap measurements are in
//! `tests/heap`, which installs a global allocator.
#![cfg(all(feature = "server", feature = "tracing"))]

#[path = "../support/mod.rs"]
mod support;

mod limits;
mod load;
mod shutdown;

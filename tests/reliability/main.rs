//! Reliability at the edge: load with faults, shutdown under load, and the
//! server's limits (see RELIABILITY.md). The heap measurements are in
//! `tests/heap`, which installs a global allocator.
#![cfg(feature = "server")]

#[path = "../reliability_support/mod.rs"]
mod reliability_support;
#[path = "../server_support/mod.rs"]
mod server_support;

mod limits;
mod load;
mod shutdown;

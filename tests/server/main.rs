//! The server, its client and load generator, the `verror` program, and the
//! `tracing` layer they log through. One test binary for the area, one module per
//! concern; every server binds loopback only and every wait is bounded.

#[cfg(feature = "server")]
#[path = "../support/mod.rs"]
mod support;

#[path = "../support/redact.rs"]
mod redact;

mod cli;
mod echo;
mod exposure;
mod faults;
mod handler;
mod limits;
mod load;
mod shutdown;
mod tracing_layer;

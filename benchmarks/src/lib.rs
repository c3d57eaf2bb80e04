//! verror's benchmarks, a crate that depends on verror as users' crates do (generic and
//! `#[inline]` code is compiled here, as in theirs): `benches/errors.rs` against anyhow,
//! eyre and error-stack, `benches/codec.rs` against tokio-util's
//! `LengthDelimitedCodec`, and `src/bin/profile_errors.rs` for instruction counts.
//! Results and how to reproduce them: BENCHMARKS.md at the repository's root.
//!
//! This file is the work both `benches/errors.rs` and `profile_errors` measure: the
//! same 3-level chain built the idiomatic way with each crate, and anyhow's JSON
//! workaround. One copy, so the bench and the profiler always run the same code.

use std::fmt;
use std::io;

/// The file every chain fails to read.
pub const PATH: &str = "/etc/app/config.toml";

/// error-stack's contexts are typed; a formatted message is the closest equivalent of
/// anyhow's `context(format!(..))`, and prints the same under `{:#}`.
#[derive(Debug)]
pub struct Msg(pub String);

impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Msg {}

/// The root of every chain: an `io::Error` with a message (one allocation on each side).
#[inline(never)]
pub fn read_config(path: &str) -> io::Result<Vec<u8>> {
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        format!("{path}: no such file or directory"),
    ))
}

// ---- the 3-level chain, built the idiomatic way on each side --------------------------

#[inline(never)]
pub fn verror_chain(path: &str, shard: u32, worker: u32) -> verror::VError {
    use verror::ResultExt;
    read_config(path)
        .with_context(|| format!("failed to read config {path}"))
        .with_context(|| format!("failed to load shard {shard}"))
        .with_context(|| format!("worker {worker} failed to start"))
        .unwrap_err()
}

#[inline(never)]
pub fn anyhow_chain(path: &str, shard: u32, worker: u32) -> anyhow::Error {
    use anyhow::Context;
    read_config(path)
        .with_context(|| format!("failed to read config {path}"))
        .with_context(|| format!("failed to load shard {shard}"))
        .with_context(|| format!("worker {worker} failed to start"))
        .unwrap_err()
}

#[inline(never)]
pub fn eyre_chain(path: &str, shard: u32, worker: u32) -> eyre::Report {
    use eyre::WrapErr;
    read_config(path)
        .wrap_err_with(|| format!("failed to read config {path}"))
        .wrap_err_with(|| format!("failed to load shard {shard}"))
        .wrap_err_with(|| format!("worker {worker} failed to start"))
        .unwrap_err()
}

#[inline(never)]
pub fn error_stack_chain(path: &str, shard: u32, worker: u32) -> error_stack::Report<Msg> {
    use error_stack::ResultExt;
    read_config(path)
        .change_context_lazy(|| Msg(format!("failed to read config {path}")))
        .change_context_lazy(|| Msg(format!("failed to load shard {shard}")))
        .change_context_lazy(|| Msg(format!("worker {worker} failed to start")))
        .unwrap_err()
}

/// anyhow's and eyre's way to JSON: their `chain()` messages as a list.
pub fn messages<'a>(chain: impl Iterator<Item = &'a (dyn std::error::Error + 'static)>) -> String {
    let list: Vec<String> = chain.map(|e| e.to_string()).collect();
    serde_json::to_string(&list).unwrap()
}

//! `verror load`: pipelined echo load, or faults, against a server; a progress
//! bar on a terminal; the report on stdout.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use verror::frame::DEFAULT_MAX_FRAME_LEN;
use verror::server::load::{Fault, Load, LoadProgress};
use verror::VError;

use crate::duration;

/// `verror load`'s options.
#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The server, `host:port`.
    addr: String,
    /// Connections, all open at once.
    #[arg(long, default_value_t = 1)]
    connections: usize,
    /// Echo requests per connection.
    #[arg(long, default_value_t = 1000)]
    frames: u64,
    /// Payload bytes per request.
    #[arg(long, default_value_t = 16)]
    size: usize,
    /// Requests in flight per connection (1: no pipelining).
    #[arg(long, default_value_t = 32)]
    window: usize,
    /// After its requests, each connection misbehaves: oversized, garbage,
    /// truncated-header (truncated), truncated-payload, slow-header (slow),
    /// slow-payload or reset.
    #[arg(long)]
    fault: Option<Fault>,
    /// Time allowed to connect, for each write and each response (longer than the
    /// server's frame timeout for the slow faults).
    #[arg(long, default_value = "15s", value_parser = duration::parse)]
    timeout: Duration,
    /// The server's request limit, in bytes.
    #[arg(long, default_value_t = DEFAULT_MAX_FRAME_LEN)]
    max_frame_len: usize,
    /// Print the report as JSON.
    #[arg(long)]
    json: bool,
}

/// Runs the load and prints the report; exits 1 (with a `LoadFailed` report on
/// stderr) unless every request was echoed and every fault earned its error.
pub async fn run(args: LoadArgs) -> Result<ExitCode, VError> {
    let addr = resolve(&args.addr).await?;
    let load = Load::new(addr)
        .connections(args.connections)
        .frames(args.frames)
        .size(args.size)
        .window(args.window)
        .fault(args.fault)
        .timeout(args.timeout)
        .max_frame_len(args.max_frame_len);
    let bar = std::io::stderr()
        .is_terminal()
        .then(|| show_progress(load.progress(), load.requests()));
    let report = load.run().await;
    if let Some((bar, ticker)) = bar {
        ticker.abort();
        bar.finish_and_clear();
    }
    let report = report?;
    if args.json {
        let json = serde_json::to_string(&report)
            .map_err(|e| VError::wrap(e, "cannot write the report as JSON"))?;
        println!("{json}");
    } else {
        println!("{report}");
    }
    match report.failure() {
        None => Ok(ExitCode::SUCCESS),
        Some(failure) => {
            eprintln!("{failure:?}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// The first address `addr` resolves to.
async fn resolve(addr: &str) -> Result<SocketAddr, VError> {
    let error = || {
        VError::builder()
            .name("AddressError")
            .info("addr", addr)
            .message(format_args!("cannot resolve {addr:?} (expected host:port)"))
            .backtrace(false)
    };
    let mut found = tokio::net::lookup_host(addr)
        .await
        .map_err(|e| error().cause(e).build())?;
    found.next().ok_or_else(|| error().build())
}

/// A progress bar on stderr, moved forward by a task every 100 ms.
fn show_progress(progress: LoadProgress, total: u64) -> (ProgressBar, tokio::task::JoinHandle<()>) {
    let bar = ProgressBar::new(total);
    if let Ok(style) = ProgressStyle::with_template(
        "{bar:40} {human_pos}/{human_len} frames, {per_sec}, {elapsed} (eta {eta})",
    ) {
        bar.set_style(style);
    }
    let ticking = bar.clone();
    let ticker = tokio::spawn(async move {
        loop {
            ticking.set_position(progress.done());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    (bar, ticker)
}

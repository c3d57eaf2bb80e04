//! `verror load`: pipelined echo load, or faults, against a server; a progress
//! bar on a terminal; the report on stdout.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use indicatif::{HumanCount, ProgressBar, ProgressState, ProgressStyle};
use verror::VError;
use verror::frame::DEFAULT_MAX_FRAME_LEN;
use verror::server::load::{Fault, Load, LoadProgress};

use crate::output::{self, stderr_colored};
use crate::{addr, duration};

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
    let addr = addr::resolve(&args.addr).await?;
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
        say!("{json}");
    } else {
        say!("{report}");
    }
    match report.failure() {
        None => Ok(ExitCode::SUCCESS),
        Some(failure) => {
            output::to_stderr(&output::report(&failure, stderr_colored()));
            Ok(ExitCode::FAILURE)
        }
    }
}

/// A progress bar on stderr, moved forward by a task every 100 ms; at most 80
/// columns, whole numbers: `████░░░░ 640,000/1,000,000 frames 1,543,877/s 5s eta 2s`.
fn show_progress(progress: LoadProgress, total: u64) -> (ProgressBar, tokio::task::JoinHandle<()>) {
    let bar = ProgressBar::new(total);
    let style = ProgressStyle::with_template(
        "{bar:20} {human_pos}/{human_len} frames {rate} {elapsed} eta {eta}",
    )
    .map(|style| {
        style.with_key(
            "rate",
            |state: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{}/s", HumanCount(state.per_sec() as u64));
            },
        )
    });
    if let Ok(style) = style {
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

//! `verror`: a server, a client, a load generator and a demo for the
//! length-prefixed frame protocol of `verror::server`, where every failure is a
//! `VError` report.
//!
//! ```text
//! verror demo                                   # a guided tour, in-process
//! verror serve --listen 127.0.0.1:7878          # JSON logs on stderr; Ctrl-C stops it
//! verror send 127.0.0.1:7878 hello              # prints the body, or the error report
//! verror load 127.0.0.1:7878 --connections 64 --frames 10000 --size 16
//! ```
#![deny(missing_docs)]
#![forbid(unsafe_code)]

// First: its `say!` macro is used by the modules after it.
#[macro_use]
mod output;

mod addr;
mod demo;
mod demo_handler;
mod duration;
mod load;
mod logging;
mod send;
mod serve;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use verror::VError;

/// A framed-protocol server, client and load generator whose every failure is
/// reported as a VError chain with its numbers.
#[derive(Debug, Parser)]
#[command(name = "verror", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Colour in reports: auto (on a terminal, unless NO_COLOR is set),
    /// always or never.
    #[arg(long, global = true, value_enum, default_value_t = output::ColorChoice::Auto)]
    color: output::ColorChoice,
    /// Error reports with the source location of each level.
    #[arg(short, long, global = true)]
    verbose: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the bundled handler: echo, plus `!` commands that fail (`!help`).
    Serve(serve::ServeArgs),
    /// Send one frame and print the response body, or the server's error.
    Send(send::SendArgs),
    /// Load an echo server with pipelined requests, or misbehave on purpose.
    Load(load::LoadArgs),
    /// Run a server in-process and show good traffic, every bad frame and the
    /// handler errors, from the client's side and in the server's log.
    Demo(demo::DemoArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    output::init(cli.color, cli.verbose);
    if matches!(cli.command, Command::Demo(_)) {
        demo::quiet_backtraces();
    }
    let outcome = runtime().and_then(|runtime| {
        let outcome = runtime.block_on(async {
            match cli.command {
                Command::Serve(args) => serve::run(args).await,
                Command::Send(args) => send::run(args).await,
                Command::Load(args) => load::run(args).await,
                Command::Demo(args) => demo::run(args).await,
            }
        });
        // A response still being decoded past the timeout (on a blocking
        // thread) must not hold the program: it has answered already.
        runtime.shutdown_background();
        outcome
    });
    match outcome {
        Ok(code) => code,
        Err(err) => {
            output::to_stderr(&output::report(&err, output::stderr_colored()));
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, VError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| {
            VError::builder()
                .name("RuntimeError")
                .cause(err)
                .message("cannot start the tokio runtime")
                .backtrace(false)
                .build()
        })
}

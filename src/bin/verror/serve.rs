//! `verror serve`: the bundled handler on a socket, logs on stderr, and a
//! graceful shutdown on SIGINT or SIGTERM.

use std::process::ExitCode;
use std::time::Duration;

use clap::builder::TypedValueParser as _;
use clap::{Args, ValueEnum};
use tracing_subscriber::filter::LevelFilter;
use verror::VError;
use verror::frame::{DEFAULT_MAX_FRAME_LEN, OversizedPolicy};
use verror::layer::{Format, LogLayer};
use verror::server::{DEFAULT_MAX_ERROR_LEN, Exposure, ServerBuilder, shutdown_signal};

use crate::demo_handler::DemoHandler;
use crate::{addr, duration, logging};

/// `--log-format`: one of the formats' names (clap lists them on an invalid one).
pub fn log_format() -> impl clap::builder::TypedValueParser<Value = Format> {
    clap::builder::PossibleValuesParser::new(Format::ALL.map(Format::as_str))
        .try_map(|name| name.parse::<Format>())
}

/// `verror serve`'s options. The timeouts take humane durations: `250ms`,
/// `10s`, `2m`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on, `host:port` (a name is resolved: the first
    /// address it gives); port 0 picks a free port, which the first log line
    /// ("server listening") gives as `addr`.
    #[arg(long, default_value = "127.0.0.1:7878")]
    listen: String,
    /// The longest request payload, in bytes (1 to 4294967294).
    #[arg(long, default_value_t = DEFAULT_MAX_FRAME_LEN)]
    max_frame_len: usize,
    /// The longest error response (its JSON, cut to fit), in bytes; at least
    /// 1024, room for any decode error.
    #[arg(long, default_value_t = DEFAULT_MAX_ERROR_LEN)]
    max_error_len: usize,
    /// After a header over the limit: answer and close, or answer, skip the
    /// frame and carry on.
    #[arg(long, value_enum, default_value_t = Oversized::Close)]
    oversized: Oversized,
    /// Log lines: json (verror's native record), ecs, otel, bunyan, text or compact.
    #[arg(long, default_value = "json", value_parser = log_format())]
    log_format: Format,
    /// The lowest level logged: error, warn, info, debug or trace.
    #[arg(long, default_value = "info")]
    log_level: LevelFilter,
    /// Lines at warn and above of one kind logged per second (also within 256 KiB
    /// of a kind and 1 MiB in all); the rest are counted and reported (0: no limit).
    #[arg(long, default_value_t = 10)]
    log_rate: u32,
    /// What a client sees of a handler's error: its public view, or the whole
    /// chain (the log always has the whole chain).
    #[arg(long, default_value = "public", value_parser = ["public", "full"])]
    expose: String,
    /// Accept loops sharing the port (SO_REUSEPORT).
    #[arg(long, default_value_t = 1)]
    workers: usize,
    /// Connections served at once; the next is answered `ServerBusy` [default: 1024].
    #[arg(long)]
    max_connections: Option<usize>,
    /// Connections served at once for one IP address [default: an eighth of
    /// --max-connections].
    #[arg(long)]
    max_connections_per_address: Option<usize>,
    /// Refused connections answered `ServerBusy` at once; past it, a refused
    /// connection is closed without an answer [default: 64].
    #[arg(long)]
    max_refusals: Option<usize>,
    /// Under `--oversized discard`, the longest frame skipped; past it, the
    /// connection is answered and closed [default: 64 MiB].
    #[arg(long)]
    max_discard_len: Option<usize>,
    /// Silence allowed between frames [default: 60s].
    #[arg(long, value_parser = duration::parse)]
    idle_timeout: Option<Duration>,
    /// Time for a whole frame to arrive once it has begun [default: 10s].
    #[arg(long, value_parser = duration::parse)]
    frame_timeout: Option<Duration>,
    /// Time for pending responses to be written to a peer [default: 10s].
    #[arg(long, value_parser = duration::parse)]
    write_timeout: Option<Duration>,
    /// Time for one handler call [default: 10s].
    #[arg(long, value_parser = duration::parse)]
    handler_timeout: Option<Duration>,
    /// Time for a graceful shutdown, from the signal to the last connection
    /// closed [default: 5s].
    #[arg(long, value_parser = duration::parse)]
    shutdown_deadline: Option<Duration>,
}

/// [`OversizedPolicy`] on the command line.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Oversized {
    /// Answer with the error, then close the connection.
    Close,
    /// Answer with the error, skip the frame's bytes, and carry on.
    Discard,
}

impl From<Oversized> for OversizedPolicy {
    fn from(policy: Oversized) -> OversizedPolicy {
        match policy {
            Oversized::Close => OversizedPolicy::Close,
            Oversized::Discard => OversizedPolicy::Discard,
        }
    }
}

/// Serves until SIGINT or SIGTERM, then shuts down gracefully; the summary is
/// the last log line.
pub async fn run(args: ServeArgs) -> Result<ExitCode, VError> {
    let layer = LogLayer::builder()
        .format(args.log_format)
        .ansi(crate::output::stderr_colored())
        .rate_limit(logging::rate_limit(args.log_rate))
        .service("verror");
    let logs = logging::init(layer, args.log_level)?;
    logging::spawn_ticks(&logs);

    let mut builder = ServerBuilder::new()
        .addr(addr::resolve(&args.listen).await?)
        .max_frame_len(args.max_frame_len)
        .max_error_len(args.max_error_len)
        .oversized(args.oversized.into())
        .expose(args.expose.parse::<Exposure>()?)
        .workers(args.workers);
    if let Some(max) = args.max_connections {
        builder = builder.max_connections(max);
    }
    if let Some(max) = args.max_connections_per_address {
        builder = builder.max_connections_per_address(max);
    }
    if let Some(max) = args.max_refusals {
        builder = builder.max_refusals(max);
    }
    if let Some(max) = args.max_discard_len {
        builder = builder.max_discard_len(max);
    }
    if let Some(timeout) = args.idle_timeout {
        builder = builder.idle_timeout(timeout);
    }
    if let Some(timeout) = args.frame_timeout {
        builder = builder.frame_timeout(timeout);
    }
    if let Some(timeout) = args.write_timeout {
        builder = builder.write_timeout(timeout);
    }
    if let Some(timeout) = args.handler_timeout {
        builder = builder.handler_timeout(timeout);
    }
    if let Some(deadline) = args.shutdown_deadline {
        builder = builder.shutdown_deadline(deadline);
    }

    let server = builder.bind(DemoHandler::new()).await?;
    // Logs "server listening" (with `addr`) first and "server stopped: ..." last,
    // after the reports of what the rate limit suppressed.
    server
        .serve_until(async {
            shutdown_signal().await;
            logs.report_eagerly();
        })
        .await;
    logs.flush();
    Ok(ExitCode::SUCCESS)
}

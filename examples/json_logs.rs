//! An application that logs through `tracing` with verror's layer: a chained `VError`
//! logged in every format (native JSON, ECS, OpenTelemetry, Bunyan, text, compact
//! text), then the per-kind rate limit at work.
//!
//! Run with `cargo run --example json_logs --features tracing`. Log lines go to stdout
//! (so `| jq` works on the JSON ones), the headings to stderr.

use std::io;
use std::time::Duration;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use verror::VError;
use verror::layer::{Format, LogLayer, RateLimit, as_error};

/// A lookup that fails the way services do: a parse error, wrapped with what was
/// being parsed, wrapped with what was being looked up.
fn lookup(key: &str, stored: &str) -> Result<u64, VError> {
    stored.parse::<u64>().map_err(|parse| {
        let decode = VError::builder()
            .name("DecodeError")
            .info("stored", stored)
            .cause(parse)
            .message(format!("stored value {stored:?} is not a number"))
            .backtrace(false)
            .build();
        VError::builder()
            .name("LookupError")
            .info("key", key)
            .info("table", "sessions")
            .cause(decode)
            .message(format!("lookup of {key:?} failed"))
            .backtrace(false)
            .build()
    })
}

fn main() {
    let err = lookup("user:42", "forty-two").unwrap_err();

    for format in Format::ALL {
        eprintln!("\n== {format}");
        let layer = LogLayer::builder()
            .format(format)
            .writer(io::stdout)
            .service("json_logs")
            .build();
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            tracing::info!(port = 7878, "listening");
            tracing::error!(
                error = as_error(&err),
                request_id = 42,
                cached = false,
                "request failed"
            );
        });
    }

    // An application installs the layer once, for good, and keeps a handle for its
    // final summary.
    eprintln!("\n== rate limit: 3 lines of a kind a second, 20 retries logged");
    let layer = LogLayer::builder()
        .format(Format::Compact)
        .writer(io::stdout)
        .rate_limit(Some(RateLimit::new(3, Duration::from_secs(1))))
        .build();
    let handle = layer.handle();
    tracing_subscriber::registry().with(layer).init();
    for attempt in 0..20 {
        tracing::warn!(error = as_error(&err), attempt, kind = "lookup", "retrying");
    }
    // A global subscriber is never dropped: flush reports what was suppressed.
    handle.flush();
    eprintln!(
        "\n== counts\n{}",
        serde_json::to_string(&handle.counts()).unwrap_or_default()
    );
}

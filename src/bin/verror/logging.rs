//! The program's logs: `verror::layer::LogLayer` as the global subscriber, its
//! periodic tick, and panics logged as lines of the same format.

use std::time::Duration;

use tracing_subscriber::Layer;
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use verror::VError;
use verror::layer::{LogHandle, LogLayerBuilder, RateLimit};

/// Installs `layer` (with only the events at `level` or above) as the program's
/// subscriber, and returns the handle on its counts.
pub fn init(layer: LogLayerBuilder, level: LevelFilter) -> Result<LogHandle, VError> {
    let layer = layer.build();
    let handle = layer.handle();
    tracing_subscriber::registry()
        .with(layer.with_filter(level))
        .try_init()
        .map_err(|err| {
            VError::builder()
                .name("LogSetupError")
                .cause(err)
                .message("cannot install the log subscriber")
                .backtrace(false)
                .build()
        })?;
    install_panic_hook();
    Ok(handle)
}

/// Writes the rate limit's due reports once a second, so that a report of
/// suppressed lines never waits for the next event.
pub fn spawn_ticks(logs: &LogHandle) {
    let logs = logs.clone();
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(1));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            logs.tick();
        }
    });
}

/// `lines` lines of a kind per second, `0` for no limit.
pub fn rate_limit(lines: u32) -> Option<RateLimit> {
    (lines > 0).then(|| RateLimit::new(lines, Duration::from_secs(1)))
}

/// Replaces the default panic hook (a message and, with `RUST_BACKTRACE`, a
/// stack trace on stderr) with an error line in the log: a handler's panic is
/// then one more structured line next to the server's `handler_panic` line,
/// instead of text breaking the stream of JSON.
fn install_panic_hook() {
    std::panic::set_hook(Box::new(verror::layer::log_panic));
}

//! Panics logged as error lines of the log, for a panic hook.

use std::panic::PanicHookInfo;

/// Logs a panic as one `error` event, `kind = "panic"`, with its `location`
/// (`file:line:column`), its `thread` and the message `panicked: <text>`: installed as
/// the panic hook, a panic becomes one more structured line of the log (rate-limited
/// with the others of its kind) instead of text on stderr breaking a stream of JSON.
///
/// It replaces the default hook, which also printed a backtrace under
/// `RUST_BACKTRACE`; call it from a hook of your own to keep both.
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
/// use verror::layer::{LogBuffer, LogLayer, log_panic};
/// use verror::records::LogFormat;
///
/// let logs = LogBuffer::new();
/// let layer = LogLayer::builder().format(LogFormat::Native).writer(logs.clone()).build();
/// let subscriber = tracing_subscriber::registry().with(layer);
///
/// let default_hook = std::panic::take_hook();
/// std::panic::set_hook(Box::new(log_panic));
/// tracing::subscriber::with_default(subscriber, || {
///     let _ = std::panic::catch_unwind(|| panic!("frame {} has no handler", 7));
/// });
/// std::panic::set_hook(default_hook);
///
/// let line: serde_json::Value = serde_json::from_str(&logs.contents()).unwrap();
/// assert_eq!(line["level"], "error");
/// assert_eq!(line["kind"], "panic");
/// assert_eq!(line["message"], "panicked: frame 7 has no handler");
/// assert!(line["location"].as_str().unwrap().contains(".rs:"));
/// ```
pub fn log_panic(info: &PanicHookInfo<'_>) {
    let message = crate::panic_payload::text(info.payload());
    let location = info
        .location()
        .map(|at| format!("{}:{}:{}", at.file(), at.line(), at.column()))
        .unwrap_or_default();
    let thread = std::thread::current();
    let thread = thread.name().unwrap_or("unnamed");
    tracing::error!(kind = "panic", location, thread, "panicked: {message}");
}

//! A [`tracing_subscriber::Layer`] that logs errors as structured records instead of
//! flattened strings (feature `tracing`).
//!
//! [`LogLayer`] writes one record per event: a JSON object per line in one of the
//! [`LogFormat`](crate::records::LogFormat)s of [`crate::records`] (verror's native record,
//! Elastic Common Schema, an OpenTelemetry `LogsData` message, Bunyan), or human text.
//! Lines go to any tracing-subscriber [`MakeWriter`](tracing_subscriber::fmt::MakeWriter)
//! (stderr by default; tracing-appender's non-blocking writer plugs in). An error
//! recorded as an event field (any `&(dyn Error + 'static)`, a [`VError`](crate::VError)
//! or not) stays a nested object with its name, message, info and causes
//! ([`ErrorJson`](crate::ErrorJson)), never a string of JSON; the event's other fields
//! become typed record fields.
//!
//! ```
//! use tracing_subscriber::layer::SubscriberExt;
//! use tracing_subscriber::util::SubscriberInitExt;
//! use verror::records::LogFormat;
//! use verror::layer::{as_error, LogBuffer, LogLayer};
//! use verror::VError;
//!
//! // Logs go to stderr by default; this example captures them.
//! let logs = LogBuffer::new();
//! let layer = LogLayer::builder().format(LogFormat::Native).writer(logs.clone()).build();
//! let counts = layer.handle();
//! tracing_subscriber::registry().with(layer).init();
//!
//! let err = VError::builder()
//!     .name("FrameDecodeError")
//!     .info("conn_id", 7)
//!     .cause(VError::builder().name("FrameError").message("declared length 5000000 exceeds the limit of 1048576").build())
//!     .message("connection 7, frame 3")
//!     .build();
//! tracing::error!(error = as_error(&err), conn_id = 7, kind = "oversized", "frame rejected");
//!
//! let line: serde_json::Value = serde_json::from_str(&logs.contents()).unwrap();
//! assert_eq!(line["level"], "error");
//! assert_eq!(line["message"], "frame rejected");
//! assert_eq!(line["conn_id"], 7);                    // typed, not "7"
//! assert_eq!(line["kind"], "oversized");
//! assert_eq!(line["error"]["name"], "FrameDecodeError");  // an object, not a string
//! assert_eq!(line["error"]["info"]["conn_id"], 7);
//! assert_eq!(line["error"]["cause"]["name"], "FrameError");
//! assert_eq!(
//!     line["error"]["message"],
//!     "connection 7, frame 3: declared length 5000000 exceeds the limit of 1048576"
//! );
//! assert_eq!(counts.logged("oversized"), 1);
//! ```
//!
//! # Recording an error
//!
//! `tracing` hands a field to a layer as an error only when its value is a
//! `&(dyn Error + 'static)` (`Visit::record_error`); `error = %err` or `error = ?err`
//! would arrive as text. Write `error = &err as &(dyn std::error::Error + 'static)`, or
//! [`as_error`]`(&err)`. The first error field of an event is *the* error of its
//! record (any name will do; `error` or `err` is customary). Further error fields
//! become record fields holding their [`ErrorJson`](crate::ErrorJson) objects.
//!
//! # Fields
//!
//! - The `message` field (the format string of `tracing::error!(…, "text")`) is the
//!   record's message. An error event without one takes the error's whole message.
//! - Other fields keep their types: integers, floats, booleans and strings as such,
//!   `?value` and `%value` as strings. A field whose name a format already writes
//!   itself (say `level`, `msg` or `exception.type`) is written as `fields.<name>`,
//!   the same way in every format. Fields `log.*` (added by `tracing-log`) are
//!   skipped.
//! - The event's target: `target` (native, Bunyan), `log.logger` (ECS),
//!   `code.namespace` (OpenTelemetry); turn it off with [`LogLayerBuilder::target`].
//! - The current span and its parents, with their fields, in each format's idiom:
//!   `span` and `spans` as tracing-subscriber's JSON writes them (native), under
//!   `verror.spans` (ECS), attributes (OpenTelemetry), flat fields (Bunyan), and
//!   `name{k=v}:` prefixes (text). Span fields `trace_id` and `span_id` (32 and 16 hex
//!   digits, or integers) become the trace context: OTLP's `traceId`/`spanId`, ECS's
//!   `trace.id`/`span.id`.
//! - Every record is capped ([`DEFAULT_MAX_RECORD_BYTES`](crate::records::DEFAULT_MAX_RECORD_BYTES)):
//!   long values are cut with a marker, and the line stays valid JSON.
//!
//! # Rate limiting
//!
//! Every line at warn and above is limited per **kind**: the event's `kind` field when
//! it has one, else its error's name, else its target. At most [`RateLimit::lines`]
//! lines and [`RateLimit::bytes`] bytes of a kind, and [`RateLimit::total_bytes`]
//! bytes of all kinds, are written per [`RateLimit::window`] (by default 10 lines and
//! 256 KiB of a kind and 1 MiB in all, a second); the rest are counted and dropped.
//! Once the window of a kind with dropped lines has closed, one line at the level of
//! the dropped events reports them, with fields `kind` and `suppressed`, before the
//! next line of any kind, or at the next [`LogHandle::tick`] (call it periodically),
//! or at [`LogHandle::flush`] (also run when the layer is dropped);
//! [`LogHandle::report_eagerly`] makes every report due at once, for a shutdown:
//!
//! ```json
//! {"timestamp":"…","level":"error","message":"suppressed 37 lines of kind oversized","target":"verror::layer","kind":"oversized","suppressed":37}
//! ```
//!
//! Lines below warn are never limited. [`LogHandle`] counts the lines at warn and
//! above written and suppressed by kind, for a final summary. At most 1024 kinds are
//! tracked; lines of further kinds share the kind `(other)`. The windows follow the
//! layer's clock ([`LogLayerBuilder::clock`]), which tests move by hand.
//!
//! # Panics
//!
//! [`log_panic`] is a panic hook that logs a panic as one more `error` line of kind
//! `panic` (`std::panic::set_hook(Box::new(log_panic))`), so a panic does not break a
//! stream of JSON lines; the `verror` program installs it.
//!
//! # Cost and failure
//!
//! The layer never panics and never captures a backtrace. Suppressed events cost a
//! pass over their fields and a map lookup. Written lines are rendered into a
//! per-thread buffer and handed to the writer in one `write_all`, so lines from
//! several threads never interleave on a writer that locks per write (as stderr
//! does); a failing writer is counted ([`LogHandle::write_errors`]) and otherwise
//! ignored.

mod format;
mod limiter;
mod log_layer;
mod panics;
mod record;
mod scratch;
mod span_capture;
mod text;
mod visit;
mod writer;

use std::error::Error;

pub use format::Format;
pub use limiter::{KindCount, RateLimit};
pub use log_layer::{LogHandle, LogLayer, LogLayerBuilder};
pub use panics::log_panic;
pub use writer::LogBuffer;

pub(crate) use span_capture::{SPANS_KEY, current_spans};

/// The target of the lines the layer writes itself (the suppression reports):
/// `verror::layer`, whichever submodule writes them.
const OWN_TARGET: &str = module_path!();

/// Views any error as the `&(dyn Error + 'static)` that `tracing` records as an error
/// (through `Visit::record_error`) rather than as text.
///
/// ```
/// let err = verror::VError::new("disk full");
/// tracing::error!(error = verror::layer::as_error(&err), "write failed");
/// ```
pub fn as_error<E: Error + 'static>(error: &E) -> &(dyn Error + 'static) {
    error
}

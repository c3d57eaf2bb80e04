//! Whole log records that carry an error as structured data, in the shapes their
//! consumers read: verror's native record, Elastic Common Schema, an OpenTelemetry
//! `LogsData` message (OTLP/JSON, as the Collector's file receiver reads it), and
//! Bunyan (as its CLI renders it).
//!
//! A [`LogRecord`] says when, how severe, the message, fields, spans and who wrote it;
//! [`LogRecord::with_error`] gives the [`LogLine`] of one format, which serializes as
//! one JSON line. The [`layer`](crate::layer) module builds these records from
//! `tracing` events.
//!
//! ```
//! use verror::records::{LogFormat, LogRecord, Severity, SpanRecord};
//! use verror::VError;
//!
//! let err = VError::builder()
//!     .name("LookupError")
//!     .info("key", "42")
//!     .cause(VError::builder().name("NotFound").message("no user 42").backtrace(false).build())
//!     .message("lookup failed")
//!     .backtrace(false)
//!     .build();
//! let mut record = LogRecord::new(Severity::Error, "request failed").field("conn_id", 7);
//! let mut fields = verror::Info::new();
//! fields.insert("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736".into());
//! record.spans.push(SpanRecord { name: "request".into(), fields });
//!
//! let ecs = record.with_error(LogFormat::Ecs, Some(&err)).to_value();
//! assert_eq!(ecs["error"]["type"], "LookupError");
//! assert_eq!(ecs["error"]["stack_trace"].as_str().unwrap().lines().filter(|l| !l.starts_with("    at")).collect::<Vec<_>>(),
//!            ["LookupError: lookup failed", "caused by: NotFound: no user 42"]);
//! assert_eq!(ecs["trace.id"], "4bf92f3577b34da6a3ce929d0e0e4736");
//! assert_eq!(ecs["verror"]["conn_id"], 7);            // ours, under the namespace
//!
//! let otel = record.with_error(LogFormat::OpenTelemetry, Some(&err)).to_value();
//! let log = &otel["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0];
//! assert_eq!(log["severityText"], "ERROR");
//! assert_eq!(log["traceId"], "4bf92f3577b34da6a3ce929d0e0e4736");
//!
//! let bunyan = record.with_error(LogFormat::Bunyan, Some(&err)).to_value();
//! assert_eq!(bunyan["key"], "42");                    // merged info, flat
//! assert_eq!(bunyan["err"]["message"], "lookup failed: no user 42");
//! ```
//!
//! Every record is bounded: the stack text is linear in the chain (each level's own
//! message once, every MultiError child, written without recursion and cut past its
//! share with a count of the levels left out), and the whole line stays within
//! [`LogLine::max_bytes`]. A field named like a key the format writes itself is
//! written as `fields.<name>`, the same way in every format.
//!
//! One file per concern: the [`Severity`], the [`LogFormat`], the [`LogRecord`] and its
//! [`LogLine`], one file per schema (native, ECS, OpenTelemetry, Bunyan) with its table
//! of reserved keys, the renaming of colliding keys, the size budget, the stack text,
//! the trace context, the time stamps, the host name, and the JSON values that keep
//! their keys' order (for OTLP's `AnyValue`s).

mod budget;
mod bunyan;
mod ecs;
mod format;
mod host;
mod keys;
mod native;
mod ordered;
mod otel;
mod record;
mod severity;
mod stack;
mod time;
mod trace;

use std::error::Error;

use serde_json::Value;

pub use budget::DEFAULT_MAX_RECORD_BYTES;
// For the tracing layer.
#[cfg(feature = "tracing")]
pub(crate) use budget::{bounded_field, chain_json};
pub use ecs::ECS_VERSION;
pub use format::LogFormat;
#[cfg(feature = "tracing")]
pub(crate) use keys::field_key;
pub use record::{LogLine, LogRecord, SpanRecord};
pub use severity::Severity;
#[cfg(feature = "tracing")]
pub(crate) use time::Rfc3339;

/// Renders `error` into a whole record of the given format, as a `serde_json::Value`.
///
/// ```
/// use verror::records::{render, Severity, LogFormat, LogRecord};
/// let err = verror::VError::new("disk full");
/// let v = render(LogFormat::Bunyan, &LogRecord::new(Severity::Error, "write failed"), &err);
/// assert_eq!(v["level"], 50);
/// assert_eq!(v["err"]["message"], "disk full");
/// assert_eq!(v["v"], 0);
/// ```
pub fn render(format: LogFormat, record: &LogRecord, error: &(dyn Error + 'static)) -> Value {
    record.with_error(format, Some(error)).to_value()
}

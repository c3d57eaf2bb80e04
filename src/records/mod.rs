//! Whole log records that carry an error as structured data, in the shapes their
//! ecosystems expect: verror's native record, Elastic Common Schema, an
//! OpenTelemetry log record (OTLP/JSON), and Bunyan.
//!
//! One file per concern: the [`Severity`], the [`LogFormat`], the [`LogRecord`] and its
//! [`LogLine`], one file per schema (native, ECS, OpenTelemetry, Bunyan), the time
//! stamps and the host name.

mod budget;
mod bunyan;
mod ecs;
mod format;
mod host;
mod keys;
mod native;
mod otel;
mod record;
mod severity;
mod stack;
mod time;
mod trace;

use std::error::Error;

use serde_json::Value;

pub(crate) use budget::chain_json;
pub use budget::DEFAULT_MAX_RECORD_BYTES;
pub use ecs::ECS_VERSION;
pub use format::LogFormat;
pub use record::{LogLine, LogRecord, SpanRecord};
pub use severity::Severity;
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

//! [`LogRecord`] (what a record says besides the error) and [`LogLine`] (a record with
//! its error in one format, ready to serialize).

use std::error::Error;
use std::time::SystemTime;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use super::budget::{Budget, DEFAULT_MAX_RECORD_BYTES};
use super::format::LogFormat;
use super::host::hostname;
use super::severity::Severity;
use super::{bunyan, ecs, native, otel};
use crate::info::Info;

/// What a log record says besides the error: when, how severe, the message, extra
/// fields, and who wrote it.
#[derive(Clone, Debug)]
pub struct LogRecord {
    /// When it happened.
    pub time: SystemTime,
    /// How severe.
    pub level: Severity,
    /// The log message.
    pub message: String,
    /// Extra structured fields of the record (not of the error).
    pub fields: Info,
    /// The program or service (Bunyan's `name`, ECS `service.name`).
    pub service: String,
    /// The host.
    pub hostname: String,
    /// The process id.
    pub pid: u32,
    /// Where the record comes from: a module path such as `tracing`'s target (native
    /// `target`, ECS `log.logger`, OpenTelemetry `code.namespace`, Bunyan `target`).
    pub target: Option<String>,
    /// The spans the record was written in, outermost first.
    pub spans: Vec<SpanRecord>,
}

/// A span a record was written in: its name and fields.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpanRecord {
    /// The span's name (`info_span!("req", ..)`: `req`).
    pub name: String,
    /// The span's fields.
    pub fields: Info,
}

impl LogRecord {
    /// A record stamped now, from this process on this host, service `"verror"`.
    pub fn new(level: Severity, message: impl Into<String>) -> LogRecord {
        LogRecord {
            time: SystemTime::now(),
            level,
            message: message.into(),
            fields: Info::new(),
            service: "verror".to_owned(),
            hostname: hostname().to_owned(),
            pid: std::process::id(),
            target: None,
            spans: Vec::new(),
        }
    }

    /// Adds a field.
    pub fn field(
        mut self,
        key: impl Into<std::borrow::Cow<'static, str>>,
        value: impl Serialize,
    ) -> LogRecord {
        self.fields.insert(key, crate::info::to_value(&value));
        self
    }

    /// This record with `error` in the given format: a value that serializes as the
    /// whole record, keys in the order the format expects.
    ///
    /// ```
    /// use verror::records::{Severity, LogFormat, LogRecord};
    /// let err = verror::VError::builder().name("FrameDecodeError").info("conn_id", 7).message("bad frame").build();
    /// let record = LogRecord::new(Severity::Error, "connection failed");
    /// let line = serde_json::to_value(record.with_error(LogFormat::Ecs, Some(&err))).unwrap();
    /// assert_eq!(line["error"]["type"], "FrameDecodeError");
    /// assert_eq!(line["verror"]["info"]["conn_id"], 7);
    /// ```
    pub fn with_error<'a>(
        &'a self,
        format: LogFormat,
        error: Option<&'a (dyn Error + 'static)>,
    ) -> LogLine<'a> {
        LogLine {
            format,
            record: self,
            error,
            max_bytes: DEFAULT_MAX_RECORD_BYTES,
        }
    }

    /// The fields of the innermost span that has `key`: span context such as
    /// `trace_id`, looked up from the inside out.
    pub(super) fn span_field(&self, key: &str) -> Option<&Value> {
        self.spans
            .iter()
            .rev()
            .find_map(|span| span.fields.get(key))
    }
}

/// A whole log record in one format, ready to serialize as one JSON line.
#[derive(Clone, Copy)]
pub struct LogLine<'a> {
    pub(super) format: LogFormat,
    pub(super) record: &'a LogRecord,
    pub(super) error: Option<&'a (dyn Error + 'static)>,
    pub(super) max_bytes: usize,
}

impl LogLine<'_> {
    /// Caps the record at about `max_bytes` of JSON (default
    /// [`DEFAULT_MAX_RECORD_BYTES`], 64 KiB): the message, each field value, the info,
    /// the stack text and the chain's JSON each get a share, and what passes its
    /// share is cut with a marker. The record stays valid JSON.
    ///
    /// ```
    /// use verror::records::{LogFormat, LogRecord, Severity};
    /// let err = verror::VError::builder().info("key", "k".repeat(1 << 20)).message("lookup failed").build();
    /// let record = LogRecord::new(Severity::Error, "x".repeat(1 << 20));
    /// for format in LogFormat::ALL {
    ///     let line = record.with_error(format, Some(&err)).max_bytes(16 * 1024).to_json_line();
    ///     assert!(line.len() <= 16 * 1024, "{format}: {} bytes", line.len());
    ///     serde_json::from_str::<serde_json::Value>(&line).unwrap();
    /// }
    /// ```
    pub fn max_bytes(mut self, max_bytes: usize) -> Self {
        self.max_bytes = max_bytes;
        self
    }

    /// The shares of the record's cap.
    pub(super) fn budget(&self) -> Budget {
        Budget::of(self.max_bytes)
    }

    /// The record as a `serde_json::Value` (whose objects sort their keys).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The record as one line of JSON, keys in the format's order.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Serialize for LogLine<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        match self.format {
            LogFormat::Native => native::write(&mut map, self)?,
            LogFormat::Ecs => ecs::write(&mut map, self)?,
            LogFormat::OpenTelemetry => otel::write(&mut map, self)?,
            LogFormat::Bunyan => bunyan::write(&mut map, self)?,
        }
        map.end()
    }
}

/// The name of the outermost level of a chain.
pub(super) fn top_name<'a>(err: &'a (dyn Error + 'static)) -> &'a str {
    crate::chain::Level::new(err, None).name
}

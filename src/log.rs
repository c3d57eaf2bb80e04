//! Whole log records that carry an error as structured data, in the shapes their
//! ecosystems expect: verror's native record, Elastic Common Schema, an
//! OpenTelemetry log record (OTLP/JSON), and Bunyan.

use std::error::Error;
use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

use crate::info::Info;
use crate::ser::ErrorJson;

/// The ECS version the ECS records declare.
pub const ECS_VERSION: &str = "8.11.0";

/// A log level, with each ecosystem's spelling and number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Finest detail.
    Trace,
    /// Debugging detail.
    Debug,
    /// Normal operation.
    Info,
    /// Something unexpected that was handled.
    Warn,
    /// A failure.
    Error,
    /// A failure that ends the program.
    Fatal,
}

impl Level {
    /// Lower-case name: `"error"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Trace => "trace",
            Level::Debug => "debug",
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
            Level::Fatal => "fatal",
        }
    }

    /// Bunyan's number: 10 trace … 60 fatal.
    pub fn bunyan(self) -> u8 {
        match self {
            Level::Trace => 10,
            Level::Debug => 20,
            Level::Info => 30,
            Level::Warn => 40,
            Level::Error => 50,
            Level::Fatal => 60,
        }
    }

    /// OpenTelemetry's severity number: TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17, FATAL 21.
    pub fn otel_severity(self) -> u8 {
        match self {
            Level::Trace => 1,
            Level::Debug => 5,
            Level::Info => 9,
            Level::Warn => 13,
            Level::Error => 17,
            Level::Fatal => 21,
        }
    }
}

/// Which shape of record to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LogFormat {
    /// `timestamp`, `level`, `message`, the record's fields, the error's JSON
    /// ([`ErrorJson`]) under `error` and its merged info under `info`.
    Native,
    /// Elastic Common Schema: `@timestamp`, `log.level`, `message`, `ecs.version`,
    /// `error.type`, `error.message`, `error.stack_trace` (the full stack), and the whole
    /// chain and merged info under the custom `verror` namespace.
    Ecs,
    /// An OTLP/JSON log record: `timeUnixNano`, `severityNumber`, `severityText`,
    /// `body`, and attributes `exception.type`, `exception.message`,
    /// `exception.stacktrace`, the record's fields, the merged info, and the whole chain
    /// as `verror.error`.
    OpenTelemetry,
    /// Bunyan: `name`, `hostname`, `pid`, `level`, the record's fields, `err` (`name`,
    /// `message`, `stack` with `"\nCaused by: "`, plus `info` and the whole chain as
    /// `verror`), `msg`, `time`, `v`.
    Bunyan,
}

impl LogFormat {
    /// Every format, for tests and help texts.
    pub const ALL: [LogFormat; 4] = [
        LogFormat::Native,
        LogFormat::Ecs,
        LogFormat::OpenTelemetry,
        LogFormat::Bunyan,
    ];

    /// The name [`FromStr`] reads: `json`, `ecs`, `otel`, `bunyan`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogFormat::Native => "json",
            LogFormat::Ecs => "ecs",
            LogFormat::OpenTelemetry => "otel",
            LogFormat::Bunyan => "bunyan",
        }
    }
}

impl FromStr for LogFormat {
    type Err = crate::VError;

    fn from_str(text: &str) -> Result<LogFormat, crate::VError> {
        match text {
            "json" | "native" => Ok(LogFormat::Native),
            "ecs" => Ok(LogFormat::Ecs),
            "otel" | "opentelemetry" => Ok(LogFormat::OpenTelemetry),
            "bunyan" => Ok(LogFormat::Bunyan),
            _ => Err(crate::VError::builder()
                .name("LogFormatError")
                .info("given", text)
                .info("expected", ["json", "ecs", "otel", "bunyan"])
                .message(format!("unknown log format {text:?}"))
                .backtrace(false)
                .build()),
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a log record says besides the error: when, how severe, the message, extra
/// fields, and who wrote it.
#[derive(Clone, Debug)]
pub struct LogRecord {
    /// When it happened.
    pub time: SystemTime,
    /// How severe.
    pub level: Level,
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
}

impl LogRecord {
    /// A record stamped now, from this process on this host, service `"verror"`.
    pub fn new(level: Level, message: impl Into<String>) -> LogRecord {
        LogRecord {
            time: SystemTime::now(),
            level,
            message: message.into(),
            fields: Info::new(),
            service: "verror".to_owned(),
            hostname: hostname().to_owned(),
            pid: std::process::id(),
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
    /// use verror::log::{Level, LogFormat, LogRecord};
    /// let err = verror::VError::builder().name("FrameDecodeError").info("conn_id", 7).message("bad frame").build();
    /// let record = LogRecord::new(Level::Error, "connection failed");
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
        }
    }
}

/// The host name, read once.
fn hostname() -> &'static str {
    static HOSTNAME: OnceLock<String> = OnceLock::new();
    HOSTNAME.get_or_init(|| {
        std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map(|h| h.trim().to_owned())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "localhost".to_owned())
    })
}

/// A whole log record in one format, ready to serialize as one JSON line.
#[derive(Clone, Copy)]
pub struct LogLine<'a> {
    format: LogFormat,
    record: &'a LogRecord,
    error: Option<&'a (dyn Error + 'static)>,
}

impl LogLine<'_> {
    /// The record as a `serde_json::Value` (whose objects sort their keys).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// The record as one line of JSON, keys in the format's order.
    pub fn to_json_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Renders `error` into a whole record of the given format, as a `serde_json::Value`.
///
/// ```
/// use verror::log::{render, Level, LogFormat, LogRecord};
/// let err = verror::VError::new("disk full");
/// let v = render(LogFormat::Bunyan, &LogRecord::new(Level::Error, "write failed"), &err);
/// assert_eq!(v["level"], 50);
/// assert_eq!(v["err"]["message"], "disk full");
/// assert_eq!(v["v"], 0);
/// ```
pub fn render(format: LogFormat, record: &LogRecord, error: &(dyn Error + 'static)) -> Value {
    record.with_error(format, Some(error)).to_value()
}

impl Serialize for LogLine<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let rec = self.record;
        let mut map = serializer.serialize_map(None)?;
        match self.format {
            LogFormat::Native => {
                map.serialize_entry("timestamp", &Rfc3339(rec.time))?;
                map.serialize_entry("level", rec.level.as_str())?;
                map.serialize_entry("message", &rec.message)?;
                fields(&mut map, &rec.fields)?;
                if let Some(err) = self.error {
                    map.serialize_entry("error", &ErrorJson::new(err))?;
                    map.serialize_entry("info", &crate::info(err))?;
                }
            }
            LogFormat::Ecs => {
                map.serialize_entry("@timestamp", &Rfc3339(rec.time))?;
                map.serialize_entry("log.level", rec.level.as_str())?;
                map.serialize_entry("message", &rec.message)?;
                map.serialize_entry("ecs.version", ECS_VERSION)?;
                map.serialize_entry("service.name", &rec.service)?;
                map.serialize_entry("host.hostname", &rec.hostname)?;
                map.serialize_entry("process.pid", &rec.pid)?;
                fields(&mut map, &rec.fields)?;
                if let Some(err) = self.error {
                    map.serialize_entry("error", &EcsError(err))?;
                    map.serialize_entry("verror", &Namespace(err))?;
                }
            }
            LogFormat::OpenTelemetry => {
                let nanos = rec
                    .time
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos());
                // OTLP/JSON writes 64-bit integers as strings.
                map.serialize_entry("timeUnixNano", &nanos.to_string())?;
                map.serialize_entry("severityNumber", &rec.level.otel_severity())?;
                map.serialize_entry("severityText", &rec.level.as_str().to_uppercase())?;
                map.serialize_entry("body", &AnyValue(&Value::String(rec.message.clone())))?;
                map.serialize_entry(
                    "attributes",
                    &OtelAttributes {
                        fields: &rec.fields,
                        error: self.error,
                    },
                )?;
            }
            LogFormat::Bunyan => {
                map.serialize_entry("name", &rec.service)?;
                map.serialize_entry("hostname", &rec.hostname)?;
                map.serialize_entry("pid", &rec.pid)?;
                map.serialize_entry("level", &rec.level.bunyan())?;
                fields(&mut map, &rec.fields)?;
                if let Some(err) = self.error {
                    map.serialize_entry("err", &BunyanError(err))?;
                }
                map.serialize_entry("msg", &rec.message)?;
                map.serialize_entry("time", &Rfc3339(rec.time))?;
                map.serialize_entry("v", &0)?;
            }
        }
        map.end()
    }
}

fn fields<M: SerializeMap>(map: &mut M, fields: &Info) -> Result<(), M::Error> {
    for (key, value) in fields.iter() {
        map.serialize_entry(key, value)?;
    }
    Ok(())
}

/// The name of the outermost level of a chain.
fn top_name<'a>(err: &'a (dyn Error + 'static)) -> &'a str {
    crate::chain::Level::new(err, None).name
}

struct EcsError<'a>(&'a (dyn Error + 'static));

impl Serialize for EcsError<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("type", top_name(self.0))?;
        map.serialize_entry("message", &crate::fmt::message_of(self.0))?;
        map.serialize_entry("stack_trace", &crate::full_stack(self.0))?;
        map.end()
    }
}

/// verror's own namespace in an ECS record: merged info and the whole chain.
struct Namespace<'a>(&'a (dyn Error + 'static));

impl Serialize for Namespace<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("info", &crate::info(self.0))?;
        map.serialize_entry("error", &ErrorJson::new(self.0))?;
        map.end()
    }
}

struct BunyanError<'a>(&'a (dyn Error + 'static));

impl Serialize for BunyanError<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(5))?;
        map.serialize_entry("message", &crate::fmt::message_of(self.0))?;
        map.serialize_entry("name", top_name(self.0))?;
        let stack = crate::full_stack(self.0).replace("\ncaused by: ", "\nCaused by: ");
        map.serialize_entry("stack", &stack)?;
        map.serialize_entry("info", &crate::info(self.0))?;
        map.serialize_entry("verror", &ErrorJson::new(self.0))?;
        map.end()
    }
}

struct OtelAttributes<'a> {
    fields: &'a Info,
    error: Option<&'a (dyn Error + 'static)>,
}

impl Serialize for OtelAttributes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        let mut attribute = |key: &str, value: &Value| seq.serialize_element(&KeyValue(key, value));
        for (key, value) in self.fields.iter() {
            attribute(key, value)?;
        }
        if let Some(err) = self.error {
            attribute("exception.type", &Value::String(top_name(err).to_owned()))?;
            attribute(
                "exception.message",
                &Value::String(crate::fmt::message_of(err)),
            )?;
            attribute(
                "exception.stacktrace",
                &Value::String(crate::full_stack(err)),
            )?;
            // Attribute keys are unique in OTLP: a record field wins over the same key
            // of the error's info.
            for (key, value) in crate::info(err).iter() {
                if !self.fields.contains_key(key) {
                    attribute(key, value)?;
                }
            }
            let chain = serde_json::to_value(ErrorJson::new(err)).unwrap_or(Value::Null);
            attribute("verror.error", &chain)?;
        }
        seq.end()
    }
}

/// An OTLP `KeyValue`.
struct KeyValue<'a>(&'a str, &'a Value);

impl Serialize for KeyValue<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("key", self.0)?;
        map.serialize_entry("value", &AnyValue(self.1))?;
        map.end()
    }
}

/// A JSON value as an OTLP `AnyValue`.
struct AnyValue<'a>(&'a Value);

impl Serialize for AnyValue<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        match self.0 {
            Value::Null => {}
            Value::Bool(b) => map.serialize_entry("boolValue", b)?,
            Value::Number(n) => match n.as_i64() {
                // OTLP/JSON writes 64-bit integers as strings.
                Some(i) => map.serialize_entry("intValue", &i.to_string())?,
                None => map.serialize_entry("doubleValue", &n.as_f64())?,
            },
            Value::String(s) => map.serialize_entry("stringValue", s)?,
            Value::Array(items) => map.serialize_entry("arrayValue", &ArrayValue(items))?,
            Value::Object(object) => map.serialize_entry("kvlistValue", &KvList(object))?,
        }
        map.end()
    }
}

/// An OTLP `ArrayValue`: `{"values": [AnyValue, ...]}`.
struct ArrayValue<'a>(&'a [Value]);

impl Serialize for ArrayValue<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Items<'a>(&'a [Value]);
        impl Serialize for Items<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.iter().map(AnyValue))
            }
        }
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("values", &Items(self.0))?;
        map.end()
    }
}

/// An OTLP `KeyValueList`: `{"values": [KeyValue, ...]}`.
struct KvList<'a>(&'a serde_json::Map<String, Value>);

impl Serialize for KvList<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Items<'a>(&'a serde_json::Map<String, Value>);
        impl Serialize for Items<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.iter().map(|(k, v)| KeyValue(k, v)))
            }
        }
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("values", &Items(self.0))?;
        map.end()
    }
}

/// A time as RFC 3339 in UTC with milliseconds: `2026-11-26T06:06:23.123Z`.
pub(crate) struct Rfc3339(pub(crate) SystemTime);

impl Serialize for Rfc3339 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let since = self.0.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = since.as_secs();
        let (days, rem) = (secs / 86_400, secs % 86_400);
        let (year, month, day) = civil_from_days(days as i64);
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60,
            since.subsec_millis()
        )
    }
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn rfc3339_dates() {
        let at = |secs: u64, millis: u64| {
            Rfc3339(UNIX_EPOCH + Duration::from_millis(secs * 1000 + millis)).to_string()
        };
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(at(951_782_400, 5), "2000-02-29T00:00:00.005Z");
        assert_eq!(at(1_714_564_800, 0), "2024-05-01T12:00:00.000Z");
        assert_eq!(at(4_102_444_799, 999), "2099-12-31T23:59:59.999Z");
    }
}

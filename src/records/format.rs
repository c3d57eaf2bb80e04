//! [`LogFormat`]: which shape of record to write.

use std::fmt;
use std::str::FromStr;

/// Which shape of record to write. Every shape carries the record's target, its fields
/// and spans, and the error, each capped ([`LogLine::max_bytes`](super::LogLine::max_bytes)),
/// with the field names the shape writes itself renamed `fields.<name>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LogFormat {
    /// verror's own: `timestamp`, `level`, `message`, `target`, the record's fields,
    /// `span` and `spans` (as tracing-subscriber's JSON writes them), the error's JSON
    /// ([`ErrorJson`](crate::ErrorJson)) under `error` and its merged info under `info`.
    Native,
    /// Elastic Common Schema ([`ECS_VERSION`](super::ECS_VERSION)): `@timestamp`,
    /// `log.level`, `message`, `ecs.version`, `service.name`, `host.hostname`,
    /// `process.pid`, `log.logger`, `trace.id` and `span.id` (from span fields),
    /// `error.type`, `error.message`, `error.stack_trace`; everything of verror's own
    /// (the record's fields, the spans, the merged info, the chain) under `verror`.
    Ecs,
    /// One OTLP/JSON `LogsData` message: a resource (`service.name`, `host.name`,
    /// `process.pid`), the scope `verror`, and one log record with `timeUnixNano`,
    /// `observedTimeUnixNano`, `severityNumber`, `severityText`, `body`, `traceId` and
    /// `spanId` (from span fields), and attributes: `exception.type`,
    /// `exception.message`, `exception.stacktrace`, `code.namespace`, the record's and
    /// the spans' fields, the merged info as `verror.info` and the chain as
    /// `verror.error`.
    OpenTelemetry,
    /// Bunyan, as its CLI reads it: `name`, `hostname`, `pid`, `level`, `target`, flat
    /// scalar fields (the record's, the spans', the error's merged info), `err`
    /// (`message`, `name`, `stack` with `"\nCaused by: "`), `msg`, `time`, `v`.
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
            _ => Err(crate::choice::unknown_value(
                "log format",
                text,
                &LogFormat::ALL.map(LogFormat::as_str),
            )),
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

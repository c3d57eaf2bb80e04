//! [`LogFormat`]: which shape of record to write.

use std::fmt;
use std::str::FromStr;

/// Which shape of record to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LogFormat {
    /// `timestamp`, `level`, `message`, the record's fields, the error's JSON
    /// ([`ErrorJson`](crate::ErrorJson)) under `error` and its merged info under `info`.
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

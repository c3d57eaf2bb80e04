//! [`Format`]: the output format of the layer.

use std::fmt;
use std::str::FromStr;

use crate::records::LogFormat;

/// What [`LogLayer`](super::LogLayer) writes: a JSON record per line in one of the
/// [`LogFormat`]s, or human text.
///
/// Reads from the names `json` (or `native`), `ecs`, `otel` (or `opentelemetry`),
/// `bunyan`, `text` and `compact`:
///
/// ```
/// use verror::records::LogFormat;
/// use verror::layer::Format;
/// assert_eq!("ecs".parse::<Format>().unwrap(), Format::Json(LogFormat::Ecs));
/// assert_eq!("text".parse::<Format>().unwrap(), Format::Text);
/// assert_eq!(Format::from(LogFormat::Bunyan).to_string(), "bunyan");
/// assert!("xml".parse::<Format>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// One JSON object per line, a whole record in this format.
    Json(LogFormat),
    /// Human text: one line per event (time, level, target, message, `key=value`
    /// fields); an error event adds the error's whole message and its report
    /// (`{:?}`), indented below.
    Text,
    /// Human text, one line per event, an error as `error="Name: whole message"`.
    Compact,
}

impl Format {
    /// Every format, for tests and help texts.
    pub const ALL: [Format; 6] = [
        Format::Json(LogFormat::Native),
        Format::Json(LogFormat::Ecs),
        Format::Json(LogFormat::OpenTelemetry),
        Format::Json(LogFormat::Bunyan),
        Format::Text,
        Format::Compact,
    ];

    /// The name [`FromStr`] reads: `json`, `ecs`, `otel`, `bunyan`, `text`, `compact`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json(format) => format.as_str(),
            Format::Text => "text",
            Format::Compact => "compact",
        }
    }
}

impl Default for Format {
    /// verror's native JSON record.
    fn default() -> Format {
        Format::Json(LogFormat::Native)
    }
}

impl From<LogFormat> for Format {
    fn from(format: LogFormat) -> Format {
        Format::Json(format)
    }
}

impl FromStr for Format {
    type Err = crate::VError;

    fn from_str(text: &str) -> Result<Format, crate::VError> {
        match text {
            "text" => Ok(Format::Text),
            "compact" => Ok(Format::Compact),
            _ => text.parse::<LogFormat>().map(Format::Json).map_err(|_| {
                crate::choice::unknown_value("log format", text, &Format::ALL.map(Format::as_str))
            }),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

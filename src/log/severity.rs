//! [`Level`]: how severe a record is, with each ecosystem's spelling and number.

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

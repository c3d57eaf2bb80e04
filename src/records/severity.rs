//! [`Severity`]: how severe a record is, with each ecosystem's spelling and number.

/// How severe a record is, with each ecosystem's spelling and number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
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

impl Severity {
    /// Lower-case name: `"error"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Trace => "trace",
            Severity::Debug => "debug",
            Severity::Info => "info",
            Severity::Warn => "warn",
            Severity::Error => "error",
            Severity::Fatal => "fatal",
        }
    }

    /// Bunyan's number: 10 trace … 60 fatal.
    pub fn bunyan(self) -> u8 {
        match self {
            Severity::Trace => 10,
            Severity::Debug => 20,
            Severity::Info => 30,
            Severity::Warn => 40,
            Severity::Error => 50,
            Severity::Fatal => 60,
        }
    }

    /// OpenTelemetry's severity number: TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17, FATAL 21.
    pub fn otel_severity(self) -> u8 {
        match self {
            Severity::Trace => 1,
            Severity::Debug => 5,
            Severity::Info => 9,
            Severity::Warn => 13,
            Severity::Error => 17,
            Severity::Fatal => 21,
        }
    }
}

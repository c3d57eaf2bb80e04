//! The human text formats, [`Format::Text`](super::Format::Text) and
//! [`Format::Compact`](super::Format::Compact).

use std::error::Error;
use std::fmt;

use serde_json::Value;

use crate::records::{LogRecord, Rfc3339, Severity};

/// `fmt::Write` into a byte buffer.
pub(super) struct BufText<'a>(pub(super) &'a mut Vec<u8>);

impl fmt::Write for BufText<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.0.extend_from_slice(text.as_bytes());
        Ok(())
    }
}

/// `2026-11-26T06:06:23.123Z ERROR target: message key=value ...`, then for an error
/// either ` error="Name: message"` (compact) or the whole message and the report,
/// indented below.
pub(super) fn write_text(
    out: &mut dyn fmt::Write,
    record: &LogRecord,
    target: Option<&str>,
    error: Option<&(dyn Error + 'static)>,
    compact: bool,
) -> fmt::Result {
    let level = match record.level {
        Severity::Trace => "TRACE",
        Severity::Debug => "DEBUG",
        Severity::Info => " INFO",
        Severity::Warn => " WARN",
        Severity::Error => "ERROR",
        Severity::Fatal => "FATAL",
    };
    write!(out, "{} {level} ", Rfc3339(record.time))?;
    if let Some(target) = target {
        write!(out, "{target}: ")?;
    }
    out.write_str(&record.message)?;
    for (key, value) in record.fields.iter() {
        write!(out, " {key}=")?;
        write_text_value(out, value)?;
    }
    let Some(error) = error else {
        return Ok(());
    };
    let name = crate::chain::Level::new(error, None).name;
    if compact {
        let mut story = String::new();
        story.push_str(name);
        story.push_str(": ");
        crate::fmt::write_message(&mut story, error)?;
        out.write_str(" error=")?;
        return write_text_value(out, &Value::String(story));
    }
    out.write_str("\n  error: ")?;
    crate::fmt::write_message(
        &mut Indented {
            out: &mut *out,
            rest: "\n         ",
        },
        error,
    )?;
    let mut report = String::new();
    crate::fmt::write_report(&mut report, error)?;
    for line in report.lines() {
        if line.is_empty() {
            out.write_str("\n  │")?;
        } else {
            write!(out, "\n  │ {line}")?;
        }
    }
    Ok(())
}

/// Continues each further line of what is written with `rest`.
struct Indented<'a> {
    out: &'a mut dyn fmt::Write,
    rest: &'a str,
}

impl fmt::Write for Indented<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let mut lines = text.split('\n');
        self.out.write_str(lines.next().unwrap_or(""))?;
        for line in lines {
            self.out.write_str(self.rest)?;
            self.out.write_str(line)?;
        }
        Ok(())
    }
}

/// A field value as text: a plain string bare, one with spaces, quotes, `=` or control
/// characters quoted as JSON, anything else as compact JSON.
fn write_text_value(out: &mut dyn fmt::Write, value: &Value) -> fmt::Result {
    match value {
        Value::String(text) => {
            let plain = !text.is_empty()
                && !text
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '=');
            if plain {
                out.write_str(text)
            } else {
                write!(out, "{value}")
            }
        }
        _ => write!(out, "{value}"),
    }
}

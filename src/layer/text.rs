//! The human text formats, [`Format::Text`](super::Format::Text) and
//! [`Format::Compact`](super::Format::Compact). Every control character of every name,
//! key, value, message and error text is escaped (`\n`, `\u{1b}`), so no logged text
//! can forge a line or drive a terminal.

use std::error::Error;
use std::fmt;

use serde_json::Value;

use crate::escape::{Escaped, is_unsafe, write_escaped};
use crate::records::{LogRecord, Rfc3339, Severity};

/// `fmt::Write` into a byte buffer, at most `room` bytes: past them the text is cut (on
/// a character boundary) and the write fails, which ends the line.
pub(super) struct BufText<'a> {
    buf: &'a mut Vec<u8>,
    room: usize,
    cut: bool,
}

impl<'a> BufText<'a> {
    /// A writer of at most `room` bytes into `buf`.
    pub(super) fn new(buf: &'a mut Vec<u8>, room: usize) -> BufText<'a> {
        BufText {
            buf,
            room,
            cut: false,
        }
    }
}

impl fmt::Write for BufText<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        if text.len() <= self.room {
            self.buf.extend_from_slice(text.as_bytes());
            self.room -= text.len();
            return Ok(());
        }
        let mut end = self.room;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        self.buf.extend_from_slice(&text.as_bytes()[..end]);
        self.room = 0;
        self.cut = true;
        Err(fmt::Error)
    }
}

/// Writes the text line of `record` into `buf`, at most `max_bytes` of it; a longer line
/// ends with `…[cut]`. Returns whether the line was written.
pub(super) fn write_text_line(
    buf: &mut Vec<u8>,
    max_bytes: usize,
    record: &LogRecord,
    target: Option<&str>,
    error: Option<&(dyn Error + 'static)>,
    compact: bool,
    ansi: bool,
) -> bool {
    let mut out = BufText::new(buf, max_bytes);
    let written = write_text(&mut out, record, target, error, compact, ansi).is_ok();
    if out.cut {
        buf.extend_from_slice("…[cut]".as_bytes());
        return true;
    }
    written
}

/// `2026-11-26T06:06:23.123Z ERROR span{k=v}:span2: target: message key=value ...`,
/// then for an error either ` error="Name: message"` (compact) or the whole message
/// and the report, indented below.
fn write_text(
    out: &mut dyn fmt::Write,
    record: &LogRecord,
    target: Option<&str>,
    error: Option<&(dyn Error + 'static)>,
    compact: bool,
    ansi: bool,
) -> fmt::Result {
    // The level's SGR colour: red, yellow, green, blue, magenta.
    let (level, colour) = match record.level {
        Severity::Trace => ("TRACE", "35"),
        Severity::Debug => ("DEBUG", "34"),
        Severity::Info => (" INFO", "32"),
        Severity::Warn => (" WARN", "33"),
        Severity::Error => ("ERROR", "31"),
        Severity::Fatal => ("FATAL", "31"),
    };
    if ansi {
        write!(
            out,
            "{} \u{1b}[{colour}m{level}\u{1b}[0m ",
            Rfc3339(record.time)
        )?;
    } else {
        write!(out, "{} {level} ", Rfc3339(record.time))?;
    }
    for span in &record.spans {
        write_escaped(out, &span.name)?;
        if !span.fields.is_empty() {
            out.write_char('{')?;
            for (i, (key, value)) in span.fields.iter().enumerate() {
                if i > 0 {
                    out.write_char(' ')?;
                }
                write!(out, "{}=", Escaped(key))?;
                write_text_value(out, value)?;
            }
            out.write_char('}')?;
        }
        out.write_str(": ")?;
    }
    if let Some(target) = target {
        write!(out, "{}: ", Escaped(target))?;
    }
    write_escaped(out, &record.message)?;
    for (key, value) in record.fields.iter() {
        write!(out, " {}=", Escaped(key))?;
        write_text_value(out, value)?;
    }
    let Some(error) = error else {
        return Ok(());
    };
    let name = crate::chain::Level::new(error, None).name;
    let mut story = String::new();
    story.push_str(name);
    story.push_str(": ");
    crate::fmt::write_message(&mut story, error)?;
    if compact {
        out.write_str(" error=")?;
        return write_text_value(out, &Value::String(story));
    }
    out.write_str("\n  error: ")?;
    write_escaped(out, &story[name.len() + 2..])?;
    let mut report = String::new();
    crate::fmt::write_report(&mut report, error)?;
    for line in report.lines() {
        if line.is_empty() {
            out.write_str("\n  │")?;
        } else {
            write!(out, "\n  │ {}", Escaped(line))?;
        }
    }
    Ok(())
}

/// A field value as text: a plain string bare; one with spaces, quotes, `=` or unsafe
/// characters quoted and escaped as Rust writes strings (`"a\nb"`); anything else as
/// compact JSON with its unsafe characters escaped.
fn write_text_value(out: &mut dyn fmt::Write, value: &Value) -> fmt::Result {
    match value {
        Value::String(text) => {
            let plain = !text.is_empty()
                && !text
                    .chars()
                    .any(|c| c.is_whitespace() || is_unsafe(c) || c == '"' || c == '=');
            if plain {
                out.write_str(text)
            } else {
                write!(out, "\"")?;
                for c in text.chars() {
                    match c {
                        '"' => out.write_str("\\\"")?,
                        '\\' => out.write_str("\\\\")?,
                        c if is_unsafe(c) => {
                            for e in c.escape_debug() {
                                out.write_char(e)?;
                            }
                        }
                        c => out.write_char(c)?,
                    }
                }
                write!(out, "\"")
            }
        }
        _ => write!(out, "{}", Escaped(&value.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::SpanRecord;

    #[test]
    fn every_text_is_escaped() {
        let mut record = LogRecord::new(Severity::Error, "line\nforged \u{1b}[2J")
            .field("k\u{202e}", "v\r\n")
            .field("obj", serde_json::json!({"a": "\u{202e}x"}));
        let mut fields = crate::Info::new();
        fields.insert("id", Value::String("a\nb".into()));
        record.spans.push(SpanRecord {
            name: "req\n".into(),
            fields,
        });
        let err = crate::VError::builder()
            .name("Bad\u{1b}Name")
            .message("multi\nline")
            .backtrace(false)
            .build();
        for compact in [true, false] {
            let mut out = String::new();
            write_text(&mut out, &record, Some("t\n"), Some(&err), compact, false).unwrap();
            let first = out.lines().next().unwrap();
            assert!(
                first.contains(r#"req\n{id="a\nb"}: t\n: line\nforged \u{1b}[2J"#),
                "{first}"
            );
            assert!(first.contains(r#"k\u{202e}="v\r\n""#), "{first}");
            assert!(first.contains(r#"obj={"a":"\u{202e}x"}"#), "{first}");
            assert!(!out.contains('\u{1b}') && !out.contains('\u{202e}') && !out.contains('\r'));
            if compact {
                assert_eq!(out.lines().count(), 1, "{out}");
                assert!(
                    first.ends_with(r#"error="Bad\u{1b}Name: multi\nline""#),
                    "{first}"
                );
            } else {
                assert!(out.contains(r"  error: multi\nline"), "{out}");
            }
        }
    }

    #[test]
    fn a_huge_line_is_cut_to_its_cap() {
        let record = LogRecord::new(Severity::Error, "é".repeat(100_000));
        let mut buf = Vec::new();
        assert!(write_text_line(
            &mut buf, 1000, &record, None, None, false, false
        ));
        let line = String::from_utf8(buf).unwrap();
        assert!(line.len() <= 1000 + "…[cut]".len(), "{} bytes", line.len());
        assert!(line.ends_with("…[cut]"));
        let mut buf = Vec::new();
        assert!(write_text_line(
            &mut buf,
            1000,
            &LogRecord::new(Severity::Info, "short"),
            None,
            None,
            false,
            false
        ));
        assert!(String::from_utf8(buf).unwrap().ends_with("INFO short"));
    }

    #[test]
    fn ansi_colours_only_the_level_and_escapes_the_rest() {
        let record = LogRecord::new(Severity::Error, "boom \u{1b}[2J");
        let mut buf = Vec::new();
        assert!(write_text_line(
            &mut buf, 1000, &record, None, None, false, true
        ));
        let line = String::from_utf8(buf).unwrap();
        assert!(line.contains(" \u{1b}[31mERROR\u{1b}[0m boom "), "{line:?}");
        // The message's own escape stays escaped: only ours colour.
        assert_eq!(line.matches('\u{1b}').count(), 2, "{line:?}");
    }
}

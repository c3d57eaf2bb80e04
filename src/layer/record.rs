//! [`RecordWriter`]: renders the scratch record into a line in the layer's format and
//! writes it.

use std::error::Error;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use serde_json::Value;

use super::OWN_TARGET;
use super::format::Format;
use super::limiter::Suppressed;
use super::scratch::Scratch;
use super::text::write_text_line;
use super::writer::WriteLine;
use crate::info::Info;
use crate::records::{DEFAULT_MAX_RECORD_BYTES, LogRecord, Severity};

/// Writes records as lines: the format, the writer and what every record carries.
pub(super) struct RecordWriter {
    format: Format,
    writer: Box<dyn WriteLine>,
    service: String,
    /// Whether records carry the event's target.
    target: bool,
    /// Whether the text formats colour the level.
    ansi: bool,
    /// Lines lost to the writer or to a value that refused to serialize.
    write_errors: AtomicU64,
}

impl RecordWriter {
    pub(super) fn new(
        format: Format,
        writer: Box<dyn WriteLine>,
        service: String,
        target: bool,
        ansi: bool,
    ) -> RecordWriter {
        RecordWriter {
            format,
            writer,
            service,
            target,
            ansi,
            write_errors: AtomicU64::new(0),
        }
    }

    pub(super) fn format(&self) -> Format {
        self.format
    }

    pub(super) fn write_errors(&self) -> u64 {
        self.write_errors.load(Ordering::Relaxed)
    }

    /// Starts `record` afresh for a line at `level` from `target`: the time, an empty
    /// message, no fields or spans, the service and, in JSON, the target. Returns the
    /// target to print in text formats.
    pub(super) fn start_record<'t>(
        &self,
        record: &mut LogRecord,
        level: Severity,
        target: &'t str,
    ) -> Option<&'t str> {
        record.time = SystemTime::now();
        record.level = level;
        record.message.clear();
        record.fields = Info::new();
        record.spans.clear();
        // The scratch record keeps its service from line to line; copy it only once.
        if record.service != self.service {
            record.service.clone_from(&self.service);
        }
        let json = matches!(self.format, Format::Json(_));
        record.target = (self.target && json).then(|| target.to_owned());
        (self.target && !json).then_some(target)
    }

    /// Renders the scratch record with `error` and writes it if `gate` lets a line of
    /// its length through (the rate limit's byte budgets).
    pub(super) fn write_record(
        &self,
        scratch: &mut Scratch,
        target: Option<&str>,
        error: Option<&(dyn Error + 'static)>,
        gate: &dyn Fn(usize) -> bool,
    ) {
        let Scratch { record, buf, .. } = scratch;
        buf.clear();
        let rendered = match self.format {
            Format::Json(format) => {
                serde_json::to_writer(&mut *buf, &record.with_error(format, error)).is_ok()
            }
            Format::Text | Format::Compact => {
                let compact = self.format == Format::Compact;
                write_text_line(
                    buf,
                    DEFAULT_MAX_RECORD_BYTES,
                    record,
                    target,
                    error,
                    compact,
                    self.ansi,
                )
            }
        };
        buf.push(b'\n');
        if rendered && !gate(buf.len()) {
            return;
        }
        if !rendered || self.writer.write_line(buf).is_err() {
            self.write_errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Writes the line that reports suppressed lines (never limited itself: one per
    /// kind and window at most).
    pub(super) fn write_suppressed(&self, scratch: &mut Scratch, report: &Suppressed) {
        let record = &mut scratch.record;
        let target = self.start_record(record, report.level, OWN_TARGET);
        let _ = write!(
            record.message,
            "suppressed {} line{} of kind {}",
            report.count,
            if report.count == 1 { "" } else { "s" },
            report.kind
        );
        record
            .fields
            .insert("kind", Value::String(report.kind.clone()));
        record
            .fields
            .insert("suppressed", Value::from(report.count));
        self.write_record(scratch, target, None, &|_| true);
    }

    /// Flushes the writer.
    pub(super) fn flush(&self) {
        if self.writer.flush().is_err() {
            self.write_errors.fetch_add(1, Ordering::Relaxed);
        }
    }
}

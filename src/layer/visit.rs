//! The three visits of an event's fields: [`Probe`] finds its error and kind,
//! [`Collect`] fills the record, [`Render`] writes it while the error is lent.

use std::error::Error;
use std::fmt::{self, Write as _};

use ::tracing::field::{Field, Visit};
use serde_json::Value;

use super::record::RecordWriter;
use super::scratch::Scratch;
use crate::info::Info;
use crate::records::LogRecord;

/// Pass 1: finds the first error field and the event's kind.
pub(super) struct Probe<'a> {
    /// Receives the kind and the error's name.
    pub(super) scratch: &'a mut Scratch,
    /// The index of the first error field: the record's error.
    pub(super) primary: Option<usize>,
    /// Whether the event has a `kind` field (else the error's name is its kind).
    pub(super) has_kind: bool,
}

impl Visit for Probe<'_> {
    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        if self.primary.is_none() {
            self.primary = Some(field.index());
            self.scratch
                .error_name
                .push_str(crate::chain::Level::new(value, None).name);
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "kind" {
            self.scratch.kind.clear();
            self.scratch.kind.push_str(value);
            self.has_kind = true;
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "kind" {
            self.scratch.kind.clear();
            let _ = write!(self.scratch.kind, "{value:?}");
            self.has_kind = true;
        }
    }
}

/// The budget of the JSON of an event's further error fields (the record cuts each
/// field value further to its own share).
const SECONDARY_ERROR_BYTES: usize = 16 * 1024;

/// Pass 2: the message and the typed fields, all but the record's error; also the
/// fields of a span (no message, no error).
pub(super) struct Collect<'a> {
    pub(super) fields: &'a mut Info,
    /// Where the `message` field goes; `None` keeps it as a field.
    pub(super) message: Option<&'a mut String>,
    /// The record's error, left for [`Render`].
    pub(super) primary: Option<usize>,
}

impl<'a> Collect<'a> {
    /// Collects an event's fields into `record`, its message included.
    pub(super) fn event(record: &'a mut LogRecord, primary: Option<usize>) -> Collect<'a> {
        Collect {
            fields: &mut record.fields,
            message: Some(&mut record.message),
            primary,
        }
    }

    /// Collects a span's fields into `fields`.
    pub(super) fn span(fields: &'a mut Info) -> Collect<'a> {
        Collect {
            fields,
            message: None,
            primary: None,
        }
    }

    /// Keeps a field; colliding names are renamed when the record is written. A
    /// span's fields are kept for its whole life and copied into each of its events:
    /// they are cut to what a record shows of a field.
    fn field(&mut self, field: &Field, value: Value) {
        let name = field.name();
        if name.starts_with("log.") {
            return;
        }
        let value = if self.message.is_none() {
            crate::records::bounded_field(value)
        } else {
            value
        };
        self.fields.insert(name, value);
    }
}

impl Visit for Collect<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        let value = serde_json::Number::from_f64(value)
            .map_or_else(|| Value::String(value.to_string()), Value::Number);
        self.field(field, value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.field(field, Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.field(field, Value::from(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        let value =
            i64::try_from(value).map_or_else(|_| Value::String(value.to_string()), Value::from);
        self.field(field, value);
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        let value =
            u64::try_from(value).map_or_else(|_| Value::String(value.to_string()), Value::from);
        self.field(field, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.field(field, Value::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        match &mut self.message {
            Some(message) if field.name() == "message" => message.push_str(value),
            _ => self.field(field, Value::String(value.to_owned())),
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        if Some(field.index()) != self.primary {
            self.field(
                field,
                crate::records::chain_json(value, SECONDARY_ERROR_BYTES),
            );
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        match &mut self.message {
            Some(message) if field.name() == "message" => {
                let _ = write!(message, "{value:?}");
            }
            _ => self.field(field, Value::String(format!("{value:?}"))),
        }
    }
}

/// Pass 3: renders and writes the record when the visit reaches its error.
pub(super) struct Render<'a> {
    pub(super) records: &'a RecordWriter,
    pub(super) scratch: &'a mut Scratch,
    /// The index of the record's error field.
    pub(super) index: usize,
    /// The target for a text line.
    pub(super) target: Option<&'a str>,
    /// Whether a line of that many bytes may be written.
    pub(super) gate: &'a dyn Fn(usize) -> bool,
}

impl Visit for Render<'_> {
    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        if field.index() != self.index {
            return;
        }
        if self.scratch.record.message.is_empty() {
            let _ = crate::fmt::write_message(&mut self.scratch.record.message, value);
        }
        self.records
            .write_record(self.scratch, self.target, Some(value), self.gate);
    }

    fn record_debug(&mut self, _field: &Field, _value: &dyn fmt::Debug) {}
}

//! The three visits of an event's fields: [`Probe`] finds its error and kind,
//! [`Collect`] fills the record, [`Render`] writes it while the error is lent.

use std::borrow::Cow;
use std::error::Error;
use std::fmt::{self, Write as _};

use ::tracing::field::{Field, Visit};
use serde_json::Value;

use super::record::RecordWriter;
use super::scratch::Scratch;
use crate::records::LogRecord;
use crate::ser::ErrorJson;

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

/// Pass 2: the message and the typed fields, all but the record's error.
pub(super) struct Collect<'a> {
    pub(super) record: &'a mut LogRecord,
    /// The record's error, left for [`Render`].
    pub(super) primary: Option<usize>,
    /// Field names the format writes itself, renamed `fields.<name>`.
    pub(super) reserved: &'static [&'static str],
}

impl Collect<'_> {
    fn field(&mut self, field: &Field, value: Value) {
        let name = field.name();
        if name.starts_with("log.") {
            return;
        }
        let key: Cow<'static, str> = if self.reserved.contains(&name) {
            Cow::Owned(format!("fields.{name}"))
        } else {
            Cow::Borrowed(name)
        };
        self.record.fields.insert(key, value);
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
        if field.name() == "message" {
            self.record.message.push_str(value);
        } else {
            self.field(field, Value::String(value.to_owned()));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        if Some(field.index()) != self.primary {
            let json = serde_json::to_value(ErrorJson::new(value))
                .unwrap_or_else(|e| Value::String(e.to_string()));
            self.field(field, json);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.record.message, "{value:?}");
        } else {
            self.field(field, Value::String(format!("{value:?}")));
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
            .write_record(self.scratch, self.target, Some(value));
    }

    fn record_debug(&mut self, _field: &Field, _value: &dyn fmt::Debug) {}
}

//! OpenTelemetry records: each line one OTLP/JSON `LogsData` message (what the
//! Collector's OTLP JSON file receiver and the file exporter read): a resource with
//! `service.name`, `host.name`, `process.pid` and `telemetry.sdk.*`, the scope `verror`
//! with its version, and one log record with the exception attributes of the semantic
//! conventions, the trace context of the spans, and OTLP's `AnyValue` encoding of JSON
//! values.
//!
//! The record's fields and the spans' fields become attributes (renamed away from the
//! attributes written here); the error's merged info and its chain are one attribute
//! each (`verror.info`, `verror.error`), so no info key can pose as a
//! semantic-convention attribute. Both keep their keys in order, as the other records
//! write them: the merged info in its insertion order, the chain in its JSON's (both
//! are rebuilt as the records' ordered [`Json`], never as a `serde_json::Value`, whose
//! objects sort their keys). Protobuf's JSON parsers refuse messages nested past 100
//! levels: values nested deeper than [`MAX_NESTING`] are written as their JSON text.

use std::borrow::Cow;
use std::time::UNIX_EPOCH;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use super::budget::{Entries, chain_json, cut_message, cut_str};
use super::ordered::Json;
use super::record::{LogLine, top_name};
use super::stack::stack_text;
use super::trace::{span_id, trace_id};

/// The attributes a record writes itself; a field of that name is renamed.
pub(super) const RESERVED: &[&str] = &[
    "exception.type",
    "exception.message",
    "exception.stacktrace",
    "code.namespace",
    "verror.spans",
    "verror.info",
    "verror.error",
];

/// The deepest JSON nesting written as `AnyValue`s. A `LogsData` reaches an
/// attribute's value at message depth 6 (JSON depth 10), and each JSON object below
/// adds 3 messages (an `AnyValue`, its `KeyValueList`, a `KeyValue`) and 4 JSON levels:
/// 24 levels stay within protobuf's limit of 100 messages (78) and within the 128
/// JSON levels that readers such as serde_json accept (106).
pub(super) const MAX_NESTING: usize = 24;

/// Writes the entries of an OTLP/JSON `LogsData` message holding the record.
pub(super) fn write<M: SerializeMap>(map: &mut M, line: &LogLine<'_>) -> Result<(), M::Error> {
    map.serialize_entry("resourceLogs", &[ResourceLogs(line)])
}

struct ResourceLogs<'a>(&'a LogLine<'a>);

impl Serialize for ResourceLogs<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let rec = self.0.record;
        let mut resource = serializer.serialize_map(Some(2))?;
        let service = Json::string(rec.service.as_str());
        let host = Json::string(rec.hostname.as_str());
        let pid = Json::Number(rec.pid.into());
        let sdk = [
            Json::string("verror"),
            Json::string("rust"),
            Json::string(env!("CARGO_PKG_VERSION")),
        ];
        let attributes = [
            KeyValue("service.name", &service),
            KeyValue("host.name", &host),
            KeyValue("process.pid", &pid),
            KeyValue("telemetry.sdk.name", &sdk[0]),
            KeyValue("telemetry.sdk.language", &sdk[1]),
            KeyValue("telemetry.sdk.version", &sdk[2]),
        ];
        resource.serialize_entry("resource", &Attributes(&attributes))?;
        resource.serialize_entry("scopeLogs", &[ScopeLogs(self.0)])?;
        resource.end()
    }
}

/// `{"attributes": [..]}`.
struct Attributes<'a>(&'a [KeyValue<'a>]);

impl Serialize for Attributes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("attributes", self.0)?;
        map.end()
    }
}

struct ScopeLogs<'a>(&'a LogLine<'a>);

impl Serialize for ScopeLogs<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Scope;
        impl Serialize for Scope {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                let mut map = serializer.serialize_map(Some(2))?;
                map.serialize_entry("name", "verror")?;
                map.serialize_entry("version", env!("CARGO_PKG_VERSION"))?;
                map.end()
            }
        }
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("scope", &Scope)?;
        map.serialize_entry("logRecords", &[LogRecordJson(self.0)])?;
        map.end()
    }
}

/// The OTLP `LogRecord`.
struct LogRecordJson<'a>(&'a LogLine<'a>);

impl Serialize for LogRecordJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let line = self.0;
        let rec = line.record;
        let budget = line.budget();
        let nanos = rec
            .time
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
            .to_string();
        let mut map = serializer.serialize_map(None)?;
        // OTLP/JSON writes 64-bit integers as strings. The record is observed as it
        // is written.
        map.serialize_entry("timeUnixNano", &nanos)?;
        map.serialize_entry("observedTimeUnixNano", &nanos)?;
        map.serialize_entry("severityNumber", &rec.level.otel_severity())?;
        map.serialize_entry("severityText", &rec.level.as_str().to_uppercase())?;
        let body = Json::string(cut_str(&rec.message, budget.text));
        map.serialize_entry("body", &AnyValue(&body, 0))?;

        let mut own: Vec<(&str, Json<'_>)> = Vec::new();
        if let Some(err) = line.error {
            own.push((
                "exception.type",
                Json::string(cut_str(top_name(err), budget.text)),
            ));
            own.push((
                "exception.message",
                Json::string(cut_message(err, budget.text)),
            ));
            own.push((
                "exception.stacktrace",
                Json::string(stack_text(err, "\ncaused by: ", budget.stack)),
            ));
        }
        if let Some(target) = &rec.target {
            own.push(("code.namespace", Json::string(cut_str(target, budget.text))));
        }
        if !rec.spans.is_empty() {
            let names = rec.spans.iter().map(|s| Json::string(s.name.as_str()));
            own.push(("verror.spans", Json::Array(names.collect())));
        }
        let mut fields = Entries::new();
        fields.add(rec.fields.iter(), RESERVED, budget, false);
        for span in rec.spans.iter().rev() {
            fields.add(span.fields.iter(), RESERVED, budget, false);
        }
        let info = line.error.map(crate::info);
        let mut info_entries = Entries::new();
        if let (Some(err), Some(info)) = (line.error, &info) {
            info_entries.add(info.iter(), &[], budget, false);
            // In the info's order; each value as serde_json holds it.
            let entries = info_entries
                .iter()
                .map(|(key, value)| (Cow::Borrowed(key), Json::from(value)));
            own.push(("verror.info", Json::Object(entries.collect())));
            own.push(("verror.error", chain_json(err, budget.chain)));
        }
        let attributes = AttributeList {
            own: &own,
            fields: &fields,
        };
        map.serialize_entry("attributes", &attributes)?;
        if let Some(id) = trace_id(rec) {
            map.serialize_entry("traceId", &id)?;
        }
        if let Some(id) = span_id(rec) {
            map.serialize_entry("spanId", &id)?;
        }
        map.end()
    }
}

/// The record's attributes: ours, then the fields.
struct AttributeList<'a> {
    own: &'a [(&'a str, Json<'a>)],
    fields: &'a Entries<'a>,
}

impl Serialize for AttributeList<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        for (key, value) in self.own {
            seq.serialize_element(&KeyValue(key, value))?;
        }
        for (key, value) in self.fields.iter() {
            seq.serialize_element(&KeyValue(key, &Json::from(value)))?;
        }
        seq.end()
    }
}

/// An OTLP `KeyValue` at the top of an attribute list.
struct KeyValue<'a>(&'a str, &'a Json<'a>);

impl Serialize for KeyValue<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        NestedKeyValue(self.0, self.1, 0).serialize(serializer)
    }
}

/// An OTLP `KeyValue` whose value sits `depth` JSON levels down.
struct NestedKeyValue<'a>(&'a str, &'a Json<'a>, usize);

impl Serialize for NestedKeyValue<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("key", self.0)?;
        map.serialize_entry("value", &AnyValue(self.1, self.2))?;
        map.end()
    }
}

/// A JSON value as an OTLP `AnyValue`, `depth` JSON levels down; an object or array
/// at [`MAX_NESTING`] is written as its JSON text. An object's entries keep their
/// order.
struct AnyValue<'a>(&'a Json<'a>, usize);

impl Serialize for AnyValue<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let AnyValue(value, depth) = *self;
        let mut map = serializer.serialize_map(Some(1))?;
        match value {
            Json::Null => {}
            Json::Bool(b) => map.serialize_entry("boolValue", b)?,
            Json::Number(n) => match n.as_i64() {
                // OTLP/JSON writes 64-bit integers as strings.
                Some(i) => map.serialize_entry("intValue", &i.to_string())?,
                None => map.serialize_entry("doubleValue", &n.as_f64())?,
            },
            Json::String(s) => map.serialize_entry("stringValue", s)?,
            Json::Array(_) | Json::Object(_) if depth >= MAX_NESTING => {
                // The value is already within the record's budget: only its nesting goes.
                let text = serde_json::to_string(value).unwrap_or_default();
                map.serialize_entry("stringValue", &text)?;
            }
            Json::Array(items) => {
                map.serialize_entry("arrayValue", &ArrayValue(items, depth + 1))?
            }
            Json::Object(entries) => {
                map.serialize_entry("kvlistValue", &KvList(entries, depth + 1))?
            }
        }
        map.end()
    }
}

/// An OTLP `ArrayValue`: `{"values": [AnyValue, ...]}`.
struct ArrayValue<'a>(&'a [Json<'a>], usize);

impl Serialize for ArrayValue<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Items<'a>(&'a [Json<'a>], usize);
        impl Serialize for Items<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.iter().map(|v| AnyValue(v, self.1)))
            }
        }
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("values", &Items(self.0, self.1))?;
        map.end()
    }
}

/// An OTLP `KeyValueList`: `{"values": [KeyValue, ...]}`.
struct KvList<'a>(&'a [(Cow<'a, str>, Json<'a>)], usize);

impl Serialize for KvList<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Items<'a>(&'a [(Cow<'a, str>, Json<'a>)], usize);
        impl Serialize for Items<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.iter().map(|(k, v)| NestedKeyValue(k, v, self.1)))
            }
        }
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("values", &Items(self.0, self.1))?;
        map.end()
    }
}

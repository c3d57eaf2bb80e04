//! OpenTelemetry records: an OTLP/JSON log record with the exception attributes of
//! the semantic conventions, and OTLP's `AnyValue` encoding of JSON values.

use std::error::Error;
use std::time::UNIX_EPOCH;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::Value;

use super::record::{top_name, LogLine};
use crate::info::Info;
use crate::ser::ErrorJson;

/// Writes the entries of an OTLP/JSON log record.
pub(super) fn write<M: SerializeMap>(map: &mut M, line: &LogLine<'_>) -> Result<(), M::Error> {
    let rec = line.record;
    let nanos = rec
        .time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    // OTLP/JSON writes 64-bit integers as strings.
    map.serialize_entry("timeUnixNano", &nanos.to_string())?;
    map.serialize_entry("severityNumber", &rec.level.otel_severity())?;
    map.serialize_entry("severityText", &rec.level.as_str().to_uppercase())?;
    map.serialize_entry("body", &AnyValue(&Value::String(rec.message.clone())))?;
    map.serialize_entry(
        "attributes",
        &OtelAttributes {
            fields: &rec.fields,
            error: line.error,
        },
    )?;
    Ok(())
}

struct OtelAttributes<'a> {
    fields: &'a Info,
    error: Option<&'a (dyn Error + 'static)>,
}

impl Serialize for OtelAttributes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(None)?;
        let mut attribute = |key: &str, value: &Value| seq.serialize_element(&KeyValue(key, value));
        for (key, value) in self.fields.iter() {
            attribute(key, value)?;
        }
        if let Some(err) = self.error {
            attribute("exception.type", &Value::String(top_name(err).to_owned()))?;
            attribute(
                "exception.message",
                &Value::String(crate::fmt::message_of(err)),
            )?;
            attribute(
                "exception.stacktrace",
                &Value::String(crate::full_stack(err)),
            )?;
            // Attribute keys are unique in OTLP: a record field wins over the same key
            // of the error's info.
            for (key, value) in crate::info(err).iter() {
                if !self.fields.contains_key(key) {
                    attribute(key, value)?;
                }
            }
            let chain = serde_json::to_value(ErrorJson::new(err)).unwrap_or(Value::Null);
            attribute("verror.error", &chain)?;
        }
        seq.end()
    }
}

/// An OTLP `KeyValue`.
struct KeyValue<'a>(&'a str, &'a Value);

impl Serialize for KeyValue<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("key", self.0)?;
        map.serialize_entry("value", &AnyValue(self.1))?;
        map.end()
    }
}

/// A JSON value as an OTLP `AnyValue`.
struct AnyValue<'a>(&'a Value);

impl Serialize for AnyValue<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        match self.0 {
            Value::Null => {}
            Value::Bool(b) => map.serialize_entry("boolValue", b)?,
            Value::Number(n) => match n.as_i64() {
                // OTLP/JSON writes 64-bit integers as strings.
                Some(i) => map.serialize_entry("intValue", &i.to_string())?,
                None => map.serialize_entry("doubleValue", &n.as_f64())?,
            },
            Value::String(s) => map.serialize_entry("stringValue", s)?,
            Value::Array(items) => map.serialize_entry("arrayValue", &ArrayValue(items))?,
            Value::Object(object) => map.serialize_entry("kvlistValue", &KvList(object))?,
        }
        map.end()
    }
}

/// An OTLP `ArrayValue`: `{"values": [AnyValue, ...]}`.
struct ArrayValue<'a>(&'a [Value]);

impl Serialize for ArrayValue<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Items<'a>(&'a [Value]);
        impl Serialize for Items<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.iter().map(AnyValue))
            }
        }
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("values", &Items(self.0))?;
        map.end()
    }
}

/// An OTLP `KeyValueList`: `{"values": [KeyValue, ...]}`.
struct KvList<'a>(&'a serde_json::Map<String, Value>);

impl Serialize for KvList<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        struct Items<'a>(&'a serde_json::Map<String, Value>);
        impl Serialize for Items<'_> {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.iter().map(|(k, v)| KeyValue(k, v)))
            }
        }
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("values", &Items(self.0))?;
        map.end()
    }
}

//! The size cap of a record: every part of it (message, field values, info, the
//! chain's JSON, the stack text) gets a share of [`LogLine::max_bytes`]; what passes
//! its share is cut with a marker that says so, and the record stays valid JSON.
//!
//! [`LogLine::max_bytes`]: super::LogLine::max_bytes

use std::borrow::Cow;
use std::collections::HashSet;
use std::error::Error;
use std::io;

use serde::de::DeserializeOwned;
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;
use serde_json::value::RawValue;

use super::keys::field_key;

use crate::ser::ErrorJson;

/// The default cap of one record, in bytes of JSON.
pub const DEFAULT_MAX_RECORD_BYTES: usize = 64 * 1024;

/// The shares of a record's cap.
#[derive(Clone, Copy, Debug)]
pub(super) struct Budget {
    /// The message, and each string of the error's own text (type, message).
    pub(super) text: usize,
    /// Each field value, info value included.
    pub(super) value: usize,
    /// All the info fields together, and all the record's fields together.
    pub(super) fields: usize,
    /// The stack text.
    pub(super) stack: usize,
    /// The chain's JSON.
    pub(super) chain: usize,
}

impl Budget {
    /// The shares of `max_bytes`: a record holds one message, one stack, one chain, the
    /// record's fields and the merged info, so each gets a part and the whole stays
    /// within the cap.
    pub(super) fn of(max_bytes: usize) -> Budget {
        let part = max_bytes / 8;
        Budget {
            text: part,
            value: part / 2,
            fields: part,
            stack: part,
            chain: 2 * part,
        }
    }
}

/// `text` within `max` bytes: the error core's cut, so a record's texts end with the
/// same `… [N bytes cut]` marker as the error's JSON.
pub(super) use crate::budget::cut as cut_str;

/// `value`, or, when its JSON passes `max` bytes, that JSON as a cut string (a cut
/// string when it is one).
pub(super) fn cut_value(value: &Value, max: usize) -> Cow<'_, Value> {
    if let Value::String(text) = value {
        return match cut_str(text, max) {
            Cow::Borrowed(_) => Cow::Borrowed(value),
            Cow::Owned(cut) => Cow::Owned(Value::String(cut)),
        };
    }
    let mut json = Limited::new(max);
    if serde_json::to_writer(&mut json, value).is_ok() {
        return Cow::Borrowed(value);
    }
    let text = String::from_utf8_lossy(&json.bytes).into_owned();
    Cow::Owned(Value::String(format!(
        "{text}…[cut: JSON of more than {max} bytes]"
    )))
}

/// `value` cut to a field's share of the default record cap: what a span field keeps,
/// so that a huge value costs no more than it can show, event after event.
#[cfg(feature = "tracing")]
pub(crate) fn bounded_field(value: Value) -> Value {
    match cut_value(&value, Budget::of(DEFAULT_MAX_RECORD_BYTES).value) {
        Cow::Borrowed(_) => value,
        Cow::Owned(cut) => cut,
    }
}

/// The key under which a record says how many fields it left out.
pub(super) const LEFT_OUT_KEY: &str = "…left out";

/// Fields to write into one object: renamed away from the keys the format writes
/// itself ([`field_key`]), each key once (the first wins), values cut, within a
/// byte budget, with a count of what was left out.
#[derive(Default)]
pub(super) struct Entries<'a> {
    kept: Vec<(Cow<'a, str>, Cow<'a, Value>)>,
    seen: HashSet<Cow<'a, str>>,
    left_out: usize,
}

impl<'a> Entries<'a> {
    pub(super) fn new() -> Entries<'a> {
        Entries::default()
    }

    /// Adds `fields`, renamed against `reserved`, at most `max` bytes of them in all,
    /// each value cut to `value_max`; `scalar` writes objects and arrays as their JSON
    /// text (for Bunyan's flat fields).
    pub(super) fn add<I>(&mut self, fields: I, reserved: &[&str], budget: Budget, scalar: bool)
    where
        I: IntoIterator<Item = (&'a str, &'a Value)>,
    {
        let mut used = 0;
        for (key, value) in fields {
            let key = field_key(key, reserved);
            if self.seen.contains(&key) {
                continue;
            }
            let key_cost = key.len() + 4;
            if key == LEFT_OUT_KEY || used + key_cost > budget.fields {
                self.left_out += 1;
                continue;
            }
            let room = budget.value.min(budget.fields - used - key_cost);
            let value = match value {
                Value::Array(_) | Value::Object(_) if scalar => {
                    let text = serde_json::to_string(value).unwrap_or_default();
                    Cow::Owned(cut_value(&Value::String(text), room).into_owned())
                }
                _ => cut_value(value, room),
            };
            used += key_cost + json_len(&value);
            if used > budget.fields {
                self.left_out += 1;
                continue;
            }
            self.seen.insert(key.clone());
            self.kept.push((key, value));
        }
    }

    /// The kept entries, then the count of those left out under [`LEFT_OUT_KEY`].
    pub(super) fn iter(&self) -> impl Iterator<Item = (&str, Cow<'_, Value>)> {
        let left_out = (self.left_out > 0)
            .then(|| (LEFT_OUT_KEY, Cow::Owned(Value::from(self.left_out as u64))));
        self.kept
            .iter()
            .map(|(k, v)| (k.as_ref(), Cow::Borrowed(v.as_ref())))
            .chain(left_out)
    }

    /// Writes the entries into `map`.
    pub(super) fn write<M: SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        for (key, value) in self.iter() {
            map.serialize_entry(key, &value)?;
        }
        Ok(())
    }
}

/// The entries as one JSON object.
impl Serialize for Entries<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        self.write(&mut map)?;
        map.end()
    }
}

/// The length of `value`'s JSON.
fn json_len(value: &Value) -> usize {
    let mut json = Limited::new(usize::MAX);
    let _ = serde_json::to_writer(&mut json, value);
    json.written
}

/// The chain of `err` as JSON within `max` bytes, keys in [`ErrorJson`]'s order:
/// [`ErrorJson`] with that budget, checked to read back (which also bounds its nesting
/// to serde_json's limit). Should the JSON still pass the budget or not read back, a
/// stand-in says so: the top level's name and a cut message.
pub(crate) fn chain_json_text(err: &(dyn Error + 'static), max: usize) -> Box<RawValue> {
    let text = ErrorJson::new(err).max_bytes(max).to_json();
    if text.len() <= max
        && let Ok(raw) = RawValue::from_string(text)
    {
        return raw;
    }
    RawValue::from_string(stand_in(err, max)).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

/// [`chain_json_text`] read back as a `T`, for renderings that rebuild it: a
/// `serde_json::Value` (a field's value; its objects sort their keys) or the records'
/// ordered [`Json`](super::ordered::Json) (OTLP's `AnyValue`, keys in the text's
/// order).
pub(crate) fn chain_json<T: DeserializeOwned + Default>(
    err: &(dyn Error + 'static),
    max: usize,
) -> T {
    serde_json::from_str(chain_json_text(err, max).get())
        .or_else(|_| serde_json::from_str(&stand_in(err, max)))
        .unwrap_or_default()
}

/// The JSON text of what stands for a chain whose JSON does not fit.
fn stand_in(err: &(dyn Error + 'static), max: usize) -> String {
    #[derive(serde::Serialize)]
    struct StandIn<'a> {
        name: &'a str,
        message: String,
        truncated: String,
    }
    let stand_in = StandIn {
        name: super::record::top_name(err),
        message: cut_message(err, max / 2),
        truncated: format!("the chain's JSON passes {max} bytes"),
    };
    serde_json::to_string(&stand_in).unwrap_or_default()
}

/// A writer that keeps at most `max` bytes and fails past them, so that serializing
/// something huge stops early.
struct Limited {
    bytes: Vec<u8>,
    written: usize,
    max: usize,
}

impl Limited {
    fn new(max: usize) -> Limited {
        Limited {
            bytes: Vec::new(),
            written: 0,
            max,
        }
    }
}

impl io::Write for Limited {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.len() > self.max - self.written {
            let room = self.max - self.written;
            self.bytes.extend_from_slice(&buf[..room]);
            self.written = self.max;
            return Err(io::Error::other("over the budget"));
        }
        if self.max != usize::MAX {
            self.bytes.extend_from_slice(buf);
        }
        self.written += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The whole message of `err` (`{:#}`), at most `max` bytes of it followed by a marker:
/// a chain of a million levels costs no more than its share.
pub(super) fn cut_message(err: &(dyn Error + 'static), max: usize) -> String {
    let mut text = String::new();
    let capped = &mut Capped {
        out: &mut text,
        room: max,
    };
    if crate::fmt::write_message(capped, err).is_err() {
        text.push_str("…[cut]");
    }
    text
}

/// A `fmt::Write` that adds at most `room` bytes to `out` (cut on a character
/// boundary), then fails, so that a huge rendering costs no more than its share; the
/// caller marks the cut.
pub(super) struct Capped<'a> {
    pub(super) out: &'a mut String,
    pub(super) room: usize,
}

impl std::fmt::Write for Capped<'_> {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        if text.len() <= self.room {
            self.out.push_str(text);
            self.room -= text.len();
            return Ok(());
        }
        let mut end = self.room;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        self.out.push_str(&text[..end]);
        self.room = 0;
        Err(std::fmt::Error)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::super::ordered::Json;
    use super::{chain_json, chain_json_text};

    #[test]
    fn a_chain_past_its_budget_is_a_stand_in_keys_in_order() {
        let err = crate::VError::builder()
            .name("BigError")
            .info("key", "x".repeat(100))
            .message("a message long enough to pass the budget")
            .backtrace(false)
            .build();
        let text = chain_json_text(&err, 16);
        assert!(
            text.get().starts_with(r#"{"name":"BigError","message":""#),
            "{text}"
        );
        assert!(
            text.get()
                .ends_with(r#","truncated":"the chain's JSON passes 16 bytes"}"#),
            "{text}"
        );
        // Read back, in the text's order or as a `Value`.
        let ordered: Json = chain_json(&err, 16);
        assert_eq!(serde_json::to_string(&ordered).unwrap(), text.get());
        let Json::Object(entries) = ordered else {
            panic!("{ordered:?}")
        };
        let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(keys, ["name", "message", "truncated"]);
        let value: Value = chain_json(&err, 16);
        assert_eq!(value["name"], "BigError");
    }
}

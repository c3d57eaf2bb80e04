//! A JSON value whose objects keep their keys in order, for renderings that rebuild
//! JSON rather than write it (OTLP's `AnyValue`): `serde_json::Value` sorts its
//! objects' keys, and its `preserve_order` feature would change `serde_json::Map` for
//! every user of the crate.

use std::borrow::Cow;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Number, Value};

/// A JSON value; an object is its entries in the order they were written or inserted.
/// Its strings borrow from the `serde_json::Value` it was made of, if any.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) enum Json<'a> {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

impl<'a> Json<'a> {
    /// A string.
    pub(super) fn string(s: impl Into<Cow<'a, str>>) -> Json<'a> {
        Json::String(s.into())
    }
}

/// A `serde_json::Value` as it is, its strings borrowed: an object's entries in the
/// order the map iterates them (sorted).
impl<'a> From<&'a Value> for Json<'a> {
    fn from(value: &'a Value) -> Json<'a> {
        match value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => Json::Number(n.clone()),
            Value::String(s) => Json::String(Cow::Borrowed(s)),
            Value::Array(items) => Json::Array(items.iter().map(Json::from).collect()),
            Value::Object(object) => Json::Object(
                object
                    .iter()
                    .map(|(k, v)| (Cow::Borrowed(k.as_str()), Json::from(v)))
                    .collect(),
            ),
        }
    }
}

/// A `serde_json::Value` as it is, taken: an object's entries in the order the map
/// iterates them (sorted).
impl From<Value> for Json<'_> {
    fn from(value: Value) -> Self {
        match value {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(b),
            Value::Number(n) => Json::Number(n),
            Value::String(s) => Json::String(Cow::Owned(s)),
            Value::Array(items) => Json::Array(items.into_iter().map(Json::from).collect()),
            Value::Object(object) => Json::Object(
                object
                    .into_iter()
                    .map(|(k, v)| (Cow::Owned(k), Json::from(v)))
                    .collect(),
            ),
        }
    }
}

impl<'a> From<Cow<'a, Value>> for Json<'a> {
    fn from(value: Cow<'a, Value>) -> Json<'a> {
        match value {
            Cow::Borrowed(value) => Json::from(value),
            Cow::Owned(value) => Json::from(value),
        }
    }
}

/// The JSON text, an object's entries in their order.
impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => serializer.serialize_unit(),
            Json::Bool(b) => serializer.serialize_bool(*b),
            Json::Number(n) => n.serialize(serializer),
            Json::String(s) => serializer.serialize_str(s),
            Json::Array(items) => serializer.collect_seq(items),
            Json::Object(entries) => {
                let mut map = serializer.serialize_map(Some(entries.len()))?;
                for (key, value) in entries {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

/// Reads JSON keeping each object's keys in the order of the text (a key written
/// twice is kept twice).
impl<'de> Deserialize<'de> for Json<'static> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'static>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E>(self) -> Result<Json<'static>, E> {
        Ok(Json::Null)
    }

    fn visit_none<E>(self) -> Result<Json<'static>, E> {
        Ok(Json::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Json<'static>, D::Error> {
        Json::deserialize(deserializer)
    }

    fn visit_bool<E>(self, b: bool) -> Result<Json<'static>, E> {
        Ok(Json::Bool(b))
    }

    fn visit_i64<E>(self, i: i64) -> Result<Json<'static>, E> {
        Ok(Json::Number(i.into()))
    }

    fn visit_u64<E>(self, u: u64) -> Result<Json<'static>, E> {
        Ok(Json::Number(u.into()))
    }

    fn visit_f64<E>(self, f: f64) -> Result<Json<'static>, E> {
        // JSON text holds no NaN or infinity; what another reader gives is null, as in
        // `serde_json::Value`.
        Ok(Number::from_f64(f).map_or(Json::Null, Json::Number))
    }

    fn visit_str<E>(self, s: &str) -> Result<Json<'static>, E> {
        Ok(Json::String(Cow::Owned(s.to_owned())))
    }

    fn visit_string<E>(self, s: String) -> Result<Json<'static>, E> {
        Ok(Json::String(Cow::Owned(s)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'static>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Json::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'static>, A::Error> {
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0).min(1024));
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Json::Object(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::Json;

    #[test]
    fn reading_keeps_the_order_of_the_text_and_writing_gives_it_back() {
        let text = r#"{"zeta":1,"alpha":[true,null,-2,1.5,"x"],"mike":{"b":{},"a":[]}}"#;
        let json: Json = serde_json::from_str(text).unwrap();
        let Json::Object(entries) = &json else {
            panic!("{json:?}")
        };
        let keys: Vec<&str> = entries.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(keys, ["zeta", "alpha", "mike"]);
        assert_eq!(serde_json::to_string(&json).unwrap(), text);
    }

    #[test]
    fn a_value_converts_as_it_iterates() {
        let value = serde_json::json!({"b": [1, u64::MAX, -1, 0.25], "a": null});
        let text = serde_json::to_string(&value).unwrap();
        assert_eq!(serde_json::to_string(&Json::from(&value)).unwrap(), text);
        assert_eq!(serde_json::to_string(&Json::from(value)).unwrap(), text);
    }
}

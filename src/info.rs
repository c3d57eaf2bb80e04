//! Info fields: ordered `key -> JSON value` pairs on each level, merged along a chain.

use std::borrow::Cow;
use std::error::Error;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

/// Structured fields of an error, in insertion order, each key once.
///
/// Values are JSON values, so anything `Serialize` can be stored and every output
/// format can show it. [`VError::own_info`](crate::VError::own_info) gives one
/// level's fields; [`info`] merges them along the chain.
///
/// ```
/// let err = verror::VError::builder()
///     .info("peer", "127.0.0.1:50412")
///     .info("declared_len", 5_000_000)
///     .message("frame too large")
///     .build();
/// let info = err.own_info();
/// assert_eq!(info.len(), 2);
/// assert_eq!(info.get("declared_len").and_then(|v| v.as_u64()), Some(5_000_000));
/// assert_eq!(info.keys().collect::<Vec<_>>(), ["peer", "declared_len"]);
/// ```
#[derive(Clone, Default, PartialEq)]
pub struct Info {
    fields: Vec<(Cow<'static, str>, Value)>,
}

impl Info {
    /// No fields.
    pub const fn new() -> Info {
        Info { fields: Vec::new() }
    }

    /// Sets `key`: a new key goes last, an existing key keeps its place and takes the
    /// new value.
    pub fn insert(&mut self, key: impl Into<Cow<'static, str>>, value: Value) {
        let key = key.into();
        match self.fields.iter_mut().find(|(k, _)| *k == key) {
            Some((_, slot)) => *slot = value,
            None => self.fields.push((key, value)),
        }
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.fields.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Whether `key` is set.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|(k, _)| &**k)
    }

    /// The fields, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.fields.iter().map(|(k, v)| (&**k, v))
    }

    /// The fields as a `serde_json` map (whose key order is serde_json's own).
    pub fn to_map(&self) -> serde_json::Map<String, Value> {
        self.iter()
            .map(|(k, v)| (k.to_owned(), v.clone()))
            .collect()
    }

    /// Adds the fields of `other` whose keys are not set yet (outer keys win).
    fn merge_under(&mut self, other: &Info) {
        for (key, value) in &other.fields {
            if !self.contains_key(key) {
                self.fields.push((key.clone(), value.clone()));
            }
        }
    }
}

/// Turns any `Serialize` value into a JSON value; a value that has no JSON form
/// (a map with non-string keys, a failing `Serialize` impl) is kept as the text of why.
pub(crate) fn to_value<T: Serialize + ?Sized>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or_else(|e| Value::String(format!("<unserializable: {e}>")))
}

/// The info fields of a whole chain merged into one view, node-verror's `VError.info()`:
/// every level's own fields, where a key set at an outer level wins over the same key
/// deeper down (values are replaced whole, never merged). Keys come outermost first.
/// A MultiError's merged info follows its first error. Foreign errors have no fields
/// but their causes still count.
///
/// ```
/// use verror::VError;
/// let inner = VError::builder().info("peer", "a").info("retries", 3).message("inner").build();
/// let outer = VError::builder().info("peer", "b").cause(inner).message("outer").build();
/// let info = verror::info(&outer);
/// assert_eq!(info.get("peer"), Some(&serde_json::json!("b")));
/// assert_eq!(info.get("retries"), Some(&serde_json::json!(3)));
/// ```
pub fn info(err: &(dyn Error + 'static)) -> Info {
    let mut merged = Info::new();
    for level in crate::chain::chain(err) {
        if let Some(verror) = level.downcast_ref::<crate::VError>() {
            merged.merge_under(verror.own_info());
        }
    }
    merged
}

impl fmt::Debug for Info {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Serialize for Info {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.fields.len()))?;
        for (key, value) in &self.fields {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Info {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Info, D::Error> {
        struct InfoVisitor;
        impl<'de> Visitor<'de> for InfoVisitor {
            type Value = Info;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of info fields")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Info, A::Error> {
                let mut info = Info::new();
                while let Some((key, value)) = map.next_entry::<String, Value>()? {
                    info.insert(key, value);
                }
                Ok(info)
            }
        }
        deserializer.deserialize_map(InfoVisitor)
    }
}

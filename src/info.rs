//! Info fields: ordered `key -> JSON value` pairs on each level, merged along a chain.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::error::Error;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, Serializer};
use serde_json::Value;

/// Structured fields of an error, in insertion order, each key once.
///
/// Values are JSON values, so anything `Serialize` can be stored and every output
/// format can show it. [`VError::own_info`](crate::VError::own_info) gives one
/// level's fields; [`info`] merges them along the chain.
///
/// A field can be **sensitive** ([`Builder::sensitive_info`](crate::Builder::sensitive_info)):
/// every view of it — [`get`](Info::get), [`iter`](Info::iter), the report, the JSON,
/// the log records — shows [`REDACTED`] instead of its value, which only
/// [`reveal`](Info::reveal) gives back.
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
    fields: Vec<Field>,
}

#[derive(Clone, PartialEq)]
pub(crate) struct Field {
    key: Cow<'static, str>,
    value: Value,
    sensitive: bool,
}

/// What every view shows in place of a sensitive field's value.
pub const REDACTED: &str = "[redacted]";

/// [`REDACTED`] as a JSON value.
fn redacted() -> &'static Value {
    static VALUE: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    VALUE.get_or_init(|| Value::String(REDACTED.to_owned()))
}

impl Field {
    pub(crate) fn key(&self) -> &str {
        &self.key
    }

    /// The value itself, a sensitive one included.
    pub(crate) fn value(&self) -> &Value {
        &self.value
    }

    pub(crate) fn is_sensitive(&self) -> bool {
        self.sensitive
    }

    /// The value as the views show it.
    fn shown(&self) -> &Value {
        if self.sensitive {
            redacted()
        } else {
            &self.value
        }
    }
}

impl Info {
    /// No fields.
    pub const fn new() -> Info {
        Info { fields: Vec::new() }
    }

    /// Sets `key`: a new key goes last, an existing key keeps its place and takes the
    /// new value (and is no longer sensitive).
    pub fn insert(&mut self, key: impl Into<Cow<'static, str>>, value: Value) {
        self.set(key.into(), value, false);
    }

    /// Sets `key` as a sensitive field: views show [`REDACTED`], [`reveal`](Info::reveal)
    /// gives the value.
    ///
    /// ```
    /// let mut info = verror::Info::new();
    /// info.insert_sensitive("token", serde_json::json!("s3cr3t"));
    /// assert_eq!(info.get("token"), Some(&serde_json::json!("[redacted]")));
    /// assert_eq!(info.reveal("token"), Some(&serde_json::json!("s3cr3t")));
    /// assert!(info.is_sensitive("token"));
    /// ```
    pub fn insert_sensitive(&mut self, key: impl Into<Cow<'static, str>>, value: Value) {
        self.set(key.into(), value, true);
    }

    fn set(&mut self, key: Cow<'static, str>, value: Value, sensitive: bool) {
        match self.fields.iter_mut().find(|f| f.key == key) {
            Some(field) => {
                field.value = value;
                field.sensitive = sensitive;
            }
            None => self.fields.push(Field {
                key,
                value,
                sensitive,
            }),
        }
    }

    fn field(&self, key: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// The value of `key` as the views show it: [`REDACTED`] for a sensitive field.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.field(key).map(Field::shown)
    }

    /// The value of `key`, a sensitive one included. Keep what it returns out of logs.
    pub fn reveal(&self, key: &str) -> Option<&Value> {
        self.field(key).map(|f| &f.value)
    }

    /// Whether `key` is a sensitive field.
    pub fn is_sensitive(&self, key: &str) -> bool {
        self.field(key).is_some_and(|f| f.sensitive)
    }

    /// Whether `key` is set.
    pub fn contains_key(&self, key: &str) -> bool {
        self.field(key).is_some()
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
        self.fields.iter().map(|f| &*f.key)
    }

    /// The fields as the views show them, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.fields.iter().map(|f| (&*f.key, f.shown()))
    }

    /// The fields themselves, in order.
    pub(crate) fn fields(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter()
    }

    /// The fields as a serialization shows them: sensitive values redacted unless
    /// `reveal`.
    pub(crate) fn iter_for(&self, reveal: bool) -> impl Iterator<Item = (&str, &Value)> {
        self.fields
            .iter()
            .map(move |f| (&*f.key, if reveal { &f.value } else { f.shown() }))
    }

    /// The keys of the sensitive fields, in order.
    pub fn sensitive_keys(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().filter(|f| f.sensitive).map(|f| &*f.key)
    }

    /// The fields as a `serde_json` map, sensitive values redacted. The map's key order
    /// is serde_json's own (sorted); serialize the `Info` itself to keep insertion order.
    pub fn to_map(&self) -> serde_json::Map<String, Value> {
        self.iter()
            .map(|(k, v)| (k.to_owned(), v.clone()))
            .collect()
    }

    /// These fields without the sensitive ones.
    pub(crate) fn without_sensitive(&self) -> Info {
        Info {
            fields: self
                .fields
                .iter()
                .filter(|f| !f.sensitive)
                .cloned()
                .collect(),
        }
    }

    /// A serializable view that shows sensitive values too.
    pub(crate) fn revealed(&self) -> Revealed<'_> {
        Revealed(self)
    }

    /// Marks `keys` sensitive (reading back JSON that listed them), in one pass over
    /// each, however many there are.
    pub(crate) fn mark_sensitive<'k>(&mut self, keys: impl IntoIterator<Item = &'k str>) {
        let keys: HashSet<&str> = keys.into_iter().collect();
        if keys.is_empty() {
            return;
        }
        for field in &mut self.fields {
            if keys.contains(&*field.key) {
                field.sensitive = true;
            }
        }
    }
}

/// Fields gathered in order, each key once, in time linear in their number (what
/// reading JSON and merging a chain need; a level built in code has few fields, and
/// [`Info::insert`]'s scan is cheaper there).
#[derive(Default)]
struct Collector {
    info: Info,
    seen: HashMap<Cow<'static, str>, usize>,
}

impl Collector {
    /// Adds a field; `replace` says whether a key seen before takes the new value (a
    /// JSON object's last duplicate wins) or keeps the old one (an outer level wins).
    fn add(&mut self, field: Field, replace: bool) {
        match self.seen.get(&field.key) {
            Some(&at) => {
                if replace {
                    self.info.fields[at] = field;
                }
            }
            None => {
                self.seen.insert(field.key.clone(), self.info.fields.len());
                self.info.fields.push(field);
            }
        }
    }
}

/// Serializes every value, sensitive ones included.
pub(crate) struct Revealed<'a>(&'a Info);

impl Serialize for Revealed<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.fields.iter().map(|f| (&*f.key, &f.value)))
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
    let mut merged = Collector::default();
    for level in crate::chain::chain(err) {
        if let Some(verror) = level.downcast_ref::<crate::VError>() {
            for field in &verror.own_info().fields {
                merged.add(field.clone(), false);
            }
        }
    }
    merged.info
}

/// A map of keys to values written as JSON: `{"peer": "127.0.0.1:50412", "len": 7}`.
impl fmt::Debug for Info {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(key, value)| (key, AsJson(value))))
            .finish()
    }
}

/// Debug-prints a JSON value as compact JSON text (also under `{:#?}`, whose
/// indentation JSON's own pretty form would not follow), with the characters JSON
/// leaves raw (DEL, C1 controls, bidi overrides) escaped too.
struct AsJson<'a>(&'a Value);

impl fmt::Debug for AsJson<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::escape::write_escaped(f, &self.0.to_string())
    }
}

/// Serializes the fields as the views show them (sensitive values redacted).
impl Serialize for Info {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
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
                let mut info = Collector::default();
                while let Some((key, value)) = map.next_entry::<String, Value>()? {
                    let field = Field {
                        key: Cow::Owned(key),
                        value,
                        sensitive: false,
                    };
                    info.add(field, true);
                }
                Ok(info.info)
            }
        }
        deserializer.deserialize_map(InfoVisitor)
    }
}

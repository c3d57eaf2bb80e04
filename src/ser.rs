//! The JSON shape of an error chain: `Serialize` for any chain, within a size budget
//! (`budget.rs`), and `Deserialize` back into a `VError`.

use std::borrow::Cow;
use std::error::Error;
use std::fmt;

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::backtrace::Backtrace;
use crate::chain::{KnownText, Level};
use crate::error::{Extra, Inner, Sources, VError};
use crate::info::Info;
use crate::location::Location;

/// Serializes any error chain, a `VError` or not, in verror's JSON shape.
///
/// Every level has `name`, `short_message` and `info` (its own fields; left out when
/// it has none, and read back as empty), plus `sensitive` (the keys of its sensitive fields, whose values show as
/// `"[redacted]"`), `location` where known, `"skip_cause_message": true` on a level
/// that hides its cause, and `cause` (the next level) or `errors` (a MultiError's
/// children, each in full). Only the outermost level carries `message`, the whole
/// one-line story; a `backtrace` appears only where one was captured. Foreign errors
/// appear with their names and messages, and their own `source()` chains follow.
/// `serde_json::to_string(&verror)` is `ErrorJson::new(&verror)`.
///
/// The output has a size budget ([`max_bytes`](ErrorJson::max_bytes), 1 MiB unless
/// set) and a nesting limit ([`max_depth`](ErrorJson::max_depth), 96 unless set),
/// far above any ordinary error, which is written as it is. Past them, long strings,
/// long lists of fields or MultiError children, and deep chains are cut with markers
/// inside the data: a string ends with `… [N bytes cut]`, a level's fields with
/// `"…": "N more fields"`, a chain or a list of children with a level
/// `{"name":"Truncated","short_message":"N more levels"}` (or `"N more errors"`), and
/// the root's `message` is the story of the levels as written. What is written always
/// reads back, and re-serializes to the same bytes.
///
/// ```
/// use verror::{ErrorJson, ResultExt};
/// let err = "x".parse::<u8>().context("bad port").unwrap_err();
/// let json = serde_json::to_value(ErrorJson::new(&err)).unwrap();
/// assert_eq!(json["message"], "bad port: invalid digit found in string");
/// assert_eq!(json["cause"]["name"], "ParseIntError");
///
/// // The same shape for an error that is not a VError.
/// let io = std::io::Error::other("disk on fire");
/// let json = serde_json::to_value(ErrorJson::new(&io)).unwrap();
/// assert_eq!(json["short_message"], "disk on fire");
/// ```
#[derive(Clone, Copy)]
pub struct ErrorJson<'a> {
    error: &'a (dyn Error + 'static),
    options: Options,
}

/// What a serialization shows beyond the default.
#[derive(Clone, Copy)]
struct Options {
    /// The values of sensitive fields.
    reveal_sensitive: bool,
    /// Leave out backtraces.
    omit_backtraces: bool,
    /// The size budget in bytes.
    max_bytes: usize,
    /// The deepest JSON nesting.
    max_depth: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            reveal_sensitive: false,
            omit_backtraces: false,
            max_bytes: crate::budget::DEFAULT_MAX_BYTES,
            max_depth: crate::budget::DEFAULT_MAX_NESTING,
        }
    }
}

impl<'a> ErrorJson<'a> {
    /// The JSON of `error`'s chain: sensitive values redacted, backtraces included
    /// where captured.
    pub fn new(error: &'a (dyn Error + 'static)) -> ErrorJson<'a> {
        ErrorJson {
            error,
            options: Options::default(),
        }
    }

    /// Shows the values of sensitive info fields (they stay listed under
    /// `sensitive`). Only for a sink trusted with secrets; logs never need it.
    ///
    /// ```
    /// use verror::ErrorJson;
    /// let err = verror::VError::builder().sensitive_info("token", "abc").message("denied").build();
    /// let hidden = serde_json::to_value(ErrorJson::new(&err)).unwrap();
    /// assert_eq!(hidden["info"]["token"], "[redacted]");
    /// let shown = serde_json::to_value(ErrorJson::new(&err).reveal_sensitive()).unwrap();
    /// assert_eq!(shown["info"]["token"], "abc");
    /// assert_eq!(shown["sensitive"], serde_json::json!(["token"]));
    /// ```
    pub fn reveal_sensitive(mut self) -> ErrorJson<'a> {
        self.options.reveal_sensitive = true;
        self
    }

    /// Leaves out every backtrace (and never resolves one): for JSON that leaves the
    /// process, such as the server's error responses.
    ///
    /// ```
    /// use verror::ErrorJson;
    /// let err = verror::VError::builder().message("x").backtrace(true).build();
    /// let json = serde_json::to_value(ErrorJson::new(&err).without_backtraces()).unwrap();
    /// assert!(json.get("backtrace").is_none());
    /// ```
    pub fn without_backtraces(mut self) -> ErrorJson<'a> {
        self.options.omit_backtraces = true;
        self
    }
}

impl<'a> ErrorJson<'a> {
    /// The size budget of the JSON in bytes (default 1 MiB; at least 2 KiB): past it,
    /// strings, fields, MultiError children and levels are cut with markers that say
    /// what was left out, and the result is still valid JSON that reads back.
    ///
    /// ```
    /// use verror::{ErrorJson, VError};
    /// let huge = VError::new("x".repeat(1 << 20));
    /// let json = serde_json::to_string(&ErrorJson::new(&huge).max_bytes(4096)).unwrap();
    /// assert!(json.len() <= 4096);
    /// let back: VError = serde_json::from_str(&json).unwrap();
    /// assert!(back.short_message().ends_with(" bytes cut]"));
    /// assert_eq!(serde_json::to_string(&ErrorJson::new(&back).max_bytes(4096)).unwrap(), json);
    /// ```
    pub fn max_bytes(mut self, max_bytes: usize) -> ErrorJson<'a> {
        self.options.max_bytes = max_bytes;
        self
    }

    /// The deepest nesting of JSON objects and arrays written (default 96, within
    /// what serde_json reads back; between 4 and 127): a chain that would nest deeper
    /// ends with a `Truncated` level, and an info value with its JSON text.
    pub fn max_depth(mut self, max_depth: usize) -> ErrorJson<'a> {
        self.options.max_depth = max_depth;
        self
    }

    fn limits(&self) -> crate::budget::Limits {
        crate::budget::Limits::new(
            self.options.max_bytes,
            self.options.max_depth,
            self.options.reveal_sensitive,
            !self.options.omit_backtraces,
        )
    }
}

impl Serialize for ErrorJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let root = Level::new(self.error, None);
        let limits = self.limits();
        let mut known = KnownText::new();
        if crate::budget::fits_as_is(root, &limits, &mut known) {
            Node {
                level: root,
                root: true,
                options: self.options,
                known: &known,
            }
            .serialize(serializer)
        } else {
            let fitted = crate::budget::fit(root, &limits);
            Node {
                level: Level::new(&fitted, None),
                root: true,
                options: self.options,
                known: &KnownText::new(),
            }
            .serialize(serializer)
        }
    }
}

impl Serialize for VError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ErrorJson::new(self).serialize(serializer)
    }
}

/// One level of the JSON tree.
struct Node<'a> {
    level: Level<'a>,
    root: bool,
    options: Options,
    /// A level's text the size check formatted already.
    known: &'a KnownText<'a>,
}

/// `Display` of an error's whole message, streamed into the serializer.
struct FullMessage<'a> {
    error: &'a (dyn Error + 'static),
    known: &'a KnownText<'a>,
}

impl fmt::Display for FullMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::fmt::write_message_knowing(f, self.error, Some(self.known))
    }
}

static NO_INFO: Info = Info::new();

impl Serialize for Node<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let level = self.level;
        let verror = level.verror();
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("name", level.name)?;
        if self.root {
            let message = FullMessage {
                error: level.error,
                known: self.known,
            };
            map.serialize_entry("message", &Collect(message))?;
        }
        match verror {
            Some(v) if v.held().is_none() => {
                map.serialize_entry("short_message", v.short_message())?
            }
            _ => match self.known.of(level.error) {
                Some(text) => map.serialize_entry("short_message", text)?,
                None => map.serialize_entry("short_message", &Collect(level.own_text()))?,
            },
        }
        let info = verror.map_or(&NO_INFO, VError::own_info);
        if info.is_empty() {
            // Left out: a reader takes a missing `info` as empty.
        } else if self.options.reveal_sensitive {
            map.serialize_entry("info", &info.revealed())?;
        } else {
            map.serialize_entry("info", info)?;
        }
        if info.sensitive_keys().next().is_some() {
            map.serialize_entry("sensitive", &SensitiveKeys(info))?;
        }
        if let Some(location) = verror.and_then(VError::location) {
            map.serialize_entry("location", location)?;
        }
        if verror.is_some_and(VError::skips_cause_message) {
            map.serialize_entry("skip_cause_message", &true)?;
        }
        match verror {
            Some(v) if v.is_multi() => {
                let children = Children {
                    errors: v.errors(),
                    options: self.options,
                    known: self.known,
                };
                map.serialize_entry("errors", &children)?;
            }
            _ => {
                if let Some(cause) = level.cause() {
                    let node = Node {
                        level: cause,
                        root: false,
                        options: self.options,
                        known: self.known,
                    };
                    map.serialize_entry("cause", &node)?;
                }
            }
        }
        if let Some(backtrace) = verror.and_then(VError::backtrace)
            && !self.options.omit_backtraces
        {
            map.serialize_entry("backtrace", backtrace.as_str())?;
        }
        map.end()
    }
}

/// Serializes a `Display` value as a string without building it first.
struct Collect<T>(T);

impl<T: fmt::Display> Serialize for Collect<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

struct Children<'a> {
    errors: &'a [VError],
    options: Options,
    known: &'a KnownText<'a>,
}

impl Serialize for Children<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.errors.len()))?;
        for child in self.errors {
            seq.serialize_element(&Node {
                level: Level::new(child, None),
                root: false,
                options: self.options,
                known: self.known,
            })?;
        }
        seq.end()
    }
}

/// The keys of a level's sensitive fields.
struct SensitiveKeys<'a>(&'a Info);

impl Serialize for SensitiveKeys<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.sensitive_keys())
    }
}

/// The JSON of one level as read back.
#[derive(serde::Deserialize)]
struct Wire {
    #[serde(default = "default_name")]
    name: String,
    #[serde(default)]
    short_message: Option<String>,
    /// Read only when `short_message` is missing (JSON of another producer).
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    info: Info,
    #[serde(default)]
    sensitive: Vec<String>,
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    skip_cause_message: bool,
    #[serde(default)]
    cause: Option<VError>,
    #[serde(default)]
    errors: Option<Vec<VError>>,
    #[serde(default)]
    backtrace: Option<String>,
}

/// Accepts a level only as a JSON object (serde's derive would also take an array).
struct WireVisitor;

impl<'de> Visitor<'de> for WireVisitor {
    type Value = Wire;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an error object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Wire, A::Error> {
        Wire::deserialize(MapAccessDeserializer::new(map))
    }
}

fn default_name() -> String {
    VError::DEFAULT_NAME.to_owned()
}

/// Reads back the JSON shape written by `Serialize`: the same names, messages, info
/// and structure (foreign causes come back as `VError`s carrying their original
/// names), so serializing again gives identical JSON. Unknown fields are ignored;
/// `message` is recomputed from the levels, and read only as the message of a level
/// without `short_message` (JSON written by another producer). Input nested past the deserializer's
/// recursion limit is an error.
///
/// ```
/// use verror::ResultExt;
/// let err = "x".parse::<u8>().context("bad port").unwrap_err();
/// let json = serde_json::to_string(&err).unwrap();
/// let back: verror::VError = serde_json::from_str(&json).unwrap();
/// assert_eq!(format!("{back:#}"), "bad port: invalid digit found in string");
/// assert!(verror::has_cause_with_name(&back, "ParseIntError"));
/// assert_eq!(serde_json::to_string(&back).unwrap(), json);
/// ```
impl<'de> Deserialize<'de> for VError {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<VError, D::Error> {
        let mut wire = deserializer.deserialize_map(WireVisitor)?;
        wire.info
            .mark_sensitive(wire.sensitive.iter().map(String::as_str));
        let sources = match (wire.errors, wire.cause) {
            (Some(errors), _) => Sources::Multi(errors.into()),
            (None, Some(cause)) => Sources::VError(cause),
            (None, None) => Sources::None,
        };
        let below = sources.below();
        let backtrace = wire.backtrace.map(Backtrace::from_text);
        let name = sources.name_to_keep(wire.name);
        Ok(VError::from_inner(Inner {
            short: Cow::Owned(wire.short_message.or(wire.message).unwrap_or_default()),
            skip_cause_message: wire.skip_cause_message,
            backtrace_below: backtrace.is_some() || below.backtrace,
            drop_depth: below.drop_depth,
            extra: Extra::new(name, wire.info, backtrace),
            sources,
            location: wire.location.map(Location::text),
            transparent: false,
        }))
    }
}

#[cfg(test)]
mod tests {
    use crate::VError;

    #[test]
    fn locations_print_as_display_does() {
        let err = VError::new("here");
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(json["location"], err.location().unwrap().to_string());

        // Read back, a location keeps its text, however it writes its numbers.
        for text in [
            "src/a.rs:007:3",
            "src/a.rs:+7:3",
            "src/a.rs:7:3",
            "src/a.rs:7",
            "a:b:c",
            "",
        ] {
            let json =
                serde_json::json!({"name": "VError", "short_message": "x", "location": text});
            let back: VError = serde_json::from_value(json).unwrap();
            let again = serde_json::to_value(&back).unwrap();
            assert_eq!(again["location"], text);
        }
    }
}

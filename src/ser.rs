//! The JSON shape of an error chain, within a size budget (`budget.rs`): the fields of
//! each level decided once ([`Node::write`]), written through serde (`Serialize`, any
//! format) or as JSON text directly (`json_text.rs`). Reading back is `de.rs`.

use std::error::Error;
use std::fmt;

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::chain::{KnownText, Level};
use crate::error::VError;
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
///
/// [`to_json`](ErrorJson::to_json) writes the text directly, in one allocation sized
/// ahead; `Serialize` gives the same object to any serde serializer, for an error inside
/// other data (`serde_json::to_string(&verror)` is `ErrorJson::new(&verror)` through
/// serde: the same bytes, in about twice the time).
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
    /// let json = ErrorJson::new(&huge).max_bytes(4096).to_json();
    /// assert!(json.len() <= 4096);
    /// let back: VError = serde_json::from_str(&json).unwrap();
    /// assert!(back.short_message().ends_with(" bytes cut]"));
    /// assert_eq!(ErrorJson::new(&back).max_bytes(4096).to_json(), json);
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

impl ErrorJson<'_> {
    /// Hands the root level to `write`, with an estimate of the JSON's length (its bytes
    /// when no string needs escaping): the chain as it is when it certainly fits the
    /// budget, else a copy fitted to it (`budget.rs`).
    pub(crate) fn with_root<R>(&self, write: impl FnOnce(&Node<'_>, usize) -> R) -> R {
        let limits = self.limits();
        let mut known = KnownText::new();
        let mut root = Level::new(self.error, None);
        let fitted;
        let len = match crate::budget::fits_as_is(root, &limits, &mut known) {
            Some(len) => len,
            None => {
                fitted = crate::budget::fit(root, &limits);
                root = Level::new(&fitted, None);
                known = KnownText::new();
                // The fitted copy fits: measured again for its length.
                crate::budget::fits_as_is(root, &limits, &mut known).unwrap_or(0)
            }
        };
        let node = Node {
            level: root,
            root: true,
            options: self.options,
            known: &known,
        };
        write(&node, len)
    }
}

impl Serialize for ErrorJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.with_root(|root, _| root.serialize(serializer))
    }
}

impl Serialize for VError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ErrorJson::new(self).serialize(serializer)
    }
}

/// A field's key, and the text the JSON writer copies before its value (`,"key":`;
/// the first field of a level goes without the comma).
#[derive(Clone, Copy)]
pub(crate) struct Key {
    pub(crate) name: &'static str,
    pub(crate) json: &'static str,
}

macro_rules! keys {
    ($($key:ident = $name:literal,)*) => {
        $(const $key: Key = Key { name: $name, json: concat!(",\"", $name, "\":") };)*
    };
}

keys! {
    NAME = "name",
    MESSAGE = "message",
    SHORT_MESSAGE = "short_message",
    INFO = "info",
    SENSITIVE = "sensitive",
    LOCATION = "location",
    SKIP_CAUSE_MESSAGE = "skip_cause_message",
    ERRORS = "errors",
    CAUSE = "cause",
    BACKTRACE = "backtrace",
}

/// Where the fields of one level go: a serde map (any serde format, `Serialize`), or
/// JSON text written directly ([`ErrorJson::to_json`]). [`Node::write`] decides which
/// fields a level has and their order, once for both.
pub(crate) trait Fields {
    type Error;
    fn str(&mut self, key: Key, value: &str) -> Result<(), Self::Error>;
    /// A string known to need no escaping: a name a level's kind implies, or a Rust
    /// type's (the JSON writer copies it as it is).
    fn plain_str(&mut self, key: Key, value: &str) -> Result<(), Self::Error>;
    /// The whole one-line story of `error`'s chain.
    fn message(
        &mut self,
        key: Key,
        error: &(dyn Error + 'static),
        known: &KnownText<'_>,
    ) -> Result<(), Self::Error>;
    /// A level's own text, formatted ([`Level::write_own_text`]).
    fn own_text(&mut self, key: Key, level: Level<'_>) -> Result<(), Self::Error>;
    fn location(&mut self, key: Key, location: Location<'_>) -> Result<(), Self::Error>;
    /// A level's own info fields, sensitive values shown only when `reveal`.
    fn info(&mut self, key: Key, info: &Info, reveal: bool) -> Result<(), Self::Error>;
    /// The keys of a level's sensitive fields.
    fn sensitive_keys(&mut self, key: Key, info: &Info) -> Result<(), Self::Error>;
    /// `true`.
    fn flag(&mut self, key: Key) -> Result<(), Self::Error>;
    fn node(&mut self, key: Key, node: &Node<'_>) -> Result<(), Self::Error>;
    fn children(&mut self, key: Key, children: &Children<'_>) -> Result<(), Self::Error>;
}

/// One level of the JSON tree.
pub(crate) struct Node<'a> {
    level: Level<'a>,
    root: bool,
    options: Options,
    /// A level's text the size check formatted already.
    known: &'a KnownText<'a>,
}

static NO_INFO: Info = Info::new();

impl<'a> Node<'a> {
    /// A level's fields, in the order of the documented shape.
    pub(crate) fn write<F: Fields>(&self, fields: &mut F) -> Result<(), F::Error> {
        let level = self.level;
        let verror = level.verror();
        if level.name_is_plain() {
            fields.plain_str(NAME, level.name)?;
        } else {
            fields.str(NAME, level.name)?;
        }
        if self.root {
            fields.message(MESSAGE, level.error, self.known)?;
        }
        match verror {
            Some(v) if v.held().is_none() => fields.str(SHORT_MESSAGE, v.short_message())?,
            _ => match self.known.of(level.error) {
                Some(text) => fields.str(SHORT_MESSAGE, text)?,
                None => fields.own_text(SHORT_MESSAGE, level)?,
            },
        }
        let info = verror.map_or(&NO_INFO, VError::own_info);
        // Left out when empty: a reader takes a missing `info` as empty.
        if !info.is_empty() {
            fields.info(INFO, info, self.options.reveal_sensitive)?;
        }
        if info.sensitive_keys().next().is_some() {
            fields.sensitive_keys(SENSITIVE, info)?;
        }
        if let Some(location) = verror.and_then(VError::location) {
            fields.location(LOCATION, location)?;
        }
        if verror.is_some_and(VError::skips_cause_message) {
            fields.flag(SKIP_CAUSE_MESSAGE)?;
        }
        match verror {
            Some(v) if v.is_multi() => fields.children(
                ERRORS,
                &Children {
                    errors: v.errors(),
                    options: self.options,
                    known: self.known,
                },
            )?,
            _ => {
                if let Some(cause) = level.cause() {
                    fields.node(CAUSE, &self.below(cause))?;
                }
            }
        }
        if let Some(backtrace) = verror.and_then(VError::backtrace)
            && !self.options.omit_backtraces
        {
            fields.str(BACKTRACE, backtrace.as_str())?;
        }
        Ok(())
    }

    /// The node of a level below this one.
    fn below(&self, level: Level<'a>) -> Node<'a> {
        Node {
            level,
            root: false,
            options: self.options,
            known: self.known,
        }
    }
}

/// The children of a MultiError, each a node.
pub(crate) struct Children<'a> {
    errors: &'a [VError],
    options: Options,
    known: &'a KnownText<'a>,
}

impl<'a> Children<'a> {
    pub(crate) fn nodes(&self) -> impl Iterator<Item = Node<'a>> + '_ {
        self.errors.iter().map(|child| Node {
            level: Level::new(child, None),
            root: false,
            options: self.options,
            known: self.known,
        })
    }
}

// ---- serde: the fields as a map ----------------------------------------------------------

impl Serialize for Node<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = MapFields(serializer.serialize_map(None)?);
        self.write(&mut map)?;
        map.0.end()
    }
}

impl Serialize for Children<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.errors.len()))?;
        for node in self.nodes() {
            seq.serialize_element(&node)?;
        }
        seq.end()
    }
}

struct MapFields<M>(M);

impl<M: SerializeMap> Fields for MapFields<M> {
    type Error = M::Error;

    fn str(&mut self, key: Key, value: &str) -> Result<(), M::Error> {
        self.0.serialize_entry(key.name, value)
    }

    fn plain_str(&mut self, key: Key, value: &str) -> Result<(), M::Error> {
        self.0.serialize_entry(key.name, value)
    }

    fn message(
        &mut self,
        key: Key,
        error: &(dyn Error + 'static),
        known: &KnownText<'_>,
    ) -> Result<(), M::Error> {
        self.0
            .serialize_entry(key.name, &Collect(FullMessage { error, known }))
    }

    fn own_text(&mut self, key: Key, level: Level<'_>) -> Result<(), M::Error> {
        self.0.serialize_entry(key.name, &Collect(level.own_text()))
    }

    fn location(&mut self, key: Key, location: Location<'_>) -> Result<(), M::Error> {
        self.0.serialize_entry(key.name, &location)
    }

    fn info(&mut self, key: Key, info: &Info, reveal: bool) -> Result<(), M::Error> {
        if reveal {
            self.0.serialize_entry(key.name, &info.revealed())
        } else {
            self.0.serialize_entry(key.name, info)
        }
    }

    fn sensitive_keys(&mut self, key: Key, info: &Info) -> Result<(), M::Error> {
        self.0.serialize_entry(key.name, &SensitiveKeys(info))
    }

    fn flag(&mut self, key: Key) -> Result<(), M::Error> {
        self.0.serialize_entry(key.name, &true)
    }

    fn node(&mut self, key: Key, node: &Node<'_>) -> Result<(), M::Error> {
        self.0.serialize_entry(key.name, node)
    }

    fn children(&mut self, key: Key, children: &Children<'_>) -> Result<(), M::Error> {
        self.0.serialize_entry(key.name, children)
    }
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

/// Serializes a `Display` value as a string without building it first.
struct Collect<T>(T);

impl<T: fmt::Display> Serialize for Collect<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

/// The keys of a level's sensitive fields.
struct SensitiveKeys<'a>(&'a Info);

impl Serialize for SensitiveKeys<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.sensitive_keys())
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

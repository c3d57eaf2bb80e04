//! The JSON shape of an error chain (DESIGN §4): `Serialize` for any chain,
//! `Deserialize` back into a `VError`.

use std::borrow::Cow;
use std::error::Error;
use std::fmt;

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

use crate::backtrace::Backtrace;
use crate::chain::Level;
use crate::error::{Cause, Inner, Sources, VError};
use crate::info::Info;
use crate::location::Location;

/// Serializes any error chain, a `VError` or not, in verror's JSON shape.
///
/// Every level has `name`, `short_message` and `info` (its own fields), plus
/// `location` where known, `"skip_cause_message": true` on a level that hides its
/// cause, and `cause` (the next level) or `errors` (a MultiError's children, each in
/// full). Only the outermost level carries `message`, the whole one-line story; a
/// `backtrace` appears only where one was captured. Foreign errors appear with their
/// names and messages, and their own `source()` chains follow.
///
/// ```
/// use verror::{ErrorJson, ResultExt};
/// let err = "x".parse::<u8>().context("bad port").unwrap_err();
/// let json = serde_json::to_value(ErrorJson(&err)).unwrap();
/// assert_eq!(json["message"], "bad port: invalid digit found in string");
/// assert_eq!(json["cause"]["name"], "ParseIntError");
///
/// // The same shape for an error that is not a VError.
/// let io = std::io::Error::other("disk on fire");
/// let json = serde_json::to_value(ErrorJson(&io)).unwrap();
/// assert_eq!(json["short_message"], "disk on fire");
/// ```
#[derive(Clone, Copy)]
pub struct ErrorJson<'a>(pub &'a (dyn Error + 'static));

impl Serialize for ErrorJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Node {
            level: Level::new(self.0, None),
            root: true,
        }
        .serialize(serializer)
    }
}

impl Serialize for VError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        ErrorJson(self).serialize(serializer)
    }
}

/// One level of the JSON tree.
struct Node<'a> {
    level: Level<'a>,
    root: bool,
}

/// `Display` of an error's whole message, streamed into the serializer.
struct FullMessage<'a>(&'a (dyn Error + 'static));

impl fmt::Display for FullMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        crate::fmt::write_message(f, self.0)
    }
}

/// `Display` of a foreign error's own message.
struct OwnMessage<'a>(&'a (dyn Error + 'static));

impl fmt::Display for OwnMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.0, f)
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
            map.serialize_entry("message", &Collect(FullMessage(level.error)))?;
        }
        match verror {
            Some(v) => map.serialize_entry("short_message", v.short_message())?,
            None => map.serialize_entry("short_message", &Collect(OwnMessage(level.error)))?,
        }
        map.serialize_entry("info", verror.map_or(&NO_INFO, VError::own_info))?;
        if let Some(location) = verror.and_then(VError::location) {
            map.serialize_entry("location", &Collect(location))?;
        }
        if verror.is_some_and(VError::skips_cause_message) {
            map.serialize_entry("skip_cause_message", &true)?;
        }
        match verror {
            Some(v) if v.is_multi() => map.serialize_entry("errors", &Children(v.errors()))?,
            _ => {
                if let Some(cause) = level.cause() {
                    map.serialize_entry(
                        "cause",
                        &Node {
                            level: cause,
                            root: false,
                        },
                    )?;
                }
            }
        }
        if let Some(backtrace) = verror.and_then(VError::backtrace) {
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

struct Children<'a>(&'a [VError]);

impl Serialize for Children<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for child in self.0 {
            seq.serialize_element(&Node {
                level: Level::new(child, None),
                root: false,
            })?;
        }
        seq.end()
    }
}

/// The JSON of one level as read back.
#[derive(serde::Deserialize)]
struct Wire {
    #[serde(default = "default_name")]
    name: String,
    #[serde(default)]
    short_message: String,
    #[serde(default)]
    info: Info,
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
/// `message` is recomputed from the levels. Input nested past the deserializer's
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
        let wire = deserializer.deserialize_map(WireVisitor)?;
        let sources = match (wire.errors, wire.cause) {
            (Some(errors), _) => Sources::Multi(errors),
            (None, Some(cause)) => Sources::Cause(Cause::VError(cause)),
            (None, None) => Sources::None,
        };
        Ok(VError::from_inner(Inner {
            name: Cow::Owned(wire.name),
            short: Cow::Owned(wire.short_message),
            info: wire.info,
            skip_cause_message: wire.skip_cause_message,
            sources,
            location: wire.location.map(Location::text),
            backtrace: wire.backtrace.map(Backtrace::from_text),
        }))
    }
}

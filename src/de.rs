//! Reading the JSON shape back: `Deserialize` for `VError`.

use std::borrow::Cow;
use std::fmt;

use serde::de::value::MapAccessDeserializer;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};

use crate::backtrace::Backtrace;
use crate::error::{Extra, Inner, Sources, VError};
use crate::info::Info;

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
            extra: Extra::new(
                name,
                wire.info,
                backtrace,
                wire.location.map(String::into_boxed_str),
            ),
            sources,
            location: None,
            transparent: false,
        }))
    }
}

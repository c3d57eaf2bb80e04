//! Bunyan records: `name`, `hostname`, `pid`, `level`, the record's fields, `err`,
//! `msg`, `time`, `v`.

use std::error::Error;

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::record::{fields, top_name, LogLine};
use super::time::Rfc3339;
use crate::ser::ErrorJson;

/// Writes the entries of a Bunyan record.
pub(super) fn write<M: SerializeMap>(map: &mut M, line: &LogLine<'_>) -> Result<(), M::Error> {
    let rec = line.record;
    map.serialize_entry("name", &rec.service)?;
    map.serialize_entry("hostname", &rec.hostname)?;
    map.serialize_entry("pid", &rec.pid)?;
    map.serialize_entry("level", &rec.level.bunyan())?;
    fields(map, &rec.fields)?;
    if let Some(err) = line.error {
        map.serialize_entry("err", &BunyanError(err))?;
    }
    map.serialize_entry("msg", &rec.message)?;
    map.serialize_entry("time", &Rfc3339(rec.time))?;
    map.serialize_entry("v", &0)?;
    Ok(())
}

struct BunyanError<'a>(&'a (dyn Error + 'static));

impl Serialize for BunyanError<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(5))?;
        map.serialize_entry("message", &crate::fmt::message_of(self.0))?;
        map.serialize_entry("name", top_name(self.0))?;
        let stack = crate::full_stack(self.0).replace("\ncaused by: ", "\nCaused by: ");
        map.serialize_entry("stack", &stack)?;
        map.serialize_entry("info", &crate::info(self.0))?;
        map.serialize_entry("verror", &ErrorJson::new(self.0))?;
        map.end()
    }
}

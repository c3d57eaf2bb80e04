//! Elastic Common Schema records: `@timestamp`, `log.level`, `message`, `ecs.version`,
//! `error.*`, and verror's own fields under the `verror` namespace.

use std::error::Error;

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::record::{fields, top_name, LogLine};
use super::time::Rfc3339;
use crate::ser::ErrorJson;

/// The ECS version the ECS records declare.
pub const ECS_VERSION: &str = "8.11.0";

/// Writes the entries of an ECS record.
pub(super) fn write<M: SerializeMap>(map: &mut M, line: &LogLine<'_>) -> Result<(), M::Error> {
    let rec = line.record;
    map.serialize_entry("@timestamp", &Rfc3339(rec.time))?;
    map.serialize_entry("log.level", rec.level.as_str())?;
    map.serialize_entry("message", &rec.message)?;
    map.serialize_entry("ecs.version", ECS_VERSION)?;
    map.serialize_entry("service.name", &rec.service)?;
    map.serialize_entry("host.hostname", &rec.hostname)?;
    map.serialize_entry("process.pid", &rec.pid)?;
    fields(map, &rec.fields)?;
    if let Some(err) = line.error {
        map.serialize_entry("error", &EcsError(err))?;
        map.serialize_entry("verror", &Namespace(err))?;
    }
    Ok(())
}

struct EcsError<'a>(&'a (dyn Error + 'static));

impl Serialize for EcsError<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("type", top_name(self.0))?;
        map.serialize_entry("message", &crate::fmt::message_of(self.0))?;
        map.serialize_entry("stack_trace", &crate::full_stack(self.0))?;
        map.end()
    }
}

/// verror's own namespace in an ECS record: merged info and the whole chain.
struct Namespace<'a>(&'a (dyn Error + 'static));

impl Serialize for Namespace<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("info", &crate::info(self.0))?;
        map.serialize_entry("error", &ErrorJson::new(self.0))?;
        map.end()
    }
}

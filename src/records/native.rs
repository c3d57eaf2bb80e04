//! verror's native record: `timestamp`, `level`, `message`, the record's fields, the
//! error's JSON under `error` and its merged info under `info`.

use serde::ser::SerializeMap;

use super::record::{fields, LogLine};
use super::time::Rfc3339;
use crate::ser::ErrorJson;

/// Writes the entries of a native record.
pub(super) fn write<M: SerializeMap>(map: &mut M, line: &LogLine<'_>) -> Result<(), M::Error> {
    let rec = line.record;
    map.serialize_entry("timestamp", &Rfc3339(rec.time))?;
    map.serialize_entry("level", rec.level.as_str())?;
    map.serialize_entry("message", &rec.message)?;
    fields(map, &rec.fields)?;
    if let Some(err) = line.error {
        map.serialize_entry("error", &ErrorJson::new(err))?;
        map.serialize_entry("info", &crate::info(err))?;
    }
    Ok(())
}

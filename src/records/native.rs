//! verror's native record: `timestamp`, `level`, `message`, `target`, the record's
//! fields, the current span and its parents as tracing-subscriber's JSON writes them
//! (`span`, `spans`), the chain's JSON under `error` and its merged info under `info`.

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::budget::{Budget, Entries, chain_json_text, cut_str};
use super::record::{LogLine, SpanRecord};
use super::time::Rfc3339;

/// The keys a native record writes itself; a field of that name is renamed.
pub(super) const RESERVED: &[&str] = &[
    "timestamp",
    "level",
    "message",
    "target",
    "span",
    "spans",
    "error",
    "info",
];

/// The keys a span object writes itself.
const SPAN_RESERVED: &[&str] = &["name"];

/// Writes the entries of a native record.
pub(super) fn write<M: SerializeMap>(map: &mut M, line: &LogLine<'_>) -> Result<(), M::Error> {
    let rec = line.record;
    let budget = line.budget();
    map.serialize_entry("timestamp", &Rfc3339(rec.time))?;
    map.serialize_entry("level", rec.level.as_str())?;
    map.serialize_entry("message", &cut_str(&rec.message, budget.text))?;
    if let Some(target) = &rec.target {
        map.serialize_entry("target", &cut_str(target, budget.text))?;
    }
    let mut fields = Entries::new();
    fields.add(rec.fields.iter(), RESERVED, budget, false);
    fields.write(map)?;
    if let Some(current) = rec.spans.last() {
        map.serialize_entry("span", &SpanObject(current, budget))?;
        let spans: Vec<SpanObject<'_>> = rec.spans.iter().map(|s| SpanObject(s, budget)).collect();
        map.serialize_entry("spans", &spans)?;
    }
    if let Some(err) = line.error {
        map.serialize_entry("error", &chain_json_text(err, budget.chain))?;
        let info = crate::info(err);
        let mut entries = Entries::new();
        entries.add(info.iter(), &[], budget, false);
        map.serialize_entry("info", &entries)?;
    }
    Ok(())
}

/// A span as tracing-subscriber's JSON writes it: `{"name": .., field: value, ..}`.
pub(super) struct SpanObject<'a>(pub(super) &'a SpanRecord, pub(super) Budget);

impl Serialize for SpanObject<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let SpanObject(span, budget) = self;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("name", &span.name)?;
        let mut fields = Entries::new();
        fields.add(span.fields.iter(), SPAN_RESERVED, *budget, false);
        fields.write(&mut map)?;
        map.end()
    }
}

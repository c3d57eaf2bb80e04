//! Elastic Common Schema records: `@timestamp`, `log.level`, `message`, `ecs.version`,
//! `service.name`, `host.hostname`, `process.pid`, `log.logger`, `trace.id` and
//! `span.id` when a span carries them, `error.*`, and everything of verror's own
//! (the record's fields, the spans, the merged info, the chain) under the `verror`
//! namespace.

use std::error::Error;

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::budget::{Budget, Entries, chain_json_text, cut_message, cut_str};
use super::native::SpanObject;
use super::record::{LogLine, top_name};
use super::stack::stack_text;
use super::time::Rfc3339;
use super::trace::{span_id, trace_id};

/// The ECS version the ECS records declare.
pub const ECS_VERSION: &str = "8.11.0";

/// The keys the `verror` namespace writes itself; a field of that name is renamed.
pub(super) const RESERVED: &[&str] = &["spans", "info", "error"];

/// Writes the entries of an ECS record.
pub(super) fn write<M: SerializeMap>(map: &mut M, line: &LogLine<'_>) -> Result<(), M::Error> {
    let rec = line.record;
    let budget = line.budget();
    map.serialize_entry("@timestamp", &Rfc3339(rec.time))?;
    map.serialize_entry("log.level", rec.level.as_str())?;
    map.serialize_entry("message", &cut_str(&rec.message, budget.text))?;
    map.serialize_entry("ecs.version", ECS_VERSION)?;
    map.serialize_entry("service.name", &rec.service)?;
    map.serialize_entry("host.hostname", &rec.hostname)?;
    map.serialize_entry("process.pid", &rec.pid)?;
    if let Some(target) = &rec.target {
        map.serialize_entry("log.logger", &cut_str(target, budget.text))?;
    }
    if let Some(id) = trace_id(rec) {
        map.serialize_entry("trace.id", &id)?;
    }
    if let Some(id) = span_id(rec) {
        map.serialize_entry("span.id", &id)?;
    }
    if let Some(err) = line.error {
        map.serialize_entry("error", &EcsError(err, budget))?;
    }
    map.serialize_entry("verror", &Namespace(line))?;
    Ok(())
}

/// ECS's `error` object.
struct EcsError<'a>(&'a (dyn Error + 'static), Budget);

impl Serialize for EcsError<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let EcsError(err, budget) = *self;
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("type", &cut_str(top_name(err), budget.text))?;
        map.serialize_entry("message", &cut_message(err, budget.text))?;
        map.serialize_entry(
            "stack_trace",
            &stack_text(err, "\ncaused by: ", budget.stack),
        )?;
        map.end()
    }
}

/// verror's own namespace: the record's fields, the spans, the merged info and the
/// whole chain.
struct Namespace<'a>(&'a LogLine<'a>);

impl Serialize for Namespace<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let line = self.0;
        let rec = line.record;
        let budget = line.budget();
        let mut map = serializer.serialize_map(None)?;
        let mut fields = Entries::new();
        fields.add(rec.fields.iter(), RESERVED, budget, false);
        fields.write(&mut map)?;
        if !rec.spans.is_empty() {
            let spans: Vec<SpanObject<'_>> =
                rec.spans.iter().map(|s| SpanObject(s, budget)).collect();
            map.serialize_entry("spans", &spans)?;
        }
        if let Some(err) = line.error {
            let info = crate::info(err);
            let mut entries = Entries::new();
            entries.add(info.iter(), &[], budget, false);
            map.serialize_entry("info", &entries)?;
            map.serialize_entry("error", &chain_json_text(err, budget.chain))?;
        }
        map.end()
    }
}

//! Bunyan records, shaped for the `bunyan` CLI: the core fields (`v`, `level`, `name`,
//! `hostname`, `pid`, `time`, `msg`), `err: {name, message, stack}` with
//! `"\nCaused by: "`, and everything else flat and scalar (the record's fields, the
//! spans' fields, the error's merged info), which the CLI shows inside its header's
//! parentheses. The nested chain stays in the other formats: an error renders as its
//! header line and its stack.

use std::error::Error;

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::budget::{Budget, Entries, cut_message, cut_str};
use super::record::{LogLine, top_name};
use super::stack::stack_text;
use super::time::Rfc3339;

/// The keys a Bunyan record writes itself (its core fields and the ones the CLI
/// treats specially); a field of that name is renamed.
pub(super) const RESERVED: &[&str] = &[
    "v",
    "level",
    "name",
    "hostname",
    "pid",
    "time",
    "msg",
    "src",
    "err",
    "target",
    "req_id",
    "req",
    "res",
    "client_req",
    "client_res",
];

/// Writes the entries of a Bunyan record.
pub(super) fn write<M: SerializeMap>(map: &mut M, line: &LogLine<'_>) -> Result<(), M::Error> {
    let rec = line.record;
    let budget = line.budget();
    map.serialize_entry("name", &rec.service)?;
    map.serialize_entry("hostname", &rec.hostname)?;
    map.serialize_entry("pid", &rec.pid)?;
    map.serialize_entry("level", &rec.level.bunyan())?;
    if let Some(target) = &rec.target {
        map.serialize_entry("target", &cut_str(target, budget.text))?;
    }
    // Flat fields, first one of a name wins: the record's own, the spans' from the
    // innermost out, then the error's merged info.
    let info = line.error.map(crate::info);
    let mut fields = Entries::new();
    fields.add(rec.fields.iter(), RESERVED, budget, true);
    for span in rec.spans.iter().rev() {
        fields.add(span.fields.iter(), RESERVED, budget, true);
    }
    if let Some(info) = &info {
        fields.add(info.iter(), RESERVED, budget, true);
    }
    fields.write(map)?;
    if let Some(err) = line.error {
        map.serialize_entry("err", &BunyanError(err, budget))?;
    }
    map.serialize_entry("msg", &cut_str(&rec.message, budget.text))?;
    map.serialize_entry("time", &Rfc3339(rec.time))?;
    map.serialize_entry("v", &0)?;
    Ok(())
}

/// Bunyan's `err` object, as its standard error serializer writes it.
struct BunyanError<'a>(&'a (dyn Error + 'static), Budget);

impl Serialize for BunyanError<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let BunyanError(err, budget) = *self;
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("message", &cut_message(err, budget.text))?;
        map.serialize_entry("name", &cut_str(top_name(err), budget.text))?;
        map.serialize_entry("stack", &stack_text(err, "\nCaused by: ", budget.stack))?;
        map.end()
    }
}

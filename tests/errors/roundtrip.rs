//! Property: any chain (names, messages, info, sensitive fields, skipped causes,
//! foreign causes, MultiErrors) survives a JSON round trip unchanged.

use crate::generated_chains::{build, build_with_secret, spec};
use crate::property::{self, word};

use serde_json::Value;
use verror::VError;

/// Each level's own text: a `VError`'s short message, a foreign error's `Display`.
fn own_texts(err: &VError) -> Vec<String> {
    verror::chain(err)
        .map(|level| match level.downcast_ref::<VError>() {
            Some(v) => v.short_message().to_owned(),
            None => level.to_string(),
        })
        .collect()
}

#[test]
fn json_round_trip_is_exact() {
    property::check(512, |u| {
        let spec = spec(u)?;
        let secret = if u.arbitrary()? {
            Some(word(u, "abcdefghijklmnopqrstuvwxyz", 1..=8)?)
        } else {
            None
        };
        let err = build_with_secret(&spec, secret.as_deref());
        let json = serde_json::to_string(&err).unwrap();
        let back: VError = serde_json::from_str(&json).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), json, "{spec:?}");

        // The same story, names and merged info, read back.
        assert_eq!(back.message(), err.message());
        assert_eq!(back.to_string(), err.to_string());
        assert_eq!(own_texts(&back), own_texts(&err));
        assert_eq!(verror::info(&back).to_map(), verror::info(&err).to_map());
        assert_eq!(back.errors().len(), err.errors().len());
        assert_eq!(verror::full_stack(&back), verror::full_stack(&err));
        Ok(())
    });
}

#[test]
fn every_output_mode_is_total() {
    property::check(512, |u| {
        let err = build(&spec(u)?);
        let _ = (
            format!("{err}"),
            format!("{err:#}"),
            format!("{err:?}"),
            format!("{err:#?}"),
        );
        let record = verror::records::LogRecord::new(verror::records::Severity::Error, "x");
        for format in verror::records::LogFormat::ALL {
            let line = record.with_error(format, Some(&err)).to_json_line();
            assert!(serde_json::from_str::<Value>(&line).is_ok(), "{line}");
        }
        Ok(())
    });
}

/// A foreign error whose source is its own first field: both live at one address.
#[derive(Debug, thiserror::Error)]
#[error("outer text")]
struct Outer {
    #[source]
    inner: Inner,
}

#[derive(Debug, thiserror::Error)]
#[error("inner text {code}")]
struct Inner {
    code: u32,
}

/// Two zero-sized errors, one the source of the other: boxed, both sit at the same
/// dangling address.
#[derive(Debug, thiserror::Error)]
#[error("empty outer")]
struct EmptyOuter {
    #[source]
    inner: EmptyInner,
}

#[derive(Debug, thiserror::Error)]
#[error("empty inner")]
struct EmptyInner;

#[test]
fn foreign_levels_at_one_address_keep_their_own_texts() {
    let err = VError::wrap(
        Outer {
            inner: Inner { code: 7 },
        },
        "top",
    );
    let json = serde_json::to_value(&err).unwrap();
    assert_eq!(json["message"], "top: outer text: inner text 7");
    assert_eq!(json["cause"]["short_message"], "outer text");
    assert_eq!(json["cause"]["cause"]["short_message"], "inner text 7");

    let err = VError::wrap(EmptyOuter { inner: EmptyInner }, "top");
    let json = serde_json::to_value(&err).unwrap();
    assert_eq!(json["message"], "top: empty outer: empty inner");
    assert_eq!(json["cause"]["short_message"], "empty outer");
    assert_eq!(json["cause"]["cause"]["short_message"], "empty inner");
}

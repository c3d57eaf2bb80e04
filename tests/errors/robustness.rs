//! No panic on any input: hostile JSON, values with no JSON form, very long chains.

use std::collections::BTreeMap;

use verror::VError;

#[test]
fn unserializable_info_is_kept_as_the_reason() {
    let mut map = BTreeMap::new();
    map.insert((1, 2), "tuple keys have no JSON form");
    let err = VError::builder()
        .info("bad", &map)
        .info("good", 1)
        .message("x")
        .build();
    let value = err.own_info().get("bad").unwrap().as_str().unwrap();
    assert!(value.starts_with("<unserializable: "), "{value}");
    assert!(value.contains("key must be a string"), "{value}");
    // Every output still works.
    assert!(serde_json::to_string(&err).is_ok());
    assert!(format!("{err:?}").contains("bad: \"<unserializable"));
}

#[test]
fn non_finite_floats_are_null() {
    let err = VError::builder()
        .info("ratio", f64::NAN)
        .message("x")
        .build();
    assert_eq!(err.own_info().get("ratio"), Some(&serde_json::Value::Null));
}

#[test]
fn nesting_past_the_recursion_limit_is_an_error() {
    let depth = 1000;
    let json = format!(
        "{}{}",
        r#"{"name":"X","cause":"#.repeat(depth),
        "null".to_owned() + &"}".repeat(depth)
    );
    let result = serde_json::from_str::<VError>(&json);
    let message = result.expect_err("too deep").to_string();
    assert!(message.contains("recursion limit"), "{message}");
}

#[test]
fn moderate_nesting_reads_back() {
    let depth = 60;
    let json = format!(
        "{}{}",
        r#"{"name":"X","short_message":"level","cause":"#.repeat(depth),
        r#"{"name":"Root"}"#.to_owned() + &"}".repeat(depth)
    );
    let err: VError = serde_json::from_str(&json).unwrap();
    assert_eq!(verror::chain(&err).count(), depth + 1);
    assert_eq!(
        verror::find_cause_by_name(&err, "Root").map(|e| e.to_string()),
        Some("Root".to_owned())
    );
}

#[test]
fn wrong_types_are_errors_not_panics() {
    for input in [
        "null",
        "[]",
        "42",
        r#"{"name":3}"#,
        r#"{"info":[1,2]}"#,
        r#"{"errors":{}}"#,
        r#"{"cause":"text"}"#,
        r#"{"short_message":"\ud800"}"#,
        "{",
        "",
    ] {
        assert!(serde_json::from_str::<VError>(input).is_err(), "{input}");
    }
}

#[test]
fn minimal_and_unknown_fields() {
    let err: VError =
        serde_json::from_str(r#"{"future_field":{"x":1},"name":"N","extra":[1]}"#).unwrap();
    assert_eq!(err.name(), "N");
    assert_eq!(err.short_message(), "");
    assert!(err.location().is_none());
    let empty: VError = serde_json::from_str("{}").unwrap();
    assert_eq!(empty.name(), "VError");
    assert_eq!(format!("{empty}"), "VError");
    assert_eq!(format!("{empty:#}"), "");
    let _ = format!("{empty:?}{empty:#?}");
}

#[test]
fn a_very_long_chain_drops_and_prints() {
    let mut err = VError::new("root");
    for i in 0..200_000 {
        err = VError::builder()
            .cause(err)
            .message(if i % 2 == 0 { "a" } else { "" })
            .backtrace(false)
            .build();
    }
    assert_eq!(verror::chain(&err).count(), 200_001);
    assert!(err.message().ends_with("a: a: root"));
    assert_eq!(verror::info(&err).len(), 0);
    drop(err);
}

#[test]
fn control_characters_and_unicode_in_messages() {
    let err = VError::builder()
        .name("Ünïcødé\u{0}")
        .info("k\n\"", "v\u{1b}[31m")
        .message("line 1\nline 2\t\u{7f}")
        .build();
    let json = serde_json::to_string(&err).unwrap();
    let back: VError = serde_json::from_str(&json).unwrap();
    assert_eq!(back.name(), err.name());
    assert_eq!(back.short_message(), err.short_message());
    assert_eq!(serde_json::to_string(&back).unwrap(), json);
}

/// A foreign error whose `Display` fails on its own (a broken impl: the writer took
/// everything) and whose source fails too.
#[derive(Debug)]
struct BrokenDisplay(Option<Box<BrokenDisplay>>);

impl std::fmt::Display for BrokenDisplay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "outer part"
        } else {
            "inner part"
        })?;
        Err(std::fmt::Error)
    }
}

impl std::error::Error for BrokenDisplay {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.as_deref().map(|e| e as _)
    }
}

/// Every rendering takes a failing `Display` as the end of that level's text: none
/// panics or fails (`format!` and serde_json's `collect_str` panic on such an error).
#[test]
fn a_failing_display_ends_its_text() {
    let broken = BrokenDisplay(Some(Box::new(BrokenDisplay(None))));
    let err = VError::wrap(VError::wrap(broken, "middle"), "top");
    let story = "top: middle: outer part: inner part";
    assert_eq!(format!("{err:#}"), story);
    assert_eq!(err.message(), story);
    let json = serde_json::to_string(&err).unwrap();
    assert_eq!(verror::ErrorJson::new(&err).to_json(), json);
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["message"], story);
    assert_eq!(value["cause"]["cause"]["short_message"], "outer part");
    assert_eq!(
        value["cause"]["cause"]["cause"]["short_message"],
        "inner part"
    );
    let report = format!("{err:?}");
    assert!(
        report.contains("outer part") && report.contains("inner part"),
        "{report}"
    );
    assert!(format!("{err:#?}").contains("outer part"));
    assert!(verror::full_stack(&err).contains("inner part"));
    for format in verror::records::LogFormat::ALL {
        let record = verror::records::LogRecord::new(verror::records::Severity::Error, "failed");
        assert!(
            record
                .with_error(format, Some(&err))
                .to_json_line()
                .contains("inner part")
        );
    }
    // A level made by `?` over one, as its own text.
    let held = VError::from(std::io::Error::other(BrokenDisplay(None)));
    assert_eq!(
        serde_json::to_value(&held).unwrap()["short_message"],
        "inner part"
    );
}

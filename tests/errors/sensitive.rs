//! Sensitive info fields never reach any output, while everything else still does.

use crate::generated_chains;
use crate::property::{self, word};

use verror::records::{LogFormat, LogRecord, Severity};
use verror::{ErrorJson, VError};

/// Every output of an error, one string each.
fn every_output(err: &VError) -> Vec<(String, String)> {
    let record = LogRecord::new(Severity::Error, "failed");
    let mut outputs = vec![
        ("{}".to_owned(), format!("{err}")),
        ("{:#}".to_owned(), format!("{err:#}")),
        ("{:?}".to_owned(), format!("{err:?}")),
        ("{:#?}".to_owned(), format!("{err:#?}")),
        ("full_stack".to_owned(), verror::full_stack(err)),
        ("json".to_owned(), serde_json::to_string(err).unwrap()),
        ("info".to_owned(), format!("{:?}", verror::info(err))),
        (
            "public".to_owned(),
            serde_json::to_string(&verror::public_view(err)).unwrap(),
        ),
    ];
    for format in LogFormat::ALL {
        outputs.push((
            format.to_string(),
            record.with_error(format, Some(err)).to_json_line(),
        ));
    }
    outputs
}

#[test]
fn a_secret_never_appears() {
    property::check(256, |u| {
        let spec = generated_chains::spec(u)?;
        let secret = word(u, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 16..=24)?;
        let visible = word(u, "abcdefghijklmnopqrstuvwxyz", 16..=16)?;
        // The secret sits on the flagged levels and, to be sure there is one, on an
        // outer level too, beside a visible field.
        let inner = generated_chains::build_with_secret(&spec, Some(&secret));
        let err = VError::builder()
            .sensitive_info("password", &secret)
            .info("visible", &visible)
            .cause(inner)
            .message("outer")
            .backtrace(false)
            .build();
        for (mode, text) in every_output(&err) {
            assert!(
                !text.contains(&secret),
                "the secret appears in {mode}: {text}"
            );
        }
        // The non-sensitive field appears wherever info is shown.
        let record = LogRecord::new(Severity::Error, "failed");
        let mut showing_info = vec![format!("{err:?}"), serde_json::to_string(&err).unwrap()];
        for format in LogFormat::ALL {
            showing_info.push(record.with_error(format, Some(&err)).to_json_line());
        }
        for text in showing_info {
            assert!(text.contains(&visible), "{text}");
        }
        // Code can still read it.
        assert_eq!(
            err.own_info().reveal("password").and_then(|v| v.as_str()),
            Some(secret.as_str())
        );
        Ok(())
    });
}

#[test]
fn redacted_fields_stay_redacted_through_json() {
    let err = VError::builder()
        .sensitive_info("token", "abcdefghijklmnop")
        .info("user", "ann")
        .message("denied")
        .build();
    let json = serde_json::to_string(&err).unwrap();
    assert!(
        json.contains(r#""info":{"token":"[redacted]","user":"ann"},"sensitive":["token"]"#),
        "{json}"
    );
    let back: VError = serde_json::from_str(&json).unwrap();
    assert!(back.own_info().is_sensitive("token"));
    assert_eq!(serde_json::to_string(&back).unwrap(), json);
}

#[test]
fn revealing_is_asked_for_in_code() {
    let err = VError::wrap(
        VError::builder()
            .sensitive_info("token", "abcdefghijklmnop")
            .message("inner")
            .build(),
        "outer",
    );
    let revealed = serde_json::to_string(&ErrorJson::new(&err).reveal_sensitive()).unwrap();
    assert!(revealed.contains("abcdefghijklmnop"));
    // Read back, the value is known again and still sensitive.
    let back: VError = serde_json::from_str(&revealed).unwrap();
    let inner = back.source().unwrap().downcast_ref::<VError>().unwrap();
    assert_eq!(
        inner.own_info().reveal("token"),
        Some(&serde_json::json!("abcdefghijklmnop"))
    );
    assert!(
        !serde_json::to_string(&back)
            .unwrap()
            .contains("abcdefghijklmnop")
    );
}

#[test]
fn a_plain_field_set_again_is_no_longer_sensitive() {
    let mut info = verror::Info::new();
    info.insert_sensitive("k", serde_json::json!(1));
    info.insert("k", serde_json::json!(2));
    assert!(!info.is_sensitive("k"));
    assert_eq!(info.get("k"), Some(&serde_json::json!(2)));
}

use std::error::Error as _;

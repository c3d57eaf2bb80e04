//! The `?` path is transparent: a `VError` made by `From` stands for the error it
//! holds, in every printer — ours, anyhow's, eyre's, tracing-subscriber's JSON — and
//! in the JSON, with each message once and never a bare `VError` segment.

use std::error::Error;
use std::sync::{Arc, Mutex};

use verror::VError;

/// Every standard error the crate converts with `From`, with the name it answers to.
fn std_errors() -> Vec<(&'static str, VError, String)> {
    fn case<E: Error + Send + Sync + 'static>(
        name: &'static str,
        error: E,
    ) -> (&'static str, VError, String)
    where
        VError: From<E>,
    {
        let text = error.to_string();
        let converted = (|| -> verror::Result<()> { Err(error)? })().unwrap_err();
        (name, converted, text)
    }
    let io = std::io::Error::new(std::io::ErrorKind::NotFound, "config.toml: not found");
    let bytes = vec![0xff, 0xfe];
    let utf8 = std::str::from_utf8(&bytes).unwrap_err();
    vec![
        case("io::Error", io),
        case("Error", std::fmt::Error),
        case("ParseIntError", "x".parse::<u8>().unwrap_err()),
        case("ParseFloatError", "x".parse::<f64>().unwrap_err()),
        case("TryFromIntError", u8::try_from(300u32).unwrap_err()),
        case("ParseBoolError", "x".parse::<bool>().unwrap_err()),
        case("ParseCharError", "xy".parse::<char>().unwrap_err()),
        case("Utf8Error", utf8),
        case("FromUtf8Error", String::from_utf8(vec![0xff]).unwrap_err()),
        case(
            "AddrParseError",
            "x".parse::<std::net::IpAddr>().unwrap_err(),
        ),
        case(
            "SystemTimeError",
            std::time::UNIX_EPOCH
                .duration_since(std::time::SystemTime::now())
                .unwrap_err(),
        ),
        case("Error", serde_json::from_str::<u8>("{").unwrap_err()),
    ]
}

#[test]
fn each_std_error_prints_as_itself() {
    for (name, err, text) in std_errors() {
        assert_eq!(err.to_string(), text, "{name}");
        assert_eq!(err.name(), name);
        assert_eq!(format!("{err:#}"), text, "{name}");
        assert_eq!(err.message(), text, "{name}");
        assert!(err.location().unwrap().file().ends_with("question_mark.rs"));
        let report = format!("{err:?}");
        // The chain's part: a backtrace (RUST_BACKTRACE=1) names our frames.
        let report = report.split("\n\nStack backtrace:").next().unwrap();
        assert_eq!(report.matches(&text).count(), 1, "{report}");
        assert!(!report.contains("VError"), "{report}");
    }
}

#[test]
fn typed_lookup_finds_the_converted_error() {
    let err = (|| -> verror::Result<Vec<u8>> { Ok(std::fs::read("/definitely/not/here")?) })()
        .unwrap_err();
    let io = verror::find_cause::<std::io::Error>(&err).expect("the io::Error itself");
    assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
    assert!(verror::has_cause_with_name(&err, "io::Error"));
    assert!(!verror::has_cause_with_name(&err, "VError"));
    assert_eq!(verror::chain(&err).count(), 1);
}

#[test]
fn anyhow_and_eyre_print_each_message_once() {
    for (name, err, text) in std_errors() {
        let outer = anyhow::Error::from(err).context("outer");
        assert_eq!(format!("{outer:#}"), format!("outer: {text}"), "{name}");
        let debug = format!("{outer:?}");
        assert_eq!(debug.matches(&text).count(), 1, "{debug}");
        assert!(!debug.contains("VError"), "{debug}");
    }
    for (name, err, text) in std_errors() {
        let report = eyre::Report::from(err).wrap_err("outer");
        assert_eq!(format!("{report:#}"), format!("outer: {text}"), "{name}");
        assert!(!format!("{report:?}").contains("VError"));
    }
}

#[test]
fn our_context_over_the_question_mark_reads_once() {
    let err = (|| -> verror::Result<()> {
        let inner = (|| -> verror::Result<u8> { Ok("x".parse::<u8>()?) })();
        verror::ResultExt::context(inner, "bad port")?;
        Ok(())
    })()
    .unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        "bad port: invalid digit found in string"
    );
    let texts: Vec<String> = verror::chain(&err).map(|e| e.to_string()).collect();
    assert_eq!(texts, ["bad port", "invalid digit found in string"]);
}

#[test]
fn json_is_one_level_named_after_the_error() {
    for (name, err, text) in std_errors() {
        let mut json = serde_json::to_value(&err).unwrap();
        // The chain's part: a backtrace (RUST_BACKTRACE=1) names our frames.
        json.as_object_mut().unwrap().remove("backtrace");
        assert_eq!(json["name"], name);
        assert_eq!(json["short_message"], text.as_str());
        assert_eq!(json["message"], text.as_str());
        assert!(json.get("cause").is_none(), "{json}");
        let line = json.to_string();
        assert!(!line.contains("VError"), "{line}");
        // It reads back as one level with the same text.
        let back: VError = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back.to_string(), text);
        assert_eq!(serde_json::to_value(&back).unwrap(), json);
    }
}

#[test]
fn an_empty_message_level_built_in_code_keeps_its_place() {
    // Only `From` stands for its error: a level built with an empty message is a level.
    let io = std::io::Error::other("disk");
    let err = VError::builder()
        .name("StorageError")
        .info("disk", "sda")
        .cause(io)
        .build();
    assert_eq!(verror::chain(&err).count(), 2);
    assert_eq!(format!("{err:#}"), "disk");
    let first = verror::chain(&err).next().unwrap();
    let level = first.downcast_ref::<VError>().unwrap();
    assert_eq!(level.name(), "StorageError");
    assert_eq!(
        level.own_info().get("disk"),
        Some(&serde_json::json!("sda"))
    );
}

#[test]
fn boxed_errors_and_verror_macro_stand_for_their_error() {
    let boxed: Box<dyn Error + Send + Sync> = "x".parse::<u8>().unwrap_err().into();
    let err = (|| -> verror::Result<()> { Err(boxed)? })().unwrap_err();
    assert_eq!(err.to_string(), "invalid digit found in string");
    assert!(verror::find_cause::<std::num::ParseIntError>(&err).is_some());

    let err = verror::verror!("x".parse::<u8>().unwrap_err());
    assert_eq!(err.name(), "ParseIntError");
    let same = verror::verror!(VError::new("kept"));
    assert_eq!((same.name(), same.to_string().as_str()), ("VError", "kept"));
}

/// A writer tracing-subscriber's formatter writes into.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        std::io::Write::write(&mut *self.0.lock().unwrap(), bytes)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn tracing_subscriber_json_logs_the_error_text() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_writer(move || writer.clone())
        .finish();
    let cases = std_errors();
    tracing::subscriber::with_default(subscriber, || {
        for (_, err, _) in &cases {
            let error: &(dyn Error + 'static) = err;
            tracing::error!(error, "request failed");
        }
    });
    let output = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = output.lines().collect();
    assert_eq!(lines.len(), cases.len());
    for (line, (name, _, text)) in lines.iter().zip(&cases) {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(record["fields"]["error"], text.as_str(), "{name}: {line}");
        assert!(!line.contains("VError"), "{line}");
    }
}

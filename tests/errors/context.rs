//! `context`, `with_context`, the macros, and `?` conversions.

use std::cell::Cell;
use std::error::Error;
use std::io;

use verror::{OptionExt, ResultExt, VError, bail, ensure, verror};

#[test]
fn context_wraps_foreign_errors() {
    let err = Err::<(), _>(io::Error::new(io::ErrorKind::NotFound, "gone"))
        .context("load failed")
        .unwrap_err();
    assert_eq!(err.to_string(), "load failed");
    assert_eq!(format!("{err:#}"), "load failed: gone");
    let io = err.source().unwrap().downcast_ref::<io::Error>().unwrap();
    assert_eq!(io.kind(), io::ErrorKind::NotFound);
}

#[test]
fn context_on_a_verror_does_not_box_it_twice() {
    let inner = VError::builder().name("Inner").message("inner").build();
    let err = Err::<(), _>(inner).context("outer").unwrap_err();
    // The cause is the VError itself, not a box around it.
    let cause = err.source().unwrap();
    assert_eq!(cause.downcast_ref::<VError>().unwrap().name(), "Inner");
    assert_eq!(verror::chain(&err).count(), 2);
}

#[test]
fn with_context_runs_the_closure_only_on_error() {
    let calls = Cell::new(0);
    let ok: Result<u8, VError> = Ok::<u8, io::Error>(1).with_context(|| {
        calls.set(calls.get() + 1);
        "never"
    });
    assert_eq!(ok.unwrap(), 1);
    assert_eq!(calls.get(), 0);

    let err = Err::<u8, _>(io::Error::other("x"))
        .with_context(|| {
            calls.set(calls.get() + 1);
            format!("attempt {}", calls.get())
        })
        .unwrap_err();
    assert_eq!(calls.get(), 1);
    assert_eq!(err.to_string(), "attempt 1");
}

#[test]
fn option_context() {
    assert_eq!(Some(3).context("missing").unwrap(), 3);
    let err = None::<u8>.context("missing value").unwrap_err();
    assert_eq!(err.to_string(), "missing value");
    assert!(err.source().is_none());
    let err = None::<u8>
        .with_context(|| format!("missing {}", "key"))
        .unwrap_err();
    assert_eq!(err.to_string(), "missing key");
}

#[test]
fn context_records_the_callers_location() {
    let line = line!() + 1;
    let err = "x".parse::<u8>().context("bad").unwrap_err();
    let location = err.location().unwrap();
    assert_eq!(location.file(), file!());
    assert_eq!(location.line(), Some(line));
}

#[test]
fn verror_macro_formats() {
    let n = 3;
    let err = verror!("{n} issues in {}", "config");
    assert_eq!(err.to_string(), "3 issues in config");
    assert_eq!(verror!("plain").to_string(), "plain");
    assert_eq!(err.location().unwrap().file(), file!());
}

fn check(len: usize) -> Result<usize, VError> {
    ensure!(len > 0);
    ensure!(len <= 10, "length {len} exceeds {}", 10);
    if len == 7 {
        bail!("unlucky {len}");
    }
    Ok(len)
}

#[test]
fn bail_and_ensure() {
    assert_eq!(check(5).unwrap(), 5);
    assert_eq!(
        check(0).unwrap_err().to_string(),
        "condition failed: `len > 0`"
    );
    assert_eq!(check(11).unwrap_err().to_string(), "length 11 exceeds 10");
    assert_eq!(check(7).unwrap_err().to_string(), "unlucky 7");
}

#[derive(Debug, thiserror::Error)]
enum AppError {
    #[error("application failed")]
    Failed(#[from] VError),
}

fn app() -> Result<(), AppError> {
    bail!("deep problem");
}

#[test]
fn bail_converts_into_the_return_type() {
    let err = app().unwrap_err();
    assert_eq!(err.to_string(), "application failed");
    assert_eq!(err.source().unwrap().to_string(), "deep problem");
}

fn parse_all(a: &str, b: &str) -> Result<(u8, f64), VError> {
    Ok((a.parse::<u8>()?, b.parse::<f64>()?))
}

#[test]
fn question_mark_on_std_errors() {
    let err = parse_all("1", "x").unwrap_err();
    assert_eq!(format!("{err:#}"), "invalid float literal");
    assert!(verror::has_cause_with_name(&err, "ParseFloatError"));
    let io: Result<(), VError> = (|| Ok(std::fs::read("/definitely/not/here").map(drop)?))();
    assert_eq!(
        verror::find_cause::<io::Error>(&io.unwrap_err())
            .unwrap()
            .kind(),
        io::ErrorKind::NotFound
    );
    let json: Result<serde_json::Value, VError> = (|| Ok(serde_json::from_str("{")?))();
    assert!(verror::find_cause::<serde_json::Error>(&json.unwrap_err()).is_some());
}

#[test]
fn typed_lookup_and_root_cause() {
    let err = VError::wrap(VError::wrap(io::Error::other("disk"), "mid"), "top");
    assert_eq!(err.root_cause().to_string(), "disk");
    assert!(verror::find_cause::<io::Error>(&err).is_some());
    assert!(verror::find_cause::<VError>(&err).is_some());
    assert!(verror::find_cause::<std::fmt::Error>(&err).is_none());
    // std's `downcast_ref` on the same value answers for the one level it is given.
    let dyn_err: &(dyn std::error::Error + 'static) = &err;
    assert!(dyn_err.downcast_ref::<io::Error>().is_none());
    assert!(dyn_err.downcast_ref::<VError>().is_some());
    let alone = VError::new("alone");
    assert_eq!(alone.root_cause().to_string(), "alone");
}

#[test]
fn one_call_adds_a_name_fields_and_a_message_lazily() {
    let mut ran = false;
    let ok: Result<u8, VError> = Ok::<u8, io::Error>(1).with_context(|| {
        ran = true;
        VError::builder().name("Never").message("never")
    });
    assert_eq!(ok.unwrap(), 1);
    assert!(!ran, "the closure runs only on Err");

    let path = "/etc/app.toml";
    let err = std::fs::read(path)
        .with_context(|| {
            VError::builder()
                .name("ConfigError")
                .info("path", path)
                .info("attempt", 2)
                .sensitive_info("token", "hunter2-hunter2")
                .message(format_args!("cannot load {path}"))
        })
        .unwrap_err();
    assert_eq!(err.name(), "ConfigError");
    assert_eq!(err.to_string(), "cannot load /etc/app.toml");
    assert!(format!("{err:#}").starts_with("cannot load /etc/app.toml: "));
    assert!(verror::find_cause::<io::Error>(&err).is_some());
    assert_eq!(err.location().unwrap().file(), file!());
    let merged = verror::info(&err);
    assert_eq!(
        merged.keys().collect::<Vec<_>>(),
        ["path", "attempt", "token"]
    );
    assert_eq!(
        merged.get("token"),
        Some(&serde_json::json!(verror::REDACTED))
    );
    assert_eq!(
        merged.reveal("token"),
        Some(&serde_json::json!("hunter2-hunter2"))
    );
    assert!(!format!("{err:?}").contains("hunter2"));
    assert!(!serde_json::to_string(&err).unwrap().contains("hunter2"));

    // The same on an Option, and eagerly with `context`.
    let none: Option<u8> = None;
    let err = none
        .context(
            VError::builder()
                .name("Missing")
                .info("key", "port")
                .message("no port"),
        )
        .unwrap_err();
    assert_eq!(
        (err.name(), err.to_string().as_str()),
        ("Missing", "no port")
    );
    assert!(err.own_info().contains_key("key"));
}

#[derive(Debug, thiserror::Error, serde::Serialize)]
enum StoreError {
    #[error("key {key:?} not found in shard {shard}")]
    #[serde(rename = "KeyNotFound")]
    Missing { key: String, shard: u32 },
    #[error("shard {0} is read-only")]
    ReadOnly(u32),
    #[error("store closed")]
    Closed,
    #[error("write failed")]
    Write {
        bytes: usize,
        #[source]
        #[serde(skip)]
        source: io::Error,
    },
}

#[derive(Debug, thiserror::Error, serde::Serialize)]
#[error("quota of {limit} exceeded by {tenant}")]
struct QuotaError {
    tenant: String,
    limit: u32,
}

#[test]
fn typed_errors_keep_their_fields() {
    let err = VError::typed(StoreError::Missing {
        key: "user:7".into(),
        shard: 3,
    });
    assert_eq!(err.name(), "KeyNotFound");
    assert_eq!(err.to_string(), r#"key "user:7" not found in shard 3"#);
    assert_eq!(err.own_info().keys().collect::<Vec<_>>(), ["key", "shard"]);
    assert!(matches!(
        verror::find_cause::<StoreError>(&err),
        Some(StoreError::Missing { shard: 3, .. })
    ));
    let json = serde_json::to_value(&err).unwrap();
    assert_eq!(json["name"], "KeyNotFound");
    assert_eq!(
        json["info"],
        serde_json::json!({"key": "user:7", "shard": 3})
    );
    let back: VError = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), json);

    let err = VError::typed(StoreError::ReadOnly(4));
    assert_eq!(err.name(), "ReadOnly");
    assert_eq!(err.own_info().get("value"), Some(&serde_json::json!(4)));
    assert_eq!(VError::typed(StoreError::Closed).name(), "Closed");

    // The source stays in the chain; the skipped field is not info.
    let err = VError::typed(StoreError::Write {
        bytes: 512,
        source: io::Error::other("disk full"),
    });
    assert_eq!(err.name(), "Write");
    assert_eq!(format!("{err:#}"), "write failed: disk full");
    assert_eq!(err.own_info().keys().collect::<Vec<_>>(), ["bytes"]);
    assert!(verror::find_cause::<io::Error>(&err).is_some());

    let err = VError::typed(QuotaError {
        tenant: "acme".into(),
        limit: 100,
    });
    assert_eq!(err.name(), "QuotaError");
    assert_eq!(err.own_info().get("limit"), Some(&serde_json::json!(100)));
    // Wrapped, its fields merge like any level's.
    let outer = Err::<(), _>(err).context("request failed").unwrap_err();
    assert_eq!(
        verror::info(&outer).get("tenant"),
        Some(&serde_json::json!("acme"))
    );
}

#[test]
fn json_of_another_producer_with_only_a_message_reads_back() {
    let json = serde_json::json!({
        "name": "UpstreamError",
        "message": "upstream said no",
        "cause": {"name": "Timeout", "message": "after 5s"}
    });
    let err: VError = serde_json::from_value(json).unwrap();
    assert_eq!(err.to_string(), "upstream said no");
    assert_eq!(format!("{err:#}"), "upstream said no: after 5s");
}

#[test]
fn merged_info_keeps_insertion_order() {
    let inner = VError::builder()
        .info("zeta", 1)
        .info("alpha", 2)
        .info("shared", "inner")
        .message("inner")
        .build();
    let outer = VError::builder()
        .info("mike", 3)
        .info("shared", "outer")
        .info("bravo", 4)
        .cause(inner)
        .message("outer")
        .build();
    let merged = verror::info(&outer);
    assert_eq!(
        merged.keys().collect::<Vec<_>>(),
        ["mike", "shared", "bravo", "zeta", "alpha"]
    );
    assert_eq!(merged.get("shared"), Some(&serde_json::json!("outer")));
    assert_eq!(
        serde_json::to_string(&merged).unwrap(),
        r#"{"mike":3,"shared":"outer","bravo":4,"zeta":1,"alpha":2}"#
    );
}

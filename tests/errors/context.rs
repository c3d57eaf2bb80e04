//! `context`, `with_context`, the macros, and `?` conversions.

use std::cell::Cell;
use std::error::Error;
use std::io;

use verror::{bail, ensure, verror, OptionExt, ResultExt, VError};

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
        io.unwrap_err().downcast_ref::<io::Error>().unwrap().kind(),
        io::ErrorKind::NotFound
    );
    let json: Result<serde_json::Value, VError> = (|| Ok(serde_json::from_str("{")?))();
    assert!(verror::find_cause::<serde_json::Error>(&json.unwrap_err()).is_some());
}

#[test]
fn downcast_and_root_cause() {
    let err = VError::wrap(VError::wrap(io::Error::other("disk"), "mid"), "top");
    assert_eq!(err.root_cause().to_string(), "disk");
    assert!(err.downcast_ref::<io::Error>().is_some());
    assert!(err.downcast_ref::<VError>().is_some());
    assert!(err.downcast_ref::<std::fmt::Error>().is_none());
    let alone = VError::new("alone");
    assert_eq!(alone.root_cause().to_string(), "alone");
}

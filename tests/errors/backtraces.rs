//! Backtraces: forced on or off, once per chain, resolved lazily, never in the way.

use verror::{ResultExt, VError};

fn capture_here() -> VError {
    VError::builder()
        .message("with trace")
        .backtrace(true)
        .build()
}

#[test]
fn forced_on_captures_and_resolves_this_test() {
    let err = capture_here();
    let trace = err.backtrace().expect("forced on").to_string();
    assert!(trace.contains("capture_here"), "{trace}");
    // verror's own frames are trimmed from the top.
    let first = trace.lines().next().unwrap();
    assert!(!first.contains("verror::"), "{first}");
}

#[test]
fn forced_off_captures_nothing() {
    let err = VError::builder()
        .message("no trace")
        .backtrace(false)
        .build();
    assert!(err.backtrace().is_none());
    assert!(!format!("{err:?}").contains("Stack backtrace"));
}

#[test]
fn one_backtrace_per_chain() {
    let root = capture_here();
    let mid = VError::builder()
        .cause(root)
        .message("mid")
        .backtrace(true)
        .build();
    assert!(mid.backtrace().is_none(), "the chain already had one");
    let top = Err::<(), _>(mid).context("top").unwrap_err();
    assert!(top.backtrace().is_none());
    let found = verror::find_backtrace(&top).expect("found below");
    assert!(found.to_string().contains("capture_here"));
}

#[test]
fn a_multi_error_finds_the_backtrace_of_any_child() {
    let plain = VError::builder().message("plain").backtrace(false).build();
    let traced = capture_here();
    let agg = VError::builder()
        .errors(vec![plain, traced])
        .backtrace(true)
        .build();
    assert!(
        agg.backtrace().is_none(),
        "its second child holds one already"
    );
    let found = verror::find_backtrace(&agg).expect("the second child's backtrace");
    assert!(found.to_string().contains("capture_here"));
    let report = format!("{agg:?}");
    assert_eq!(report.matches("Stack backtrace:").count(), 1, "{report}");
    // Wrapped again, the chain still knows it has one and captures none.
    let outer = VError::builder()
        .cause(agg)
        .message("outer")
        .backtrace(true)
        .build();
    assert!(outer.backtrace().is_none());
    assert!(verror::find_backtrace(&outer).is_some());
}

#[test]
fn reports_show_the_backtrace_once() {
    let err = VError::wrap(capture_here(), "outer");
    let report = format!("{err:?}");
    assert_eq!(report.matches("Stack backtrace:").count(), 1);
    let json = serde_json::to_value(&err).unwrap();
    assert!(json.get("backtrace").is_none());
    assert!(
        json["cause"]["backtrace"]
            .as_str()
            .unwrap()
            .contains("capture_here")
    );
    // The text read back from JSON is kept as it was.
    let back: VError = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(serde_json::to_value(&back).unwrap(), json);
}

#[test]
fn debug_of_an_unresolved_backtrace_does_not_resolve_it() {
    let err = capture_here();
    let debug = format!("{:?}", err.backtrace().unwrap());
    assert!(debug.contains("unresolved"), "{debug}");
}

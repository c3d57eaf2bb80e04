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

/// Where the environment enables backtraces, a chain's first `VError` captures one and
/// a level over a `VError` never does, even over a chain that holds none. Run in a
/// child process with `RUST_LIB_BACKTRACE=1` (the environment is read once per
/// process, and this process's must not matter).
#[test]
fn the_first_level_of_a_chain_decides() {
    const CHILD: &str = "VERROR_BACKTRACE_CHILD";
    if std::env::var_os(CHILD).is_none() {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["backtraces::the_first_level_of_a_chain_decides", "--exact"])
            .env(CHILD, "1")
            .env("RUST_LIB_BACKTRACE", "1")
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let status = crate::process::wait_bounded(
            &mut child,
            std::time::Duration::from_secs(60),
            "the backtrace child",
        );
        assert!(status.success(), "the child with backtraces on failed");
        return;
    }
    let root = VError::new("root");
    assert!(root.backtrace().is_some(), "a first level captures");
    let io = Err::<(), _>(std::io::Error::other("disk"))
        .context("read")
        .unwrap_err();
    assert!(
        io.backtrace().is_some(),
        "a first level over a foreign error captures"
    );
    let plain = VError::builder().message("none").backtrace(false).build();
    let wrapped = Err::<(), _>(plain).context("outer").unwrap_err();
    let built = VError::builder().cause(wrapped).message("built").build();
    let multi = VError::multi([
        built,
        VError::builder().message("b").backtrace(false).build(),
    ]);
    assert!(
        verror::find_backtrace(&multi).is_none(),
        "no level over a VError captures"
    );
    let forced = VError::builder()
        .cause(multi)
        .message("forced")
        .backtrace(true)
        .build();
    assert!(
        forced.backtrace().is_some(),
        "forcing still captures over a chain without one"
    );
}

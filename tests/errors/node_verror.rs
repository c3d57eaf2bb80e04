//! The behaviour of node-verror's own test suite (tst.verror.js, tst.werror.js,
//! tst.multierror.js, tst.info.js, tst.findcause.js, tst.common.js), made Rust.

use std::error::Error;
use std::io;

use serde_json::json;
use verror::{
    VError, error_for_each, error_from_list, find_cause_by_name, full_stack, has_cause_with_name,
};

fn root() -> io::Error {
    io::Error::other("root cause")
}

/// A WError: a level whose message hides its cause.
fn werror(cause: impl Error + Send + Sync + 'static, message: &'static str) -> VError {
    VError::builder()
        .name("WError")
        .cause(cause)
        .skip_cause_message()
        .message(message)
        .build()
}

#[test]
fn messages_of_nested_verrors() {
    assert_eq!(VError::new("my error").message(), "my error");
    assert_eq!(VError::new("").message(), "");

    let err = VError::wrap(root(), format_args!("proximate cause: {} issues", 3));
    assert_eq!(err.message(), "proximate cause: 3 issues: root cause");
    assert_eq!(err.short_message(), "proximate cause: 3 issues");

    let top = VError::wrap(VError::wrap(root(), "mid"), "top");
    assert_eq!(top.message(), "top: mid: root cause");
    assert_eq!(format!("{top:#}"), top.message());
    assert_eq!(top.to_string(), "top");
}

#[test]
fn empty_short_message_adds_no_colon() {
    // node-verror gives ": root cause" here (its issue #78); we give the cause's message.
    let err = VError::wrap(root(), "");
    assert_eq!(err.message(), "root cause");
    // `{}` of an empty level prints its name, so chain printers show no empty segment.
    assert_eq!(err.to_string(), "VError");
    let outer = VError::wrap(VError::wrap(root(), ""), "outer");
    assert_eq!(outer.message(), "outer: root cause");
}

#[test]
fn werror_messages_stop_at_the_hiding_level() {
    let err = werror(root(), "proximate cause: 3 issues");
    assert_eq!(err.message(), "proximate cause: 3 issues");
    assert!(err.skips_cause_message());
    // The cause stays reachable.
    assert_eq!(err.source().unwrap().to_string(), "root cause");

    // new VError(new WError(new Error('root cause'), 'mid'), 'top') == 'top: mid'
    let top = VError::wrap(werror(root(), "mid"), "top");
    assert_eq!(top.message(), "top: mid");

    // A WError with no message of its own says nothing.
    assert_eq!(werror(root(), "").message(), "");
}

#[test]
fn multierror_messages() {
    let one = VError::multi(vec![VError::new("error one")]);
    assert_eq!(one.message(), "first of 1 error: error one");
    let three = VError::multi(vec![
        VError::new("error one"),
        VError::new("error two"),
        VError::new("error three"),
    ]);
    assert_eq!(three.message(), "first of 3 errors: error one");
    assert_eq!(three.short_message(), "first of 3 errors");
    assert_eq!(three.name(), "MultiError");
    assert_eq!(three.errors().len(), 3);
    assert_eq!(three.source().unwrap().to_string(), "error one");
    // A MultiError inside a chain.
    let top = VError::wrap(three, "batch failed");
    assert_eq!(top.message(), "batch failed: first of 3 errors: error one");
}

#[test]
fn names_default_and_custom() {
    assert_eq!(VError::new("x").name(), "VError");
    assert_eq!(
        VError::builder()
            .name("MyError")
            .message("x")
            .build()
            .name(),
        "MyError"
    );
    // An empty name keeps the default, as node-verror ignores a falsy name.
    assert_eq!(
        VError::builder().name("").message("x").build().name(),
        "VError"
    );
    assert_eq!(VError::multi(vec![VError::new("x")]).name(), "MultiError");
}

#[test]
fn info_merges_outer_keys_first() {
    let e1 = VError::builder()
        .info("errno", "EDEADLK")
        .info("anobject", json!({"hello": "world"}))
        .message("inner")
        .build();
    assert_eq!(verror::info(&e1).get("errno"), Some(&json!("EDEADLK")));

    let e2 = VError::builder()
        .cause(e1)
        .info("anobject", json!({"goodbye": "world"}))
        .info("remote_ip", "127.0.0.1")
        .message("mid")
        .build();
    let e3 = VError::wrap(e2, "outer");

    let info = verror::info(&e3);
    assert_eq!(info.get("errno"), Some(&json!("EDEADLK")));
    assert_eq!(info.get("remote_ip"), Some(&json!("127.0.0.1")));
    // The outer object replaces the nested one whole: no deep merge.
    assert_eq!(info.get("anobject"), Some(&json!({"goodbye": "world"})));
    // Own info is one level only.
    assert!(e3.own_info().is_empty());
    // Outer keys come first.
    assert_eq!(
        info.keys().collect::<Vec<_>>(),
        ["anobject", "remote_ip", "errno"]
    );
}

#[test]
fn info_passes_through_foreign_and_werror_levels() {
    let inner = VError::builder().info("code", 7).message("inner").build();
    let hidden = werror(inner, "hidden");
    let top = VError::builder()
        .info("top", true)
        .cause(hidden)
        .message("top")
        .build();
    let info = verror::info(&top);
    assert_eq!(info.get("code"), Some(&json!(7)));
    assert_eq!(info.get("top"), Some(&json!(true)));
    assert!(verror::info(&root()).is_empty());
}

#[test]
fn multierror_info_follows_its_first_error() {
    let a = VError::builder().info("which", "a").message("a").build();
    let b = VError::builder()
        .info("which", "b")
        .info("only_b", 1)
        .message("b")
        .build();
    let multi = VError::multi(vec![a, b]);
    let info = verror::info(&multi);
    assert_eq!(info.get("which"), Some(&json!("a")));
    assert!(info.get("only_b").is_none());
}

#[test]
fn find_cause_by_name_includes_the_error_itself() {
    let bottom = VError::builder()
        .name("BottomError")
        .cause(root())
        .message("bottom")
        .build();
    let mid = werror(bottom, "mid");
    let top = VError::builder()
        .name("TopError")
        .cause(mid)
        .message("top")
        .build();

    assert_eq!(
        find_cause_by_name(&top, "TopError").unwrap().to_string(),
        "top"
    );
    assert_eq!(
        find_cause_by_name(&top, "WError").unwrap().to_string(),
        "mid"
    );
    assert_eq!(
        find_cause_by_name(&top, "BottomError").unwrap().to_string(),
        "bottom"
    );
    // The foreign root answers to its Rust type's name.
    assert_eq!(
        find_cause_by_name(&top, "io::Error").unwrap().to_string(),
        "root cause"
    );
    assert!(find_cause_by_name(&top, "VError").is_none());
    assert!(has_cause_with_name(&top, "BottomError"));
    assert!(!has_cause_with_name(&top, "NoSuchError"));
    // The first match from the top wins.
    let twice = VError::builder()
        .name("Same")
        .cause(VError::builder().name("Same").message("inner").build())
        .message("outer")
        .build();
    assert_eq!(
        find_cause_by_name(&twice, "Same").unwrap().to_string(),
        "outer"
    );
}

#[test]
fn foreign_names_are_best_effort() {
    let err = VError::wrap("x".parse::<u32>().unwrap_err(), "parse");
    assert!(has_cause_with_name(&err, "ParseIntError"));
    // A plain error given directly has no recorded name.
    assert!(has_cause_with_name(&root(), "Error"));
}

#[test]
fn full_stack_joins_levels() {
    let err = VError::wrap(VError::wrap(root(), "mid"), "top");
    let stack = full_stack(&err);
    let segments: Vec<&str> = stack.split("\ncaused by: ").collect();
    assert_eq!(segments.len(), 3);
    assert!(
        segments[0]
            .starts_with("VError: top: mid: root cause\n    at tests/errors/node_verror.rs:")
    );
    assert!(
        segments[1].starts_with("VError: mid: root cause\n    at tests/errors/node_verror.rs:")
    );
    assert_eq!(segments[2], "io::Error: root cause");
    // Safe on plain errors.
    assert_eq!(full_stack(&root()), "Error: root cause");
}

#[test]
fn full_stack_of_a_multierror_follows_its_first_error() {
    let multi = VError::multi(vec![VError::new("one"), VError::new("two")]);
    let stack = full_stack(&multi);
    assert_eq!(stack.matches("\ncaused by: ").count(), 1);
    assert!(stack.contains("caused by: VError: one"));
    assert!(!stack.contains("two"));
}

#[test]
fn error_from_list_zero_one_many() {
    assert!(error_from_list(Vec::new()).is_none());

    let single = VError::builder().name("Single").message("alone").build();
    let location = single.location().map(|l| l.to_string());
    let back = error_from_list(vec![single]).unwrap();
    assert_eq!(back.name(), "Single");
    assert_eq!(back.location().map(|l| l.to_string()), location);
    assert!(!back.is_multi());

    let many = error_from_list(vec![VError::new("a"), VError::new("b"), VError::new("c")]).unwrap();
    assert!(many.is_multi());
    assert_eq!(many.message(), "first of 3 errors: a");
}

#[test]
fn error_for_each_over_multi_and_plain() {
    let multi = VError::multi(vec![
        VError::new("a"),
        VError::wrap(VError::new("inner"), "b"),
    ]);
    let mut seen = Vec::new();
    error_for_each(&multi, |e| seen.push(format!("{e}")));
    assert_eq!(seen, ["a", "b"]);

    let plain = root();
    let mut seen = Vec::new();
    error_for_each(&plain, |e| seen.push(e.to_string()));
    assert_eq!(seen, ["root cause"]);

    // No recursion into nested MultiErrors.
    let nested = VError::multi(vec![
        VError::multi(vec![VError::new("x"), VError::new("y")]),
        VError::new("z"),
    ]);
    let mut count = 0;
    error_for_each(&nested, |_| count += 1);
    assert_eq!(count, 2);
}

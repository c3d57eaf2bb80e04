//! Bounded by construction: chains [`DEPTH`] levels deep or wide, of every shape, go
//! through every operation (log records included) on a 1 MiB stack; every rendering grows linearly with the
//! chain (checked by size, never by time); JSON stays within its budget and reads back
//! to the same bytes.

use std::error::Error;
use std::fmt::Write as _;
use std::io;

use verror::records::{DEFAULT_MAX_RECORD_BYTES, LogFormat, LogRecord, Severity};
use verror::{ErrorJson, VError};

/// Deep enough that no walk can recurse once per level on [`STACK`]: even a frame of
/// 16 bytes (a return address, aligned) would need 1.1 MiB for the 75,000 `VError`s of
/// [`through_foreign`]'s chain, and 2.3 MiB for a plain one.
const DEPTH: usize = 150_000;

/// The stack the deep chains go through every operation on: half of tokio's default
/// worker stack (2 MiB), in a build without optimizations. (The JSON is nested as
/// deep as its budget allows, 96 levels, and written and read by recursion: at
/// `opt-level` 0 that takes more than 512 KiB.)
const STACK: usize = 1 << 20;

/// Runs `f` on a thread with a [`STACK`] of its own.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(STACK)
        .spawn(f)
        .unwrap()
        .join()
        .expect("no overflow, no panic")
}

/// Counts what a rendering writes without keeping it.
#[derive(Default)]
struct Count(usize);

impl std::fmt::Write for Count {
    fn write_str(&mut self, text: &str) -> std::fmt::Result {
        self.0 += text.len();
        Ok(())
    }
}

fn plain(depth: usize) -> VError {
    let mut e = VError::builder().message("root").backtrace(false).build();
    for _ in 1..depth {
        e = VError::wrap(e, "wrapped");
    }
    e
}

fn nested_multi(depth: usize) -> VError {
    let mut e = VError::builder().message("root").backtrace(false).build();
    for _ in 1..depth {
        e = VError::multi(vec![e]);
    }
    e
}

/// VError under a foreign error under a VError, and so on.
fn through_foreign(depth: usize) -> VError {
    let mut e = VError::builder().message("root").backtrace(false).build();
    for _ in 1..depth / 2 {
        e = VError::wrap(io::Error::other(e), "wrapped");
    }
    e
}

fn wide(children: usize) -> VError {
    VError::multi((0..children).map(|i| {
        VError::builder()
            .message(format!("child {i}"))
            .info("i", i)
            .backtrace(false)
            .build()
    }))
}

/// Every operation of the crate on `err`, each checked for a sane result.
fn every_operation(err: VError, levels: usize) {
    assert!(!err.to_string().is_empty());
    let mut count = Count::default();
    write!(count, "{err:#}").unwrap();
    assert!(count.0 >= levels.min(1000));
    let mut count = Count::default();
    write!(count, "{err:?}").unwrap();
    assert!(count.0 > 0);
    let mut count = Count::default();
    write!(count, "{err:#?}").unwrap();
    assert!(
        count.0 > 0 && count.0 < 1 << 20,
        "{:#?} is bounded: {}",
        "",
        count.0
    );
    let stack = verror::full_stack(&err);
    assert!(stack.len() <= 300 * 1024, "full_stack: {}", stack.len());
    assert!(verror::chain(&err).count() >= 1);
    let _ = verror::info(&err);
    assert!(verror::find_cause::<std::fmt::Error>(&err).is_none());
    assert!(verror::find_cause_by_name(&err, "NoSuchName").is_none());
    // The environment may turn backtraces on: then the first wrap holds one.
    let _ = verror::find_backtrace(&err);
    let public = verror::public_view(&err);
    assert!(serde_json::to_string(&public).unwrap().len() < 1 << 20);
    let json = serde_json::to_string(&err).unwrap();
    assert!(
        json.len() <= 1 << 20,
        "JSON within its default budget: {}",
        json.len()
    );
    let back: VError = serde_json::from_str(&json).expect("what we write reads back");
    assert_eq!(
        serde_json::to_string(&back).unwrap(),
        json,
        "and writes the same bytes"
    );
    drop(back);
    // Every log record shape, within its cap.
    let record = LogRecord::new(Severity::Error, "request failed");
    for format in LogFormat::ALL {
        let line = record.with_error(format, Some(&err)).to_json_line();
        assert!(
            line.len() <= DEFAULT_MAX_RECORD_BYTES,
            "{format:?}: {}",
            line.len()
        );
        let _: serde_json::Value = serde_json::from_str(&line).expect("a record is JSON");
    }
    drop(err);
}

#[test]
fn deep_plain_levels_on_a_small_stack() {
    on_small_stack(|| every_operation(plain(DEPTH), DEPTH));
}

#[test]
fn deeply_nested_multi_errors_on_a_small_stack() {
    on_small_stack(|| every_operation(nested_multi(DEPTH), DEPTH));
}

#[test]
fn deep_levels_through_foreign_errors_on_a_small_stack() {
    on_small_stack(|| every_operation(through_foreign(DEPTH), DEPTH));
}

#[test]
fn wide_multi_errors_on_a_small_stack() {
    on_small_stack(|| every_operation(wide(DEPTH), 2));
}

#[test]
fn wrapping_in_a_loop_with_a_backtrace_below_stays_linear() {
    // Each wrap asks whether the chain below holds a backtrace: the answer is a flag,
    // not a walk, so wrapping a traced root `DEPTH` times finishes like untraced ones.
    on_small_stack(|| {
        let mut e = VError::builder().message("root").backtrace(true).build();
        for _ in 0..DEPTH {
            e = VError::builder()
                .cause(e)
                .message("w")
                .backtrace(true)
                .build();
        }
        assert!(e.backtrace().is_none());
        assert!(verror::find_backtrace(&e).is_some());
    });
}

/// The size of a chain's input: every level's name, message and location.
fn input_bytes(err: &(dyn Error + 'static)) -> usize {
    verror::chain(err)
        .map(|e| match e.downcast_ref::<VError>() {
            Some(v) => v.name().len() + v.short_message().len() + 40,
            None => e.to_string().len() + 8,
        })
        .sum()
}

/// Each rendering's size over the input's, at three depths.
fn ratios(make: fn(usize) -> VError) -> Vec<[f64; 6]> {
    [1_000, 10_000, 100_000]
        .into_iter()
        .map(|depth| {
            let err = make(depth);
            let input = input_bytes(&err).max(1) as f64;
            let size = |f: &dyn Fn(&mut Count)| {
                let mut count = Count::default();
                f(&mut count);
                count.0 as f64 / input
            };
            [
                size(&|c| write!(c, "{err:#}").unwrap()),
                size(&|c| write!(c, "{err:?}").unwrap()),
                size(&|c| write!(c, "{err:#?}").unwrap()),
                size(&|c| c.0 = verror::full_stack(&err).len()),
                size(&|c| c.0 = serde_json::to_string(&err).unwrap().len()),
                size(&|c| {
                    c.0 = serde_json::to_string(&verror::public_view(&err))
                        .unwrap()
                        .len()
                }),
            ]
        })
        .collect()
}

#[test]
fn every_rendering_grows_linearly_with_the_chain() {
    for make in [plain as fn(usize) -> VError, nested_multi, through_foreign] {
        let ratios = on_small_stack(move || ratios(make));
        for column in 0..6 {
            let (small, large) = (ratios[0][column], ratios[2][column]);
            assert!(
                large <= small * 1.25 + 0.01,
                "rendering {column} grew faster than the chain: {ratios:?}"
            );
            assert!(
                large < 64.0,
                "rendering {column} is a bounded multiple: {ratios:?}"
            );
        }
    }
}

#[test]
fn huge_strings_and_wide_errors_fit_the_budget_and_read_back() {
    let big = VError::builder()
        .name("Big")
        .info("blob", "y".repeat(2 << 20))
        .message("x".repeat(10 << 20))
        .backtrace(false)
        .build();
    let wide = wide(DEPTH);
    for budget in [4096, 64 << 10, 1 << 20] {
        for err in [&big, &wide] {
            let json = serde_json::to_string(&ErrorJson::new(err).max_bytes(budget)).unwrap();
            assert!(json.len() <= budget, "{} > {budget}", json.len());
            let back: VError = serde_json::from_str(&json).unwrap();
            let again = serde_json::to_string(&ErrorJson::new(&back).max_bytes(budget)).unwrap();
            assert_eq!(again, json);
        }
    }
    let json: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&big).unwrap()).unwrap();
    let short = json["short_message"].as_str().unwrap();
    assert!(
        short.starts_with("xxxx") && short.ends_with(" bytes cut]"),
        "{}",
        &short[short.len() - 40..]
    );

    let json: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&wide).unwrap()).unwrap();
    let children = json["errors"].as_array().unwrap();
    let last = children.last().unwrap();
    assert_eq!(last["name"], "Truncated");
    let left: usize = last["short_message"]
        .as_str()
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        left + children.len() - 1,
        DEPTH,
        "the marker counts what it stands for"
    );
}

#[test]
fn deep_chains_end_with_a_marker_that_counts_the_rest() {
    let err = plain(10_000);
    let json = serde_json::to_string(&ErrorJson::new(&err).max_depth(20)).unwrap();
    let back: VError = serde_json::from_str(&json).unwrap();
    let levels: Vec<&(dyn Error + 'static)> = verror::chain(&back).collect();
    let last = levels.last().unwrap().downcast_ref::<VError>().unwrap();
    assert_eq!(last.name(), "Truncated");
    let kept = levels.len() - 1;
    assert_eq!(
        last.short_message(),
        format!("{} more levels", 10_000 - kept)
    );
    // The root's message is the story of the levels as written.
    assert!(format!("{back:#}").ends_with(&format!("wrapped: {} more levels", 10_000 - kept)));
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["message"].as_str().unwrap(), format!("{back:#}"));
}

#[test]
fn ordinary_errors_are_written_exactly() {
    let err = VError::builder()
        .name("ConfigError")
        .info("path", "/etc/app.toml")
        .info("list", (0..200).collect::<Vec<_>>())
        .cause(io::Error::other("denied"))
        .message("bad config")
        .build();
    let json = serde_json::to_value(&err).unwrap();
    assert_eq!(json["short_message"], "bad config");
    assert_eq!(json["info"]["list"].as_array().unwrap().len(), 200);
    assert_eq!(json["cause"]["short_message"], "denied");
    assert!(!json.to_string().contains("Truncated"));
}

#[test]
fn reading_many_keys_is_linear() {
    // 100,000 info keys and as many sensitive keys: read in one pass each.
    let mut text = String::from(r#"{"name":"Wide","short_message":"m","info":{"#);
    for i in 0..100_000 {
        write!(text, r#""k{i}":{i},"#).unwrap();
    }
    text.pop();
    text.push_str(r#"},"sensitive":["#);
    for i in 0..100_000 {
        write!(text, r#""k{i}","#).unwrap();
    }
    text.pop();
    text.push_str("]}");
    let err: VError = serde_json::from_str(&text).unwrap();
    assert_eq!(err.own_info().len(), 100_000);
    assert!(err.own_info().is_sensitive("k99999"));
    assert_eq!(verror::info(&err).len(), 100_000);
}

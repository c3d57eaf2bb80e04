//! verror against anyhow, eyre and error-stack, on the same work, in one run.
//!
//! Backtraces off on every side (the default run; where `RUST_BACKTRACE` is set, with
//! `RUST_LIB_BACKTRACE=0`, which the bench checks):
//!
//! ```text
//! RUST_LIB_BACKTRACE=0 cargo bench -p verror-benchmarks --bench errors -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! Backtraces on (a separate process, since every side reads the environment once per
//! process; only the `backtrace` group runs):
//!
//! ```text
//! RUST_LIB_BACKTRACE=1 cargo bench -p verror-benchmarks --bench errors -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! Groups (criterion shows each group's functions side by side):
//! - `create`: one error with a formatted message;
//! - `wrap3`: an `io::Error` wrapped in 3 levels of formatted context;
//! - `alternate`: `{:#}` of that 3-level chain into a fresh `String`;
//! - `json`: that chain as a JSON string (verror: `ErrorJson::to_json`, and the same
//!   text through serde as `verror-serde`; anyhow/eyre: their `chain()` messages as a
//!   JSON list; error-stack: its own `serde` serializer);
//! - `backtrace` (backtrace run only): creating a `VError` that captures a backtrace
//!   against `std::backtrace::Backtrace::force_capture()`.

use std::fmt;
use std::hint::black_box;

use criterion::Criterion;
use verror_benchmarks::{
    Msg, PATH, anyhow_chain, error_stack_chain, eyre_chain, messages, verror_chain,
};

/// A static error-stack context, for its idiomatic `Report::new(ctx).attach(..)`.
#[derive(Debug)]
struct ConfigError;

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("config error")
    }
}

impl std::error::Error for ConfigError {}

fn create(c: &mut Criterion) {
    let mut group = c.benchmark_group("create");
    group.bench_function("verror", |b| {
        b.iter(|| {
            verror::verror!(
                "frame {} rejected by peer {}",
                black_box(7u32),
                black_box("10.0.0.1")
            )
        })
    });
    group.bench_function("anyhow", |b| {
        b.iter(|| {
            anyhow::anyhow!(
                "frame {} rejected by peer {}",
                black_box(7u32),
                black_box("10.0.0.1")
            )
        })
    });
    group.bench_function("eyre", |b| {
        b.iter(|| {
            eyre::eyre!(
                "frame {} rejected by peer {}",
                black_box(7u32),
                black_box("10.0.0.1")
            )
        })
    });
    group.bench_function("error-stack", |b| {
        b.iter(|| {
            error_stack::Report::new(Msg(format!(
                "frame {} rejected by peer {}",
                black_box(7u32),
                black_box("10.0.0.1")
            )))
        })
    });
    // error-stack's other idiom: a static context plus a formatted attachment.
    group.bench_function("error-stack-attach", |b| {
        b.iter(|| {
            error_stack::Report::new(ConfigError).attach(format!(
                "frame {} rejected by peer {}",
                black_box(7u32),
                black_box("10.0.0.1")
            ))
        })
    });
    group.finish();
}

fn wrap3(c: &mut Criterion) {
    let mut group = c.benchmark_group("wrap3");
    let args = || (black_box(PATH), black_box(3u32), black_box(12u32));
    group.bench_function("verror", |b| {
        b.iter(|| {
            let (p, s, w) = args();
            verror_chain(p, s, w)
        })
    });
    group.bench_function("anyhow", |b| {
        b.iter(|| {
            let (p, s, w) = args();
            anyhow_chain(p, s, w)
        })
    });
    group.bench_function("eyre", |b| {
        b.iter(|| {
            let (p, s, w) = args();
            eyre_chain(p, s, w)
        })
    });
    group.bench_function("error-stack", |b| {
        b.iter(|| {
            let (p, s, w) = args();
            error_stack_chain(p, s, w)
        })
    });
    group.finish();
}

/// `{:#}` into a fresh `String`, as `err.to_string()`-style callers get it.
fn alternate(c: &mut Criterion) {
    let verror = verror_chain(PATH, 3, 12);
    let anyhow = anyhow_chain(PATH, 3, 12);
    let eyre = eyre_chain(PATH, 3, 12);
    let error_stack = error_stack_chain(PATH, 3, 12);
    let expected = "worker 12 failed to start: failed to load shard 3: \
                    failed to read config /etc/app/config.toml: \
                    /etc/app/config.toml: no such file or directory";
    assert_eq!(format!("{verror:#}"), expected);
    assert_eq!(format!("{anyhow:#}"), expected);
    assert_eq!(format!("{eyre:#}"), expected);
    assert_eq!(format!("{error_stack:#}"), expected);

    let mut group = c.benchmark_group("alternate");
    group.bench_function("verror", |b| b.iter(|| format!("{:#}", black_box(&verror))));
    group.bench_function("anyhow", |b| b.iter(|| format!("{:#}", black_box(&anyhow))));
    group.bench_function("eyre", |b| b.iter(|| format!("{:#}", black_box(&eyre))));
    group.bench_function("error-stack", |b| {
        b.iter(|| format!("{:#}", black_box(&error_stack)))
    });
    group.finish();
}

/// What anyhow and eyre users do for JSON: their chains' messages as a list.
fn json(c: &mut Criterion) {
    let verror = verror_chain(PATH, 3, 12);
    let anyhow = anyhow_chain(PATH, 3, 12);
    let eyre = eyre_chain(PATH, 3, 12);
    let error_stack = error_stack_chain(PATH, 3, 12);
    let text = verror::ErrorJson::new(&verror).to_json();
    assert_eq!(text, serde_json::to_string(&verror).unwrap());
    let sizes = [
        ("verror", text.len()),
        ("anyhow", messages(anyhow.chain()).len()),
        ("eyre", messages(eyre.chain()).len()),
        (
            "error-stack",
            serde_json::to_string(&error_stack).unwrap().len(),
        ),
    ]
    .map(|(name, len)| format!("{name} {len} B"));
    eprintln!("json sizes: {}", sizes.join(", "));

    let mut group = c.benchmark_group("json");
    group.bench_function("verror", |b| {
        b.iter(|| verror::ErrorJson::new(black_box(&verror)).to_json())
    });
    group.bench_function("verror-serde", |b| {
        b.iter(|| serde_json::to_string(black_box(&verror)).unwrap())
    });
    group.bench_function("anyhow", |b| {
        b.iter(|| messages(black_box(&anyhow).chain()))
    });
    group.bench_function("eyre", |b| b.iter(|| messages(black_box(&eyre).chain())));
    group.bench_function("error-stack", |b| {
        b.iter(|| serde_json::to_string(black_box(&error_stack)).unwrap())
    });
    group.finish();
}

/// Backtraces on: verror's creation (message, record, capture) against the bare
/// capture of std's `Backtrace::force_capture()`.
fn backtrace(c: &mut Criterion) {
    let probe = verror::verror!("probe");
    assert!(
        probe.backtrace().is_some(),
        "the backtrace run must capture"
    );
    let mut group = c.benchmark_group("backtrace");
    group.bench_function("verror", |b| {
        b.iter(|| {
            verror::verror!(
                "frame {} rejected by peer {}",
                black_box(7u32),
                black_box("10.0.0.1")
            )
        })
    });
    group.bench_function("std-force_capture", |b| {
        b.iter(std::backtrace::Backtrace::force_capture)
    });
    group.bench_function("anyhow", |b| {
        b.iter(|| {
            anyhow::anyhow!(
                "frame {} rejected by peer {}",
                black_box(7u32),
                black_box("10.0.0.1")
            )
        })
    });
    group.finish();
}

fn main() {
    // Every side reads the environment as std does (RUST_LIB_BACKTRACE, then
    // RUST_BACKTRACE), once per process; `RUST_LIB_BACKTRACE=1` asks for this run.
    let backtrace_run = std::env::var_os("RUST_LIB_BACKTRACE").is_some_and(|v| v != "0");

    let mut c = Criterion::default().configure_from_args();
    if backtrace_run {
        backtrace(&mut c);
    } else {
        let captures = verror::verror!("probe").backtrace().is_some()
            || anyhow::anyhow!("probe").backtrace().status()
                != std::backtrace::BacktraceStatus::Disabled;
        assert!(
            !captures,
            "backtraces are on (RUST_BACKTRACE is set?): run with RUST_LIB_BACKTRACE=0"
        );
        create(&mut c);
        wrap3(&mut c);
        alternate(&mut c);
        json(&mut c);
    }
    c.final_summary();
}

//! Profiling driver for `benchmarks/benches/errors.rs` (see BENCHMARKS.md, "Errors"):
//! one operation N times, for instruction counts under callgrind, or `paired` for time
//! ratios measured in alternating blocks, which a shared machine's drifting load does
//! not skew.
//!
//! ```text
//! cargo build --release -p verror-benchmarks --bin profile_errors
//! RUST_LIB_BACKTRACE=0 target/release/profile_errors paired
//! RUST_LIB_BACKTRACE=0 valgrind --tool=callgrind target/release/profile_errors json 10000
//! ```
//!
//! OP: `create`, `wrap3`, `alternate`, `json` (verror's `ErrorJson::to_json`),
//! `json-serde` (the same text through serde, `serde_json::to_string`); `anyhow-create`, `anyhow-wrap3`,
//! `anyhow-alternate`, `anyhow-json`, `error-stack-json`; `none` (the baseline to
//! subtract from a count); `show` prints the chain; `paired` times the pairs.

use std::hint::black_box;
use std::time::Instant;

use verror::VError;

use verror_benchmarks::{Msg, PATH, anyhow_chain, error_stack_chain, messages, verror_chain};

/// One operation, `n` times.
struct Errors {
    v: VError,
    a: anyhow::Error,
    es: error_stack::Report<Msg>,
}

fn run(op: &str, n: usize, e: &Errors) {
    let (v, a) = (&e.v, &e.a);
    for _ in 0..n {
        match op {
            "create" => drop(black_box(verror::verror!(
                "frame {} rejected by peer {}",
                black_box(7u32),
                black_box("10.0.0.1")
            ))),
            "anyhow-create" => drop(black_box(anyhow::anyhow!(
                "frame {} rejected by peer {}",
                black_box(7u32),
                black_box("10.0.0.1")
            ))),
            "wrap3" => drop(black_box(verror_chain(
                black_box(PATH),
                black_box(3),
                black_box(12),
            ))),
            "anyhow-wrap3" => drop(black_box(anyhow_chain(
                black_box(PATH),
                black_box(3),
                black_box(12),
            ))),
            "alternate" => drop(black_box(format!("{:#}", black_box(v)))),
            "anyhow-alternate" => drop(black_box(format!("{:#}", black_box(a)))),
            "json" => drop(black_box(verror::ErrorJson::new(black_box(v)).to_json())),
            "json-serde" => drop(black_box(serde_json::to_string(black_box(v)).unwrap())),
            "anyhow-json" => drop(black_box(messages(black_box(a).chain()))),
            "error-stack-json" => drop(black_box(serde_json::to_string(black_box(&e.es)).unwrap())),
            _ => return,
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let op = args.next().unwrap_or_else(|| "show".to_owned());
    let n: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let e = Errors {
        v: verror_chain(PATH, 3, 12),
        a: anyhow_chain(PATH, 3, 12),
        es: error_stack_chain(PATH, 3, 12),
    };
    let v = &e.v;
    match op.as_str() {
        "show" => println!("{}\n{v:#}\n{v:?}", serde_json::to_string(&v).unwrap()),
        "paired" => {
            // Alternating blocks of each side; the median of the per-round ratios.
            let pairs = [
                ("create", "anyhow-create"),
                ("wrap3", "anyhow-wrap3"),
                ("alternate", "anyhow-alternate"),
                ("json", "anyhow-json"),
                ("json", "error-stack-json"),
                ("json-serde", "error-stack-json"),
            ];
            for (op, theirs) in pairs {
                let mut ratios = Vec::new();
                let (mut ours_ns, mut theirs_ns) = (Vec::new(), Vec::new());
                for _ in 0..101 {
                    let t = Instant::now();
                    run(op, 2000, &e);
                    let ours = t.elapsed().as_nanos() as f64 / 2000.0;
                    let t = Instant::now();
                    run(theirs, 2000, &e);
                    let them = t.elapsed().as_nanos() as f64 / 2000.0;
                    ratios.push(ours / them);
                    ours_ns.push(ours);
                    theirs_ns.push(them);
                }
                let median = |v: &mut Vec<f64>| {
                    v.sort_by(f64::total_cmp);
                    v[v.len() / 2]
                };
                println!(
                    "{op:10} verror {:7.1} ns  {theirs:17} {:7.1} ns  median ratio {:.2}",
                    median(&mut ours_ns),
                    median(&mut theirs_ns),
                    median(&mut ratios)
                );
            }
        }
        op => run(op, n, &e),
    }
}

//! The tests that count heap allocations with `dhat`. Its global allocator and its
//! profiler are process-wide, so this binary has no test harness
//! (`harness = false` in Cargo.toml): its tests run one after the other on the
//! main thread, with nothing else allocating beside them.
//!
//! Arguments as the test harness takes them: name filters (`--exact` for whole
//! names; the heap tests re-run this binary so, with a role, for their child
//! process) `--skip NAME` and `--list`; other flags are ignored.

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

mod allocations;
#[cfg(all(feature = "server", feature = "tracing"))]
mod leaks;
#[cfg(all(feature = "server", feature = "tracing"))]
mod memory;
#[cfg(all(feature = "server", feature = "tracing"))]
#[path = "../support/mod.rs"]
mod support;

/// Every test of this binary, by its full name.
const TESTS: &[(&str, fn())] = &[
    (
        "allocations::allocations_per_construction",
        allocations::allocations_per_construction,
    ),
    (
        "allocations::json_text_in_one_allocation",
        allocations::json_text_in_one_allocation,
    ),
    #[cfg(all(feature = "server", feature = "tracing"))]
    (
        memory::TEST,
        memory::a_flood_of_header_only_connections_costs_at_most_16_kib_of_heap_each,
    ),
    #[cfg(all(feature = "server", feature = "tracing"))]
    (
        leaks::TEST,
        leaks::after_a_mixed_run_the_live_heap_returns_to_its_baseline,
    ),
];

fn main() {
    let mut filters = Vec::new();
    let mut skips = Vec::new();
    let mut exact = false;
    let mut list = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--exact" => exact = true,
            "--list" => list = true,
            "--skip" => skips.extend(args.next()),
            // The harness's options that take a value as the next argument.
            "--test-threads" | "--format" | "--color" | "--logfile" | "-Z" => {
                args.next();
            }
            flag if flag.starts_with('-') => {}
            _ => filters.push(arg),
        }
    }
    let matches = |name: &str, pattern: &String| {
        if exact {
            name == pattern
        } else {
            name.contains(pattern.as_str())
        }
    };
    for (name, test) in TESTS {
        let selected = filters.is_empty() || filters.iter().any(|f| matches(name, f));
        if !selected || skips.iter().any(|s| matches(name, s)) {
            continue;
        }
        if list {
            println!("{name}: test");
        } else {
            println!("test {name} ...");
            test();
            println!("test {name} ... ok");
        }
    }
}

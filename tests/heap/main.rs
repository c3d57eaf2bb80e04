//! The tests that count heap allocations with `dhat`. Its global allocator and its
//! profiler are process-wide, so this binary has no test harness
//! (`harness = false` in Cargo.toml): its tests run one after the other on the
//! main thread, with nothing else allocating beside them.
//!
//! Arguments as the test harness takes them: a name filter (`--exact` for a
//! whole name; the reliability tests re-run this binary so, with a role, for
//! their child process); other flags are ignored.

#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

mod allocations;
#[cfg(feature = "server")]
mod leaks;
#[cfg(feature = "server")]
mod memory;
#[cfg(feature = "server")]
#[path = "../support/mod.rs"]
mod support;

/// Every test of this binary, by its full name.
const TESTS: &[(&str, fn())] = &[
    (
        "allocations::allocations_per_construction",
        allocations::allocations_per_construction,
    ),
    #[cfg(feature = "server")]
    (
        memory::TEST,
        memory::a_flood_of_header_only_connections_costs_at_most_16_kib_of_heap_each,
    ),
    #[cfg(feature = "server")]
    (
        leaks::TEST,
        leaks::after_a_mixed_run_the_live_heap_returns_to_its_baseline,
    ),
];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let exact = args.iter().any(|arg| arg == "--exact");
    let filter = args.iter().find(|arg| !arg.starts_with('-'));
    for (name, test) in TESTS {
        let selected = match filter {
            None => true,
            Some(filter) if exact => name == filter,
            Some(filter) => name.contains(filter.as_str()),
        };
        if selected {
            println!("test {name} ...");
            test();
            println!("test {name} ... ok");
        }
    }
}

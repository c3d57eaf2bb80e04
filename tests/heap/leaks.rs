//! No leaks: once every connection of a mixed run (good traffic and each fault)
//! has closed, the server's live heap is back where it was.
//!
//! The server runs in this process under `dhat`'s heap profiler; the traffic
//! comes from a child process (this test binary, re-run with a role), so the
//! heap counted is the server's alone. The same mixed run is played four times.
//! The first leaves the one-time lazies behind (their size is printed); after
//! each later run, with every connection closed, the live heap must be back at
//! the value it had after the first, to the byte and to the block.
//!
//! No `tracing` subscriber is installed: the server builds, reports and drops
//! every error all the same, but a `LogLayer` keeps per-thread scratch space
//! (the fields of the last record each thread wrote, buffers as long as its
//! longest line) whose size depends on which thread logged what last; that is
//! bounded, not a leak, and it would make an exact comparison flaky.
//!
//! The allocator and the profiler are process-wide: see `main.rs`.
#![cfg(all(feature = "server", feature = "tracing"))]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use crate::support;
use crate::support::*;
use verror::server::{FailureKind, Stats, Summary};

/// This test's full name, for `main` and for the child process that re-runs it.
pub const TEST: &str = "leaks::after_a_mixed_run_the_live_heap_returns_to_its_baseline";

/// Good connections in a run, and the frames each pipelines.
const GOOD: usize = 8;
const FRAMES: usize = 100;
/// Connections of each fault in a run.
const EACH_FAULT: usize = 2;
/// Runs: the first to leave the lazies behind, then the ones checked.
const RUNS: usize = 4;

pub fn after_a_mixed_run_the_live_heap_returns_to_its_baseline() {
    if role().as_deref() == Some("mixed") {
        return mixed_run();
    }
    let (_profiler, runtime) = profiled_runtime();
    let server = runtime
        .block_on(
            support::builder()
                // The slow faults end when it fires: short, as in the other fault tests.
                .frame_timeout(Duration::from_millis(100))
                .bind(support::echo()),
        )
        .expect("bind");
    let addr = server.local_addr();
    let stats = server.stats();
    let stop = server.shutdown_token();
    let serving = runtime.spawn(server.serve());

    // Allocated before the first reading, so the readings do not count it.
    let mut after = Vec::with_capacity(RUNS);
    let before = settled_heap(runtime.handle(), BOUND);
    for run in 1..=RUNS {
        let mut traffic = ChildProcess::spawn(
            TEST,
            "mixed",
            &[("MIXED_ADDR", addr.to_string())],
            None,
            false,
        );
        let status = traffic.finish(BOUND);
        assert!(status.success(), "run {run}: the traffic failed");
        // The test's own handle on the child (its output lines) goes too.
        drop(traffic);
        wait_for(&stats, run as u64);
        after.push(settled_heap(runtime.handle(), BOUND));
    }

    let lazies = &after[0];
    println!(
        "the first run changed the live heap by {:+} bytes, {:+} blocks (one-time effects)",
        lazies.curr_bytes as i64 - before.curr_bytes as i64,
        lazies.curr_blocks as i64 - before.curr_blocks as i64
    );
    for (run, heap) in after.iter().enumerate().skip(1) {
        println!(
            "after run {}: {} bytes in {} blocks live ({:+} bytes, {:+} blocks)",
            run + 1,
            heap.curr_bytes,
            heap.curr_blocks,
            heap.curr_bytes as i64 - lazies.curr_bytes as i64,
            heap.curr_blocks as i64 - lazies.curr_blocks as i64,
        );
    }
    for (run, heap) in after.iter().enumerate().skip(1) {
        assert_eq!(
            (heap.curr_bytes, heap.curr_blocks),
            (lazies.curr_bytes, lazies.curr_blocks),
            "run {}: the live heap (bytes, blocks) is not back to its baseline",
            run + 1
        );
    }

    stop.cancel();
    let summary = runtime.block_on(serving).expect("the server task");
    check_counts(&summary, RUNS as u64);
}

/// One run's faults, by kind.
fn faults_per_run() -> BTreeMap<Fault, u64> {
    Fault::ALL
        .iter()
        .map(|&fault| (fault, EACH_FAULT as u64))
        .collect()
}

/// Frames answered in one run: the good ones, and the good frame every fault
/// but garbage sends first.
fn frames_per_run() -> u64 {
    let before_fault = Fault::ALL.iter().filter(|&&f| good_frame_first(f)).count();
    (GOOD * FRAMES + before_fault * EACH_FAULT) as u64
}

fn check_counts(summary: &Summary, runs: u64) {
    let expected: BTreeMap<FailureKind, u64> = expected_errors(&faults_per_run())
        .into_iter()
        .map(|(kind, n)| (kind, n * runs))
        .collect();
    assert_eq!(summary.errors, expected, "{summary}");
    assert_eq!(summary.frames, frames_per_run() * runs, "{summary}");
    assert_eq!(
        summary.connections,
        ((GOOD + EACH_FAULT * Fault::ALL.len()) as u64) * runs,
        "{summary}"
    );
}

/// Waits until the server has counted everything of `runs` runs: every frame
/// answered, every fault's error reported (a reset is seen after the peer left).
fn wait_for(stats: &Stats, runs: u64) {
    let expected_errors: u64 = faults_per_run().values().sum::<u64>() * runs;
    let summary = wait_until(|| {
        let summary = stats.snapshot();
        if summary.frames == frames_per_run() * runs && summary.error_count() == expected_errors {
            Ok(summary)
        } else {
            Err(format!(
                "the server's counts never reached run {runs}'s: {summary}"
            ))
        }
    });
    check_counts(&summary, runs);
}

/// The child's side: one mixed run, all at once: `GOOD` connections of
/// `FRAMES` pipelined frames, each checked by content, and `EACH_FAULT`
/// connections of every fault, each checked for the error it earns.
fn mixed_run() {
    let addr: SocketAddr = child_env("MIXED_ADDR");
    runtime(2).block_on(async {
        let mut tasks = Vec::new();
        for conn in 0..GOOD {
            tasks.push(tokio::spawn(async move {
                good_connection(addr, conn, FRAMES).await;
            }));
        }
        for fault in Fault::ALL {
            for seed in 0..EACH_FAULT {
                tasks.push(tokio::spawn(inject(addr, fault, seed)));
            }
        }
        for task in tasks {
            tokio::time::timeout(BOUND, task)
                .await
                .expect("a connection of the run hung")
                .expect("a connection of the run failed");
        }
    });
}

//! Load with faults: good connections pipelining frames while bad connections
//! commit every fault at once. Every good frame is answered exactly once with
//! its own bytes, the server stays up, and the errors it logs, by kind, are
//! exactly the faults injected.
//!
//! Which error each fault earns: the faults are the library's
//! `verror::server::Fault` (its bytes, names as `verror load --fault`),
//! committed by `inject` in `tests/support`, after a good frame in the
//! same write (all but garbage), and composed there for two of them (the
//! slow payload trickles, the reset waits for the good frame's answer):
//!
//! | fault | what the bad connection sends | error kind |
//! |---|---|---|
//! | oversized | a good frame, then a header declaring `u32::MAX` and 1 KiB | `oversized` |
//! | garbage | an HTTP request (its first 4 bytes, as a header, declare 1 195 725 856) | `oversized` |
//! | truncated-header | a good frame, then 2 header bytes, then FIN | `truncated_header` |
//! | truncated-payload | a good frame, then 10 of 100 payload bytes, then FIN | `truncated_payload` |
//! | slow-header | a good frame, then 2 header bytes, then silence | `frame_timeout` |
//! | slow-payload | a good frame, then 10 of 100 payload bytes, then a byte per 50 ms | `frame_timeout` |
//! | reset | a good frame, then 10 of 100 payload bytes, then RST once answered | `reset` |
//!
//! Every fault but the reset is answered with that error (checked by each bad
//! connection), then closed.
//!
//! `the_full_load_with_faults` is the full version, ignored by default: run it
//! with `cargo test --release --all-features --test reliability load --
//! --ignored --nocapture`; `LOAD_GOOD`, `LOAD_FRAMES` and `LOAD_BAD_EACH`
//! change its size. `scripts/load_faults.sh` runs the same load with the
//! `verror` program (`serve`, and `load` clients).
#![cfg(all(feature = "server", feature = "tracing"))]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::support::*;
use verror::server::FailureKind;

/// The size of a run.
struct Plan {
    /// Good connections, and the frames each pipelines.
    good: usize,
    frames: usize,
    /// Bad connections of each fault at once. Each commits its fault at least
    /// once, and with `repeat`, again and again until the good traffic is done.
    bad_each: usize,
    repeat: bool,
    /// The server's frame timeout: how long a slow fault lasts.
    frame_timeout: Duration,
}

#[test]
fn good_traffic_is_answered_exactly_while_every_fault_is_injected() {
    run(&Plan {
        good: 20,
        frames: 200,
        bad_each: 20,
        repeat: false,
        frame_timeout: Duration::from_secs(1),
    });
}

#[test]
#[ignore = "the full load: cargo test --release --all-features --test reliability load -- --ignored"]
fn the_full_load_with_faults() {
    let env = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    run(&Plan {
        good: env("LOAD_GOOD", 200),
        frames: env("LOAD_FRAMES", 1000),
        bad_each: env("LOAD_BAD_EACH", 30),
        repeat: true,
        frame_timeout: Duration::from_secs(2),
    });
}

fn run(plan: &Plan) {
    let (runtime, logs) = logged_runtime(2);
    let started = Instant::now();
    let (summary, answered, faults, elapsed) = runtime.block_on(async {
        let server = start(
            builder()
                .frame_timeout(plan.frame_timeout)
                .max_connections(4 * (plan.good + Fault::ALL.len() * plan.bad_each) + 16)
                .backlog(4096),
            echo(),
        )
        .await;
        let addr = server.addr;
        let good_done = Arc::new(AtomicBool::new(false));

        let good: Vec<_> = (0..plan.good)
            .map(|conn| tokio::spawn(good_connection(addr, conn, plan.frames)))
            .collect();
        let mut bad = Vec::new();
        for fault in Fault::ALL {
            for slot in 0..plan.bad_each {
                let good_done = Arc::clone(&good_done);
                let repeat = plan.repeat;
                bad.push(tokio::spawn(async move {
                    let mut committed = 0u64;
                    loop {
                        inject(addr, fault, slot * 1_000_003 + committed as usize).await;
                        committed += 1;
                        if !repeat || good_done.load(Ordering::Relaxed) {
                            return (fault, committed);
                        }
                    }
                }));
            }
        }

        let mut answered = 0;
        for task in good {
            answered += task.await.expect("a good connection failed");
        }
        let elapsed = started.elapsed();
        good_done.store(true, Ordering::Relaxed);
        let mut faults: BTreeMap<Fault, u64> = BTreeMap::new();
        for task in bad {
            let (fault, n) = task.await.expect("a bad connection did not get its answer");
            *faults.entry(fault).or_insert(0) += n;
        }

        // Still up: a newcomer is served.
        let mut probe = connect(addr).await;
        assert_eq!(probe.request(b"still up").await.unwrap(), "still up");
        drop(probe);
        (server.stop().await, answered, faults, elapsed)
    });

    let injected: u64 = faults.values().sum();
    println!(
        "{} good connections x {} pipelined frames: {answered} frames answered, each once and \
         by content, in {:.2} s ({:.0} frames/s) while {} bad connections at once injected \
         {injected} faults {:?}",
        plan.good,
        plan.frames,
        elapsed.as_secs_f64(),
        answered as f64 / elapsed.as_secs_f64(),
        Fault::ALL.len() * plan.bad_each,
        faults
            .iter()
            .map(|(f, n)| (f.as_str(), *n))
            .collect::<BTreeMap<_, _>>(),
    );
    println!("server: {summary}");

    assert_eq!(answered, (plan.good * plan.frames) as u64);
    let expected = expected_errors(&faults);
    assert_eq!(summary.errors, expected, "errors by kind: {summary}");
    assert_eq!(logs.by_kind(), expected, "log lines by kind");
    // Every fault but garbage is preceded by a good frame; then the probe's.
    let before_fault: u64 = faults
        .iter()
        .filter(|&(&f, _)| good_frame_first(f))
        .map(|(_, n)| n)
        .sum();
    assert_eq!(summary.frames, answered + before_fault + 1, "{summary}");
    assert_eq!(
        summary.connections,
        plan.good as u64 + injected + 1,
        "{summary}"
    );
    assert_eq!(summary.rejected, 0, "{summary}");
    assert!(summary.shutdown_error.is_none(), "{summary}");
    assert_eq!(
        summary.errors_of(FailureKind::Oversized),
        faults.get(&Fault::Oversized).copied().unwrap_or(0)
            + faults.get(&Fault::Garbage).copied().unwrap_or(0)
    );
}

//! Multi-thread runtimes whose threads log to a test's buffer, heap readings
//! for the tests that count allocations, and a bounded poll of any state.

use std::time::{Duration, Instant};

use super::{BOUND, LogTarget, Logs, log_to};

/// A multi-thread runtime (with time and I/O) of `workers` threads.
pub fn runtime(workers: usize) -> tokio::runtime::Runtime {
    runtime_builder(workers).build().expect("a runtime")
}

fn runtime_builder(workers: usize) -> tokio::runtime::Builder {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.worker_threads(workers).enable_all();
    builder
}

/// A multi-thread runtime whose threads (and the calling thread) log to `target`
/// (through the one global layer, see [`log_to`]).
pub fn runtime_logging_to(workers: usize, target: LogTarget) -> tokio::runtime::Runtime {
    log_to(Some(target.clone()));
    runtime_builder(workers)
        .on_thread_start(move || log_to(Some(target.clone())))
        .build()
        .expect("a runtime")
}

/// A multi-thread runtime whose threads log to a buffer of their own, and the
/// buffer's lines: tests running in parallel do not see each other's lines.
pub fn logged_runtime(workers: usize) -> (tokio::runtime::Runtime, Logs) {
    let logs = Logs::capture();
    let runtime = runtime_logging_to(workers, logs.target());
    (runtime, logs)
}

// Heap readings (for the tests of `tests/heap`, which install `dhat::Alloc`).

/// The live heap (`dhat`) once it has stopped changing: the same reading five
/// times in a row, 10 ms apart, each pause spent as a timer in `runtime`. The
/// timer makes the runtime's I/O driver turn, and a turn frees the
/// registrations of the sockets closed since the last one (tokio defers that);
/// without it, up to 15 of them (~150 bytes each) could be counted, or not,
/// depending on the last thread to close a socket. Panics after `bound`.
pub fn settled_heap(runtime: &tokio::runtime::Handle, bound: Duration) -> dhat::HeapStats {
    let deadline = Instant::now() + bound;
    let mut last = dhat::HeapStats::get();
    let mut same = 0;
    while same < 5 {
        assert!(Instant::now() < deadline, "the heap never settled");
        runtime.block_on(async { tokio::time::sleep(Duration::from_millis(10)).await });
        let now = dhat::HeapStats::get();
        if (now.curr_bytes, now.curr_blocks) == (last.curr_bytes, last.curr_blocks) {
            same += 1;
        } else {
            same = 0;
        }
        last = now;
    }
    last
}

/// For the tests of `tests/heap` (which installs `dhat::Alloc`): the heap profiler, in testing mode, and
/// a 2-worker runtime for the server it measures. Keep the profiler alive to
/// the end of the test (`let (_profiler, runtime) = ...`).
pub fn profiled_runtime() -> (dhat::Profiler, tokio::runtime::Runtime) {
    let profiler = dhat::Profiler::builder().testing().build();
    (profiler, runtime(2))
}

/// Polls `check` every 5 ms until it returns `Ok`, and returns that; panics with
/// its last `Err` after [`BOUND`].
pub fn wait_until<T>(mut check: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + BOUND;
    loop {
        match check() {
            Ok(done) => return done,
            Err(why) => assert!(Instant::now() < deadline, "{why}"),
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

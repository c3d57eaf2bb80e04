//! The heap a connection costs the server while it sends only a frame header,
//! whatever length that header declares: at most 16 KiB each.
//!
//! How it is measured, honestly: the server runs in this process under `dhat`'s
//! heap profiler (the global allocator below), and the clients run in another
//! process (this test binary, re-run with a role), so every byte counted is the
//! server's (and its runtime's). For each case a small flood first takes the
//! one-time lazies (the runtime's and the server's) out of the baseline; then
//! the live heap is read once it has settled with no connection open, and again
//! once it has settled with all `CONNECTIONS` open, each having sent its header
//! (and, when the header is over the limit, read the error it earned). The
//! difference, divided by the connections, is what one costs, everything
//! included: its task, its socket's registration, its buffers and whatever the
//! runtime grew to hold them.
//!
//! The allocator and the profiler are process-wide: see `main.rs`.
#![cfg(all(feature = "server", feature = "tracing"))]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use crate::support::*;
use verror::frame::{DEFAULT_MAX_FRAME_LEN, OversizedPolicy};
use verror::server::{STATUS_ERROR, ServerBuilder, Stats};

/// This test's full name, for `main` and for the child process that re-runs it.
pub const TEST: &str =
    "memory::a_flood_of_header_only_connections_costs_at_most_16_kib_of_heap_each";

/// Connections held open at once in each case.
const CONNECTIONS: usize = 256;
/// The small flood that takes one-time lazies out of the baseline.
const WARM_UP: usize = 8;
/// What one connection may cost.
const BUDGET: usize = 16 * 1024;

/// One case: the server's limit, and the header every connection sends.
struct Case {
    name: &'static str,
    max_frame_len: usize,
    declared: u32,
}

const CASES: [Case; 3] = [
    Case {
        name: "header declaring the default limit (1 MiB)",
        max_frame_len: DEFAULT_MAX_FRAME_LEN,
        declared: DEFAULT_MAX_FRAME_LEN as u32,
    },
    Case {
        name: "header declaring 0xFFFFFFFF (over the 1 MiB limit, discarded)",
        max_frame_len: DEFAULT_MAX_FRAME_LEN,
        declared: u32::MAX,
    },
    Case {
        name: "header declaring the largest limit there is (4 GiB - 2)",
        max_frame_len: u32::MAX as usize - 1,
        declared: u32::MAX - 1,
    },
];

pub fn a_flood_of_header_only_connections_costs_at_most_16_kib_of_heap_each() {
    if role().as_deref() == Some("flood") {
        return flood();
    }
    let (_profiler, runtime) = profiled_runtime();

    let mut report = Vec::new();
    for case in &CASES {
        let over_limit = case.declared as usize > case.max_frame_len;
        // Under `Discard`, a connection whose header is over the limit is answered
        // and kept (skipping what it would send): it stays open to be measured.
        let server = runtime
            .block_on(
                ServerBuilder::new()
                    .addr("127.0.0.1:0".parse().unwrap())
                    .max_frame_len(case.max_frame_len)
                    .oversized(OversizedPolicy::Discard)
                    // Measured while discarding, even 4 GiB.
                    .max_discard_len(usize::MAX)
                    .max_connections(CONNECTIONS + WARM_UP)
                    .max_connections_per_address(CONNECTIONS + WARM_UP)
                    .idle_timeout(BOUND)
                    .frame_timeout(BOUND)
                    .linger(Duration::from_millis(100))
                    .bind(echo()),
            )
            .expect("bind");
        let addr = server.local_addr();
        let stats = server.stats();
        let stop = server.shutdown_token();
        let serving = runtime.spawn(server.serve());

        flood_and_close(
            runtime.handle(),
            addr,
            &stats,
            WARM_UP,
            case.declared,
            over_limit,
        );
        let baseline = settled_heap(runtime.handle(), BOUND);
        let mut clients = start_flood(addr, CONNECTIONS, case.declared, over_limit);
        wait_for_connections(&stats, (WARM_UP + CONNECTIONS) as u64);
        let loaded = settled_heap(runtime.handle(), BOUND);
        let status = clients.finish(BOUND);
        assert!(status.success(), "the flood's client process failed");
        drop(clients);
        let closed = settled_heap(runtime.handle(), BOUND);

        stop.cancel();
        let summary = runtime.block_on(serving).expect("the server task");
        assert_eq!(summary.connections, (WARM_UP + CONNECTIONS) as u64);
        assert_eq!(summary.rejected, 0);

        let bytes = loaded.curr_bytes.saturating_sub(baseline.curr_bytes);
        let blocks = loaded.curr_blocks.saturating_sub(baseline.curr_blocks);
        let per_connection = bytes / CONNECTIONS;
        let line = format!(
            "{}: {} connections hold {bytes} bytes in {blocks} blocks: {per_connection} bytes \
             ({:.2} KiB) and {:.1} blocks per connection; after they closed, {} bytes above \
             the baseline",
            case.name,
            CONNECTIONS,
            per_connection as f64 / 1024.0,
            blocks as f64 / CONNECTIONS as f64,
            closed.curr_bytes as i64 - baseline.curr_bytes as i64,
        );
        println!("{line}");
        report.push((line, per_connection, blocks));
    }

    for (line, per_connection, blocks) in &report {
        // Every connection was really served: its task, socket registration and
        // read buffer are live (else the figure would flatter the server).
        assert!(*blocks >= 2 * CONNECTIONS, "{line}");
        assert!(
            *per_connection <= BUDGET,
            "a header-only connection costs more than {BUDGET} bytes: {line}"
        );
    }
}

fn wait_for_connections(stats: &Stats, connections: u64) {
    wait_until(|| match stats.snapshot().connections {
        accepted if accepted >= connections => Ok(()),
        accepted => Err(format!(
            "the server did not accept {connections} connections ({accepted} accepted)"
        )),
    });
}

fn start_flood(addr: SocketAddr, count: usize, declared: u32, answered: bool) -> ChildProcess {
    let clients = ChildProcess::spawn(
        TEST,
        "flood",
        &[
            ("FLOOD_ADDR", addr.to_string()),
            ("FLOOD_COUNT", count.to_string()),
            ("FLOOD_DECLARED", declared.to_string()),
            ("FLOOD_ANSWERED", answered.to_string()),
        ],
        None,
        false,
    );
    assert_eq!(clients.line("READY", BOUND), count.to_string());
    clients
}

/// A flood that is held, then closed, and the heap left to settle.
fn flood_and_close(
    runtime: &tokio::runtime::Handle,
    addr: SocketAddr,
    stats: &Stats,
    count: usize,
    declared: u32,
    answered: bool,
) {
    let mut clients = start_flood(addr, count, declared, answered);
    wait_for_connections(stats, count as u64);
    settled_heap(runtime, BOUND);
    assert!(clients.finish(BOUND).success());
    drop(clients);
    settled_heap(runtime, BOUND);
}

/// The child's side: `FLOOD_COUNT` connections that each send one header
/// declaring `FLOOD_DECLARED` bytes and nothing more (reading the error
/// response when `FLOOD_ANSWERED`), held until the parent closes our stdin.
fn flood() {
    let addr: SocketAddr = child_env("FLOOD_ADDR");
    let count: usize = child_env("FLOOD_COUNT");
    let declared: u32 = child_env("FLOOD_DECLARED");
    let answered: bool = child_env("FLOOD_ANSWERED");
    let mut streams = Vec::with_capacity(count);
    for _ in 0..count {
        let mut stream = TcpStream::connect_timeout(&addr, BOUND).expect("connect");
        stream.set_read_timeout(Some(BOUND)).unwrap();
        stream.write_all(&declared.to_be_bytes()).expect("write");
        streams.push(stream);
    }
    if answered {
        for stream in &mut streams {
            let mut header = [0u8; 4];
            stream.read_exact(&mut header).expect("the error response");
            let mut payload = vec![0u8; u32::from_be_bytes(header) as usize];
            stream.read_exact(&mut payload).expect("the error response");
            assert_eq!(payload[0], STATUS_ERROR);
            let text = String::from_utf8_lossy(&payload);
            assert!(
                text.contains(&format!("\"declared_len\":{declared}")),
                "{text}"
            );
        }
    }
    tell_parent("READY", count);
    wait_for_stdin_eof();
    drop(streams);
}

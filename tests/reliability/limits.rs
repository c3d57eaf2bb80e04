//! The server's own limits, at the edge:
//!
//! - `max_connections` + 1: every connection past the limit is answered
//!   `ServerBusy` at once and closed; those admitted are untouched; once one
//!   leaves, a newcomer is served.
//! - The file-descriptor limit reached: the server runs in a child process (this
//!   test binary, re-run with a role) under `ulimit -n 64` and is flooded with
//!   150 connections; `accept` fails with `EMFILE`, which is logged (kind
//!   `accept`) and retried, never fatal; as connections close, the queued ones
//!   are accepted and served, and so is a newcomer.
//! - Peers that never read their responses: each is cut off by the write
//!   timeout, having had at most `write_buffer` plus one response buffered,
//!   while a good neighbour is served.
//! - Log floods: one connection whose every frame makes the handler panic with a
//!   100 KB payload, or fail with an error holding a 1 MiB key, writes at most the
//!   rate limit's byte budget to the log, whatever the frames hold.
#![cfg(all(feature = "server", feature = "tracing"))]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::support::*;
use serde_json::{Value, json};
use tokio::sync::watch;
use verror::server::FailureKind;

#[test]
fn past_max_connections_every_newcomer_is_answered_server_busy() {
    const MAX: usize = 40;
    const EXTRA: usize = 8;
    let (runtime, logs) = logged_runtime(2);
    let (summary, retries) = runtime.block_on(async {
        let server = start(
            builder()
                .max_connections(MAX)
                .idle_timeout(Duration::from_secs(60)),
            echo(),
        )
        .await;
        let addr = server.addr;

        // MAX connections, each shown to be served.
        let mut admitted = Vec::new();
        for i in 0..MAX {
            let mut client = connect(addr).await;
            let body = format!("admitted {i}");
            assert_eq!(within(client.request(&body)).await.unwrap(), body);
            admitted.push(client);
        }
        // Each connection past them is told at once, without sending anything,
        // and closed.
        for _ in 0..EXTRA {
            let (_sender, mut receiver) = connect(addr).await.split();
            let err = within(receiver.recv()).await.unwrap_err();
            assert_eq!(FailureKind::classify(&err), Some(FailureKind::ServerBusy));
            assert_eq!(field(remote_cause(&err), "max_connections"), json!(MAX));
            let closed = within(receiver.recv()).await.unwrap_err();
            assert_eq!(closed.name(), "ConnectionClosed", "{closed:?}");
        }
        // The admitted ones are untouched.
        for (i, client) in admitted.iter_mut().enumerate() {
            let body = format!("still admitted {i}");
            assert_eq!(within(client.request(&body)).await.unwrap(), body);
        }
        // Once one leaves, a newcomer is served (as soon as the server has
        // seen the departure; until then it is refused, and counted).
        drop(admitted.pop());
        let mut retries = 0;
        within(async {
            loop {
                let mut client = connect(addr).await;
                match client.request(b"newcomer").await {
                    Ok(body) => break assert_eq!(body, "newcomer"),
                    Err(err) => {
                        assert_eq!(FailureKind::classify(&err), Some(FailureKind::ServerBusy));
                        retries += 1;
                    }
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        drop(admitted);
        (server.stop().await, retries)
    });

    let rejected = (EXTRA + retries) as u64;
    assert_eq!(summary.connections, MAX as u64 + 1, "{summary}");
    assert_eq!(summary.rejected, rejected, "{summary}");
    assert_eq!(
        summary.errors,
        BTreeMap::from([(FailureKind::ServerBusy, rejected)]),
        "{summary}"
    );
    assert_eq!(
        logs.by_kind(),
        BTreeMap::from([(FailureKind::ServerBusy, rejected)])
    );
}

const FD_TEST: &str = "limits::out_of_file_descriptors_the_server_retries_and_serves_again";
/// The child server's `RLIMIT_NOFILE`.
const FD_LIMIT: usize = 64;
/// Connections opened at once: well past what the limit lets the server accept.
const FD_CLIENTS: usize = 150;

#[test]
fn out_of_file_descriptors_the_server_retries_and_serves_again() {
    if role().as_deref() == Some("fd_server") {
        return fd_server();
    }
    let mut server = ChildProcess::spawn(
        FD_TEST,
        "fd_server",
        &[],
        Some(&format!("ulimit -n {FD_LIMIT}")),
        true,
    );
    let addr: SocketAddr = server.line("ADDR", BOUND).parse().unwrap();
    let runtime = runtime(2);
    let answered = Arc::new(AtomicUsize::new(0));
    let (release, released) = watch::channel(false);

    // Every client connects (the kernel completes the handshake and queues the
    // connection whether or not the server can accept it), sends a request, and
    // holds its connection until released, once answered.
    let clients: Vec<_> = (0..FD_CLIENTS)
        .map(|i| {
            let answered = Arc::clone(&answered);
            let mut released = released.clone();
            runtime.spawn(async move {
                let mut client = connect(addr).await;
                let body = format!("client {i}");
                assert_eq!(client.request(&body).await.unwrap(), body);
                answered.fetch_add(1, Ordering::Relaxed);
                let _ = released.wait_for(|&go| go).await;
            })
        })
        .collect();

    // The server runs out of descriptors: it logs the failed accept and goes on.
    let deadline = Instant::now() + BOUND;
    let mut accept_lines = Vec::new();
    while accept_lines.is_empty() {
        assert!(Instant::now() < deadline, "no accept error was logged");
        std::thread::sleep(Duration::from_millis(10));
        accept_lines.extend(server.stderr_lines().into_iter().filter_map(|line| {
            let line: Value = serde_json::from_str(&line).ok()?;
            (line["kind"] == "accept").then_some(line)
        }));
    }
    let line = &accept_lines[0];
    assert_eq!(line["level"], "error", "{line}");
    assert!(
        line["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("os error 24")),
        "EMFILE: {line}"
    );
    assert!(line["retry_ms"].is_u64(), "{line}");
    let served_at_the_limit = answered.load(Ordering::Relaxed);
    assert!(
        served_at_the_limit < FD_CLIENTS,
        "all {FD_CLIENTS} were served under a limit of {FD_LIMIT} descriptors"
    );

    // Connections close; the server accepts the queued ones as descriptors come back.
    release.send(true).unwrap();
    runtime.block_on(async {
        for client in clients {
            tokio::time::timeout(BOUND, client)
                .await
                .expect("a queued client was never served")
                .expect("a client failed");
        }
        // And it serves newcomers as before.
        let mut client = connect(addr).await;
        assert_eq!(client.request(b"after").await.unwrap(), "after");
    });

    let status = server.finish(BOUND);
    assert!(status.success(), "the server process failed");
    let summary: Value = serde_json::from_str(&server.line("SUMMARY", BOUND)).unwrap();
    println!(
        "RLIMIT_NOFILE {FD_LIMIT}: {served_at_the_limit} of {FD_CLIENTS} connections answered \
         when the first failed accept was seen; all served once connections closed; \
         server: {summary}"
    );
    let total = FD_CLIENTS as u64 + 1;
    assert_eq!(summary["connections"], total, "{summary}");
    assert_eq!(summary["frames"], total, "{summary}");
    assert_eq!(summary["rejected"], 0, "{summary}");
    let errors = summary["errors"].as_object().unwrap();
    assert!(
        errors["accept"].as_u64().unwrap() >= 1,
        "accept errors: {summary}"
    );
    assert_eq!(
        errors.len(),
        1,
        "no error but the failed accepts: {summary}"
    );
}

/// The child's side: a server under the shell's `ulimit -n`, logging JSON lines
/// to stderr, until our stdin closes; then its summary.
fn fd_server() {
    let runtime = runtime_logging_to(2, LogTarget::Stderr);
    let summary = runtime.block_on(async {
        let server = start(builder().idle_timeout(BOUND), echo()).await;
        tell_parent("ADDR", server.addr);
        tokio::task::spawn_blocking(wait_for_stdin_eof)
            .await
            .unwrap();
        server.stop().await
    });
    let errors: serde_json::Map<String, Value> = summary
        .errors
        .iter()
        .map(|(kind, n)| (kind.as_str().to_owned(), json!(n)))
        .collect();
    tell_parent(
        "SUMMARY",
        json!({
            "connections": summary.connections,
            "rejected": summary.rejected,
            "frames": summary.frames,
            "errors": errors,
        }),
    );
}

#[test]
fn peers_that_never_read_are_cut_off_with_bounded_buffers() {
    const PEERS: usize = 6;
    const WRITE_BUFFER: usize = 16 * 1024;
    let (runtime, logs) = logged_runtime(2);
    let summary = runtime.block_on(async {
        let server = start(
            builder()
                .write_timeout(Duration::from_millis(300))
                .write_buffer(WRITE_BUFFER),
            echo(),
        )
        .await;
        let addr = server.addr;
        let neighbour = tokio::spawn(good_connection(addr, 0, 500));

        // Requests as large as allowed keep going out; no response is ever read.
        let mut floods = Vec::new();
        for peer in 0..PEERS {
            let (mut sender, receiver) = connect(addr).await.split();
            floods.push(tokio::spawn(async move {
                let big = vec![peer as u8; LIMIT];
                let mut sent = 0u64;
                while sent < 1_000_000 {
                    sender.feed(&big).unwrap();
                    if sender.flush().await.is_err() {
                        // The server gave up on us and closed.
                        drop(receiver);
                        return sent;
                    }
                    sent += 1;
                }
                panic!("the server never gave up on a peer that does not read");
            }));
        }
        for flood in floods {
            within(flood).await.unwrap();
        }
        assert_eq!(within(neighbour).await.unwrap(), 500);
        server.stop().await
    });

    assert_eq!(
        summary.errors,
        BTreeMap::from([(FailureKind::WriteTimeout, PEERS as u64)]),
        "{summary}"
    );
    assert_eq!(
        logs.by_kind(),
        BTreeMap::from([(FailureKind::WriteTimeout, PEERS as u64)])
    );
    // What waited in a write buffer: at most the setting plus one response
    // (a header, the status byte and a body of up to the limit).
    let bound = WRITE_BUFFER + 4 + 1 + LIMIT;
    for line in logs.of_kind(FailureKind::WriteTimeout.as_str()) {
        assert_eq!(line["error"]["name"], "WriteTimeout", "{line}");
        let pending = line["error"]["info"]["pending_bytes"].as_u64().unwrap();
        assert!(
            pending > 0 && pending <= bound as u64,
            "{pending} bytes pending, bound {bound}: {line}"
        );
    }
}

/// The log bytes one connection's flood of `requests` frames makes the server write,
/// all within one window of the rate limit (the layer's clock is frozen), with the
/// default limit and a panic hook that logs as the `verror` program's does. Returns
/// the lines and the layer's handle.
fn log_flood<H: verror::server::Handler>(
    handler: H,
    payload: &[u8],
    requests: usize,
) -> (String, verror::layer::LogHandle) {
    use tracing_subscriber::layer::SubscriberExt;
    use verror::layer::{LogBuffer, LogLayer, RateLimit};

    let logs = LogBuffer::new();
    let frozen = Instant::now();
    let layer = LogLayer::builder()
        .writer(logs.clone())
        .rate_limit(Some(RateLimit::default()))
        .clock(move || frozen)
        .build();
    let handle = layer.handle();
    // The panic hook is the process's: two floods side by side would each restore the
    // hook they found, and the one ending first would take the other's away mid-run.
    static PANIC_HOOK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _hook = PANIC_HOOK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // The program's panic hook (`log_panic`) logs an event with no error field; only
    // this thread's panics go there (the server runs on it), the others to the usual
    // hook.
    let flood_thread = std::thread::current().id();
    let previous: Arc<dyn Fn(&std::panic::PanicHookInfo<'_>) + Send + Sync> =
        Arc::from(std::panic::take_hook());
    let fallback = Arc::clone(&previous);
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() != flood_thread {
            return fallback(info);
        }
        verror::layer::log_panic(info);
    }));
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let server = start(builder().max_frame_len(2 << 20), handler).await;
            let mut client = within(
                verror::server::Client::builder()
                    .max_frame_len(4 << 20)
                    .connect(server.addr),
            )
            .await
            .unwrap();
            for _ in 0..requests {
                let err = within(client.request(payload)).await.unwrap_err();
                assert_eq!(err.name(), "RemoteError", "{err:?}");
            }
            server.stop().await;
        });
    });
    std::panic::set_hook(Box::new(move |info| previous(info)));
    handle.flush();
    (logs.take(), handle)
}

/// The budget of one window: 256 KiB for each of `kinds`, their report lines, and
/// the few unlimited info lines of a server's start and stop.
fn flood_budget(kinds: usize) -> usize {
    kinds * (256 * 1024 + 512) + 4096
}

#[test]
fn a_flood_of_panics_with_100_kb_payloads_writes_within_the_byte_budget() {
    const REQUESTS: usize = 1000;
    let handler = |request: bytes::Bytes| async move {
        let text = String::from_utf8_lossy(&request).into_owned();
        if text.is_empty() {
            return Ok(request);
        }
        panic!("{text}")
    };
    let (logs, handle) = log_flood(handler, &[b'p'; 100_000], REQUESTS);
    // Without the limit: 2 lines (the hook's, the server's `handler_panic`) of at
    // least 100 KB each per frame, 200 MB for the flood.
    eprintln!(
        "panic flood: {REQUESTS} frames of 100 KB, {} bytes of log",
        logs.len()
    );
    assert!(logs.len() <= flood_budget(2), "{} bytes", logs.len());
    for kind in ["panic", "handler_panic"] {
        assert_eq!(
            handle.logged(kind) + handle.suppressed(kind),
            REQUESTS as u64,
            "{kind}: {:?}",
            handle.counts()
        );
        assert!(handle.suppressed(kind) > 0, "{kind}");
    }
    // Every line is whole JSON, the reports included.
    for line in logs.lines() {
        serde_json::from_str::<Value>(line).unwrap();
    }
    assert!(logs.contains(r#""message":"suppressed "#));
}

#[test]
fn a_flood_of_errors_holding_1_mib_keys_writes_within_the_byte_budget() {
    const REQUESTS: usize = 64;
    let handler = |request: bytes::Bytes| async move {
        let key = String::from_utf8_lossy(&request).into_owned();
        Err::<bytes::Bytes, _>(
            verror::VError::builder()
                .name("LookupError")
                .info("key", key.as_str())
                .cause(
                    verror::VError::builder()
                        .name("NotFound")
                        .message(format!("no entry for {key:?}"))
                        .backtrace(false)
                        .build(),
                )
                .message(format!("lookup of {key:?} failed"))
                .backtrace(false)
                .build(),
        )
    };
    let (logs, handle) = log_flood(handler, &vec![b'k'; 1 << 20], REQUESTS);
    eprintln!(
        "lookup flood: {REQUESTS} keys of 1 MiB, {} bytes of log",
        logs.len()
    );
    // Two kinds: the handler's error, and the response too large to send it in.
    assert!(logs.len() <= flood_budget(2), "{} bytes", logs.len());
    let kind = "handler_error";
    assert_eq!(
        handle.logged(kind) + handle.suppressed(kind),
        REQUESTS as u64,
        "{:?}",
        handle.counts()
    );
    for line in logs.lines() {
        let record: Value = serde_json::from_str(line).unwrap();
        assert!(
            line.len() <= verror::records::DEFAULT_MAX_RECORD_BYTES,
            "{} bytes",
            line.len()
        );
        if record.get("error").is_some() {
            let name = &record["error"]["name"];
            assert!(
                name == "LookupError" || name == "ResponseTooLarge",
                "{line:.300}"
            );
        }
    }
}

//! Shutdown under load loses nothing: while many connections pipeline frames
//! without pause, and keep pipelining past the signal for longer than the
//! linger, a graceful shutdown answers every frame the server had read, each
//! with its own bytes, tells each connection it is shutting down, and drains
//! what the clients still send until they close, so that no reset destroys an
//! answer. What the server counts as answered is exactly what each client got.
#![cfg(all(feature = "server", feature = "tracing"))]

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::support::{builder, connect, erase, good_payload, within};
use bytes::Bytes;
use serde_json::json;
use tokio::net::TcpStream;
use tokio::sync::Notify;
use verror::VError;
use verror::server::FailureKind;

/// Connections pipelining at once.
const CONNECTIONS: usize = 16;
/// Frames a sender queues before each write.
const BATCH: usize = 16;
/// A sender's bound, should the shutdown never come.
const MAX_FRAMES: usize = 200_000;
/// Frames answered, over all connections, before the signal (and at least one on
/// each: a connection the server has not accepted yet at the signal is reset with
/// the listener, and never served).
const BEFORE_SIGNAL: u64 = 1_000;
/// The server's linger: what used to bound the drain after the last answer, and
/// now the silence that ends it. Not shorter: a client that a loaded machine
/// stalls that long (every test of the binary runs at once) looks gone, and its
/// next write meets a reset.
const LINGER: Duration = Duration::from_millis(250);
/// How long each client keeps pipelining once told the server is shutting
/// down: well past the linger.
const PAST_SIGNAL: Duration = Duration::from_millis(500);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_while_clients_pipeline_past_the_signal_loses_no_answer() {
    // An echo that yields once, so that frames queue up in the server.
    let handler = |request: Bytes| async move {
        tokio::task::yield_now().await;
        Ok::<_, VError>(request)
    };
    let server = builder()
        .linger(LINGER)
        .shutdown_deadline(Duration::from_secs(10))
        .bind(erase(handler))
        .await
        .unwrap();
    let addr = server.local_addr();
    let stats = server.stats();
    let stop = server.shutdown_token();
    let serving = tokio::spawn(server.serve());
    let answered_total = Arc::new(AtomicU64::new(0));
    let connections_served = Arc::new(AtomicUsize::new(0));
    let enough_answered = Arc::new(Notify::new());

    let mut connections = Vec::new();
    for conn in 0..CONNECTIONS {
        let (mut sender, mut receiver) = connect(addr).await.split();
        let told: Arc<OnceLock<Instant>> = Arc::new(OnceLock::new());
        // Sends without pause, and on for PAST_SIGNAL once told the server is
        // shutting down; then closes its side.
        let sending = {
            let told = Arc::clone(&told);
            tokio::spawn(async move {
                let mut sent = 0;
                loop {
                    match told.get() {
                        Some(at) if at.elapsed() >= PAST_SIGNAL => break,
                        None if sent >= MAX_FRAMES => break,
                        _ => {}
                    }
                    for _ in 0..BATCH {
                        sender.feed(&good_payload(conn, sent)).unwrap();
                        sent += 1;
                    }
                    if let Err(err) = sender.flush().await {
                        panic!("connection {conn}: the server must drain, not reset: {err:?}");
                    }
                }
                sender.shutdown().await.unwrap();
                sent
            })
        };
        // Reads, checking each answer is the next request's, until the
        // ShuttingDown error, then the close.
        let receiving = {
            let answered_total = Arc::clone(&answered_total);
            let connections_served = Arc::clone(&connections_served);
            let enough_answered = Arc::clone(&enough_answered);
            tokio::spawn(async move {
                let mut answered = 0;
                let shutting_down = loop {
                    match receiver.recv().await {
                        Ok(body) => {
                            assert!(
                                body == good_payload(conn, answered)[..],
                                "connection {conn}, frame {answered}: wrong bytes"
                            );
                            answered += 1;
                            let served = if answered == 1 {
                                connections_served.fetch_add(1, Ordering::Relaxed) + 1
                            } else {
                                connections_served.load(Ordering::Relaxed)
                            };
                            let total = answered_total.fetch_add(1, Ordering::Relaxed) + 1;
                            if total >= BEFORE_SIGNAL && served == CONNECTIONS {
                                enough_answered.notify_one();
                            }
                        }
                        Err(err) => break err,
                    }
                };
                let _ = told.set(Instant::now());
                let closed = receiver.recv().await.unwrap_err();
                (answered, shutting_down, closed)
            })
        };
        connections.push((sending, receiving));
    }

    within(enough_answered.notified()).await;
    let counted_at_signal = stats.snapshot().frames;
    stop.cancel();

    let mut answered = 0;
    for (conn, (sending, receiving)) in connections.into_iter().enumerate() {
        let (got, shutting_down, closed) = within(receiving).await.unwrap();
        let sent = within(sending).await.unwrap();
        assert_eq!(
            FailureKind::classify(&shutting_down),
            Some(FailureKind::ShuttingDown),
            "connection {conn}: the last response says the server is shutting down: {shutting_down:?}"
        );
        // What the server counted as answered on this connection is what it got.
        assert_eq!(
            verror::info(&shutting_down).get("frames"),
            Some(&json!(got)),
            "connection {conn}: {shutting_down:?}"
        );
        assert_eq!(
            closed.name(),
            "ConnectionClosed",
            "connection {conn} must end with a clean close, not a reset: {closed:?}"
        );
        assert!(
            got < sent,
            "connection {conn}: {got} answers to {sent} requests"
        );
        answered += got as u64;
    }
    let summary = within(serving).await.unwrap();
    println!(
        "{CONNECTIONS} connections pipelining past the signal: {counted_at_signal} frames \
         answered when it came, {answered} in all; server: {summary}"
    );
    assert!(summary.shutdown_error.is_none(), "{summary}");
    assert_eq!(summary.error_count(), 0, "{summary}");
    assert_eq!(
        summary.frames, answered,
        "frames the server answered vs frames its clients got"
    );
    assert!(answered >= counted_at_signal);
    assert!(TcpStream::connect(addr).await.is_err(), "still accepting");
}

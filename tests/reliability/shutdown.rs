//! Shutdown under load loses nothing: while many connections pipeline frames
//! without pause, a graceful shutdown answers every frame the server had
//! received, each with its own bytes, and closes every connection cleanly
//! before the deadline. What the server counts as answered is exactly what
//! the clients got.
#![cfg(feature = "server")]

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::support::{builder, connect, good_payload, within};
use bytes::Bytes;
use tokio::net::TcpStream;
use verror::VError;

/// Connections pipelining at once.
const CONNECTIONS: usize = 32;
/// Frames a sender queues before each write.
const BATCH: usize = 16;
/// A sender's bound, should the shutdown never come.
const MAX_FRAMES: usize = 200_000;
/// Frames answered, over all connections, before the signal.
const BEFORE_SIGNAL: u64 = 4_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_under_pipelined_load_answers_every_frame_received() {
    // An echo that yields once, so that frames queue up in the server.
    let handler = |request: Bytes| async move {
        tokio::task::yield_now().await;
        Ok::<_, VError>(request)
    };
    let server = builder()
        .linger(Duration::from_secs(2))
        .shutdown_deadline(Duration::from_secs(10))
        .bind(handler)
        .await
        .unwrap();
    let addr = server.local_addr();
    let stats = server.stats();
    let stop = server.shutdown_token();
    let serving = tokio::spawn(server.serve());
    let answered_total = Arc::new(AtomicU64::new(0));

    let mut connections = Vec::new();
    for conn in 0..CONNECTIONS {
        let (mut sender, mut receiver) = connect(addr).await.split();
        let closed = Arc::new(AtomicBool::new(false));
        // Sends without pause until the connection closes.
        let sending = {
            let closed = Arc::clone(&closed);
            tokio::spawn(async move {
                let mut sent = 0;
                while sent < MAX_FRAMES && !closed.load(Ordering::Relaxed) {
                    for _ in 0..BATCH {
                        sender.feed(&good_payload(conn, sent)).unwrap();
                        sent += 1;
                    }
                    if sender.flush().await.is_err() {
                        break;
                    }
                }
                sent
            })
        };
        // Reads, checking each answer is the next request's, until the close.
        let receiving = {
            let answered_total = Arc::clone(&answered_total);
            tokio::spawn(async move {
                let mut answered = 0;
                let end = loop {
                    match receiver.recv().await {
                        Ok(body) => {
                            assert!(
                                body == good_payload(conn, answered)[..],
                                "connection {conn}, frame {answered}: wrong bytes"
                            );
                            answered += 1;
                            answered_total.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(err) => break err,
                    }
                };
                closed.store(true, Ordering::Relaxed);
                (answered, end)
            })
        };
        connections.push((sending, receiving));
    }

    within(async {
        while answered_total.load(Ordering::Relaxed) < BEFORE_SIGNAL {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await;
    // What the server had answered when the signal went: all of it, and what
    // it had received, must reach the clients.
    let counted_at_signal = stats.snapshot().frames;
    stop.cancel();
    let summary = within(serving).await.unwrap();

    let mut answered = 0;
    for (conn, (sending, receiving)) in connections.into_iter().enumerate() {
        let (got, end) = within(receiving).await.unwrap();
        let sent = within(sending).await.unwrap();
        assert_eq!(
            end.name(),
            "ConnectionClosed",
            "connection {conn} must end with a clean close after its last answer: {end:?}"
        );
        assert!(
            got <= sent,
            "connection {conn}: {got} answers to {sent} requests"
        );
        answered += got as u64;
    }
    println!(
        "{CONNECTIONS} connections pipelining: {counted_at_signal} frames answered when the \
         signal came, {answered} in all; server: {summary}"
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

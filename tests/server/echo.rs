//! Good traffic: many frames of assorted sizes, pipelined, on many connections,
//! each answered exactly once and in order.
#![cfg(all(feature = "server", feature = "tracing"))]

use std::time::Duration;

use crate::support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use verror::frame::FrameCodec;
use verror::server::Response;

/// Sizes that cover the edges: empty, one byte, around the header length,
/// around read-chunk boundaries, and the limit itself.
fn sizes() -> Vec<usize> {
    let mut sizes = vec![0, 1, 3, 4, 5, 255, 256, 1023, 1024, 1025, LIMIT - 1, LIMIT];
    sizes.extend((0..40).map(|i| (i * 977) % LIMIT));
    sizes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_pipelined_frames_on_many_connections_are_each_answered_once_in_order() {
    let server = start(builder(), echo()).await;
    const CONNECTIONS: usize = 24;
    const ROUNDS: usize = 4;
    let sizes = sizes();

    let mut clients = Vec::new();
    for conn in 0..CONNECTIONS {
        let sizes = sizes.clone();
        let addr = server.addr;
        clients.push(tokio::spawn(async move {
            let mut client = connect(addr).await;
            for round in 0..ROUNDS {
                let payloads: Vec<Vec<u8>> = sizes
                    .iter()
                    .enumerate()
                    .map(|(i, &len)| payload(conn * 10_000 + round * 100 + i, len))
                    .collect();
                let answers = within(client.pipeline(&payloads)).await.unwrap();
                assert_eq!(answers.len(), payloads.len(), "one answer per request");
                for (i, (answer, sent)) in answers.into_iter().zip(&payloads).enumerate() {
                    assert_eq!(
                        answer.unwrap(),
                        sent[..],
                        "connection {conn}, round {round}, frame {i}"
                    );
                }
            }
            payloads_sent(&sizes, ROUNDS)
        }));
    }
    let mut sent = 0;
    for client in clients {
        sent += within(client).await.unwrap();
    }

    let summary = server.stop().await;
    assert_eq!(summary.connections, CONNECTIONS as u64);
    assert_eq!(summary.frames, sent, "every frame answered exactly once");
    assert_eq!(summary.error_count(), 0, "{summary}");
    assert!(summary.shutdown_error.is_none());
}

fn payloads_sent(sizes: &[usize], rounds: usize) -> u64 {
    (sizes.len() * rounds) as u64
}

#[tokio::test]
async fn a_stream_in_odd_chunks_decodes_to_the_same_frames() {
    let server = start(builder(), echo()).await;
    let mut wire = Vec::new();
    let payloads: Vec<Vec<u8>> = sizes()
        .iter()
        .enumerate()
        .map(|(i, &len)| payload(i, len))
        .collect();
    for p in &payloads {
        wire.extend_from_slice(&frame(p));
    }

    let stream = within(TcpStream::connect(server.addr)).await.unwrap();
    stream.set_nodelay(true).unwrap();
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        // Chunks of 1, 2, 3, ... 7 bytes and then bigger, glued across frame boundaries.
        let mut rest = &wire[..];
        let mut step = 1;
        while !rest.is_empty() {
            let n = step.min(rest.len());
            write.write_all(&rest[..n]).await.unwrap();
            rest = &rest[n..];
            step = if step >= 7 { 1500 } else { step + 1 };
            if step == 1500 {
                tokio::task::yield_now().await;
            }
        }
        write.shutdown().await.unwrap();
    });

    let mut codec = FrameCodec::with_max_frame_len(LIMIT + 1);
    let mut buf = bytes::BytesMut::new();
    let mut answers = Vec::new();
    within(async {
        loop {
            while let Some(frame) = codec.decode(&mut buf).unwrap() {
                answers.push(
                    Response::decode(frame.freeze())
                        .unwrap()
                        .into_result()
                        .unwrap(),
                );
            }
            if read.read_buf(&mut buf).await.unwrap() == 0 {
                break;
            }
        }
    })
    .await;
    within(writer).await.unwrap();

    assert_eq!(answers.len(), payloads.len());
    for (answer, sent) in answers.iter().zip(&payloads) {
        assert_eq!(answer[..], sent[..]);
    }
    server.stop().await;
}

#[cfg(feature = "cli")]
#[tokio::test]
async fn requests_one_at_a_time_and_the_bundled_commands() {
    let server = start(builder(), DemoHandler::new()).await;
    let mut client = connect(server.addr).await;
    assert_eq!(
        within(client.request(b"")).await.unwrap(),
        bytes::Bytes::new()
    );
    assert_eq!(within(client.request(b"hello")).await.unwrap(), "hello");
    assert_eq!(within(client.request(b"!lookup 2")).await.unwrap(), "grace");
    assert_eq!(
        within(client.request(b"!sleep 1")).await.unwrap(),
        "slept 1 ms"
    );
    assert!(
        within(client.request(b"!help"))
            .await
            .unwrap()
            .starts_with(b"commands")
    );

    let err = within(client.request(b"!nope")).await.unwrap_err();
    assert_eq!(remote_cause(&err).name(), "UnknownCommand");
    let err = within(client.request(b"!fail disk on fire"))
        .await
        .unwrap_err();
    let remote = remote_cause(&err);
    assert_eq!(remote.name(), "RequestedFailure");
    assert_eq!(format!("{remote:#}"), "disk on fire");
    // The public view (the default) stops at the level that hides its cause.
    assert!(!verror::has_cause_with_name(&err, "StorageError"));

    // The connection is still good after the errors.
    assert_eq!(
        within(client.request(b"still here")).await.unwrap(),
        "still here"
    );
    drop(client);
    let summary = server.stop().await;
    assert_eq!(summary.frames, 8);
}

#[tokio::test]
async fn an_idle_connection_is_closed_quietly() {
    let logs = Logs::capture();
    let server = start(builder().idle_timeout(Duration::from_millis(30)), echo()).await;
    let mut client = connect(server.addr).await;
    assert_eq!(within(client.request(b"one")).await.unwrap(), "one");
    // Nothing more is sent: the server closes the connection once it is idle.
    let (_sender, mut receiver) = client.split();
    let err = within(receiver.recv()).await.unwrap_err();
    assert_eq!(err.name(), "ConnectionClosed", "{err:?}");
    let summary = server.stop().await;
    assert_eq!(
        summary.error_count(),
        0,
        "idleness is not an error: {summary}"
    );
    assert!(
        logs.lines()
            .iter()
            .all(|line| line["level"] != "error" && line["level"] != "warn")
    );
}

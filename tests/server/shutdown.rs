//! Graceful shutdown: frames already received are answered, nothing is lost,
//! and what is still open at the deadline is reported as one MultiError.
#![cfg(all(feature = "server", feature = "tracing"))]

use std::time::{Duration, Instant};

use crate::support::*;
use bytes::Bytes;
use tokio::net::TcpStream;
use verror::VError;

/// An echo that takes its time, so that frames are still queued at the trigger.
fn slow_echo() -> impl verror::server::Handler {
    |request: Bytes| async move {
        tokio::time::sleep(Duration::from_millis(5)).await;
        Ok::<_, VError>(request)
    }
}

#[tokio::test]
async fn shutdown_answers_every_frame_the_server_had_received() {
    let logs = Logs::capture();
    let server = start(builder(), slow_echo()).await;
    const CONNECTIONS: usize = 3;
    const FRAMES: usize = 40;

    let mut readers = Vec::new();
    let mut sent = 0;
    for conn in 0..CONNECTIONS {
        let (mut sender, mut receiver) = connect_split(server.addr).await;
        let payloads: Vec<Vec<u8>> = (0..FRAMES)
            .map(|i| payload(conn * 1000 + i, 10 + i))
            .collect();
        for p in &payloads {
            sender.feed(p).unwrap();
            sent += frame(p).len();
        }
        within(sender.flush()).await.unwrap();
        readers.push(tokio::spawn(async move {
            // Read until the server says it is shutting down: every answer must
            // be the next request's.
            let mut answered = 0;
            loop {
                match within(receiver.recv()).await {
                    Ok(body) => {
                        assert_eq!(
                            body,
                            payloads[answered][..],
                            "connection {conn}, frame {answered}"
                        );
                        answered += 1;
                    }
                    Err(err) => {
                        expect_shutdown_end(err, &mut sender, &mut receiver).await;
                        return answered;
                    }
                }
            }
        }));
    }
    // Every frame is in: some are answered, most are still queued in the
    // server's buffers (the handler is slow).
    server.wait_for_received(sent).await;
    let addr = server.addr;
    let started = Instant::now();
    let summary = server.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "within the deadline"
    );

    let mut answered = 0;
    for reader in readers {
        let n = within(reader).await.unwrap();
        assert_eq!(
            n, FRAMES,
            "every frame the server had received was answered"
        );
        answered += n;
    }
    assert_eq!(summary.frames, answered as u64);
    assert_eq!(summary.error_count(), 0, "{summary}");
    assert!(summary.shutdown_error.is_none());

    // The server stopped accepting.
    assert!(TcpStream::connect(addr).await.is_err());
    let stopped = logs.lines().into_iter().find(|l| {
        l["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("server stopped")
    });
    let stopped = stopped.expect("the summary is logged");
    assert_eq!(stopped["frames"], answered as u64, "{stopped}");
    assert_eq!(stopped["connections"], CONNECTIONS as u64, "{stopped}");
}

#[tokio::test]
async fn a_frame_partly_in_at_the_trigger_is_finished_and_answered() {
    let logs = Logs::capture();
    let server = start(builder(), echo()).await;
    let (mut sender, mut receiver) = connect_split(server.addr).await;
    let wire = frame(b"half now, half later");
    sender.feed_raw(&wire[..10]);
    within(sender.flush()).await.unwrap();
    server.wait_for_received(10).await;

    server.stop.cancel();
    // The trigger has reached the connections before the rest is sent.
    logs.wait_for_message("shutdown begun").await;
    sender.feed_raw(&wire[10..]);
    within(sender.flush()).await.unwrap();
    assert_eq!(
        within(receiver.recv()).await.unwrap(),
        "half now, half later"
    );
    let err = within(receiver.recv()).await.unwrap_err();
    expect_shutdown_end(err, &mut sender, &mut receiver).await;
    let summary = within(server.task).await.unwrap();
    assert_eq!(summary.frames, 1);
}

#[cfg(feature = "cli")]
#[tokio::test]
async fn connections_still_open_at_the_deadline_come_out_as_one_multi_error() {
    let logs = Logs::capture();
    let server = start(
        builder()
            .shutdown_deadline(Duration::from_millis(100))
            .handler_timeout(Duration::from_secs(30)),
        DemoHandler::new(),
    )
    .await;

    // One waits on a slow handler, one is inside a header, one is idle.
    let (mut sleeper, _sleeper_rx) = connect_split(server.addr).await;
    within(sleeper.send(b"!sleep 10000")).await.unwrap();
    let (mut partial, _partial_rx) = connect_split(server.addr).await;
    partial.feed_raw(&[0, 0]);
    within(partial.flush()).await.unwrap();
    let mut idle = connect(server.addr).await;
    assert_eq!(within(idle.request(b"hi")).await.unwrap(), "hi");
    // The slow request and the partial header are in.
    server
        .wait_for_received(frame(b"!sleep 10000").len() + 2 + frame(b"hi").len())
        .await;

    let started = Instant::now();
    let summary = server.stop().await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );

    let multi = summary
        .shutdown_error
        .as_ref()
        .expect("two connections were cut off");
    assert_eq!(multi.name(), "MultiError");
    assert_eq!(multi.errors().len(), 2, "{multi:?}");
    let mut stages: Vec<String> = multi
        .errors()
        .iter()
        .map(|e| {
            assert_eq!(e.name(), "ShutdownDeadline");
            e.own_info()
                .get("stage")
                .unwrap()
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    stages.sort();
    assert_eq!(
        stages,
        [
            "reading a header, 2 of 4 bytes in",
            "waiting for the handler on frame 0"
        ]
    );
    assert_eq!(
        summary.errors_of(verror::server::FailureKind::ShutdownDeadline),
        2,
        "{summary}"
    );

    let line = logs.wait_for("shutdown_deadline").await;
    assert_eq!(line["level"], "error", "{line}");
    assert_eq!(line["error"]["name"], "MultiError", "{line}");
    assert_eq!(
        line["error"]["errors"].as_array().unwrap().len(),
        2,
        "{line}"
    );
    drop(idle);
}

#[tokio::test]
async fn any_future_can_trigger_the_shutdown() {
    let server = builder().bind(echo()).await.unwrap();
    let addr = server.local_addr();
    let (trigger, triggered) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(server.serve_until(async {
        let _ = triggered.await;
    }));
    let mut client = connect(addr).await;
    assert_eq!(within(client.request(b"x")).await.unwrap(), "x");
    drop(client);
    trigger.send(()).unwrap();
    let summary = within(running).await.unwrap();
    assert_eq!(summary.frames, 1);
    assert!(TcpStream::connect(addr).await.is_err());
}

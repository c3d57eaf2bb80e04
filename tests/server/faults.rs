//! Each misbehaving peer gets the right error response, with its numbers, and
//! the right log line, while a good connection next to it completes untouched.
#![cfg(all(feature = "server", feature = "tracing"))]

use std::time::Duration;

use crate::support::*;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use verror::VError;
use verror::frame::OversizedPolicy;
use verror::server::{FailureKind, ResponseReceiver};

/// Reads the error response a fault earned, then the close that follows it.
async fn expect_error_then_close(receiver: &mut ResponseReceiver) -> VError {
    let err = within(receiver.recv())
        .await
        .expect_err("the fault must be answered with an error");
    let closed = within(receiver.recv())
        .await
        .expect_err("the connection must close after the fault");
    assert_eq!(closed.name(), "ConnectionClosed", "{closed:?}");
    err
}

/// Checks the log line of a decode failure: its kind, and the same info the
/// response carried.
fn check_log_line(line: &serde_json::Value, kind: &str, fields: &[(&str, serde_json::Value)]) {
    assert_eq!(line["kind"], kind, "{line}");
    assert_eq!(line["level"], "warn", "{line}");
    assert_eq!(line["error"]["name"], "FrameDecodeError", "{line}");
    assert_eq!(line["error"]["cause"]["name"], "FrameError", "{line}");
    assert!(
        line["error"].get("backtrace").is_none(),
        "decode failures capture no backtrace: {line}"
    );
    assert!(line["error"]["info"]["conn_id"].is_u64(), "{line}");
    for (key, value) in fields {
        assert_eq!(&line["error"]["info"][key], value, "{key} in {line}");
    }
}

#[tokio::test]
async fn an_oversized_frame_is_answered_with_its_numbers_then_closed() {
    let logs = Logs::capture();
    let server = start(builder(), echo()).await;
    let neighbour = good_neighbour(server.addr, 50);

    let (mut sender, mut receiver) = connect_split(server.addr).await;
    sender.feed(b"first").unwrap();
    sender.feed(b"second").unwrap();
    sender.feed_raw(&5_000_000u32.to_be_bytes());
    sender.feed_raw(&[7; 1000]); // the start of the payload: it must never be buffered whole
    within(sender.flush()).await.unwrap();

    assert_eq!(within(receiver.recv()).await.unwrap(), "first");
    assert_eq!(within(receiver.recv()).await.unwrap(), "second");
    let err = expect_error_then_close(&mut receiver).await;
    let remote = remote_cause(&err);
    assert_eq!(remote.name(), "FrameDecodeError");
    assert_eq!(field(remote, "declared_len"), json!(5_000_000));
    assert_eq!(field(remote, "max_frame_len"), json!(LIMIT));
    assert_eq!(field(remote, "frame_index"), json!(2));
    assert_eq!(field(remote, "offset"), json!(4 + 5 + 4 + 6));
    assert!(
        format!("{err:#}").ends_with("declared length 5000000 exceeds the limit of 4096"),
        "{err:#}"
    );
    assert_eq!(FailureKind::classify(&err), Some(FailureKind::Oversized));

    let line = logs.wait_for("oversized").await;
    check_log_line(
        &line,
        "oversized",
        &[
            ("declared_len", json!(5_000_000)),
            ("max_frame_len", json!(LIMIT)),
        ],
    );

    within(neighbour).await.unwrap();
    drop((sender, receiver));
    let summary = server.stop().await;
    assert_eq!(summary.errors_of(FailureKind::Oversized), 1, "{summary}");
    assert_eq!(summary.error_count(), 1, "{summary}");
}

#[tokio::test]
async fn under_the_discard_policy_an_oversized_frame_is_skipped_and_the_connection_goes_on() {
    let logs = Logs::capture();
    let server = start(builder().oversized(OversizedPolicy::Discard), echo()).await;
    let neighbour = good_neighbour(server.addr, 50);

    let (mut sender, mut receiver) = connect_split(server.addr).await;
    sender.feed(b"before").unwrap();
    sender.feed_raw(&frame(&payload(1, LIMIT * 3)));
    sender.feed(b"after").unwrap();
    within(sender.flush()).await.unwrap();

    assert_eq!(within(receiver.recv()).await.unwrap(), "before");
    let err = within(receiver.recv()).await.unwrap_err();
    let remote = remote_cause(&err);
    assert_eq!(field(remote, "declared_len"), json!(LIMIT * 3));
    assert_eq!(field(remote, "frame_index"), json!(1));
    assert_eq!(within(receiver.recv()).await.unwrap(), "after");
    within(sender.send(b"and more")).await.unwrap();
    assert_eq!(within(receiver.recv()).await.unwrap(), "and more");

    check_log_line(
        &logs.wait_for("oversized").await,
        "oversized",
        &[("declared_len", json!(LIMIT * 3))],
    );
    within(neighbour).await.unwrap();
    drop((sender, receiver));
    let summary = server.stop().await;
    assert_eq!(summary.errors_of(FailureKind::Oversized), 1, "{summary}");
}

#[tokio::test]
async fn garbage_reads_as_a_header_over_the_limit() {
    let logs = Logs::capture();
    let server = start(builder(), echo()).await;
    let neighbour = good_neighbour(server.addr, 50);

    let (mut sender, mut receiver) = connect_split(server.addr).await;
    sender.feed_raw(b"GET / HTTP/1.1\r\nHost: example\r\n\r\n");
    within(sender.flush()).await.unwrap();
    let err = expect_error_then_close(&mut receiver).await;
    let declared = u32::from_be_bytes(*b"GET ") as u64;
    assert_eq!(field(remote_cause(&err), "declared_len"), json!(declared));
    assert_eq!(field(remote_cause(&err), "frame_index"), json!(0));

    check_log_line(
        &logs.wait_for("oversized").await,
        "oversized",
        &[("declared_len", json!(declared))],
    );
    within(neighbour).await.unwrap();
    drop((sender, receiver));
    server.stop().await;
}

#[tokio::test]
async fn a_stream_cut_inside_a_header_is_a_truncated_header() {
    let logs = Logs::capture();
    let server = start(builder(), echo()).await;
    let neighbour = good_neighbour(server.addr, 50);

    let (mut sender, mut receiver) = connect_split(server.addr).await;
    sender.feed(b"whole").unwrap();
    sender.feed_raw(&[0, 0]);
    within(sender.shutdown()).await.unwrap();

    assert_eq!(within(receiver.recv()).await.unwrap(), "whole");
    let err = expect_error_then_close(&mut receiver).await;
    let remote = remote_cause(&err);
    assert_eq!(field(remote, "received"), json!(2));
    assert_eq!(field(remote, "frame_index"), json!(1));
    assert_eq!(field(remote, "offset"), json!(9));
    assert!(
        format!("{err:#}").ends_with("stream ended inside a frame header: 2 of 4 bytes received"),
        "{err:#}"
    );
    assert_eq!(
        FailureKind::classify(&err),
        Some(FailureKind::TruncatedHeader)
    );

    check_log_line(
        &logs.wait_for("truncated_header").await,
        "truncated_header",
        &[("received", json!(2))],
    );
    within(neighbour).await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn a_stream_cut_inside_a_payload_is_a_truncated_payload() {
    let logs = Logs::capture();
    let server = start(builder(), echo()).await;
    let neighbour = good_neighbour(server.addr, 50);

    let (mut sender, mut receiver) = connect_split(server.addr).await;
    sender.feed_raw(&frame(&[1; 100])[..4 + 30]);
    within(sender.shutdown()).await.unwrap();

    let err = expect_error_then_close(&mut receiver).await;
    let remote = remote_cause(&err);
    assert_eq!(field(remote, "declared_len"), json!(100));
    assert_eq!(field(remote, "received"), json!(30));
    assert!(
        format!("{err:#}")
            .ends_with("stream ended inside a frame: 30 of 100 payload bytes received"),
        "{err:#}"
    );
    assert_eq!(
        FailureKind::classify(&err),
        Some(FailureKind::TruncatedPayload)
    );

    check_log_line(
        &logs.wait_for("truncated_payload").await,
        "truncated_payload",
        &[("declared_len", json!(100)), ("received", json!(30))],
    );
    within(neighbour).await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn a_slow_header_is_timed_out_with_its_count() {
    let logs = Logs::capture();
    let server = start(builder().frame_timeout(Duration::from_millis(50)), echo()).await;
    let neighbour = good_neighbour(server.addr, 50);

    let (mut sender, mut receiver) = connect_split(server.addr).await;
    sender.feed(b"quick").unwrap();
    sender.feed_raw(&[0, 0, 1]);
    within(sender.flush()).await.unwrap();

    assert_eq!(within(receiver.recv()).await.unwrap(), "quick");
    let err = expect_error_then_close(&mut receiver).await;
    let remote = remote_cause(&err);
    assert_eq!(field(remote, "received"), json!(3));
    assert_eq!(field(remote, "frame_index"), json!(1));
    assert!(
        field(remote, "elapsed_ms").as_u64().unwrap() >= 50,
        "{remote:?}"
    );
    let message = format!("{err:#}");
    assert!(
        message.contains("waiting for the frame header: 3 of 4 bytes received"),
        "{message}"
    );
    assert_eq!(FailureKind::classify(&err), Some(FailureKind::FrameTimeout));

    check_log_line(
        &logs.wait_for("frame_timeout").await,
        "frame_timeout",
        &[("received", json!(3))],
    );
    within(neighbour).await.unwrap();
    drop((sender, receiver));
    let summary = server.stop().await;
    assert_eq!(summary.errors_of(FailureKind::FrameTimeout), 1, "{summary}");
}

#[tokio::test]
async fn a_slow_payload_is_timed_out_with_its_count() {
    let logs = Logs::capture();
    let server = start(builder().frame_timeout(Duration::from_millis(50)), echo()).await;
    let neighbour = good_neighbour(server.addr, 50);

    let (mut sender, mut receiver) = connect_split(server.addr).await;
    sender.feed_raw(&frame(&[1; 100])[..4 + 10]);
    within(sender.flush()).await.unwrap();

    let err = expect_error_then_close(&mut receiver).await;
    let remote = remote_cause(&err);
    assert_eq!(field(remote, "declared_len"), json!(100));
    assert_eq!(field(remote, "received"), json!(10));
    assert!(
        format!("{err:#}").contains("waiting for the frame payload: 10 of 100 bytes received"),
        "{err:#}"
    );

    check_log_line(
        &logs.wait_for("frame_timeout").await,
        "frame_timeout",
        &[("declared_len", json!(100)), ("received", json!(10))],
    );
    within(neighbour).await.unwrap();
    drop((sender, receiver));
    server.stop().await;
}

#[tokio::test]
async fn a_frame_that_trickles_in_is_timed_out_though_bytes_keep_coming() {
    let server = start(builder().frame_timeout(Duration::from_millis(80)), echo()).await;
    let (mut sender, mut receiver) = connect_split(server.addr).await;
    let trickle = tokio::spawn(async move {
        let wire = frame(&[9; 200]);
        for byte in wire.chunks(1) {
            sender.feed_raw(byte);
            if sender.flush().await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    });
    let err = expect_error_then_close(&mut receiver).await;
    let remote = remote_cause(&err);
    assert_eq!(field(remote, "declared_len"), json!(200));
    let received = field(remote, "received").as_u64().unwrap();
    assert!(received < 200, "received {received}");
    trickle.abort();
    server.stop().await;
}

#[tokio::test]
async fn a_reset_inside_a_frame_is_logged_with_its_count() {
    let logs = Logs::capture();
    let server = start(builder(), echo()).await;

    let mut stream = within(TcpStream::connect(server.addr)).await.unwrap();
    stream.write_all(&frame(b"fine")).await.unwrap();
    stream.write_all(&frame(&[1; 100])[..4 + 10]).await.unwrap();
    // The server has read it all before the reset (and before the neighbour's
    // bytes count too).
    server
        .wait_for_received(frame(b"fine").len() + 4 + 10)
        .await;
    let neighbour = good_neighbour(server.addr, 50);
    stream.set_zero_linger().unwrap();
    drop(stream);

    let line = logs.wait_for("reset").await;
    assert_eq!(line["level"], "warn", "{line}");
    assert_eq!(line["error"]["name"], "ConnectionError", "{line}");
    assert_eq!(line["error"]["info"]["declared_len"], 100, "{line}");
    assert_eq!(line["error"]["info"]["received"], 10, "{line}");
    assert_eq!(line["error"]["info"]["frame_index"], 1, "{line}");
    assert_eq!(line["error"]["cause"]["name"], "io::Error", "{line}");

    within(neighbour).await.unwrap();
    let summary = server.stop().await;
    assert_eq!(summary.errors_of(FailureKind::Reset), 1, "{summary}");
}

#[tokio::test]
async fn a_peer_that_stops_reading_is_cut_off_by_the_write_timeout() {
    let logs = Logs::capture();
    let server = start(
        builder()
            .write_timeout(Duration::from_millis(200))
            .write_buffer(16 * 1024),
        echo(),
    )
    .await;
    let neighbour = good_neighbour(server.addr, 50);

    // Requests keep going out; no response is ever read.
    let client = connect(server.addr).await;
    let flooder = client.local_addr();
    let (mut sender, receiver) = client.split();
    let big = payload(3, LIMIT);
    let flood = tokio::spawn(async move {
        for _ in 0..100_000 {
            sender.feed(&big).unwrap();
            if sender.flush().await.is_err() {
                return;
            }
        }
        panic!("the server never gave up on a peer that does not read");
    });

    let line = logs.wait_for("write_timeout").await;
    assert_eq!(line["error"]["name"], "WriteTimeout", "{line}");
    assert_eq!(line["error"]["info"]["peer"], flooder.to_string(), "{line}");
    assert!(
        line["error"]["info"]["pending_bytes"].as_u64().unwrap() > 0,
        "{line}"
    );
    assert_eq!(line["error"]["info"]["timeout_ms"], 200, "{line}");
    drop(receiver);
    within(flood).await.unwrap();
    within(neighbour).await.unwrap();
    let summary = server.stop().await;
    assert_eq!(summary.errors_of(FailureKind::WriteTimeout), 1, "{summary}");
}

#[tokio::test]
async fn a_frame_over_a_tiny_limit_gets_its_decode_error_whole() {
    // The error response has its own cap: a request limit far below the size
    // of a decode error's JSON does not replace it with another error.
    for limit in [50, 100] {
        let server = start(builder().max_frame_len(limit), echo()).await;
        let (mut sender, mut receiver) = connect_split(server.addr).await;
        sender.feed_raw(&frame(&payload(limit, limit + 10)));
        within(sender.flush()).await.unwrap();
        let err = expect_error_then_close(&mut receiver).await;
        let remote = remote_cause(&err);
        assert_eq!(remote.name(), "FrameDecodeError", "limit {limit}: {err:?}");
        assert_eq!(field(remote, "declared_len"), json!(limit + 10));
        assert_eq!(field(remote, "max_frame_len"), json!(limit));
        assert_eq!(
            FailureKind::classify(&err),
            Some(FailureKind::Oversized),
            "{err:?}"
        );
        drop((sender, receiver));
        let summary = server.stop().await;
        assert_eq!(
            summary.errors_of(FailureKind::ResponseTooLarge),
            0,
            "{summary}"
        );
    }
}

#[tokio::test]
async fn a_request_limit_outside_what_the_header_can_carry_is_refused() {
    for limit in [0, u32::MAX as usize, usize::MAX] {
        let err = match builder().max_frame_len(limit).bind(echo()).await {
            Ok(_) => panic!("max_frame_len {limit} must be refused"),
            Err(err) => err,
        };
        assert_eq!(err.name(), "ConfigError", "{err:?}");
        assert_eq!(field(&err, "max_frame_len"), json!(limit));
        assert!(format!("{err:#}").contains("1 to 4294967294"), "{err:#}");
    }
    // The largest an ok response (one byte longer) still fits the header.
    let largest = builder()
        .max_frame_len(u32::MAX as usize - 1)
        .bind(echo())
        .await;
    assert!(largest.is_ok());
}

#[tokio::test]
async fn discard_answers_a_header_past_its_ceiling_once_then_closes() {
    let logs = Logs::capture();
    let server = start(
        builder()
            .oversized(OversizedPolicy::Discard)
            .max_discard_len(LIMIT * 4),
        echo(),
    )
    .await;
    let (mut sender, mut receiver) = connect_split(server.addr).await;
    sender.feed(b"before").unwrap();
    sender.feed_raw(&u32::MAX.to_be_bytes());
    // Valid frames after it would be swallowed as part of the 4 GiB frame.
    sender.feed(b"after").unwrap();
    within(sender.flush()).await.unwrap();

    assert_eq!(within(receiver.recv()).await.unwrap(), "before");
    let err = expect_error_then_close(&mut receiver).await;
    assert_eq!(field(remote_cause(&err), "declared_len"), json!(u32::MAX));
    drop((sender, receiver));
    let summary = server.stop().await;
    assert_eq!(summary.error_count(), 1, "one header, one error: {summary}");
    assert_eq!(logs.of_kind("oversized").len(), 1);
    assert!(logs.of_kind("frame_timeout").is_empty());
}

#[tokio::test]
async fn a_discarded_frame_cut_short_is_not_answered_twice() {
    let logs = Logs::capture();
    let server = start(builder().oversized(OversizedPolicy::Discard), echo()).await;
    let (mut sender, mut receiver) = connect_split(server.addr).await;
    // Within the discard ceiling: skipped as it comes; then the stream ends
    // inside it, which must not earn the same header a second answer.
    sender.feed_raw(&((LIMIT * 3) as u32).to_be_bytes());
    sender.feed_raw(&[1; 100]);
    within(sender.shutdown()).await.unwrap();

    let err = expect_error_then_close(&mut receiver).await;
    assert_eq!(
        FailureKind::classify(&err),
        Some(FailureKind::Oversized),
        "{err:?}"
    );
    drop((sender, receiver));
    let summary = server.stop().await;
    assert_eq!(summary.error_count(), 1, "{summary}");
    assert!(logs.of_kind("truncated_payload").is_empty());
}

/// A hostile server on loopback: answers the first request with `response`
/// (a whole frame, as given), then waits for the client to leave.
async fn hostile_server(response: Vec<u8>) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 64];
        let _ = tokio::io::AsyncReadExt::read(&mut stream, &mut request).await;
        let _ = stream.write_all(&response).await;
        let _ = tokio::io::AsyncReadExt::read(&mut stream, &mut request).await;
    });
    addr
}

/// An error response frame holding `json`.
fn error_response(json: &str) -> Vec<u8> {
    let mut payload = vec![verror::server::STATUS_ERROR];
    payload.extend_from_slice(json.as_bytes());
    frame(&payload)
}

#[tokio::test]
async fn the_client_bounds_what_a_hostile_server_sends() {
    // Huge: past the client's error cap, refused before it is read whole.
    let huge = format!(
        r#"{{"name":"X","short_message":"{}"}}"#,
        "x".repeat(256 * 1024)
    );
    // Wide: a MultiError of empty children, within the cap.
    let wide = format!(
        r#"{{"name":"MultiError","short_message":"m","errors":[{}{{}}]}}"#,
        "{},".repeat(60_000)
    );
    // Deep: past serde_json's recursion limit.
    let deep = format!(
        "{}{}",
        r#"{"name":"A","short_message":"a","cause":"#.repeat(1000),
        "}".repeat(1000)
    );
    for (what, json) in [("huge", huge), ("wide", wide), ("deep", deep)] {
        let addr = hostile_server(error_response(&json)).await;
        let mut client = verror::server::Client::builder()
            .timeout(Duration::from_secs(2))
            .max_error_len(256 * 1024)
            .connect(addr)
            .await
            .unwrap();
        let err = within(client.request(b"hello")).await.unwrap_err();
        let expected: &[&str] = match what {
            "huge" | "deep" => &["ProtocolError"],
            // Read back (a RemoteError) or given up at the timeout.
            _ => &["RemoteError", "ClientTimeout"],
        };
        assert!(expected.contains(&err.name()), "{what}: {err:#}");
    }
}

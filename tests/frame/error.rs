//! `FrameError`: the text and the fields of every variant, the timeout
//! constructor. (The `FrameDecodeError` a server wraps one in is the server's:
//! src/server/decode_error.rs.)

use std::error::Error as _;
use std::io;
use std::time::Duration;

use bytes::BytesMut;
use verror::frame::{FrameCodec, FrameError, FrameState, TimeoutStage};

#[test]
fn oversized() {
    let err = FrameError::Oversized {
        declared: 5_000_000,
        max: 1_048_576,
    };
    assert_eq!(
        err.to_string(),
        "declared length 5000000 exceeds the limit of 1048576"
    );
    assert_eq!(err.declared_len(), Some(5_000_000));
    assert_eq!(err.max_frame_len(), Some(1_048_576));
    assert_eq!(err.received(), None);
    assert!(err.source().is_none());
}

#[test]
fn truncated_header() {
    let err = FrameError::TruncatedHeader { received: 3 };
    assert_eq!(
        err.to_string(),
        "stream ended inside a frame header: 3 of 4 bytes received"
    );
    assert_eq!(err.declared_len(), None);
    assert_eq!(err.max_frame_len(), None);
    assert_eq!(err.received(), Some(3));
}

#[test]
fn truncated_payload() {
    let err = FrameError::TruncatedPayload {
        declared: 9,
        received: 4,
    };
    assert_eq!(
        err.to_string(),
        "stream ended inside a frame: 4 of 9 payload bytes received"
    );
    assert_eq!(err.declared_len(), Some(9));
    assert_eq!(err.max_frame_len(), None);
    assert_eq!(err.received(), Some(4));
}

#[test]
fn timeout_from_each_state() {
    let idle = FrameError::timeout(FrameState::Idle, Duration::from_secs(600));
    assert!(matches!(
        idle,
        FrameError::Timeout {
            stage: TimeoutStage::Header,
            received: 0,
            expected: 4,
            ..
        }
    ));
    assert_eq!(
        idle.to_string(),
        "timed out after 600s waiting for the frame header: 0 of 4 bytes received"
    );
    assert_eq!(idle.declared_len(), None);
    assert_eq!(idle.received(), Some(0));

    let header = FrameError::timeout(
        FrameState::InHeader { received: 2 },
        Duration::from_millis(1500),
    );
    assert_eq!(
        header.to_string(),
        "timed out after 1.5s waiting for the frame header: 2 of 4 bytes received"
    );

    let payload = FrameError::timeout(
        FrameState::InFrame {
            declared: 5000,
            received: 100,
        },
        Duration::from_secs(30),
    );
    assert!(matches!(
        payload,
        FrameError::Timeout {
            stage: TimeoutStage::Payload,
            received: 100,
            expected: 5000,
            elapsed,
        } if elapsed == Duration::from_secs(30)
    ));
    assert_eq!(
        payload.to_string(),
        "timed out after 30s waiting for the frame payload: 100 of 5000 bytes received"
    );
    assert_eq!(payload.declared_len(), Some(5000));
    assert_eq!(payload.received(), Some(100));
}

#[test]
fn timeout_from_a_live_codec() {
    let mut codec = FrameCodec::new();
    let mut buf = BytesMut::from(&b"\x00\x01"[..]);
    codec.decode(&mut buf).unwrap();
    let err = FrameError::timeout(codec.state(), Duration::from_secs(5));
    assert_eq!(
        err.to_string(),
        "timed out after 5s waiting for the frame header: 2 of 4 bytes received"
    );
}

#[test]
fn io_keeps_its_error_as_the_source() {
    let err = FrameError::from(io::Error::new(
        io::ErrorKind::ConnectionReset,
        "connection reset by peer",
    ));
    assert_eq!(err.to_string(), "I/O error");
    let source = err.source().unwrap().downcast_ref::<io::Error>().unwrap();
    assert_eq!(source.kind(), io::ErrorKind::ConnectionReset);
    assert_eq!(
        (err.declared_len(), err.max_frame_len(), err.received()),
        (None, None, None)
    );
}

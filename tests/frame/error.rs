//! `FrameError`: the text and the fields of every variant, the timeout
//! constructor, and the `VError` that `FrameContext::to_verror` builds.

use std::error::Error as _;
use std::io;
use std::time::Duration;

use bytes::BytesMut;
use serde_json::json;
use verror::frame::{FrameCodec, FrameContext, FrameError, FrameState, TimeoutStage};
use verror::VError;

use crate::ctx;

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

fn info(err: &VError) -> serde_json::Value {
    serde_json::to_value(err.own_info()).unwrap()
}

#[test]
fn to_verror_oversized() {
    let err = ctx().to_verror(FrameError::Oversized {
        declared: 5_000_000,
        max: 1_048_576,
    });
    assert_eq!(err.name(), "FrameDecodeError");
    assert_eq!(
        err.short_message(),
        "connection 7 from 127.0.0.1:50412, frame 3 at byte 1032"
    );
    assert_eq!(
        err.message(),
        "connection 7 from 127.0.0.1:50412, frame 3 at byte 1032: \
         declared length 5000000 exceeds the limit of 1048576"
    );
    assert_eq!(
        info(&err),
        json!({
            "conn_id": 7, "peer": "127.0.0.1:50412", "frame_index": 3, "offset": 1032,
            "declared_len": 5000000, "max_frame_len": 1048576,
        })
    );
    // The keys keep this order.
    assert_eq!(
        serde_json::to_string(err.own_info()).unwrap(),
        r#"{"conn_id":7,"peer":"127.0.0.1:50412","frame_index":3,"offset":1032,"declared_len":5000000,"max_frame_len":1048576}"#
    );
    assert!(matches!(
        verror::find_cause::<FrameError>(&err),
        Some(FrameError::Oversized {
            declared: 5_000_000,
            ..
        })
    ));
}

#[test]
fn to_verror_fields_follow_the_variant() {
    let base = json!({"conn_id": 7, "peer": "127.0.0.1:50412", "frame_index": 3, "offset": 1032});
    let with = |extra: serde_json::Value| {
        let mut v = base.clone();
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        v
    };
    let cases = [
        (
            FrameError::TruncatedHeader { received: 2 },
            with(json!({"received": 2})),
        ),
        (
            FrameError::TruncatedPayload {
                declared: 9,
                received: 4,
            },
            with(json!({"declared_len": 9, "received": 4})),
        ),
        (
            FrameError::timeout(
                FrameState::InHeader { received: 1 },
                Duration::from_secs(10),
            ),
            with(json!({"received": 1, "elapsed_ms": 10000})),
        ),
        (
            FrameError::timeout(
                FrameState::InFrame {
                    declared: 64,
                    received: 8,
                },
                Duration::from_millis(2500),
            ),
            with(json!({"declared_len": 64, "received": 8, "elapsed_ms": 2500})),
        ),
        (
            FrameError::Io(io::Error::new(io::ErrorKind::UnexpectedEof, "eof")),
            base.clone(),
        ),
    ];
    for (frame_error, expected) in cases {
        let err = ctx().to_verror(frame_error);
        assert_eq!(info(&err), expected, "{err:#}");
    }
}

#[test]
fn to_verror_never_captures_a_backtrace() {
    // Whatever RUST_BACKTRACE / RUST_LIB_BACKTRACE say (this workplace sets
    // RUST_BACKTRACE=1): a peer must not make the server pay for one per frame.
    let err = ctx().to_verror(FrameError::TruncatedHeader { received: 1 });
    assert!(err.backtrace().is_none());
    assert!(verror::find_backtrace(&err).is_none());
}

#[test]
fn to_verror_records_the_callers_location() {
    let err = ctx().to_verror(FrameError::TruncatedHeader { received: 1 });
    assert_eq!(err.location().unwrap().file(), file!());
}

#[test]
fn to_verror_io_shows_the_io_text_once() {
    let err = ctx().to_verror(FrameError::Io(io::Error::new(
        io::ErrorKind::ConnectionReset,
        "connection reset by peer",
    )));
    assert_eq!(
        format!("{err:#}"),
        "connection 7 from 127.0.0.1:50412, frame 3 at byte 1032: I/O error: connection reset by peer"
    );
    assert!(verror::find_cause::<io::Error>(&err).is_some());
}

#[test]
fn context_at_takes_the_codecs_position() {
    let mut codec = FrameCodec::with_max_frame_len(4);
    let mut buf = BytesMut::from(&b"\x00\x00\x00\x01a\x00\x00\x00\x02bc\x00\x00\x00\x09"[..]);
    assert_eq!(codec.decode(&mut buf).unwrap().unwrap(), &b"a"[..]);
    assert_eq!(codec.decode(&mut buf).unwrap().unwrap(), &b"bc"[..]);
    let err = codec.decode(&mut buf).unwrap_err();
    let ctx = FrameContext::new(1, "[::1]:9000".parse().unwrap()).at(&codec);
    assert_eq!((ctx.frame_index, ctx.offset), (2, 11));
    assert_eq!(
        format!("{:#}", ctx.to_verror(err)),
        "connection 1 from [::1]:9000, frame 2 at byte 11: declared length 9 exceeds the limit of 4"
    );
}

#[test]
fn json_round_trip_keeps_the_numbers() {
    let err = ctx().to_verror(FrameError::Oversized {
        declared: 5_000_000,
        max: 1_048_576,
    });
    let json = serde_json::to_string(&err).unwrap();
    let back: VError = serde_json::from_str(&json).unwrap();
    assert_eq!(back.name(), "FrameDecodeError");
    assert_eq!(format!("{back:#}"), format!("{err:#}"));
    assert!(verror::has_cause_with_name(&back, "FrameError"));
    assert_eq!(serde_json::to_string(&back).unwrap(), json);
}

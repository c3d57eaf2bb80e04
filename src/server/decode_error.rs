//! The error a decode failure is answered with: the codec's [`FrameError`]
//! (codec facts only) as the cause of a `FrameDecodeError` level that adds the
//! server's context, the connection and where in its stream the frame began.

use crate::VError;
use crate::frame::{FrameCodec, FrameError};

use super::millis;
use super::report::{ConnRef, FailureKind};

/// The kind of a decode failure.
pub(crate) fn kind_of(err: &FrameError) -> FailureKind {
    match err {
        FrameError::Oversized { .. } => FailureKind::Oversized,
        FrameError::TruncatedHeader { .. } => FailureKind::TruncatedHeader,
        FrameError::TruncatedPayload { .. } => FailureKind::TruncatedPayload,
        FrameError::Timeout { .. } => FailureKind::FrameTimeout,
        _ => FailureKind::Io,
    }
}

/// Wraps `err` in a `FrameDecodeError` whose short message is `connection 7
/// from 127.0.0.1:50412, frame 3 at byte 1032`, with the fields `kind`,
/// `conn_id`, `peer`, `frame_index`, `offset`, then those of `declared_len`,
/// `max_frame_len`, `received` and `elapsed_ms` that apply, and `err` as its
/// cause. Never a backtrace: a hostile peer must not make the server pay for
/// one per frame.
pub(crate) fn decode_error(conn: ConnRef, codec: &FrameCodec, err: FrameError) -> VError {
    let (frame_index, offset) = (codec.frame_index(), codec.frame_offset());
    let mut builder = conn
        .error(kind_of(&err))
        .info("frame_index", frame_index)
        .info("offset", offset);
    if let Some(declared) = err.declared_len() {
        builder = builder.info("declared_len", declared);
    }
    if let Some(max) = err.max_frame_len() {
        builder = builder.info("max_frame_len", max);
    }
    if let Some(received) = err.received() {
        builder = builder.info("received", received);
    }
    if let FrameError::Timeout { elapsed, .. } = err {
        builder = builder.info("elapsed_ms", millis(elapsed));
    }
    builder
        .message(format_args!(
            "connection {} from {}, frame {frame_index} at byte {offset}",
            conn.conn_id, conn.peer
        ))
        .cause(err)
        .build()
}

/// `err` without its location: what a peer gets of a decode error under
/// [`Exposure::Public`](super::Exposure::Public). Its numbers are what the
/// peer needs; where in the server's source it was made is not the peer's
/// business. (The cause, a `FrameError`, has no location.)
pub(crate) fn without_location(mut err: VError) -> VError {
    err.0.location = None;
    err
}

#[cfg(test)]
mod tests {
    use std::io;
    use std::time::Duration;

    use bytes::BytesMut;
    use serde_json::json;

    use super::*;
    use crate::frame::FrameState;

    const PEER: &str = "127.0.0.1:50412";

    fn conn() -> ConnRef {
        ConnRef {
            conn_id: 7,
            peer: PEER.parse().unwrap(),
        }
    }

    /// A codec at frame 2, byte 11 (two frames decoded), and the error the
    /// third frame's header earns under a limit of 4.
    fn oversized_third_frame() -> (FrameCodec, FrameError) {
        let mut codec = FrameCodec::with_max_frame_len(4);
        let mut buf = BytesMut::from(&b"\x00\x00\x00\x01a\x00\x00\x00\x02bc\x00\x00\x00\x09"[..]);
        assert_eq!(codec.decode(&mut buf).unwrap().unwrap(), &b"a"[..]);
        assert_eq!(codec.decode(&mut buf).unwrap().unwrap(), &b"bc"[..]);
        let err = codec.decode(&mut buf).unwrap_err();
        (codec, err)
    }

    fn info(err: &VError) -> serde_json::Value {
        serde_json::to_value(err.own_info()).unwrap()
    }

    #[test]
    fn the_server_adds_the_connection_and_the_codec_its_position() {
        let (codec, err) = oversized_third_frame();
        let err = decode_error(conn(), &codec, err);
        assert_eq!(err.name(), "FrameDecodeError");
        assert_eq!(
            format!("{err:#}"),
            "connection 7 from 127.0.0.1:50412, frame 2 at byte 11: declared length 9 exceeds the limit of 4"
        );
        // The keys keep this order.
        assert_eq!(
            serde_json::to_string(err.own_info()).unwrap(),
            r#"{"kind":"oversized","conn_id":7,"peer":"127.0.0.1:50412","frame_index":2,"offset":11,"declared_len":9,"max_frame_len":4}"#
        );
        assert!(matches!(
            crate::find_cause::<FrameError>(&err),
            Some(FrameError::Oversized {
                declared: 9,
                max: 4
            })
        ));
        assert_eq!(FailureKind::classify(&err), Some(FailureKind::Oversized));
        // A peer must not make the server pay for a backtrace per frame,
        // whatever RUST_BACKTRACE says.
        assert!(crate::find_backtrace(&err).is_none());
        assert_eq!(err.location().unwrap().file(), "src/server/decode_error.rs");
        assert!(without_location(err).location().is_none());
    }

    #[test]
    fn the_fields_follow_the_variant() {
        let codec = FrameCodec::new();
        let base = json!({"conn_id": 7, "peer": PEER, "frame_index": 0, "offset": 0});
        let with = |kind: &str, extra: serde_json::Value| {
            let mut v = json!({"kind": kind});
            v.as_object_mut()
                .unwrap()
                .extend(base.as_object().unwrap().clone());
            v.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            v
        };
        let cases = [
            (
                FrameError::TruncatedHeader { received: 2 },
                with("truncated_header", json!({"received": 2})),
            ),
            (
                FrameError::TruncatedPayload {
                    declared: 9,
                    received: 4,
                },
                with(
                    "truncated_payload",
                    json!({"declared_len": 9, "received": 4}),
                ),
            ),
            (
                FrameError::timeout(
                    FrameState::InHeader { received: 1 },
                    Duration::from_secs(10),
                ),
                with("frame_timeout", json!({"received": 1, "elapsed_ms": 10000})),
            ),
            (
                FrameError::timeout(
                    FrameState::InFrame {
                        declared: 64,
                        received: 8,
                    },
                    Duration::from_millis(2500),
                ),
                with(
                    "frame_timeout",
                    json!({"declared_len": 64, "received": 8, "elapsed_ms": 2500}),
                ),
            ),
            (
                FrameError::Io(io::Error::new(io::ErrorKind::UnexpectedEof, "eof")),
                with("io", json!({})),
            ),
        ];
        for (frame_error, expected) in cases {
            let err = decode_error(conn(), &codec, frame_error);
            assert_eq!(info(&err), expected, "{err:#}");
        }
    }

    #[test]
    fn an_io_failure_shows_its_text_once() {
        let err = decode_error(
            conn(),
            &FrameCodec::new(),
            FrameError::Io(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "connection reset by peer",
            )),
        );
        assert_eq!(
            format!("{err:#}"),
            "connection 7 from 127.0.0.1:50412, frame 0 at byte 0: I/O error: connection reset by peer"
        );
        assert!(crate::find_cause::<io::Error>(&err).is_some());
    }

    #[test]
    fn a_json_round_trip_keeps_the_numbers_and_the_kind() {
        let (codec, err) = oversized_third_frame();
        let err = decode_error(conn(), &codec, err);
        let json = serde_json::to_string(&err).unwrap();
        let back: VError = serde_json::from_str(&json).unwrap();
        assert_eq!(back.name(), "FrameDecodeError");
        assert_eq!(format!("{back:#}"), format!("{err:#}"));
        assert!(crate::has_cause_with_name(&back, "FrameError"));
        assert_eq!(FailureKind::classify(&back), Some(FailureKind::Oversized));
        assert_eq!(serde_json::to_string(&back).unwrap(), json);
    }
}

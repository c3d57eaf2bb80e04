//! The error a decode failure is answered with: the codec's [`FrameError`]
//! (codec facts only) as the cause of a `FrameDecodeError` level that adds the
//! server's context, the connection and where in its stream the frame began.

use crate::frame::{FrameCodec, FrameError};
use crate::VError;

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

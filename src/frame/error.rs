//! [`FrameError`]: every way a frame can fail, each with its numbers (codec facts
//! only: which connection and peer it came from is the server's context).

use std::fmt;
use std::io;
use std::time::Duration;

use crate::human::HumanDuration;

use super::codec::{FrameState, HEADER_LEN};

/// Why a frame could not be decoded (or encoded).
///
/// Every variant carries the numbers that explain it, and its message states them,
/// so a log line reads `declared length 5000000 exceeds the limit of 1048576`
/// rather than tokio-util's bare `frame size too big`. The position of the frame
/// in the stream is the codec's ([`FrameCodec::frame_index`](super::FrameCodec::frame_index),
/// [`FrameCodec::frame_offset`](super::FrameCodec::frame_offset)); the connection and the peer are the server's
/// context, which it adds when it wraps the error.
///
/// ```
/// use bytes::BytesMut;
/// use verror::frame::{FrameCodec, FrameError};
///
/// let mut codec = FrameCodec::with_max_frame_len(1024);
/// let mut buf = BytesMut::from(&[0x00, 0x4c, 0x4b, 0x40][..]); // declares 5_000_000 bytes
/// let err = codec.decode(&mut buf).unwrap_err();
///
/// assert!(matches!(err, FrameError::Oversized { declared: 5_000_000, max: 1024 }));
/// assert_eq!(err.to_string(), "declared length 5000000 exceeds the limit of 1024");
/// assert_eq!(err.declared_len(), Some(5_000_000));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// A header declared a payload longer than the limit; or, when encoding, the
    /// payload itself is longer than the limit (`declared` is then its length).
    #[error("declared length {declared} exceeds the limit of {max}")]
    Oversized {
        /// The payload length the header declared (or the payload's length, when encoding).
        declared: usize,
        /// The `max_frame_len` in force when the header was read.
        max: usize,
    },

    /// The stream ended inside a 4-byte header.
    #[error("stream ended inside a frame header: {received} of 4 bytes received")]
    TruncatedHeader {
        /// Header bytes received before the end of the stream (1 to 3).
        received: usize,
    },

    /// The stream ended inside a payload.
    #[error("stream ended inside a frame: {received} of {declared} payload bytes received")]
    TruncatedPayload {
        /// The payload length the header declared.
        declared: usize,
        /// Payload bytes received before the end of the stream.
        received: usize,
    },

    /// A header or a payload arrived too slowly. The codec has no clock: a server
    /// builds this error from [`FrameCodec::state`](super::FrameCodec::state) and the time it has waited,
    /// with [`FrameError::timeout`].
    #[error(
        "timed out after {} waiting for the frame {stage}: {received} of {expected} bytes received",
        HumanDuration(*.elapsed)
    )]
    Timeout {
        /// Whether the header or the payload was awaited.
        stage: TimeoutStage,
        /// Bytes of the header (or of the payload) received so far.
        received: usize,
        /// Bytes expected: 4 for the header, the declared length for a payload.
        expected: usize,
        /// How long the server waited.
        elapsed: Duration,
    },

    /// Reading or writing the transport failed (tokio-util's `Framed` reports its
    /// I/O errors through the codec's error type). The `io::Error` is the
    /// [`source`](std::error::Error::source), not part of this message, so chain
    /// printers show its text once.
    #[error("I/O error")]
    Io(#[from] io::Error),
}

/// What a timed-out connection was waiting for; see [`FrameError::Timeout`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeoutStage {
    /// The 4-byte length header (including an idle connection, 0 of 4 bytes received).
    Header,
    /// The payload whose length the header declared.
    Payload,
}

impl fmt::Display for TimeoutStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutStage::Header => "header",
            TimeoutStage::Payload => "payload",
        })
    }
}

impl FrameError {
    /// The timeout error for a decoder in `state` after waiting `elapsed`.
    ///
    /// [`FrameState::Idle`] and [`FrameState::InHeader`] give a
    /// [`TimeoutStage::Header`] timeout (`received` of 4 bytes);
    /// [`FrameState::InFrame`] gives a [`TimeoutStage::Payload`] timeout
    /// (`received` of `declared` bytes).
    ///
    /// ```
    /// use std::time::Duration;
    /// use bytes::BytesMut;
    /// use verror::frame::{FrameCodec, FrameError};
    ///
    /// let mut codec = FrameCodec::new();
    /// let mut buf = BytesMut::from(&b"\x00\x00\x00\x09abc"[..]); // 3 of 9 bytes so far
    /// assert!(codec.decode(&mut buf).unwrap().is_none());
    ///
    /// // ... the server's frame deadline passes ...
    /// let err = FrameError::timeout(codec.state(), Duration::from_secs(30));
    /// assert_eq!(
    ///     err.to_string(),
    ///     "timed out after 30s waiting for the frame payload: 3 of 9 bytes received"
    /// );
    /// ```
    pub fn timeout(state: FrameState, elapsed: Duration) -> FrameError {
        let (stage, received, expected) = match state {
            FrameState::Idle => (TimeoutStage::Header, 0, HEADER_LEN),
            FrameState::InHeader { received } => (TimeoutStage::Header, received, HEADER_LEN),
            FrameState::InFrame { declared, received } => {
                (TimeoutStage::Payload, received, declared)
            }
        };
        FrameError::Timeout {
            stage,
            received,
            expected,
            elapsed,
        }
    }

    /// The payload length a header declared, for the variants that know it
    /// (`Oversized`, `TruncatedPayload`, and a payload `Timeout`).
    pub fn declared_len(&self) -> Option<usize> {
        match *self {
            FrameError::Oversized { declared, .. }
            | FrameError::TruncatedPayload { declared, .. } => Some(declared),
            FrameError::Timeout {
                stage: TimeoutStage::Payload,
                expected,
                ..
            } => Some(expected),
            _ => None,
        }
    }

    /// The limit that was exceeded (`Oversized` only).
    pub fn max_frame_len(&self) -> Option<usize> {
        match *self {
            FrameError::Oversized { max, .. } => Some(max),
            _ => None,
        }
    }

    /// How many bytes of the header or payload had arrived (`TruncatedHeader`,
    /// `TruncatedPayload`, `Timeout`).
    pub fn received(&self) -> Option<usize> {
        match *self {
            FrameError::TruncatedHeader { received }
            | FrameError::TruncatedPayload { received, .. }
            | FrameError::Timeout { received, .. } => Some(received),
            _ => None,
        }
    }
}

//! [`FrameError`]: every way a frame can fail, each with its numbers; and
//! [`FrameContext`], which wraps one in a [`VError`] carrying what the server knows.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use crate::human::HumanDuration;
use crate::VError;

use super::codec::{FrameCodec, FrameState, HEADER_LEN};

/// Why a frame could not be decoded (or encoded).
///
/// Every variant carries the numbers that explain it, and its message states them,
/// so a log line reads `declared length 5000000 exceeds the limit of 1048576`
/// rather than tokio-util's bare `frame size too big`. The position of the frame
/// in the stream (its index and byte offset) and the peer are the server's
/// context: [`FrameContext::to_verror`] adds them.
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
    /// builds this error from [`FrameCodec::state`] and the time it has waited,
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

/// What a server knows about a frame that failed: which connection, which peer,
/// and where in the stream the frame began. [`to_verror`](FrameContext::to_verror)
/// wraps a [`FrameError`] in a [`VError`] that carries all of it.
///
/// ```
/// use bytes::BytesMut;
/// use verror::frame::{FrameCodec, FrameContext, FrameError};
///
/// let peer = "127.0.0.1:50412".parse().unwrap();
/// let mut codec = FrameCodec::new();
/// let mut buf = BytesMut::from(&b"\x00\x00\x00\x02hi\x00\x4c\x4b\x40"[..]);
/// assert_eq!(&codec.decode(&mut buf).unwrap().unwrap()[..], b"hi");
/// let err = codec.decode(&mut buf).unwrap_err();
///
/// // The codec knows where the failing frame starts: frame 1, byte 6.
/// let err = FrameContext::new(7, peer).at(&codec).to_verror(err);
/// assert_eq!(err.name(), "FrameDecodeError");
/// assert_eq!(
///     format!("{err:#}"),
///     "connection 7 from 127.0.0.1:50412, frame 1 at byte 6: \
///      declared length 5000000 exceeds the limit of 1048576"
/// );
/// assert!(verror::find_cause::<FrameError>(&err).is_some());
/// assert!(err.backtrace().is_none()); // peers must not make us capture backtraces
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FrameContext {
    /// The server's id for the connection.
    pub conn_id: u64,
    /// The remote address.
    pub peer: SocketAddr,
    /// The index of the failing frame on this connection (0 for the first frame).
    pub frame_index: u64,
    /// The byte offset in the stream where the failing frame's header starts.
    pub offset: u64,
}

impl FrameContext {
    /// A context for connection `conn_id` from `peer`, at frame 0, byte 0.
    /// Set the position with [`at`](FrameContext::at) or the public fields.
    pub fn new(conn_id: u64, peer: SocketAddr) -> FrameContext {
        FrameContext {
            conn_id,
            peer,
            frame_index: 0,
            offset: 0,
        }
    }

    /// Takes the position of the frame the codec is working on (or failed on):
    /// [`FrameCodec::frame_index`] and [`FrameCodec::frame_offset`].
    #[must_use]
    pub fn at(mut self, codec: &FrameCodec) -> FrameContext {
        self.frame_index = codec.frame_index();
        self.offset = codec.frame_offset();
        self
    }

    /// Wraps `err` in a `VError` named `FrameDecodeError` whose short message is
    /// `connection 7 from 127.0.0.1:50412, frame 3 at byte 1032`, with the info
    /// fields `conn_id`, `peer`, `frame_index`, `offset`, then those of
    /// `declared_len`, `max_frame_len`, `received` and `elapsed_ms` that apply to
    /// the error, and `err` as its cause.
    ///
    /// It never captures a backtrace: decode failures come from peers, and a
    /// hostile peer must not make the server pay for one per frame. The location
    /// it records is the caller's.
    #[track_caller]
    pub fn to_verror(&self, err: FrameError) -> VError {
        let mut builder = VError::builder()
            .name("FrameDecodeError")
            .message(format_args!(
                "connection {} from {}, frame {} at byte {}",
                self.conn_id, self.peer, self.frame_index, self.offset
            ))
            .info("conn_id", self.conn_id)
            .info("peer", self.peer.to_string())
            .info("frame_index", self.frame_index)
            .info("offset", self.offset);
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
            let ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
            builder = builder.info("elapsed_ms", ms);
        }
        builder.cause(err).backtrace(false).build()
    }
}

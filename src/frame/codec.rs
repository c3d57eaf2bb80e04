//! The sans-IO [`FrameCodec`]: bytes in, frames or [`FrameError`]s out.

use bytes::{Buf, BufMut, BytesMut};

use super::error::FrameError;

/// The length of a frame header: a big-endian `u32`.
pub const HEADER_LEN: usize = 4;

/// The default `max_frame_len`: 1 MiB.
pub const DEFAULT_MAX_FRAME_LEN: usize = 1024 * 1024;

/// The largest limit a 4-byte header can express, `u32::MAX` (saturating on
/// targets whose `usize` is narrower).
const MAX_REPRESENTABLE: usize = if usize::BITS > 32 {
    u32::MAX as usize
} else {
    usize::MAX
};

/// What the decoder does with a header that declares more than `max_frame_len`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum OversizedPolicy {
    /// The error ends the stream: it is returned by this and every later call,
    /// and nothing after it is decoded. The default.
    #[default]
    Close,
    /// netty's behaviour: the error is returned once, then the declared payload
    /// bytes are skipped as they arrive, without being buffered, and the next
    /// frame decodes normally.
    Discard,
}

/// Where the decoder is in the stream; see [`FrameCodec::state`].
///
/// A server uses it to time out slow peers: a deadline for the next header while
/// `Idle` (idle timeout), and a shorter one once a frame has started (`InHeader`,
/// `InFrame`: slowloris). [`FrameError::timeout`] turns a state and the time
/// waited into the error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FrameState {
    /// Between frames: no byte of the next header has arrived.
    Idle,
    /// Part of a header has arrived: `received` of its 4 bytes (1 to 3).
    InHeader {
        /// Header bytes received so far.
        received: usize,
    },
    /// A header declared `declared` payload bytes and `received` of them have
    /// arrived. Also the state while an oversized frame is being discarded
    /// ([`OversizedPolicy::Discard`]), `received` then counting the bytes skipped.
    InFrame {
        /// The payload length the header declared.
        declared: usize,
        /// Payload bytes received (or skipped) so far.
        received: usize,
    },
}

/// The decoder's phase. `Header` with `received: 0` is idle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Header { received: usize },
    Payload { declared: usize, received: usize },
    Discard { declared: usize, skipped: usize },
    Failed(StickyFailure),
}

/// A sticky failure, replayed by every later call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StickyFailure {
    Oversized { declared: usize, max: usize },
    TruncatedHeader { received: usize },
    TruncatedPayload { declared: usize, received: usize },
}

impl StickyFailure {
    fn to_error(self) -> FrameError {
        match self {
            StickyFailure::Oversized { declared, max } => FrameError::Oversized { declared, max },
            StickyFailure::TruncatedHeader { received } => FrameError::TruncatedHeader { received },
            StickyFailure::TruncatedPayload { declared, received } => {
                FrameError::TruncatedPayload { declared, received }
            }
        }
    }
}

/// The length-prefixed frame codec: a 4-byte big-endian length `N`, then `N`
/// payload bytes. `N = 0` is a valid, empty frame.
///
/// It is sans-IO: [`decode`](FrameCodec::decode) takes whatever bytes have arrived,
/// in a buffer the caller keeps appending to, and returns the next complete frame,
/// `None` when more bytes are needed, or a [`FrameError`]. Any chunking of a
/// stream (frames glued together, a header split across reads, a payload in single
/// bytes) yields the same frames.
///
/// - **Memory grows with the bytes that arrived, never with the declared length.**
///   The codec never reserves room for a payload; a header declaring 4 GiB costs
///   nothing. After `decode` returns `None`, the buffer holds less than one
///   frame (at most `max_frame_len` bytes), so a server that decodes after every
///   read buffers at most the limit plus one read.
/// - **Frames are not copied.** Each payload is split off the buffer
///   ([`BytesMut::split_to`]) and shares its allocation.
/// - **Errors carry their numbers**: [`FrameError::Oversized`] holds the declared
///   length and the limit; at the end of the stream,
///   [`decode_eof`](FrameCodec::decode_eof) tells a truncated header from a
///   truncated payload.
/// - **It reports where it is** ([`state`](FrameCodec::state),
///   [`frame_index`](FrameCodec::frame_index),
///   [`frame_offset`](FrameCodec::frame_offset)) so a server can time out slow
///   peers and say which frame failed.
///
/// With the `codec` feature it also implements tokio-util's
/// `Decoder<Item = BytesMut, Error = FrameError>` and `Encoder<Bytes>` (exactly one
/// `Encoder`, so `framed.flush()` needs no type annotation); both delegate to the
/// inherent methods.
///
/// ```
/// use bytes::BytesMut;
/// use verror::frame::{FrameCodec, FrameState};
///
/// let mut codec = FrameCodec::new();
/// let mut buf = BytesMut::new();
///
/// // Two frames and the start of a third arrive in one read.
/// buf.extend_from_slice(b"\x00\x00\x00\x05hello\x00\x00\x00\x00\x00\x00\x00\x05wor");
/// assert_eq!(&codec.decode(&mut buf)?.unwrap()[..], b"hello");
/// assert_eq!(&codec.decode(&mut buf)?.unwrap()[..], b""); // an empty frame
/// assert_eq!(codec.decode(&mut buf)?, None);
/// assert_eq!(codec.state(), FrameState::InFrame { declared: 5, received: 3 });
///
/// // The rest arrives.
/// buf.extend_from_slice(b"ld");
/// assert_eq!(&codec.decode(&mut buf)?.unwrap()[..], b"world");
/// assert_eq!(codec.decode_eof(&mut buf)?, None); // a clean end of stream
/// # Ok::<(), verror::frame::FrameError>(())
/// ```
#[derive(Debug, Clone)]
pub struct FrameCodec {
    /// The limit for the next header (and for encoding).
    max_frame_len: usize,
    policy: OversizedPolicy,
    phase: Phase,
    /// Frames completed (or discarded) so far: the index of the current frame.
    frame_index: u64,
    /// Stream offset of the current frame's header.
    frame_offset: u64,
}

impl Default for FrameCodec {
    fn default() -> FrameCodec {
        FrameCodec::new()
    }
}

impl FrameCodec {
    /// A codec with the default limit of 1 MiB ([`DEFAULT_MAX_FRAME_LEN`]) and the
    /// [`Close`](OversizedPolicy::Close) policy.
    ///
    /// ```
    /// let codec = verror::frame::FrameCodec::new();
    /// assert_eq!(codec.max_frame_len(), 1024 * 1024);
    /// ```
    pub fn new() -> FrameCodec {
        FrameCodec::with_max_frame_len(DEFAULT_MAX_FRAME_LEN)
    }

    /// A codec that accepts payloads of at most `max` bytes (clamped to
    /// `u32::MAX`, the most a header can declare).
    ///
    /// ```
    /// let codec = verror::frame::FrameCodec::with_max_frame_len(64 * 1024);
    /// assert_eq!(codec.max_frame_len(), 65536);
    /// ```
    pub fn with_max_frame_len(max: usize) -> FrameCodec {
        FrameCodec {
            max_frame_len: max.min(MAX_REPRESENTABLE),
            policy: OversizedPolicy::Close,
            phase: Phase::Header { received: 0 },
            frame_index: 0,
            frame_offset: 0,
        }
    }

    /// Sets the oversized-frame policy (builder style).
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use verror::frame::{FrameCodec, FrameError, OversizedPolicy};
    ///
    /// let mut codec = FrameCodec::with_max_frame_len(4).oversized(OversizedPolicy::Discard);
    /// let mut buf = BytesMut::from(&b"\x00\x00\x00\x06too"[..]);
    /// // The error is reported once ...
    /// assert!(matches!(codec.decode(&mut buf), Err(FrameError::Oversized { declared: 6, max: 4 })));
    /// // ... and the rest of that frame is skipped as it arrives.
    /// buf.extend_from_slice(b"big\x00\x00\x00\x02ok");
    /// assert_eq!(&codec.decode(&mut buf)?.unwrap()[..], b"ok");
    /// # Ok::<(), FrameError>(())
    /// ```
    #[must_use]
    pub fn oversized(mut self, policy: OversizedPolicy) -> FrameCodec {
        self.policy = policy;
        self
    }

    /// The oversized-frame policy.
    pub fn oversized_policy(&self) -> OversizedPolicy {
        self.policy
    }

    /// The limit on a payload's length, for decoding and encoding.
    pub fn max_frame_len(&self) -> usize {
        self.max_frame_len
    }

    /// Changes the limit (clamped to `u32::MAX`). It applies from the next header:
    /// a frame whose header was already read keeps the limit it was accepted
    /// under. Encoding uses the new limit at once.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use verror::frame::FrameCodec;
    ///
    /// let mut codec = FrameCodec::new();
    /// let mut buf = BytesMut::from(&b"\x00\x00\x00\x09abcd"[..]);
    /// assert_eq!(codec.decode(&mut buf)?, None); // a 9-byte frame is in flight
    /// codec.set_max_frame_len(5);
    /// buf.extend_from_slice(b"efghi\x00\x00\x00\x09abcdefghi");
    /// assert_eq!(&codec.decode(&mut buf)?.unwrap()[..], b"abcdefghi"); // old limit
    /// assert!(codec.decode(&mut buf).is_err()); // the next header meets the new one
    /// # Ok::<(), verror::frame::FrameError>(())
    /// ```
    pub fn set_max_frame_len(&mut self, max: usize) {
        self.max_frame_len = max.min(MAX_REPRESENTABLE);
    }

    /// Where the decoder is, as of the last [`decode`](FrameCodec::decode) call
    /// (the codec does not see bytes appended since). Read it after `decode`
    /// returned `Ok(None)`: the server is then waiting for the peer.
    ///
    /// After a sticky error ([`is_failed`](FrameCodec::is_failed)) it is `Idle`:
    /// nothing is in progress any more.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use verror::frame::{FrameCodec, FrameState};
    ///
    /// let mut codec = FrameCodec::new();
    /// let mut buf = BytesMut::from(&b"\x00\x00"[..]);
    /// codec.decode(&mut buf)?;
    /// assert_eq!(codec.state(), FrameState::InHeader { received: 2 });
    /// buf.extend_from_slice(b"\x01\x00abc");
    /// codec.decode(&mut buf)?;
    /// assert_eq!(codec.state(), FrameState::InFrame { declared: 256, received: 3 });
    /// # Ok::<(), verror::frame::FrameError>(())
    /// ```
    pub fn state(&self) -> FrameState {
        match self.phase {
            Phase::Header { received: 0 } | Phase::Failed(_) => FrameState::Idle,
            Phase::Header { received } => FrameState::InHeader { received },
            Phase::Payload { declared, received } => FrameState::InFrame { declared, received },
            Phase::Discard { declared, skipped } => FrameState::InFrame {
                declared,
                received: skipped,
            },
        }
    }

    /// The index of the frame being decoded (or that failed): the number of frames
    /// decoded or discarded before it. The first frame is 0.
    pub fn frame_index(&self) -> u64 {
        self.frame_index
    }

    /// The byte offset in the stream at which the frame being decoded (or that
    /// failed) starts, counting every byte consumed since the codec was created.
    pub fn frame_offset(&self) -> u64 {
        self.frame_offset
    }

    /// Whether the codec has stopped for good: after an oversized header under
    /// [`OversizedPolicy::Close`], or a truncated stream reported by
    /// [`decode_eof`](FrameCodec::decode_eof). Every later call returns that error
    /// again and leaves the buffer untouched.
    pub fn is_failed(&self) -> bool {
        matches!(self.phase, Phase::Failed(_))
    }

    /// Whether an oversized frame is being skipped ([`OversizedPolicy::Discard`]).
    pub fn is_discarding(&self) -> bool {
        matches!(self.phase, Phase::Discard { .. })
    }

    /// Decodes the next frame from `src`, the buffer the caller appends received
    /// bytes to (keep passing the same buffer: the codec consumes what it has
    /// decoded and leaves the rest).
    ///
    /// Returns `Ok(Some(payload))` for a complete frame, split off `src` without
    /// copying; `Ok(None)` when more bytes are needed; `Err` for an oversized
    /// header, after which the [policy](OversizedPolicy) decides: under `Close`
    /// every later call returns the same error and nothing more is decoded; under
    /// `Discard` the next calls skip the frame's payload as it arrives, then decode
    /// the following frames. (Once the codec [has failed](FrameCodec::is_failed),
    /// it returns that error.) Call it again until it returns `None`: one read may
    /// hold many frames.
    ///
    /// It never panics and never reserves memory in `src`.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use verror::frame::FrameCodec;
    ///
    /// let mut codec = FrameCodec::new();
    /// let mut buf = BytesMut::from(&b"\x00\x00\x00\x03abc\x00\x00\x00\x02de"[..]);
    /// let mut frames = Vec::new();
    /// while let Some(frame) = codec.decode(&mut buf)? {
    ///     frames.push(frame);
    /// }
    /// assert_eq!(frames, [&b"abc"[..], &b"de"[..]]);
    /// assert!(buf.is_empty());
    /// # Ok::<(), verror::frame::FrameError>(())
    /// ```
    #[inline]
    pub fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, FrameError> {
        // The hot path: a whole frame at the front of the buffer.
        if let Phase::Header { .. } = self.phase
            && let Some(&[a, b, c, d]) = src.get(..HEADER_LEN)
        {
            let declared = u32::from_be_bytes([a, b, c, d]) as usize;
            if declared <= self.max_frame_len && src.len() - HEADER_LEN >= declared {
                src.advance(HEADER_LEN);
                let frame = src.split_to(declared);
                self.complete(declared);
                return Ok(Some(frame));
            }
        }
        self.decode_slow(src)
    }

    /// Everything but a whole frame at the front of the buffer.
    #[cold]
    #[inline(never)]
    fn decode_slow(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, FrameError> {
        loop {
            match self.phase {
                Phase::Header { .. } => {
                    let Some(&[a, b, c, d]) = src.get(..HEADER_LEN) else {
                        self.phase = Phase::Header {
                            received: src.len(),
                        };
                        return Ok(None);
                    };
                    let declared = u32::from_be_bytes([a, b, c, d]) as usize;
                    let max = self.max_frame_len;
                    if declared > max {
                        return Err(self.reject(declared, max, src));
                    }
                    src.advance(HEADER_LEN);
                    self.phase = Phase::Payload {
                        declared,
                        received: 0,
                    };
                }
                Phase::Payload { declared, .. } => {
                    if src.len() < declared {
                        self.phase = Phase::Payload {
                            declared,
                            received: src.len(),
                        };
                        return Ok(None);
                    }
                    let frame = src.split_to(declared);
                    self.complete(declared);
                    return Ok(Some(frame));
                }
                Phase::Discard { declared, skipped } => {
                    let skip = (declared - skipped).min(src.len());
                    src.advance(skip);
                    let skipped = skipped + skip;
                    if skipped < declared {
                        self.phase = Phase::Discard { declared, skipped };
                        return Ok(None);
                    }
                    self.complete(declared);
                }
                Phase::Failed(fault) => return Err(fault.to_error()),
            }
        }
    }

    /// A header declared more than the limit.
    fn reject(&mut self, declared: usize, max: usize, src: &mut BytesMut) -> FrameError {
        match self.policy {
            OversizedPolicy::Close => {
                self.phase = Phase::Failed(StickyFailure::Oversized { declared, max });
            }
            OversizedPolicy::Discard => {
                // Skip the header and what is buffered of the payload now; the frame
                // counts as done on the next call, so that frame_index() and
                // frame_offset() still name it while the caller handles the error.
                src.advance(HEADER_LEN);
                let skipped = declared.min(src.len());
                src.advance(skipped);
                self.phase = Phase::Discard { declared, skipped };
            }
        }
        FrameError::Oversized { declared, max }
    }

    /// A frame of `len` payload bytes is done (decoded or discarded).
    #[inline]
    fn complete(&mut self, len: usize) {
        self.phase = Phase::Header { received: 0 };
        self.frame_index = self.frame_index.wrapping_add(1);
        self.frame_offset = self
            .frame_offset
            .wrapping_add(HEADER_LEN as u64 + len as u64);
    }

    /// Decodes at the end of the stream: like [`decode`](FrameCodec::decode), but
    /// once no complete frame is left, bytes still in `src` are an error that says
    /// how far the stream got: [`FrameError::TruncatedHeader`] (received of 4) or
    /// [`FrameError::TruncatedPayload`] (received of declared). An empty buffer
    /// between frames is a clean end: `Ok(None)`.
    ///
    /// Truncation is sticky like a `Close` error. Under
    /// [`OversizedPolicy::Discard`], a stream that ends while an oversized frame is
    /// being skipped is a `TruncatedPayload` too (`received` counting the bytes
    /// skipped).
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use verror::frame::{FrameCodec, FrameError};
    ///
    /// let mut codec = FrameCodec::new();
    /// let mut buf = BytesMut::from(&b"\x00\x00\x00\x09ab"[..]);
    /// let err = codec.decode_eof(&mut buf).unwrap_err();
    /// assert!(matches!(err, FrameError::TruncatedPayload { declared: 9, received: 2 }));
    ///
    /// let mut codec = FrameCodec::new();
    /// let mut buf = BytesMut::from(&b"\x00\x00"[..]);
    /// let err = codec.decode_eof(&mut buf).unwrap_err();
    /// assert_eq!(err.to_string(), "stream ended inside a frame header: 2 of 4 bytes received");
    /// ```
    pub fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, FrameError> {
        if let Some(frame) = self.decode(src)? {
            return Ok(Some(frame));
        }
        let fault = match self.phase {
            Phase::Header { .. } if src.is_empty() => return Ok(None),
            Phase::Header { .. } => StickyFailure::TruncatedHeader {
                received: src.len(),
            },
            Phase::Payload { declared, .. } => StickyFailure::TruncatedPayload {
                declared,
                received: src.len(),
            },
            Phase::Discard { declared, skipped } => StickyFailure::TruncatedPayload {
                declared,
                received: skipped,
            },
            Phase::Failed(fault) => fault,
        };
        self.phase = Phase::Failed(fault);
        Err(fault.to_error())
    }

    /// Appends one frame holding `payload` to `dst`: its length as a 4-byte
    /// big-endian header, then the bytes. A payload longer than
    /// [`max_frame_len`](FrameCodec::max_frame_len) is a
    /// [`FrameError::Oversized`] (`declared` being its length), and nothing is
    /// written to `dst`.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use verror::frame::FrameCodec;
    ///
    /// let mut codec = FrameCodec::with_max_frame_len(8);
    /// let mut dst = BytesMut::new();
    /// codec.encode(b"hello", &mut dst)?;
    /// assert_eq!(&dst[..], b"\x00\x00\x00\x05hello");
    ///
    /// let err = codec.encode(b"far too long", &mut dst).unwrap_err();
    /// assert_eq!(err.to_string(), "declared length 12 exceeds the limit of 8");
    /// assert_eq!(dst.len(), 9); // unchanged
    /// # Ok::<(), verror::frame::FrameError>(())
    /// ```
    #[inline]
    pub fn encode(&mut self, payload: &[u8], dst: &mut BytesMut) -> Result<(), FrameError> {
        let len = payload.len();
        if len > self.max_frame_len {
            return Err(FrameError::Oversized {
                declared: len,
                max: self.max_frame_len,
            });
        }
        dst.reserve(len.saturating_add(HEADER_LEN));
        // `len <= max_frame_len <= u32::MAX`: the cast is exact.
        dst.put_u32(len as u32);
        dst.put_slice(payload);
        Ok(())
    }
}

#[cfg(feature = "codec")]
#[cfg_attr(docsrs, doc(cfg(feature = "codec")))]
impl tokio_util::codec::Decoder for FrameCodec {
    type Item = BytesMut;
    type Error = FrameError;

    #[inline]
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, FrameError> {
        FrameCodec::decode(self, src)
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, FrameError> {
        FrameCodec::decode_eof(self, src)
    }
}

/// The one `Encoder` impl (tokio-util 0.7.20 gave `LengthDelimitedCodec` a second
/// one, `Encoder<&[u8]>`, and every `framed.flush()` without a type annotation
/// stopped compiling; this codec keeps one).
#[cfg(feature = "codec")]
#[cfg_attr(docsrs, doc(cfg(feature = "codec")))]
impl tokio_util::codec::Encoder<bytes::Bytes> for FrameCodec {
    type Error = FrameError;

    #[inline]
    fn encode(&mut self, item: bytes::Bytes, dst: &mut BytesMut) -> Result<(), FrameError> {
        FrameCodec::encode(self, &item, dst)
    }
}

//! The wire protocol: length-prefixed frames, and errors that say what went wrong.
//!
//! A frame is a 4-byte big-endian unsigned length `N`, then `N` payload bytes.
//! `N = 0` is a valid, empty frame. `N` may not exceed a limit, `max_frame_len`
//! (1 MiB by default).
//!
//! ```text
//! +----------------+---------------------------+
//! | N: u32, BE     | N payload bytes           |
//! +----------------+---------------------------+
//!   00 00 00 05      68 65 6c 6c 6f  ("hello")
//! ```
//!
//! TCP delivers a stream of bytes, not messages: one read may end in the middle of
//! a header, or hold ten frames at once. [`FrameCodec`] turns any such chunking
//! back into the same frames. It is *sans-IO*: it never reads or writes a socket,
//! it only looks at the bytes you hand it, so it works with any transport, any
//! runtime, and in plain tests.
//!
//! # What it guarantees
//!
//! - **Memory follows the bytes that arrived.** A header declaring 4 GiB reserves
//!   nothing: the buffer grows only as payload bytes come in, never past the
//!   limit plus one read. (tokio-util's `LengthDelimitedCodec` reserves the
//!   declared length as soon as it reads a header.)
//! - **No copies.** Each payload is split off the read buffer and shares its
//!   allocation.
//! - **Errors with numbers.** Each failure is a [`FrameError`] variant that holds
//!   and states its numbers: `declared length 5000000 exceeds the limit of
//!   1048576`, `stream ended inside a frame: 3 of 9 payload bytes received`.
//!   The codec knows where the failing frame began
//!   ([`frame_index`](FrameCodec::frame_index), [`frame_offset`](FrameCodec::frame_offset));
//!   a server adds whose connection it was when it wraps the error (the
//!   `verror::server` answers a `FrameDecodeError` with every number).
//! - **A visible state.** [`FrameCodec::state`] says whether the decoder is idle,
//!   inside a header or inside a frame, so a server can time out slow peers;
//!   [`FrameError::timeout`] builds the error.
//! - **A choice for oversized frames** ([`OversizedPolicy`]): `Close` ends the
//!   stream; `Discard` reports the error once, skips the frame's bytes as they
//!   arrive without buffering them, and carries on with the next frame.
//!
//! # Example: a read loop
//!
//! A server reads into one buffer, decodes every complete frame after each read,
//! and at the end of the stream asks [`decode_eof`](FrameCodec::decode_eof)
//! whether the peer stopped between frames:
//!
//! ```
//! use std::io::Read;
//! use bytes::BytesMut;
//! use verror::frame::{FrameCodec, FrameError, OversizedPolicy};
//!
//! // What a peer sent: two frames, one too large for the limit, and a cut-off one.
//! let mut wire = Vec::new();
//! let mut codec = FrameCodec::new();
//! let mut out = BytesMut::new();
//! codec.encode(b"ping", &mut out)?;
//! codec.encode(&[0u8; 100], &mut out)?;
//! codec.encode(b"pong", &mut out)?;
//! wire.extend_from_slice(&out);
//! wire.extend_from_slice(b"\x00\x00\x00\x09abc");
//!
//! let mut peer = &wire[..]; // any `Read`: a TcpStream, a file, ...
//! let mut codec = FrameCodec::with_max_frame_len(64).oversized(OversizedPolicy::Discard);
//! let mut buf = BytesMut::new();
//! let mut frames = Vec::new();
//! let mut errors = Vec::new();
//! let mut chunk = [0u8; 5]; // tiny reads, to show that chunking does not matter
//! loop {
//!     let n = peer.read(&mut chunk).map_err(FrameError::Io)?;
//!     buf.extend_from_slice(&chunk[..n]);
//!     loop {
//!         let decoded = if n == 0 { codec.decode_eof(&mut buf) } else { codec.decode(&mut buf) };
//!         match decoded {
//!             Ok(Some(frame)) => frames.push(frame),
//!             Ok(None) => break,
//!             Err(err) => {
//!                 // Under `Discard`, an oversized frame is reported and skipped.
//!                 let fatal = !codec.is_discarding();
//!                 let (index, offset) = (codec.frame_index(), codec.frame_offset());
//!                 errors.push(format!("frame {index} at byte {offset}: {err}"));
//!                 if fatal { break; }
//!             }
//!         }
//!     }
//!     if n == 0 || codec.is_failed() {
//!         break;
//!     }
//! }
//!
//! assert_eq!(frames, [&b"ping"[..], &b"pong"[..]]);
//! assert_eq!(errors, [
//!     "frame 1 at byte 8: declared length 100 exceeds the limit of 64",
//!     "frame 3 at byte 120: stream ended inside a frame: 3 of 9 payload bytes received",
//! ]);
//! # Ok::<(), FrameError>(())
//! ```
//!
//! # With tokio-util
//!
//! With the `codec` feature, [`FrameCodec`] implements tokio-util's
//! `Decoder<Item = BytesMut, Error = FrameError>` and `Encoder<Bytes>`, so
//! `Framed::new(socket, FrameCodec::new())` is a `Stream` of frames and a `Sink`
//! of `Bytes`. `Framed` ends the stream at the first error, which suits
//! [`OversizedPolicy::Close`]; to keep a connection alive past an oversized frame
//! (`Discard`), drive the sans-IO methods from your own read loop, as above.

mod codec;
mod error;

pub use codec::{DEFAULT_MAX_FRAME_LEN, FrameCodec, FrameState, HEADER_LEN, OversizedPolicy};
pub use error::{FrameError, TimeoutStage};

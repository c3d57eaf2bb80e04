//! `FrameCodec` inside tokio-util's `FramedRead` / `FramedWrite`: tokio-util's own
//! `length_delimited` tests that apply to a fixed u32 big-endian codec (pending
//! reads, partial writes, a transport that writes zero bytes), with a scripted
//! mock transport polled by hand.
#![cfg(feature = "codec")]

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use futures_core::Stream;
use futures_sink::Sink;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_util::codec::{FramedRead, FramedWrite};
use verror::frame::{FrameCodec, FrameError};

/// One scripted step of the transport.
enum Op {
    /// Bytes read (for a reader) or expected to be written (for a writer).
    Data(Vec<u8>),
    Flush,
    Pending,
}

fn data(bytes: &[u8]) -> Op {
    Op::Data(bytes.to_vec())
}

struct Mock {
    calls: VecDeque<Op>,
}

fn mock(calls: impl IntoIterator<Item = Op>) -> Mock {
    Mock {
        calls: calls.into_iter().collect(),
    }
}

impl AsyncRead for Mock {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        dst: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.calls.pop_front() {
            Some(Op::Data(bytes)) => {
                dst.put_slice(&bytes);
                Poll::Ready(Ok(()))
            }
            Some(Op::Pending) => Poll::Pending,
            Some(Op::Flush) => panic!("unexpected flush in a reader"),
            None => Poll::Ready(Ok(())), // EOF
        }
    }
}

impl AsyncWrite for Mock {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.calls.pop_front() {
            Some(Op::Data(bytes)) => {
                assert!(
                    src.starts_with(&bytes),
                    "expected {bytes:?}, written {src:?}"
                );
                Poll::Ready(Ok(bytes.len()))
            }
            Some(Op::Pending) => Poll::Pending,
            Some(Op::Flush) => panic!("unexpected write of {src:?}"),
            None => Poll::Ready(Ok(0)),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.calls.pop_front() {
            Some(Op::Flush) | None => Poll::Ready(Ok(())),
            Some(Op::Pending) => Poll::Pending,
            Some(Op::Data(bytes)) => panic!("flush while {bytes:?} was expected"),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

fn cx() -> Context<'static> {
    Context::from_waker(Waker::noop())
}

type Next = Poll<Option<Result<Vec<u8>, String>>>;

fn next<S>(stream: &mut S) -> Next
where
    S: Stream<Item = Result<bytes::BytesMut, FrameError>> + Unpin,
{
    Pin::new(stream)
        .poll_next(&mut cx())
        .map(|item| item.map(|r| r.map(|f| f.to_vec()).map_err(|e| e.to_string())))
}

fn frame(bytes: &[u8]) -> Next {
    Poll::Ready(Some(Ok(bytes.to_vec())))
}

fn error(text: &str) -> Next {
    Poll::Ready(Some(Err(text.to_string())))
}

const DONE: Next = Poll::Ready(None);
const PENDING: Next = Poll::Pending;

// ===== reading =====

#[test]
fn read_empty_io_yields_nothing() {
    let mut io = FramedRead::new(mock([]), FrameCodec::new());
    assert_eq!(next(&mut io), DONE);
}

#[test]
fn read_multi_frame_multi_packet_wait() {
    let mut io = FramedRead::new(
        mock([
            data(b"\x00\x00"),
            Op::Pending,
            data(b"\x00\x09abc"),
            Op::Pending,
            data(b"defghi"),
            Op::Pending,
            data(b"\x00\x00\x00\x0312"),
            Op::Pending,
            data(b"3\x00\x00\x00\x0bhello world"),
            Op::Pending,
        ]),
        FrameCodec::new(),
    );
    assert_eq!(next(&mut io), PENDING);
    assert_eq!(next(&mut io), PENDING);
    assert_eq!(next(&mut io), frame(b"abcdefghi"));
    assert_eq!(next(&mut io), PENDING);
    assert_eq!(next(&mut io), PENDING);
    assert_eq!(next(&mut io), frame(b"123"));
    assert_eq!(next(&mut io), frame(b"hello world"));
    assert_eq!(next(&mut io), PENDING);
    assert_eq!(next(&mut io), DONE);
}

#[test]
fn read_incomplete_head() {
    let mut io = FramedRead::new(mock([data(b"\x00\x00")]), FrameCodec::new());
    assert_eq!(
        next(&mut io),
        error("stream ended inside a frame header: 2 of 4 bytes received")
    );
    assert_eq!(next(&mut io), DONE);
}

#[test]
fn read_incomplete_payload() {
    let mut io = FramedRead::new(
        mock([
            data(b"\x00\x00\x00\x09ab"),
            Op::Pending,
            data(b"cd"),
            Op::Pending,
        ]),
        FrameCodec::new(),
    );
    assert_eq!(next(&mut io), PENDING);
    assert_eq!(next(&mut io), PENDING);
    assert_eq!(
        next(&mut io),
        error("stream ended inside a frame: 4 of 9 payload bytes received")
    );
}

#[test]
fn read_max_frame_len() {
    let mut io = FramedRead::new(
        mock([data(b"\x00\x00\x00\x09abcdefghi")]),
        FrameCodec::with_max_frame_len(5),
    );
    assert_eq!(
        next(&mut io),
        error("declared length 9 exceeds the limit of 5")
    );
    // Framed ends the stream at its first error.
    assert_eq!(next(&mut io), DONE);
}

#[test]
fn read_update_max_frame_len_in_flight() {
    let mut io = FramedRead::new(
        mock([
            data(b"\x00\x00\x00\x09abcd"),
            Op::Pending,
            data(b"efghi"),
            data(b"\x00\x00\x00\x09abcdefghi"),
        ]),
        FrameCodec::new(),
    );
    assert_eq!(next(&mut io), PENDING);
    io.decoder_mut().set_max_frame_len(5);
    assert_eq!(next(&mut io), frame(b"abcdefghi"));
    assert_eq!(
        next(&mut io),
        error("declared length 9 exceeds the limit of 5")
    );
}

#[test]
fn read_io_error_becomes_frame_error_io() {
    struct Broken;
    impl AsyncRead for Broken {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            _: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()))
        }
    }
    let mut io = FramedRead::new(Broken, FrameCodec::new());
    match Pin::new(&mut io).poll_next(&mut cx()) {
        Poll::Ready(Some(Err(FrameError::Io(e)))) => {
            assert_eq!(e.kind(), io::ErrorKind::ConnectionReset)
        }
        other => panic!("{other:?}"),
    }
}

// ===== writing =====

fn send<S: Sink<Bytes, Error = FrameError> + Unpin>(
    sink: &mut S,
    item: &'static [u8],
) -> Result<(), FrameError> {
    assert!(matches!(
        Pin::new(&mut *sink).poll_ready(&mut cx()),
        Poll::Ready(Ok(()))
    ));
    Pin::new(sink).start_send(Bytes::from_static(item))
}

fn flush<S: Sink<Bytes, Error = FrameError> + Unpin>(sink: &mut S) -> Poll<Result<(), FrameError>> {
    Pin::new(sink).poll_flush(&mut cx())
}

#[test]
fn write_nothing_yields_nothing() {
    let mut io = FramedWrite::new(mock([]), FrameCodec::new());
    assert!(matches!(flush(&mut io), Poll::Ready(Ok(()))));
}

#[test]
fn write_single_multi_frame_one_packet() {
    let mut io = FramedWrite::new(
        mock([
            data(b"\x00\x00\x00\x09abcdefghi\x00\x00\x00\x03123\x00\x00\x00\x0bhello world"),
            Op::Flush,
        ]),
        FrameCodec::new(),
    );
    send(&mut io, b"abcdefghi").unwrap();
    send(&mut io, b"123").unwrap();
    send(&mut io, b"hello world").unwrap();
    assert!(matches!(flush(&mut io), Poll::Ready(Ok(()))));
    assert!(io.get_ref().calls.is_empty());
}

#[test]
fn write_single_frame_would_block() {
    let mut io = FramedWrite::new(
        mock([
            Op::Pending,
            data(b"\x00\x00"),
            Op::Pending,
            data(b"\x00\x09"),
            data(b"abcdefghi"),
            Op::Flush,
        ]),
        FrameCodec::new(),
    );
    send(&mut io, b"abcdefghi").unwrap();
    assert!(flush(&mut io).is_pending());
    assert!(flush(&mut io).is_pending());
    assert!(matches!(flush(&mut io), Poll::Ready(Ok(()))));
    assert!(io.get_ref().calls.is_empty());
}

#[test]
fn write_max_frame_len() {
    let mut io = FramedWrite::new(mock([]), FrameCodec::with_max_frame_len(5));
    assert!(matches!(
        send(&mut io, b"abcdef"),
        Err(FrameError::Oversized {
            declared: 6,
            max: 5
        })
    ));
    assert!(io.write_buffer().is_empty());
}

#[test]
fn write_update_max_frame_len_in_flight() {
    let mut io = FramedWrite::new(
        mock([
            data(b"\x00\x00\x00\x06ab"),
            Op::Pending,
            data(b"cdef"),
            Op::Flush,
        ]),
        FrameCodec::new(),
    );
    send(&mut io, b"abcdef").unwrap();
    assert!(flush(&mut io).is_pending());
    io.encoder_mut().set_max_frame_len(5);
    assert!(matches!(flush(&mut io), Poll::Ready(Ok(()))));
    assert!(send(&mut io, b"abcdef").is_err());
    assert!(io.get_ref().calls.is_empty());
}

#[test]
fn write_zero() {
    // A transport that accepts no byte: the write fails with `WriteZero`,
    // reported as `FrameError::Io`.
    let mut io = FramedWrite::new(mock([]), FrameCodec::new());
    send(&mut io, b"abcdef").unwrap();
    match flush(&mut io) {
        Poll::Ready(Err(FrameError::Io(e))) => assert_eq!(e.kind(), io::ErrorKind::WriteZero),
        other => panic!("{other:?}"),
    }
}

/// Flushes `sink` whatever its item type, as `futures::SinkExt::flush` does: the
/// item is inferred from the sink's one `Sink` impl.
fn flush_any<Item, S: Sink<Item> + Unpin>(sink: &mut S) -> Poll<Result<(), S::Error>> {
    Pin::new(sink).poll_flush(&mut cx())
}

/// `SinkExt::flush` with no type annotation compiles: `FrameCodec` has exactly one
/// `Encoder` impl (tokio-util 0.7.20's second one on `LengthDelimitedCodec` made
/// this `E0283 type annotations needed`). `flush_any` has `SinkExt::flush`'s
/// signature, so it infers the item the same way.
#[test]
fn flush_needs_no_type_annotation() {
    let mut io = FramedWrite::new(
        mock([data(b"\x00\x00\x00\x02hi"), Op::Flush]),
        FrameCodec::new(),
    );
    send(&mut io, b"hi").unwrap();
    assert!(matches!(flush_any(&mut io), Poll::Ready(Ok(()))));
}

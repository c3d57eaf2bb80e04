//! Encoding: tokio-util's `length_delimited` write tests that apply to a fixed
//! u32 big-endian codec, the limit, and the encode -> decode round trip.

use bytes::{BufMut, BytesMut};
use verror::frame::{FrameCodec, FrameError};

#[test]
fn write_single_frame() {
    let mut codec = FrameCodec::new();
    let mut dst = BytesMut::new();
    codec.encode(b"abcdefghi", &mut dst).unwrap();
    assert_eq!(&dst[..], b"\x00\x00\x00\x09abcdefghi");
}

#[test]
fn write_multiple_frames() {
    let mut codec = FrameCodec::new();
    let mut dst = BytesMut::new();
    codec.encode(b"abcdefghi", &mut dst).unwrap();
    codec.encode(b"123", &mut dst).unwrap();
    codec.encode(b"hello world", &mut dst).unwrap();
    assert_eq!(
        &dst[..],
        b"\x00\x00\x00\x09abcdefghi\x00\x00\x00\x03123\x00\x00\x00\x0bhello world"
    );
}

#[test]
fn write_zero_length_frame() {
    let mut codec = FrameCodec::new();
    let mut dst = BytesMut::new();
    codec.encode(b"", &mut dst).unwrap();
    assert_eq!(&dst[..], b"\x00\x00\x00\x00");
    // And it decodes to an empty frame.
    assert_eq!(codec.decode(&mut dst).unwrap().unwrap(), &b""[..]);
    assert!(dst.is_empty());
}

/// A transport that accepts a few bytes per write (tokio-util's partial-write
/// tests): draining the encoded buffer in any pieces gives the same byte stream.
#[test]
fn write_partially() {
    let mut codec = FrameCodec::new();
    let mut dst = BytesMut::new();
    codec.encode(b"abcdefghi", &mut dst).unwrap();
    let mut wire = Vec::new();
    for n in [2, 2, 9].into_iter().cycle() {
        if dst.is_empty() {
            break;
        }
        let piece = dst.split_to(n.min(dst.len()));
        wire.extend_from_slice(&piece);
        // The codec can encode more while earlier bytes are still being written.
        if wire.len() == 4 {
            codec.encode(b"123", &mut dst).unwrap();
        }
    }
    assert_eq!(wire, b"\x00\x00\x00\x09abcdefghi\x00\x00\x00\x03123");
}

#[test]
fn write_max_frame_len() {
    let mut codec = FrameCodec::with_max_frame_len(5);
    let mut dst = BytesMut::from(&b"prefix"[..]);
    let err = codec.encode(b"abcdef", &mut dst).unwrap_err();
    assert!(matches!(
        err,
        FrameError::Oversized {
            declared: 6,
            max: 5
        }
    ));
    assert_eq!(err.to_string(), "declared length 6 exceeds the limit of 5");
    assert_eq!(&dst[..], b"prefix", "nothing is written on error");
    // Exactly the limit is fine.
    codec.encode(b"abcde", &mut dst).unwrap();
    assert_eq!(&dst[..], b"prefix\x00\x00\x00\x05abcde");
}

#[test]
fn write_update_max_frame_len_at_rest() {
    let mut codec = FrameCodec::new();
    let mut dst = BytesMut::new();
    codec.encode(b"abcdef", &mut dst).unwrap();
    assert_eq!(&dst[..], b"\x00\x00\x00\x06abcdef");
    codec.set_max_frame_len(5);
    assert!(codec.encode(b"abcdef", &mut dst).is_err());
    assert_eq!(dst.len(), 10);
}

/// tokio-rs/tokio#681: encoding into a full buffer must grow it, not panic.
#[test]
fn encode_into_a_nearly_full_buffer() {
    let mut codec = FrameCodec::new();
    for fill in [1024, 1021, 1023, 1020] {
        let mut dst = BytesMut::with_capacity(1024);
        dst.put_bytes(b'a', fill);
        codec.encode(b"hello", &mut dst).unwrap();
        assert_eq!(&dst[fill..], b"\x00\x00\x00\x05hello");
        assert_eq!(dst.len(), fill + 9);
    }
}

#[test]
fn encoding_does_not_disturb_decoding() {
    let mut codec = FrameCodec::new();
    let mut input = BytesMut::from(&b"\x00\x00\x00\x05he"[..]);
    assert_eq!(codec.decode(&mut input).unwrap(), None);
    let mut out = BytesMut::new();
    codec.encode(b"reply", &mut out).unwrap();
    input.extend_from_slice(b"llo");
    assert_eq!(codec.decode(&mut input).unwrap().unwrap(), &b"hello"[..]);
}

/// Every length from 0 to twice the limit: up to the limit, encode -> decode
/// gives the payload back (in one buffer and byte by byte); past it, both
/// directions refuse with the same numbers.
#[test]
fn round_trip_every_length_around_the_limit() {
    const MAX: usize = 2048;
    let payload: Vec<u8> = (0..2 * MAX + 1).map(|i| (i * 7 + 3) as u8).collect();
    for len in 0..=2 * MAX {
        let payload = &payload[..len];
        let mut codec = FrameCodec::with_max_frame_len(MAX);
        let mut buf = BytesMut::new();
        let encoded = codec.encode(payload, &mut buf);
        if len <= MAX {
            encoded.unwrap();
            assert_eq!(buf.len(), 4 + len);
            assert_eq!(&buf[..4], &(len as u32).to_be_bytes());
            assert_eq!(codec.decode(&mut buf).unwrap().unwrap(), payload);
            assert!(buf.is_empty());
            assert_eq!(codec.decode_eof(&mut buf).unwrap(), None);
        } else {
            let err = encoded.unwrap_err();
            assert!(matches!(err, FrameError::Oversized { declared, max: MAX } if declared == len));
            assert!(buf.is_empty());
            // A peer that sends it anyway meets the same numbers.
            buf.put_u32(len as u32);
            buf.put_slice(payload);
            let err = codec.decode(&mut buf).unwrap_err();
            assert!(matches!(err, FrameError::Oversized { declared, max: MAX } if declared == len));
        }
    }
}

#[test]
fn round_trip_byte_by_byte_around_the_limit() {
    const MAX: usize = 300;
    for len in (0..=MAX).step_by(7).chain([MAX - 1, MAX]) {
        let payload: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let mut codec = FrameCodec::with_max_frame_len(MAX);
        let mut wire = BytesMut::new();
        codec.encode(&payload, &mut wire).unwrap();
        let mut buf = BytesMut::new();
        let mut frames = Vec::new();
        for byte in wire {
            buf.put_u8(byte);
            if let Some(frame) = codec.decode(&mut buf).unwrap() {
                frames.push(frame);
            }
        }
        assert_eq!(frames, [&payload[..]]);
    }
}

/// The tokio-util `Encoder<Bytes>` impl delegates, limit included.
#[cfg(feature = "codec")]
#[test]
fn tokio_util_encoder_delegates() {
    use bytes::Bytes;
    use tokio_util::codec::Encoder;

    let mut codec = FrameCodec::with_max_frame_len(5);
    let mut dst = BytesMut::new();
    Encoder::encode(&mut codec, Bytes::from_static(b"abc"), &mut dst).unwrap();
    assert_eq!(&dst[..], b"\x00\x00\x00\x03abc");
    assert!(matches!(
        Encoder::encode(&mut codec, Bytes::from_static(b"abcdef"), &mut dst),
        Err(FrameError::Oversized {
            declared: 6,
            max: 5
        })
    ));
    assert_eq!(dst.len(), 7);
}

/// There is exactly one `Encoder` impl: the item type can be inferred, which is
/// what `framed.flush()` without a type annotation needs (tokio-util 0.7.20 broke
/// that for `LengthDelimitedCodec` by adding `Encoder<&[u8]>`).
#[cfg(feature = "codec")]
#[test]
fn exactly_one_encoder_impl() {
    use std::any::TypeId;
    use tokio_util::codec::Encoder;

    fn item_type<C: Encoder<I>, I: 'static>(_: &C) -> TypeId {
        TypeId::of::<I>()
    }
    assert_eq!(item_type(&FrameCodec::new()), TypeId::of::<bytes::Bytes>());
}

//! Decoding: tokio-util's `length_delimited` read tests that apply to a fixed
//! u32 big-endian codec, driven through the sans-IO API, plus what tokio-util does
//! not test (oversized headers at EOF, discard, `FF FF FF FF`, zero-length
//! frames, memory, state and position).

use bytes::{BufMut, BytesMut};
use verror::frame::{DEFAULT_MAX_FRAME_LEN, FrameCodec, FrameError, FrameState, OversizedPolicy};

/// One read from the peer: some bytes, or a read that found nothing yet
/// (tokio-util's `Poll::Pending` in its mock).
enum Read<'a> {
    Data(&'a [u8]),
    Pending,
}
use Read::{Data, Pending};

/// What the decoder produced after one read.
#[derive(Debug, PartialEq)]
enum Out {
    Frame(Vec<u8>),
    /// `decode` returned `None`: waiting for bytes.
    Wait,
    Err(String),
    /// `decode_eof` returned `None`: a clean end of stream.
    Done,
}

fn frame(bytes: &[u8]) -> Out {
    Out::Frame(bytes.to_vec())
}

/// Drives `codec` like a server's read loop: after each read, decode until the
/// codec waits or fails; after the last read, `decode_eof`. Stops at the first
/// error.
fn run(codec: &mut FrameCodec, reads: &[Read<'_>]) -> Vec<Out> {
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for read in reads {
        if let Data(bytes) = read {
            buf.extend_from_slice(bytes);
        }
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(f)) => out.push(Out::Frame(f.to_vec())),
                Ok(None) => {
                    out.push(Out::Wait);
                    break;
                }
                Err(e) => {
                    out.push(Out::Err(e.to_string()));
                    return out;
                }
            }
        }
    }
    loop {
        match codec.decode_eof(&mut buf) {
            Ok(Some(f)) => out.push(Out::Frame(f.to_vec())),
            Ok(None) => {
                out.push(Out::Done);
                break;
            }
            Err(e) => {
                out.push(Out::Err(e.to_string()));
                break;
            }
        }
    }
    out
}

// ===== tokio-util's read tests =====

#[test]
fn read_empty_io_yields_nothing() {
    assert_eq!(run(&mut FrameCodec::new(), &[]), [Out::Done]);
}

#[test]
fn read_single_frame_one_packet() {
    let out = run(
        &mut FrameCodec::new(),
        &[Data(b"\x00\x00\x00\x09abcdefghi")],
    );
    assert_eq!(out, [frame(b"abcdefghi"), Out::Wait, Out::Done]);
}

#[test]
fn read_single_multi_frame_one_packet() {
    let mut d: Vec<u8> = vec![];
    d.extend_from_slice(b"\x00\x00\x00\x09abcdefghi");
    d.extend_from_slice(b"\x00\x00\x00\x03123");
    d.extend_from_slice(b"\x00\x00\x00\x0bhello world");
    let out = run(&mut FrameCodec::new(), &[Data(&d)]);
    assert_eq!(
        out,
        [
            frame(b"abcdefghi"),
            frame(b"123"),
            frame(b"hello world"),
            Out::Wait,
            Out::Done
        ]
    );
}

#[test]
fn read_single_frame_multi_packet() {
    let out = run(
        &mut FrameCodec::new(),
        &[Data(b"\x00\x00"), Data(b"\x00\x09abc"), Data(b"defghi")],
    );
    assert_eq!(
        out,
        [
            Out::Wait,
            Out::Wait,
            frame(b"abcdefghi"),
            Out::Wait,
            Out::Done
        ]
    );
}

#[test]
fn read_multi_frame_multi_packet() {
    let out = run(
        &mut FrameCodec::new(),
        &[
            Data(b"\x00\x00"),
            Data(b"\x00\x09abc"),
            Data(b"defghi"),
            Data(b"\x00\x00\x00\x0312"),
            Data(b"3\x00\x00\x00\x0bhello world"),
        ],
    );
    assert_eq!(
        out,
        [
            Out::Wait,
            Out::Wait,
            frame(b"abcdefghi"),
            Out::Wait,
            Out::Wait,
            frame(b"123"),
            frame(b"hello world"),
            Out::Wait,
            Out::Done
        ]
    );
}

#[test]
fn read_single_frame_multi_packet_wait() {
    let out = run(
        &mut FrameCodec::new(),
        &[
            Data(b"\x00\x00"),
            Pending,
            Data(b"\x00\x09abc"),
            Pending,
            Data(b"defghi"),
            Pending,
        ],
    );
    assert_eq!(
        out,
        [
            Out::Wait,
            Out::Wait,
            Out::Wait,
            Out::Wait,
            frame(b"abcdefghi"),
            Out::Wait,
            Out::Wait,
            Out::Done
        ]
    );
}

#[test]
fn read_multi_frame_multi_packet_wait() {
    let out = run(
        &mut FrameCodec::new(),
        &[
            Data(b"\x00\x00"),
            Pending,
            Data(b"\x00\x09abc"),
            Pending,
            Data(b"defghi"),
            Pending,
            Data(b"\x00\x00\x00\x0312"),
            Pending,
            Data(b"3\x00\x00\x00\x0bhello world"),
            Pending,
        ],
    );
    let frames: Vec<_> = out.iter().filter(|o| matches!(o, Out::Frame(_))).collect();
    assert_eq!(
        frames,
        [&frame(b"abcdefghi"), &frame(b"123"), &frame(b"hello world")]
    );
    assert_eq!(out.last(), Some(&Out::Done));
}

#[test]
fn read_incomplete_head() {
    let out = run(&mut FrameCodec::new(), &[Data(b"\x00\x00")]);
    assert_eq!(
        out,
        [
            Out::Wait,
            Out::Err("stream ended inside a frame header: 2 of 4 bytes received".into())
        ]
    );
}

#[test]
fn read_incomplete_head_multi() {
    let out = run(&mut FrameCodec::new(), &[Pending, Data(b"\x00"), Pending]);
    assert_eq!(
        out,
        [
            Out::Wait,
            Out::Wait,
            Out::Wait,
            Out::Err("stream ended inside a frame header: 1 of 4 bytes received".into())
        ]
    );
}

#[test]
fn read_incomplete_payload() {
    let out = run(
        &mut FrameCodec::new(),
        &[Data(b"\x00\x00\x00\x09ab"), Pending, Data(b"cd"), Pending],
    );
    assert_eq!(
        out.last(),
        Some(&Out::Err(
            "stream ended inside a frame: 4 of 9 payload bytes received".into()
        ))
    );
}

#[test]
fn read_max_frame_len() {
    let out = run(
        &mut FrameCodec::with_max_frame_len(5),
        &[Data(b"\x00\x00\x00\x09abcdefghi")],
    );
    assert_eq!(
        out,
        [Out::Err("declared length 9 exceeds the limit of 5".into())]
    );
}

#[test]
fn read_update_max_frame_len_at_rest() {
    let mut codec = FrameCodec::new();
    let mut buf = BytesMut::from(&b"\x00\x00\x00\x09abcdefghi"[..]);
    assert_eq!(codec.decode(&mut buf).unwrap().unwrap(), &b"abcdefghi"[..]);
    codec.set_max_frame_len(5);
    assert_eq!(codec.max_frame_len(), 5);
    buf.extend_from_slice(b"\x00\x00\x00\x09abcdefghi");
    assert!(matches!(
        codec.decode(&mut buf),
        Err(FrameError::Oversized {
            declared: 9,
            max: 5
        })
    ));
}

#[test]
fn read_update_max_frame_len_in_flight() {
    let mut codec = FrameCodec::new();
    let mut buf = BytesMut::from(&b"\x00\x00\x00\x09abcd"[..]);
    assert_eq!(codec.decode(&mut buf).unwrap(), None);
    codec.set_max_frame_len(5);
    buf.extend_from_slice(b"efghi");
    buf.extend_from_slice(b"\x00\x00\x00\x09abcdefghi");
    // The frame in flight keeps the limit it was accepted under ...
    assert_eq!(codec.decode(&mut buf).unwrap().unwrap(), &b"abcdefghi"[..]);
    // ... the next header meets the new one.
    assert!(matches!(
        codec.decode(&mut buf),
        Err(FrameError::Oversized {
            declared: 9,
            max: 5
        })
    ));
}

#[test]
fn raising_the_limit_in_flight_does_not_resurrect_a_rejected_frame() {
    let mut codec = FrameCodec::with_max_frame_len(5).oversized(OversizedPolicy::Discard);
    let mut buf = BytesMut::from(&b"\x00\x00\x00\x09abcd"[..]);
    assert!(codec.decode(&mut buf).is_err());
    codec.set_max_frame_len(100);
    buf.extend_from_slice(b"efghi\x00\x00\x00\x02ok");
    assert_eq!(codec.decode(&mut buf).unwrap().unwrap(), &b"ok"[..]);
}

// ===== what tokio-util does not test =====

#[test]
fn zero_length_frames() {
    let out = run(
        &mut FrameCodec::new(),
        &[
            Data(b"\x00\x00\x00\x00"),
            Data(b"\x00\x00\x00\x00\x00\x00\x00\x01x\x00\x00"),
            Data(b"\x00\x00"),
        ],
    );
    assert_eq!(
        out,
        [
            frame(b""),
            Out::Wait,
            frame(b""),
            frame(b"x"),
            Out::Wait,
            frame(b""),
            Out::Wait,
            Out::Done
        ]
    );
}

#[test]
fn zero_length_frame_with_a_zero_limit() {
    let mut codec = FrameCodec::with_max_frame_len(0);
    let out = run(&mut codec, &[Data(b"\x00\x00\x00\x00\x00\x00\x00\x01x")]);
    assert_eq!(
        out,
        [
            frame(b""),
            Out::Err("declared length 1 exceeds the limit of 0".into())
        ]
    );
}

#[test]
fn header_ff_ff_ff_ff() {
    let mut codec = FrameCodec::new();
    let mut buf = BytesMut::from(&b"\xff\xff\xff\xff"[..]);
    let err = codec.decode(&mut buf).unwrap_err();
    assert!(matches!(
        err,
        FrameError::Oversized {
            declared: 0xffff_ffff,
            max: DEFAULT_MAX_FRAME_LEN
        }
    ));
    assert_eq!(
        err.to_string(),
        "declared length 4294967295 exceeds the limit of 1048576"
    );
}

#[test]
fn header_ff_ff_ff_ff_under_the_largest_limit_reserves_nothing() {
    let mut codec = FrameCodec::with_max_frame_len(usize::MAX);
    assert_eq!(codec.max_frame_len(), u32::MAX as usize);
    let mut buf = BytesMut::with_capacity(64);
    buf.put_slice(b"\xff\xff\xff\xffabc");
    assert_eq!(codec.decode(&mut buf).unwrap(), None);
    assert!(buf.capacity() <= 64, "capacity {}", buf.capacity());
    assert_eq!(
        codec.state(),
        FrameState::InFrame {
            declared: 0xffff_ffff,
            received: 3
        }
    );
    // Later bytes are buffered as they come, never more.
    buf.extend_from_slice(&[0; 1000]);
    assert_eq!(codec.decode(&mut buf).unwrap(), None);
    assert!(buf.capacity() < 4096, "capacity {}", buf.capacity());
    assert_eq!(
        codec.decode_eof(&mut buf).unwrap_err().to_string(),
        "stream ended inside a frame: 1003 of 4294967295 payload bytes received"
    );
}

#[test]
fn a_header_declaring_1_gib_reserves_nothing() {
    let mut codec = FrameCodec::with_max_frame_len(2 << 30);
    let mut buf = BytesMut::with_capacity(16);
    buf.put_u32(1 << 30);
    for _ in 0..4 {
        assert_eq!(codec.decode(&mut buf).unwrap(), None);
        assert!(buf.capacity() <= 16, "capacity {}", buf.capacity());
    }
}

#[test]
fn frames_are_not_copied() {
    let mut codec = FrameCodec::new();
    let mut buf = BytesMut::from(&b"\x00\x00\x00\x03abc\x00\x00\x00\x02de"[..]);
    let base = buf.as_ptr() as usize;
    let first = codec.decode(&mut buf).unwrap().unwrap();
    let second = codec.decode(&mut buf).unwrap().unwrap();
    assert_eq!(first.as_ptr() as usize, base + 4);
    assert_eq!(second.as_ptr() as usize, base + 11);
}

#[test]
fn oversized_header_then_eof_close() {
    let mut codec = FrameCodec::with_max_frame_len(8);
    let mut buf = BytesMut::from(&b"\x00\x00\x01\x00"[..]);
    let expected = "declared length 256 exceeds the limit of 8";
    assert_eq!(codec.decode(&mut buf).unwrap_err().to_string(), expected);
    // The stream is over: every later call repeats the error.
    assert_eq!(
        codec.decode_eof(&mut buf).unwrap_err().to_string(),
        expected
    );
    assert_eq!(
        codec.decode_eof(&mut buf).unwrap_err().to_string(),
        expected
    );
    assert!(codec.is_failed());
    assert_eq!(codec.state(), FrameState::Idle);
}

#[test]
fn oversized_header_then_eof_discard() {
    let mut codec = FrameCodec::with_max_frame_len(8).oversized(OversizedPolicy::Discard);
    let out = run(&mut codec, &[Data(b"\x00\x00\x01\x00abc")]);
    assert_eq!(
        out,
        [Out::Err(
            "declared length 256 exceeds the limit of 8".into()
        )]
    );
    let mut buf = BytesMut::new();
    assert_eq!(
        codec.decode_eof(&mut buf).unwrap_err().to_string(),
        "stream ended inside a frame: 3 of 256 payload bytes received"
    );
}

#[test]
fn oversized_header_alone_at_eof() {
    // decode_eof is the first call to see the header: the oversized error comes first.
    let mut codec = FrameCodec::with_max_frame_len(8).oversized(OversizedPolicy::Discard);
    let mut buf = BytesMut::from(&b"\x00\x00\x01\x00"[..]);
    assert!(matches!(
        codec.decode_eof(&mut buf),
        Err(FrameError::Oversized {
            declared: 256,
            max: 8
        })
    ));
    assert!(matches!(
        codec.decode_eof(&mut buf),
        Err(FrameError::TruncatedPayload {
            declared: 256,
            received: 0
        })
    ));
}

#[test]
fn close_policy_decodes_nothing_after_the_error() {
    let mut codec = FrameCodec::with_max_frame_len(4);
    let mut buf = BytesMut::from(&b"\x00\x00\x00\x05hello\x00\x00\x00\x02ok"[..]);
    let before = buf.clone();
    for _ in 0..3 {
        assert!(matches!(
            codec.decode(&mut buf),
            Err(FrameError::Oversized {
                declared: 5,
                max: 4
            })
        ));
    }
    assert_eq!(buf, before, "the buffer is left as it was");
    assert!(codec.is_failed());
    assert!(!codec.is_discarding());
    assert_eq!(codec.frame_index(), 0);
}

#[test]
fn discard_policy_skips_a_payload_that_trickles_in() {
    let mut codec = FrameCodec::with_max_frame_len(4).oversized(OversizedPolicy::Discard);
    let mut buf = BytesMut::new();
    buf.extend_from_slice(b"\x00\x00");
    assert_eq!(codec.decode(&mut buf).unwrap(), None);
    buf.extend_from_slice(b"\x00\x0a");
    assert!(matches!(
        codec.decode(&mut buf),
        Err(FrameError::Oversized {
            declared: 10,
            max: 4
        })
    ));
    assert!(codec.is_discarding());
    for (i, byte) in b"0123456789".iter().enumerate() {
        assert_eq!(
            codec.state(),
            FrameState::InFrame {
                declared: 10,
                received: i
            }
        );
        buf.put_u8(*byte);
        assert_eq!(codec.decode(&mut buf).unwrap(), None);
        assert!(buf.is_empty(), "discarded bytes are not buffered");
    }
    buf.extend_from_slice(b"\x00\x00\x00\x02ok");
    assert_eq!(codec.decode(&mut buf).unwrap().unwrap(), &b"ok"[..]);
    assert!(!codec.is_discarding());
    assert_eq!(codec.frame_index(), 2);
    assert_eq!(codec.frame_offset(), 14 + 6);
    assert_eq!(codec.decode_eof(&mut buf).unwrap(), None);
}

#[test]
fn discard_policy_with_everything_in_one_read() {
    let mut codec = FrameCodec::with_max_frame_len(4).oversized(OversizedPolicy::Discard);
    let mut buf = BytesMut::from(&b"\x00\x00\x00\x01a\x00\x00\x00\x05hello\x00\x00\x00\x01b"[..]);
    assert_eq!(codec.decode(&mut buf).unwrap().unwrap(), &b"a"[..]);
    assert_eq!(
        codec.decode(&mut buf).unwrap_err().to_string(),
        "declared length 5 exceeds the limit of 4"
    );
    // What was buffered of the oversized payload is dropped at once.
    assert_eq!(&buf[..], b"\x00\x00\x00\x01b");
    // The caller goes on after the error.
    assert_eq!(codec.decode(&mut buf).unwrap().unwrap(), &b"b"[..]);
    assert_eq!(codec.decode_eof(&mut buf).unwrap(), None);
}

#[test]
fn discard_policy_several_oversized_frames_in_a_row() {
    let mut codec = FrameCodec::with_max_frame_len(1).oversized(OversizedPolicy::Discard);
    let mut buf = BytesMut::from(&b"\x00\x00\x00\x02ab\x00\x00\x00\x03abc\x00\x00\x00\x01z"[..]);
    let mut errors = 0;
    let mut frames = Vec::new();
    loop {
        match codec.decode(&mut buf) {
            Ok(Some(f)) => frames.push(f),
            Ok(None) => break,
            Err(FrameError::Oversized { .. }) => errors += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(errors, 2);
    assert_eq!(frames, [&b"z"[..]]);
    assert_eq!(codec.frame_index(), 3);
}

/// netty's `LengthFieldBasedFrameDecoderTest` fail-fast case, twice in a row:
/// the header alone raises the error; the first bytes of the next write finish
/// the discard.
#[test]
fn netty_fail_fast_discard() {
    let mut codec = FrameCodec::with_max_frame_len(1).oversized(OversizedPolicy::Discard);
    let mut buf = BytesMut::new();
    for _ in 0..2 {
        buf.extend_from_slice(b"\x00\x00\x00\x02");
        assert!(codec.decode(&mut buf).is_err());
        buf.extend_from_slice(b"\x00\x00\x00\x00\x00\x01A");
        assert_eq!(codec.decode(&mut buf).unwrap().unwrap(), &b"A"[..]);
        assert_eq!(codec.decode(&mut buf).unwrap(), None);
    }
}

/// netty's discard test with a 32-byte frame over a limit of 16, followed by a
/// 1-byte frame: in one write, and with the first 14 bytes written first.
#[test]
fn netty_discard_then_next_frame() {
    let mut stream = Vec::new();
    stream.extend_from_slice(&32u32.to_be_bytes());
    stream.extend_from_slice(&[0; 32]);
    stream.extend_from_slice(&1u32.to_be_bytes());
    stream.push(b'a');

    for split in [stream.len(), 14] {
        let mut codec = FrameCodec::with_max_frame_len(16).oversized(OversizedPolicy::Discard);
        let mut buf = BytesMut::from(&stream[..split]);
        assert!(codec.decode(&mut buf).is_err());
        buf.extend_from_slice(&stream[split..]);
        assert_eq!(codec.decode(&mut buf).unwrap().unwrap(), &b"a"[..]);
        assert_eq!(codec.decode_eof(&mut buf).unwrap(), None);
    }
}

#[test]
fn state_follows_the_stream() {
    let mut codec = FrameCodec::new();
    let mut buf = BytesMut::new();
    assert_eq!(codec.state(), FrameState::Idle);
    let stream = b"\x00\x00\x00\x03abc";
    let expected = [
        FrameState::InHeader { received: 1 },
        FrameState::InHeader { received: 2 },
        FrameState::InHeader { received: 3 },
        FrameState::InFrame {
            declared: 3,
            received: 0,
        },
        FrameState::InFrame {
            declared: 3,
            received: 1,
        },
        FrameState::InFrame {
            declared: 3,
            received: 2,
        },
    ];
    for (byte, state) in stream.iter().zip(expected) {
        buf.put_u8(*byte);
        assert_eq!(codec.decode(&mut buf).unwrap(), None);
        assert_eq!(codec.state(), state);
    }
    buf.put_u8(b'!');
    assert!(codec.decode(&mut buf).unwrap().is_some());
    assert_eq!(codec.state(), FrameState::Idle);
}

#[test]
fn position_counts_frames_and_bytes() {
    let mut codec = FrameCodec::new();
    let mut buf = BytesMut::from(&b"\x00\x00\x00\x03abc\x00\x00\x00\x00\x00\x00\x00\x01x\x00"[..]);
    let mut positions = vec![(codec.frame_index(), codec.frame_offset())];
    while codec.decode(&mut buf).unwrap().is_some() {
        positions.push((codec.frame_index(), codec.frame_offset()));
    }
    assert_eq!(positions, [(0, 0), (1, 7), (2, 11), (3, 16)]);
    // The failing frame is the one at index 3, byte 16.
    assert!(matches!(
        codec.decode_eof(&mut buf),
        Err(FrameError::TruncatedHeader { received: 1 })
    ));
    assert_eq!((codec.frame_index(), codec.frame_offset()), (3, 16));
}

#[test]
fn decode_eof_yields_the_frames_left_then_ends() {
    let mut codec = FrameCodec::new();
    let mut buf = BytesMut::from(&b"\x00\x00\x00\x01a\x00\x00\x00\x01b"[..]);
    assert_eq!(codec.decode_eof(&mut buf).unwrap().unwrap(), &b"a"[..]);
    assert_eq!(codec.decode_eof(&mut buf).unwrap().unwrap(), &b"b"[..]);
    assert_eq!(codec.decode_eof(&mut buf).unwrap(), None);
    assert_eq!(codec.decode_eof(&mut buf).unwrap(), None);
}

#[test]
fn truncation_is_sticky() {
    let mut codec = FrameCodec::new();
    let mut buf = BytesMut::from(&b"\x00\x00\x00\x05ab"[..]);
    assert!(codec.decode_eof(&mut buf).is_err());
    assert!(codec.is_failed());
    buf.extend_from_slice(b"cde");
    assert!(matches!(
        codec.decode(&mut buf),
        Err(FrameError::TruncatedPayload {
            declared: 5,
            received: 2
        })
    ));
}

#[test]
fn defaults() {
    let codec = FrameCodec::default();
    assert_eq!(codec.max_frame_len(), 1024 * 1024);
    assert_eq!(codec.oversized_policy(), OversizedPolicy::Close);
    assert_eq!(codec.state(), FrameState::Idle);
    assert_eq!((codec.frame_index(), codec.frame_offset()), (0, 0));
    assert!(!codec.is_failed() && !codec.is_discarding());
    let mut codec = codec;
    codec.set_max_frame_len(usize::MAX);
    assert_eq!(codec.max_frame_len(), u32::MAX as usize);
}

/// The tokio-util `Decoder` impl delegates, including `decode_eof` (whose default
/// would report tokio-util's number-less "bytes remaining on stream").
#[cfg(feature = "codec")]
#[test]
fn tokio_util_decoder_delegates() {
    use tokio_util::codec::Decoder;

    let mut codec = FrameCodec::new();
    let mut buf = BytesMut::from(&b"\x00\x00\x00\x01a\x00\x00\x00\x05ab"[..]);
    assert_eq!(
        Decoder::decode(&mut codec, &mut buf).unwrap().unwrap(),
        &b"a"[..]
    );
    assert_eq!(Decoder::decode(&mut codec, &mut buf).unwrap(), None);
    assert!(matches!(
        Decoder::decode_eof(&mut codec, &mut buf),
        Err(FrameError::TruncatedPayload {
            declared: 5,
            received: 2
        })
    ));
}

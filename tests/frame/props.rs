//! Properties of the decoder over random streams and random chunkings (the TCP
//! "sticky packet" problem): the same frames and errors whatever the chunking,
//! no panic on any input, and never more buffered than the limit plus one read.

use arbitrary::{Result, Unstructured};
use bytes::{BufMut, BytesMut};
use verror::frame::{FrameCodec, FrameError, OversizedPolicy};

use crate::property::{self, bytes, vec_of};

/// What decoding a stream produced, in order.
#[derive(Debug, Clone, PartialEq)]
enum Event {
    Frame(Vec<u8>),
    Error(String),
    /// A clean end of stream.
    End,
}

/// Cuts `stream` at `cuts` (positions taken modulo its length).
fn chunks<'a>(stream: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut points: Vec<usize> = cuts
        .iter()
        .map(|c| c % (stream.len() + 1))
        .chain([0, stream.len()])
        .collect();
    points.sort_unstable();
    points.dedup();
    points.windows(2).map(|w| &stream[w[0]..w[1]]).collect()
}

/// Feeds `reads` to `codec` like a server would (decode after every read,
/// `decode_eof` at the end), checking after each read that the buffer holds at
/// most the limit (less than a frame: a partial header or a partial payload).
fn drive(codec: &mut FrameCodec, reads: &[&[u8]]) -> Vec<Event> {
    let bound = codec.max_frame_len().max(3);
    let mut buf = BytesMut::new();
    let mut events = Vec::new();
    for read in reads {
        buf.extend_from_slice(read);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(frame)) => events.push(Event::Frame(frame.to_vec())),
                Ok(None) => break,
                Err(e) => {
                    events.push(Event::Error(e.to_string()));
                    if codec.is_failed() {
                        return events;
                    }
                }
            }
        }
        assert!(
            buf.len() <= bound,
            "{} bytes buffered with a limit of {bound}",
            buf.len()
        );
    }
    loop {
        match codec.decode_eof(&mut buf) {
            Ok(Some(frame)) => events.push(Event::Frame(frame.to_vec())),
            Ok(None) => {
                events.push(Event::End);
                break;
            }
            Err(e) => {
                events.push(Event::Error(e.to_string()));
                if codec.is_failed() {
                    break;
                }
            }
        }
    }
    events
}

fn encode_all(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut wire = BytesMut::new();
    for f in frames {
        wire.put_u32(f.len() as u32);
        wire.put_slice(f);
    }
    wire.to_vec()
}

fn policy(u: &mut Unstructured<'_>) -> Result<OversizedPolicy> {
    Ok(if u.arbitrary()? {
        OversizedPolicy::Discard
    } else {
        OversizedPolicy::Close
    })
}

/// Up to 40 read boundaries (positions, taken modulo the stream's length by [`chunks`]).
fn cuts(u: &mut Unstructured<'_>) -> Result<Vec<usize>> {
    vec_of(u, 39, |u| u.arbitrary())
}

/// A stream that exercises every path: honest frames, headers that lie about
/// their length (cut-off or oversized frames), raw garbage.
fn hostile_stream(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    if u.ratio(1, 4)? {
        return bytes(u, 255);
    }
    let pieces = vec_of(u, 11, |u| {
        Ok(match u.int_in_range(0..=5)? {
            // Mostly honest frames.
            0..=3 => encode_all(&[bytes(u, 39)?]),
            // A header of a length under 80, then up to 39 bytes, whatever it said.
            4 => {
                let mut piece = u.int_in_range(0u32..=79)?.to_be_bytes().to_vec();
                piece.extend(bytes(u, 39)?);
                piece
            }
            _ => bytes(u, 11)?,
        })
    })?;
    Ok(pieces.concat())
}

/// Random frames, concatenated, split at random points: the same frames.
#[test]
fn any_chunking_yields_the_same_frames() {
    property::check(512, |u| {
        let frames = vec_of(u, 19, |u| bytes(u, 299))?;
        let cuts = cuts(u)?;
        let wire = encode_all(&frames);
        let mut codec = FrameCodec::with_max_frame_len(300);
        let events = drive(&mut codec, &chunks(&wire, &cuts));
        let mut expected: Vec<Event> = frames.iter().cloned().map(Event::Frame).collect();
        expected.push(Event::End);
        assert_eq!(events, expected);
        assert_eq!(codec.frame_index(), frames.len() as u64);
        assert_eq!(codec.frame_offset(), wire.len() as u64);
        Ok(())
    });
}

/// Whatever the bytes, the limit and the policy: no panic, the buffer stays
/// bounded, and the frames and errors are those of the unchunked stream.
#[test]
fn hostile_streams_decode_the_same_in_any_chunks() {
    property::check(512, |u| {
        let stream = hostile_stream(u)?;
        let cuts = cuts(u)?;
        let max = u.int_in_range(0..=47)?;
        let policy = policy(u)?;
        let codec = || FrameCodec::with_max_frame_len(max).oversized(policy);
        let whole = drive(&mut codec(), &[&stream]);
        let chunked = drive(&mut codec(), &chunks(&stream, &cuts));
        assert_eq!(&whole, &chunked);
        let byte_by_byte: Vec<&[u8]> = stream.chunks(1).collect();
        let single = drive(&mut codec(), &byte_by_byte);
        assert_eq!(&whole, &single);
        Ok(())
    });
}

/// Discard policy: oversized frames are reported once each and skipped; every
/// other frame comes through, in order.
#[test]
fn discard_reports_and_skips_exactly_the_oversized_frames() {
    property::check(512, |u| {
        let frames = vec_of(u, 15, |u| bytes(u, 63))?;
        let cuts = cuts(u)?;
        let max = u.int_in_range(0..=63)?;
        let wire = encode_all(&frames);
        let mut codec = FrameCodec::with_max_frame_len(max).oversized(OversizedPolicy::Discard);
        let events = drive(&mut codec, &chunks(&wire, &cuts));
        let mut expected: Vec<Event> = frames
            .iter()
            .map(|f| {
                if f.len() <= max {
                    Event::Frame(f.clone())
                } else {
                    Event::Error(
                        FrameError::Oversized {
                            declared: f.len(),
                            max,
                        }
                        .to_string(),
                    )
                }
            })
            .collect();
        expected.push(Event::End);
        assert_eq!(events, expected);
        assert_eq!(codec.frame_index(), frames.len() as u64);
        Ok(())
    });
}

/// encode -> decode gives the payloads back; encoding refuses exactly the
/// payloads over the limit, writing nothing for them.
#[test]
fn encode_decode_round_trip() {
    property::check(512, |u| {
        let payloads = vec_of(u, 15, |u| bytes(u, 99))?;
        let max = u.int_in_range(0..=99)?;
        let mut codec = FrameCodec::with_max_frame_len(max);
        let mut wire = BytesMut::new();
        let mut sent = Vec::new();
        for p in &payloads {
            let before = wire.len();
            match codec.encode(p, &mut wire) {
                Ok(()) => sent.push(Event::Frame(p.clone())),
                Err(FrameError::Oversized { declared, max: m }) => {
                    assert!(declared == p.len() && m == max && p.len() > max);
                    assert_eq!(wire.len(), before);
                }
                Err(e) => panic!("encoding {} bytes under {max}: {e}", p.len()),
            }
        }
        sent.push(Event::End);
        let mut decoder = FrameCodec::with_max_frame_len(max);
        assert_eq!(drive(&mut decoder, &[&wire]), sent);
        Ok(())
    });
}

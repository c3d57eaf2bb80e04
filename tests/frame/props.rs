//! Properties of the decoder over random streams and random chunkings (the TCP
//! "sticky packet" problem): the same frames and errors whatever the chunking,
//! no panic on any input, and never more buffered than the limit plus one read.

use bytes::{BufMut, BytesMut};
use proptest::prelude::*;
use verror::frame::{FrameCodec, FrameError, OversizedPolicy};

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
fn drive(codec: &mut FrameCodec, reads: &[&[u8]]) -> Result<Vec<Event>, TestCaseError> {
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
                        return Ok(events);
                    }
                }
            }
        }
        prop_assert!(
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
    Ok(events)
}

fn encode_all(frames: &[Vec<u8>]) -> Vec<u8> {
    let mut wire = BytesMut::new();
    for f in frames {
        wire.put_u32(f.len() as u32);
        wire.put_slice(f);
    }
    wire.to_vec()
}

fn policy() -> impl Strategy<Value = OversizedPolicy> {
    prop_oneof![Just(OversizedPolicy::Close), Just(OversizedPolicy::Discard)]
}

/// A stream that exercises every path: honest frames, headers that lie about
/// their length (cut-off or oversized frames), raw garbage.
fn hostile_stream() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        4 => prop::collection::vec(any::<u8>(), 0..40).prop_map(|p| encode_all(&[p])),
        1 => (0u32..80, prop::collection::vec(any::<u8>(), 0..40)).prop_map(|(n, p)| {
            let mut v = n.to_be_bytes().to_vec();
            v.extend(p);
            v
        }),
        1 => prop::collection::vec(any::<u8>(), 0..12),
    ];
    prop_oneof![
        3 => prop::collection::vec(piece, 0..12).prop_map(|v| v.concat()),
        1 => prop::collection::vec(any::<u8>(), 0..256),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Random frames, concatenated, split at random points: the same frames.
    #[test]
    fn any_chunking_yields_the_same_frames(
        frames in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..20),
        cuts in prop::collection::vec(any::<usize>(), 0..40),
    ) {
        let wire = encode_all(&frames);
        let mut codec = FrameCodec::with_max_frame_len(300);
        let events = drive(&mut codec, &chunks(&wire, &cuts))?;
        let mut expected: Vec<Event> = frames.iter().cloned().map(Event::Frame).collect();
        expected.push(Event::End);
        prop_assert_eq!(events, expected);
        prop_assert_eq!(codec.frame_index(), frames.len() as u64);
        prop_assert_eq!(codec.frame_offset(), wire.len() as u64);
    }

    /// Whatever the bytes, the limit and the policy: no panic, the buffer stays
    /// bounded, and the frames and errors are those of the unchunked stream.
    #[test]
    fn hostile_streams_decode_the_same_in_any_chunks(
        stream in hostile_stream(),
        cuts in prop::collection::vec(any::<usize>(), 0..40),
        max in 0usize..48,
        policy in policy(),
    ) {
        let whole = drive(&mut FrameCodec::with_max_frame_len(max).oversized(policy), &[&stream])?;
        let chunked = drive(
            &mut FrameCodec::with_max_frame_len(max).oversized(policy),
            &chunks(&stream, &cuts),
        )?;
        prop_assert_eq!(&whole, &chunked);
        let byte_by_byte: Vec<&[u8]> = stream.chunks(1).collect();
        let single = drive(&mut FrameCodec::with_max_frame_len(max).oversized(policy), &byte_by_byte)?;
        prop_assert_eq!(&whole, &single);
    }

    /// Discard policy: oversized frames are reported once each and skipped; every
    /// other frame comes through, in order.
    #[test]
    fn discard_reports_and_skips_exactly_the_oversized_frames(
        frames in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..16),
        cuts in prop::collection::vec(any::<usize>(), 0..40),
        max in 0usize..64,
    ) {
        let wire = encode_all(&frames);
        let mut codec = FrameCodec::with_max_frame_len(max).oversized(OversizedPolicy::Discard);
        let events = drive(&mut codec, &chunks(&wire, &cuts))?;
        let mut expected: Vec<Event> = frames
            .iter()
            .map(|f| if f.len() <= max {
                Event::Frame(f.clone())
            } else {
                Event::Error(FrameError::Oversized { declared: f.len(), max }.to_string())
            })
            .collect();
        expected.push(Event::End);
        prop_assert_eq!(events, expected);
        prop_assert_eq!(codec.frame_index(), frames.len() as u64);
    }

    /// encode -> decode gives the payloads back; encoding refuses exactly the
    /// payloads over the limit, writing nothing for them.
    #[test]
    fn encode_decode_round_trip(
        payloads in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..100), 0..16),
        max in 0usize..100,
    ) {
        let mut codec = FrameCodec::with_max_frame_len(max);
        let mut wire = BytesMut::new();
        let mut sent = Vec::new();
        for p in &payloads {
            let before = wire.len();
            match codec.encode(p, &mut wire) {
                Ok(()) => sent.push(Event::Frame(p.clone())),
                Err(FrameError::Oversized { declared, max: m }) => {
                    prop_assert!(declared == p.len() && m == max && p.len() > max);
                    prop_assert_eq!(wire.len(), before);
                }
                Err(e) => return Err(TestCaseError::fail(e.to_string())),
            }
        }
        sent.push(Event::End);
        let mut decoder = FrameCodec::with_max_frame_len(max);
        prop_assert_eq!(drive(&mut decoder, &[&wire])?, sent);
    }
}

//! The fuzz harnesses, shared by the cargo-fuzz targets in `fuzz/` (which include
//! this file with `#[path]`) and by `tests/errors/fuzz_corpus.rs` (which replays the saved
//! corpora through it as an ordinary test). Each function takes the fuzzer's raw
//! bytes, never panics on a correct library, and checks its invariants with
//! `assert!`: a failed assertion is a crash the fuzzer reports.
//!
//! - [`decode_stream`]: the sans-IO frame decoder on arbitrary chunked streams.
//! - [`verror_json`]: `VError` read from arbitrary JSON, then printed and written.
//! - [`verror_chain`]: arbitrary generated chains in every output mode.

#![allow(dead_code)]

use std::error::Error;
use std::fmt;
use std::time::{Duration, UNIX_EPOCH};

use arbitrary::{Arbitrary, Unstructured};
use bytes::BytesMut;
use serde_json::Value;
use verror::frame::{
    DEFAULT_MAX_FRAME_LEN, FrameCodec, FrameError, FrameState, HEADER_LEN, OversizedPolicy,
    TimeoutStage,
};
use verror::records::{LogFormat, LogRecord, Severity};
use verror::{ErrorJson, VError};

/// A harness: the fuzzer's bytes in, a panic when an invariant breaks.
pub type Harness = fn(&[u8]);

/// The fuzz targets, by name: the folders under `fuzz/corpus/`, `fuzz/seeds/` and
/// `fuzz/regressions/`.
pub const TARGETS: [(&str, Harness); 3] = [
    ("decode_stream", decode_stream),
    ("verror_json", verror_json),
    ("verror_chain", verror_chain),
];

// ---------------------------------------------------------------------------
// decode_stream
// ---------------------------------------------------------------------------

/// What decoding produced, in order: frames and errors with their numbers and the
/// position (`frame_index`, `frame_offset`) the codec reported for the error.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Frame(Vec<u8>),
    Oversized {
        declared: usize,
        max: usize,
        index: u64,
        offset: u64,
    },
    TruncatedHeader {
        received: usize,
        index: u64,
        offset: u64,
    },
    TruncatedPayload {
        declared: usize,
        received: usize,
        index: u64,
        offset: u64,
    },
}

/// The parameters and stream a fuzz input encodes.
///
/// Byte 0: bit 0 the policy (`Discard` when set), bits 1-2 how the limit is read:
/// `0` byte 1 as the limit (0-255, the interesting range), `1` bytes 1-2 as a
/// big-endian `u16`, `2` `u32::MAX`, `3` the default 1 MiB. Then one byte for the
/// number of chunk sizes (1-16), those sizes (each byte + 1: 1-256 bytes per read,
/// used in turn, cycling), and the rest is the stream.
#[derive(Debug)]
struct StreamInput<'a> {
    policy: OversizedPolicy,
    max: usize,
    chunk_sizes: Vec<usize>,
    stream: &'a [u8],
}

impl<'a> StreamInput<'a> {
    fn parse(data: &'a [u8]) -> StreamInput<'a> {
        let byte = |i: usize| data.get(i).copied().unwrap_or(0);
        let flags = byte(0);
        let policy = if flags & 1 == 1 {
            OversizedPolicy::Discard
        } else {
            OversizedPolicy::Close
        };
        let (max, mut pos) = match (flags >> 1) & 3 {
            0 => (usize::from(byte(1)), 2),
            1 => (usize::from(u16::from_be_bytes([byte(1), byte(2)])), 3),
            2 => (u32::MAX as usize, 1),
            _ => (DEFAULT_MAX_FRAME_LEN, 1),
        };
        let count = usize::from(byte(pos) % 16) + 1;
        pos += 1;
        let chunk_sizes = (0..count).map(|i| usize::from(byte(pos + i)) + 1).collect();
        pos += count;
        StreamInput {
            policy,
            max,
            chunk_sizes,
            stream: data.get(pos..).unwrap_or(&[]),
        }
    }

    fn codec(&self) -> FrameCodec {
        FrameCodec::with_max_frame_len(self.max).oversized(self.policy)
    }
}

/// The reference: what the protocol says `stream` decodes to, computed directly from
/// the bytes (no codec).
fn model(stream: &[u8], max: usize, policy: OversizedPolicy) -> Vec<Event> {
    let mut events = Vec::new();
    let mut pos = 0;
    let mut index = 0u64;
    loop {
        let left = stream.len() - pos;
        let offset = pos as u64;
        if left == 0 {
            return events;
        }
        if left < HEADER_LEN {
            events.push(Event::TruncatedHeader {
                received: left,
                index,
                offset,
            });
            return events;
        }
        let header = [
            stream[pos],
            stream[pos + 1],
            stream[pos + 2],
            stream[pos + 3],
        ];
        let declared = u32::from_be_bytes(header) as usize;
        let body = left - HEADER_LEN;
        if declared > max {
            events.push(Event::Oversized {
                declared,
                max,
                index,
                offset,
            });
            if policy == OversizedPolicy::Close {
                return events;
            }
        }
        if body < declared {
            events.push(Event::TruncatedPayload {
                declared,
                received: body,
                index,
                offset,
            });
            return events;
        }
        if declared <= max {
            events.push(Event::Frame(
                stream[pos + HEADER_LEN..pos + HEADER_LEN + declared].to_vec(),
            ));
        }
        pos += HEADER_LEN + declared;
        index += 1;
    }
}

/// Turns an error into an event, checking that its numbers agree with the limit,
/// the codec's position and the stream itself.
fn error_event(err: FrameError, codec: &FrameCodec, stream: &[u8]) -> Event {
    let index = codec.frame_index();
    let offset = codec.frame_offset();
    let at = usize::try_from(offset).expect("offset fits in usize");
    assert!(
        at <= stream.len(),
        "frame offset {at} past the stream's {} bytes",
        stream.len()
    );
    let left = stream.len() - at;
    let declared_at = || {
        let header = stream
            .get(at..at + HEADER_LEN)
            .expect("a whole header at the offset");
        u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize
    };

    // The message states the numbers, and so do the accessors a server reads
    // them with (the frame's position is the codec's, `index` and `offset`).
    let text = err.to_string();
    match err {
        FrameError::Oversized { declared, max } => {
            assert!(declared > max, "{text}: not over the limit");
            assert_eq!(max, codec.max_frame_len(), "{text}: not the codec's limit");
            assert_eq!(
                declared,
                declared_at(),
                "{text}: not the header at {offset}"
            );
            assert!(text.contains(&declared.to_string()) && text.contains(&max.to_string()));
            assert_eq!(err.declared_len(), Some(declared));
            assert_eq!(err.max_frame_len(), Some(max));
            Event::Oversized {
                declared,
                max,
                index,
                offset,
            }
        }
        FrameError::TruncatedHeader { received } => {
            assert!((1..HEADER_LEN).contains(&received), "{text}");
            assert_eq!(received, left, "{text}: {left} bytes after offset {offset}");
            assert_eq!(err.received(), Some(received));
            Event::TruncatedHeader {
                received,
                index,
                offset,
            }
        }
        FrameError::TruncatedPayload { declared, received } => {
            assert!(received < declared, "{text}");
            assert_eq!(
                declared,
                declared_at(),
                "{text}: not the header at {offset}"
            );
            assert_eq!(
                received,
                left - HEADER_LEN,
                "{text}: {left} bytes after offset {offset}"
            );
            assert_eq!(err.declared_len(), Some(declared));
            assert_eq!(err.received(), Some(received));
            Event::TruncatedPayload {
                declared,
                received,
                index,
                offset,
            }
        }
        other => panic!("the decoder returned {other:?}"),
    }
}

/// Checks what the codec says about itself after `decode` returned `Ok(None)`:
/// less than one frame buffered, a state that matches the buffer, and every byte
/// consumed accounted for by the position.
fn check_waiting(codec: &FrameCodec, buf: &BytesMut, fed: usize) {
    let max = codec.max_frame_len();
    let consumed = (fed - buf.len()) as u64;
    assert!(!codec.is_failed());
    match codec.state() {
        FrameState::Idle => {
            assert!(buf.is_empty(), "idle with {} bytes buffered", buf.len());
            assert_eq!(consumed, codec.frame_offset());
        }
        FrameState::InHeader { received } => {
            assert!(
                (1..HEADER_LEN).contains(&received),
                "{received} header bytes"
            );
            assert_eq!(received, buf.len());
            assert_eq!(consumed, codec.frame_offset());
        }
        FrameState::InFrame { declared, received } if codec.is_discarding() => {
            assert!(
                declared > max,
                "discarding {declared} bytes under a limit of {max}"
            );
            assert!(received < declared);
            assert!(
                buf.is_empty(),
                "{} bytes buffered while discarding",
                buf.len()
            );
            assert_eq!(
                consumed,
                codec.frame_offset() + (HEADER_LEN + received) as u64
            );
        }
        FrameState::InFrame { declared, received } => {
            assert!(
                declared <= max,
                "a {declared}-byte frame accepted under {max}"
            );
            assert!(received < declared);
            assert_eq!(received, buf.len());
            assert_eq!(consumed, codec.frame_offset() + HEADER_LEN as u64);
        }
    }
    // Less than one frame: a partial header or a partial payload.
    assert!(
        buf.len() <= max.max(HEADER_LEN - 1),
        "{} bytes buffered under a limit of {max}",
        buf.len()
    );
}

/// The timeout a server would report now agrees with the state.
fn check_timeout(codec: &FrameCodec, waited_ms: usize) {
    let state = codec.state();
    let elapsed = Duration::from_millis(waited_ms as u64);
    let err = FrameError::timeout(state, elapsed);
    match (state, &err) {
        (
            FrameState::Idle,
            FrameError::Timeout {
                stage: TimeoutStage::Header,
                received: 0,
                expected: HEADER_LEN,
                ..
            },
        ) => {}
        (
            FrameState::InHeader { received },
            FrameError::Timeout {
                stage: TimeoutStage::Header,
                received: r,
                expected: HEADER_LEN,
                ..
            },
        ) if received == *r => {}
        (
            FrameState::InFrame { declared, received },
            FrameError::Timeout {
                stage: TimeoutStage::Payload,
                received: r,
                expected,
                ..
            },
        ) if received == *r && declared == *expected => {}
        _ => panic!("{state:?} timed out as {err:?}"),
    }
    let FrameError::Timeout { elapsed: e, .. } = err else {
        unreachable!("matched above");
    };
    assert_eq!(e, elapsed);
}

/// After a sticky failure every call returns the same error and leaves the buffer alone.
fn check_sticky(codec: &mut FrameCodec, buf: &mut BytesMut, stream: &[u8], last: &Event) {
    assert!(codec.is_failed());
    assert_eq!(codec.state(), FrameState::Idle);
    let len = buf.len();
    let again = codec.decode(buf).expect_err("a failed codec fails again");
    assert_eq!(&error_event(again, codec, stream), last);
    let again = codec
        .decode_eof(buf)
        .expect_err("a failed codec fails again at EOF");
    assert_eq!(&error_event(again, codec, stream), last);
    assert_eq!(buf.len(), len, "a failed codec consumed bytes");
}

/// Feeds `input.stream` read by read as a server would: `decode` until `None` after
/// each read, `decode_eof` at the end.
fn decode_chunked(input: &StreamInput<'_>) -> Vec<Event> {
    let mut codec = input.codec();
    let max = codec.max_frame_len();
    let mut buf = BytesMut::new();
    let mut events = Vec::new();
    let mut fed = 0;
    let mut sizes = input.chunk_sizes.iter().cycle();
    while fed < input.stream.len() {
        let size = (*sizes.next().expect("at least one size")).min(input.stream.len() - fed);
        // What is left from before is less than a frame: after this read, at most the
        // limit plus one read is buffered.
        assert!(buf.len() <= max.max(HEADER_LEN - 1));
        buf.extend_from_slice(&input.stream[fed..fed + size]);
        fed += size;
        assert!(buf.len() <= max.max(HEADER_LEN - 1) + size);
        loop {
            match codec.decode(&mut buf) {
                Ok(Some(frame)) => events.push(Event::Frame(frame.to_vec())),
                Ok(None) => break,
                Err(err) => {
                    let event = error_event(err, &codec, input.stream);
                    let failed = codec.is_failed();
                    events.push(event.clone());
                    if failed {
                        assert_eq!(input.policy, OversizedPolicy::Close);
                        check_sticky(&mut codec, &mut buf, input.stream, &event);
                        return events;
                    }
                    assert!(codec.is_discarding() || codec.state() == FrameState::Idle);
                }
            }
        }
        check_waiting(&codec, &buf, fed);
        if fed == input.stream.len() {
            check_timeout(&codec, fed);
        }
        // Asking again without new bytes changes nothing.
        let state = codec.state();
        assert_eq!(codec.decode(&mut buf).ok(), Some(None));
        assert_eq!(codec.state(), state);
    }
    decode_rest(&mut codec, &mut buf, input.stream, &mut events);
    events
}

/// The whole stream in one buffer, decoded with `decode_eof` alone.
fn decode_whole(input: &StreamInput<'_>) -> Vec<Event> {
    let mut codec = input.codec();
    let mut buf = BytesMut::from(input.stream);
    let mut events = Vec::new();
    decode_rest(&mut codec, &mut buf, input.stream, &mut events);
    events
}

/// `decode_eof` until the end: frames, then a clean end or a sticky error.
fn decode_rest(codec: &mut FrameCodec, buf: &mut BytesMut, stream: &[u8], events: &mut Vec<Event>) {
    loop {
        match codec.decode_eof(buf) {
            Ok(Some(frame)) => events.push(Event::Frame(frame.to_vec())),
            Ok(None) => {
                assert!(buf.is_empty(), "a clean end with {} bytes left", buf.len());
                assert_eq!(codec.state(), FrameState::Idle);
                assert_eq!(codec.frame_offset(), stream.len() as u64);
                assert_eq!(codec.decode_eof(buf).ok(), Some(None));
                return;
            }
            Err(err) => {
                let event = error_event(err, codec, stream);
                events.push(event.clone());
                if codec.is_failed() {
                    check_sticky(codec, buf, stream, &event);
                    return;
                }
                assert!(codec.is_discarding() || codec.state() == FrameState::Idle);
            }
        }
    }
}

/// The frame decoder on an arbitrary stream cut into arbitrary reads: no panic, at
/// most the limit plus one read buffered, the same frames and errors as the whole
/// stream at once and as the protocol says, and errors whose numbers agree with the
/// bytes.
pub fn decode_stream(data: &[u8]) {
    let input = StreamInput::parse(data);
    let expected = model(input.stream, input.max, input.policy);
    let chunked = decode_chunked(&input);
    assert_eq!(chunked, expected, "chunked decoding of {input:?}");
    let whole = decode_whole(&input);
    assert_eq!(whole, expected, "whole-stream decoding of {input:?}");

    // Frame indexes count frames and discarded frames.
    let mut frames = 0u64;
    for event in &expected {
        match event {
            Event::Frame(_) => frames += 1,
            Event::Oversized { index, .. } => {
                assert_eq!(*index, frames);
                frames += 1;
            }
            Event::TruncatedHeader { index, .. } | Event::TruncatedPayload { index, .. } => {
                assert!(*index == frames || *index + 1 == frames);
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Output modes, shared by the two VError harnesses
// ---------------------------------------------------------------------------

/// A log record with fixed time, host and pid, so two renderings compare equal.
fn fixed_record() -> LogRecord {
    let mut record = LogRecord::new(Severity::Error, "request failed").field("conn_id", 7);
    record.time = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
    record.hostname = "fuzz-host".to_owned();
    record.pid = 4242;
    record.service = "verror-fuzz".to_owned();
    record
}

/// Every output of `err` that a `VError` read back from its JSON must reproduce; each
/// log line checked against its record's value (`check_log_line`).
fn checked_renderings(err: &VError) -> Vec<(&'static str, String)> {
    let outputs = renderings(err);
    let record = fixed_record();
    let lines = &outputs[outputs.len() - LogFormat::ALL.len()..];
    for (format, (_, line)) in LogFormat::ALL.into_iter().zip(lines) {
        check_log_line(line, &record, format, err);
    }
    outputs
}

/// Every output of `err` that a `VError` read back from its JSON must reproduce: the
/// human and JSON renderings, then a log line in each format of `LogFormat::ALL`,
/// in its order.
fn renderings(err: &VError) -> Vec<(&'static str, String)> {
    let record = fixed_record();
    let mut out = vec![
        ("display", format!("{err}")),
        ("alternate", format!("{err:#}")),
        ("report", format!("{err:?}")),
        ("full_stack", verror::full_stack(err)),
        ("message", err.message()),
        ("json", json_text(ErrorJson::new(err))),
        ("info", format!("{:?}", verror::info(err))),
        ("public", format!("{:?}", verror::public_view(err))),
        (
            "public_json",
            serde_json::to_string(&verror::public_view(err)).expect("serializes"),
        ),
    ];
    for format in LogFormat::ALL {
        let line = record.with_error(format, Some(err)).to_json_line();
        out.push((format.as_str(), line));
    }
    out
}

/// A log line is one line of JSON, the same as the record's `Value`.
fn check_log_line(line: &str, record: &LogRecord, format: LogFormat, err: &VError) {
    assert!(
        line.starts_with('{') && line.ends_with('}'),
        "{format}: {line:?}"
    );
    assert!(!line.contains('\n'), "{format}: a raw newline in {line:?}");
    let value = verror::records::render(format, record, err);
    match serde_json::from_str::<Value>(line) {
        Ok(parsed) => assert_eq!(parsed, value, "{format}: the line and the value differ"),
        // An OpenTelemetry line nests the chain three levels per level: a deep chain
        // can pass serde_json's recursion limit for reading (128).
        Err(e) if e.to_string().contains("recursion limit") => {}
        Err(e) => panic!("{format}: invalid JSON ({e}): {line}"),
    }
}

/// Removes the `backtrace` of every level of a chain's JSON (the levels are the
/// top, each `cause` and each of `errors`; info values may hold a `backtrace` key
/// of their own, which stays).
fn strip_backtraces(level: &mut Value) {
    let Value::Object(map) = level else {
        return;
    };
    map.remove("backtrace");
    if let Some(cause) = map.get_mut("cause") {
        strip_backtraces(cause);
    }
    if let Some(Value::Array(errors)) = map.get_mut("errors") {
        errors.iter_mut().for_each(strip_backtraces);
    }
}

/// `ErrorJson::without_backtraces` is the JSON with every backtrace left out, and
/// nothing else changed.
fn check_without_backtraces(err: &VError, json: &str) {
    let without = json_text(ErrorJson::new(err).without_backtraces());
    if !has_backtrace(err) {
        assert_eq!(
            without, json,
            "no backtrace, yet without_backtraces changed the JSON"
        );
        return;
    }
    let mut full: Value = serde_json::from_str(json).expect("its own JSON reads back");
    let without: Value = serde_json::from_str(&without).expect("its own JSON reads back");
    strip_backtraces(&mut full);
    assert_eq!(
        full, without,
        "without_backtraces changed more than backtraces"
    );
}

/// Whether a backtrace is held anywhere in the tree (MultiError children included);
/// iterative, for chains of any depth.
fn has_backtrace(err: &(dyn Error + 'static)) -> bool {
    let mut pending = vec![err];
    while let Some(top) = pending.pop() {
        for e in verror::chain(top) {
            if let Some(v) = e.downcast_ref::<VError>() {
                if v.backtrace().is_some() {
                    return true;
                }
                pending.extend(
                    v.errors()
                        .iter()
                        .skip(1)
                        .map(|c| c as &(dyn Error + 'static)),
                );
            }
        }
    }
    false
}

/// The public view holds what a client may see: no sensitive field, location,
/// backtrace or MultiError child at any level, and no more levels than the chain.
fn check_public(err: &VError) {
    let public = verror::public_view(err);
    let mut levels = 0;
    for level in verror::chain(&public) {
        levels += 1;
        let v = level
            .downcast_ref::<VError>()
            .expect("every public level is a VError");
        let sensitive: Vec<&str> = v.own_info().sensitive_keys().collect();
        assert!(
            sensitive.is_empty(),
            "public view keeps sensitive {sensitive:?}"
        );
        assert!(v.location().is_none(), "public view keeps a location");
        assert!(v.backtrace().is_none(), "public view keeps a backtrace");
        assert!(
            v.errors().is_empty(),
            "public view keeps MultiError children"
        );
    }
    assert!(levels <= verror::chain(err).count());
    let json = json_text(ErrorJson::new(&public).reveal_sensitive());
    assert_no_secret("public revealed", &json);
}

/// The outputs that must not crash but need not survive a round trip (the log
/// records' values are checked with their lines, by `check_log_line`).
fn other_renderings(err: &VError) -> Vec<String> {
    vec![
        format!("{err:#?}"),
        format!("{:#?}", verror::public_view(err)),
        serde_json::to_string(&verror::info(err)).expect("info serializes"),
        format!(
            "{:?}",
            verror::chain(err)
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
        ),
    ]
}

/// Serializes `err`, reads it back and serializes again: identical bytes, and the
/// same outputs as `outputs`, the [`renderings`] of `err`. Returns the JSON and the
/// error read back.
fn round_trip(err: &VError, outputs: &[(&'static str, String)]) -> (String, VError) {
    let json = serde_json::to_string(err).expect("a VError serializes");
    let back: VError = serde_json::from_str(&json)
        .unwrap_or_else(|e| panic!("its own JSON does not read back ({e}): {json}"));
    let again = serde_json::to_string(&back).expect("a VError serializes");
    assert_eq!(
        again, json,
        "serialize → deserialize → serialize changed the JSON"
    );
    if !has_backtrace(err) {
        let without = json_text(ErrorJson::new(err).without_backtraces());
        assert!(
            without == json,
            "no backtrace, yet without_backtraces changed the JSON"
        );
    }
    // Past the budget the JSON is cut: what reads back is the cut error, whose
    // outputs differ. Only an error written whole must come back unchanged.
    if written_whole(err, &json, false) {
        check_without_backtraces(err, &json);
        for ((mode, a), (_, b)) in outputs.iter().zip(renderings(&back)) {
            assert_eq!(*a, b, "{mode} differs after a JSON round trip");
        }
    }
    (json, back)
}

/// Whether `json`, `err`'s JSON under the default budget, holds all of it: no marker
/// of a cut (which generated text may hold too, then the check is only skipped), and
/// the same bytes under a far larger budget and nesting (a value nested too deep is
/// written as its JSON text, with no marker).
fn written_whole(err: &VError, json: &str, reveal: bool) -> bool {
    const MARKERS: [&str; 6] = [
        " bytes cut]",
        " more fields",
        " more items",
        " more errors",
        " more levels",
        "\"Truncated\"",
    ];
    if MARKERS.iter().any(|m| json.contains(m)) {
        return false;
    }
    let mut big = ErrorJson::new(err).max_bytes(64 << 20).max_depth(127);
    if reveal {
        big = big.reveal_sensitive();
    }
    serde_json::to_string(&big).expect("a VError serializes") == json
}

// ---------------------------------------------------------------------------
// Bounds, shared by the two VError harnesses (size budgets, escaping, linear size)
// ---------------------------------------------------------------------------

/// What an error holds: its levels (MultiError children and foreign errors
/// included), the bytes of its text (names, messages, info keys and values as JSON,
/// locations, backtraces), and how deep, wide and long it goes.
#[derive(Debug, Default, Clone, Copy)]
pub struct Size {
    /// Every level: causes, MultiError children, foreign errors.
    pub levels: usize,
    /// The bytes of every level's text, plus two per info field.
    pub bytes: usize,
    /// The most levels from the top to a leaf.
    pub depth: usize,
    /// The most children of one MultiError.
    pub width: usize,
    /// The longest name, message, key or value (as JSON).
    pub longest: usize,
    /// The most info fields of one level.
    pub keys: usize,
}

impl Size {
    /// The largest `{:?}` or `{:#?}` allowed for an error of this size: a generous
    /// constant times its text, plus a constant per level (the report's indentation,
    /// numbering, locations).
    fn bound(&self) -> usize {
        64 * self.bytes + 1024 * self.levels + 4096
    }

    /// The largest of each figure of `self` and `other`.
    pub fn max(self, other: Size) -> Size {
        Size {
            levels: self.levels.max(other.levels),
            bytes: self.bytes.max(other.bytes),
            depth: self.depth.max(other.depth),
            width: self.width.max(other.width),
            longest: self.longest.max(other.longest),
            keys: self.keys.max(other.keys),
        }
    }
}

/// Measures `err` the way the renderings walk it (a MultiError's children, every
/// other level's `source()`); iterative, for chains of any depth.
pub fn measure(err: &(dyn Error + 'static)) -> Size {
    let mut size = Size::default();
    let mut pending = vec![(err, 1usize)];
    while let Some((err, depth)) = pending.pop() {
        size.levels += 1;
        size.depth = size.depth.max(depth);
        let mut text = |len: usize| {
            size.bytes += len;
            size.longest = size.longest.max(len);
        };
        text(err.to_string().len());
        let Some(v) = err.downcast_ref::<VError>() else {
            pending.extend(err.source().map(|s| (s, depth + 1)));
            continue;
        };
        text(v.name().len());
        text(v.short_message().len());
        let info = v.own_info();
        for (key, value) in info.iter() {
            text(key.len());
            text(value.to_string().len());
        }
        if let Some(location) = v.location() {
            text(location.to_string().len());
        }
        if let Some(backtrace) = v.backtrace() {
            text(backtrace.as_str().len());
        }
        size.bytes += 2 * info.len();
        size.keys = size.keys.max(info.len());
        if v.is_multi() {
            size.width = size.width.max(v.errors().len());
            pending.extend(
                v.errors()
                    .iter()
                    .map(|e| (e as &(dyn Error + 'static), depth + 1)),
            );
        } else {
            pending.extend(err.source().map(|s| (s, depth + 1)));
        }
    }
    size
}

/// The budgets every error is written with: bytes (`None`: the default, 1 MiB) and
/// nesting (`None`: the default, 96).
const BUDGETS: [(Option<usize>, Option<usize>); 4] = [
    (Some(2 * 1024), None),
    (Some(16 * 1024), None),
    (Some(16 * 1024), Some(8)),
    (None, None),
];
const DEFAULT_MAX_BYTES: usize = 1 << 20;

fn json_within(err: &VError, bytes: Option<usize>, depth: Option<usize>) -> String {
    let mut json = ErrorJson::new(err);
    if let Some(bytes) = bytes {
        json = json.max_bytes(bytes);
    }
    if let Some(depth) = depth {
        json = json.max_depth(depth);
    }
    json_text(json)
}

/// The JSON text of `json`, which `to_json` writes byte for byte as serde_json does.
fn json_text(json: ErrorJson<'_>) -> String {
    let text = json.to_json();
    let serialized = serde_json::to_string(&json).expect("a VError serializes");
    assert!(
        text == serialized,
        "to_json and serde_json differ:\n{}\n{}",
        head(&text),
        head(&serialized)
    );
    text
}

/// The first bytes of `text`, for a failure's message.
fn head(text: &str) -> &str {
    let mut end = text.len().min(1500);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Under each of [`BUDGETS`], the JSON is within the budget, reads back, and the error
/// read back writes the same bytes under the same budget. Under the default budget
/// it is what `serde_json::to_string` writes.
fn check_budgets(err: &VError, size: &Size) {
    for (bytes, depth) in BUDGETS {
        let json = json_within(err, bytes, depth);
        let max = bytes.unwrap_or(DEFAULT_MAX_BYTES);
        assert!(
            json.len() <= max,
            "{} bytes written under a budget of {max} (depth {depth:?}): {}",
            json.len(),
            head(&json)
        );
        let back: VError = serde_json::from_str(&json).unwrap_or_else(|e| {
            panic!(
                "JSON written under a budget of {max} (depth {depth:?}) does not read back \
                 ({e}): {}",
                head(&json)
            )
        });
        let again = json_within(&back, bytes, depth);
        assert!(
            again == json,
            "budget {max} (depth {depth:?}): serialize → deserialize → serialize changed the \
             JSON:\n{}\n{}",
            head(&json),
            head(&again)
        );
        if bytes == Some(2 * 1024) {
            // What was cut still renders safely, within bounds of its own size.
            check_human(&back, &measure(&back).max(*size));
        }
    }
    let plain = serde_json::to_string(err).expect("a VError serializes");
    assert!(
        plain == json_within(err, None, None),
        "serde_json::to_string is not the default budget's JSON"
    );
}

/// Whether `c` may not appear raw in a human rendering: every control character but
/// the line break, and the invisible characters that reorder or hide text (bidi
/// overrides and isolates, zero-width marks).
pub fn is_raw_unsafe(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// Where `at` is in `text`, for a failure's message.
fn around(text: &str, at: usize) -> String {
    let mut start = at.saturating_sub(80);
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (at + 80).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    format!("{:?}", &text[start..end])
}

/// The human renderings (`{:?}`, `{:#?}`, `full_stack`) of `err` and of its public
/// view hold no raw control character but `\n` and no bidi override; `{:?}` and
/// `{:#?}` stay within a constant factor of the error's size ([`Size::bound`]);
/// `full_stack` within its budget.
fn check_human(err: &VError, size: &Size) {
    let public = verror::public_view(err);
    for (which, err) in [("error", err), ("public view", &public)] {
        let report = format!("{err:?}");
        let tree = format!("{err:#?}");
        // The public view's full_stack is the error's with less in it: one is enough
        // (each is up to 256 KiB, the bulk of a deep chain's checks).
        let stack = if which == "error" {
            verror::full_stack(err)
        } else {
            String::new()
        };
        for (mode, text) in [("{:?}", &report), ("{:#?}", &tree), ("full_stack", &stack)] {
            if let Some((at, c)) = text.char_indices().find(|&(_, c)| is_raw_unsafe(c)) {
                panic!(
                    "{which} {mode}: a raw {c:?} at byte {at} of {}: {}",
                    text.len(),
                    around(text, at)
                );
            }
        }
        let bound = size.bound();
        for (mode, text) in [("{:?}", &report), ("{:#?}", &tree)] {
            assert!(
                text.len() <= bound,
                "{which} {mode}: {} bytes for {size:?} (bound {bound}): {}",
                text.len(),
                head(text)
            );
        }
        // 256 KiB, then a line saying how many levels were left out.
        assert!(
            stack.len() <= 256 * 1024 + 64,
            "{which} full_stack: {} bytes",
            stack.len()
        );
    }
}

/// Every bound on `err` (the size budgets, escaping, linear size): [`check_budgets`] and [`check_human`].
fn check_bounds(err: &VError) -> Size {
    let size = measure(err);
    check_human(err, &size);
    check_budgets(err, &size);
    size
}

/// The size of what `target`'s harness makes of `data` (none when it makes nothing):
/// how deep, wide and long the fuzzer's inputs go.
pub fn input_size(target: &str, data: &[u8]) -> Option<Size> {
    match target {
        "verror_json" => serde_json::from_slice::<VError>(data)
            .ok()
            .map(|err| measure(&err)),
        "verror_chain" => build_chain(data).map(|err| measure(&err)),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// verror_json
// ---------------------------------------------------------------------------

/// `VError` read from arbitrary JSON: when it parses, every output mode works, and
/// its JSON reads back to the same JSON and the same outputs.
pub fn verror_json(data: &[u8]) {
    let Ok(err) = serde_json::from_slice::<VError>(data) else {
        return;
    };
    let _ = other_renderings(&err);
    check_public(&err);
    check_bounds(&err);
    round_trip(&err, &checked_renderings(&err));
    let revealed = json_text(ErrorJson::new(&err).reveal_sensitive());
    let value: Value = serde_json::from_str(&revealed)
        .unwrap_or_else(|e| panic!("the revealing JSON does not read back ({e}): {revealed}"));
    assert!(value.is_object(), "{revealed}");
}

// ---------------------------------------------------------------------------
// verror_chain
// ---------------------------------------------------------------------------

/// The value of every sensitive field: long and distinctive, and holding a character
/// that generated text never holds (it is stripped), so it cannot appear by chance.
pub const SECRET: &str = "s3cr3t-\u{2603}-7f1c9a2e-DO-NOT-LOG-\u{2603}-b84d0e63";

/// How deep a generated chain goes (serde_json reads back 128 levels of nesting).
const MAX_DEPTH: usize = 12;
/// How many levels (and foreign errors) a generated chain has at most, so that one
/// run stays well under a millisecond.
const MAX_LEVELS: usize = 48;
/// How deep a generated info value goes.
const MAX_VALUE_DEPTH: usize = 4;

/// How many levels the [`GrowSpec`] steps of one input add at most (deeper chains and
/// wider MultiErrors): thousands, yet a debug build replays an input in milliseconds.
const MAX_GROWN_LEVELS: usize = 3000;
/// How many bytes of text (messages, names, keys, values) they add at most.
const MAX_GROWN_BYTES: usize = 32 * 1024;
/// How many info fields they add at most.
const MAX_GROWN_KEYS: usize = 2048;

/// What the `MAX_GROWN_*` limits are divided by: 1 under the fuzzer (cargo-fuzz builds
/// with `--cfg fuzzing`) or with `VERROR_FUZZ_FULL=1`, else 32, so that the corpus
/// replay in `cargo test` (a debug build, hundreds of inputs) stays quick: its inputs
/// grow the same shapes, to about a hundred levels and 1 KiB instead of thousands.
#[allow(unexpected_cfgs)]
fn grow_divisor() -> usize {
    if cfg!(fuzzing) || std::env::var_os("VERROR_FUZZ_FULL").is_some_and(|v| v == "1") {
        1
    } else {
        32
    }
}

/// A generated chain: a tree of levels, then made deeper, wider and longer.
#[derive(Debug, Arbitrary)]
pub struct ChainSpec {
    /// Applied in turn to the chain built from `top`.
    grow: Vec<GrowSpec>,
    top: LevelSpec,
}

/// A step that makes the chain built so far (`e`) deeper, wider or longer.
#[derive(Debug, Arbitrary)]
enum GrowSpec {
    /// `e = VError::wrap(e, message)`, `times` times.
    Wrap { times: u16, message: Text },
    /// `e = VError::multi(vec![e])`, `times` times: MultiErrors nested in MultiErrors.
    Multi { times: u16 },
    /// `e = VError::wrap(io::Error::other(e), message)`, `times` times: VErrors under
    /// foreign errors under VErrors.
    Io { times: u16, message: Text },
    /// `e = VError::multi([e, VError::new(message) × width])`.
    Wide { width: u16, message: Text },
    /// A level above `e` with one long text: `unit` repeated to `len` bytes.
    Long {
        len: u16,
        unit: Text,
        place: LongPlace,
    },
    /// A level above `e` with `count` info fields `key0`, `key1`, ... all `value`.
    Keys {
        count: u16,
        key: Text,
        value: ValueSpec,
    },
}

/// Where a long text goes.
#[derive(Debug, Arbitrary)]
enum LongPlace {
    Name,
    Message,
    Key,
    Value,
}

/// Generated text with characters that must never reach a terminal raw mixed in.
#[derive(Debug, Arbitrary)]
struct Text {
    text: String,
    /// Each picks one of [`NASTY`]; the high bit puts it first instead of last.
    nasty: Vec<u8>,
}

/// Control characters (C0, DEL, C1), bidi overrides and isolates, zero-width marks,
/// and the characters JSON escapes.
const NASTY: [char; 32] = [
    '\n',
    '\r',
    '\t',
    '\0',
    '\u{7}',
    '\u{8}',
    '\u{b}',
    '\u{c}',
    '\u{1b}',
    '\u{7f}',
    '\u{85}',
    '\u{9b}',
    '\u{202a}',
    '\u{202b}',
    '\u{202c}',
    '\u{202d}',
    '\u{202e}',
    '\u{2066}',
    '\u{2067}',
    '\u{2068}',
    '\u{2069}',
    '\u{200b}',
    '\u{200e}',
    '\u{200f}',
    '\u{feff}',
    '"',
    '\\',
    '…',
    'é',
    '\u{10ffff}',
    ' ',
    '[',
];

impl Text {
    fn get(&self) -> String {
        let mut out = text(&self.text);
        for &b in &self.nasty {
            let c = NASTY[usize::from(b) % NASTY.len()];
            if b & 0x80 != 0 {
                out.insert(0, c);
            } else {
                out.push(c);
            }
        }
        out
    }
}

/// What the [`GrowSpec`] steps may still add.
struct GrowBudget {
    levels: usize,
    bytes: usize,
    keys: usize,
}

impl GrowBudget {
    /// How many of `wanted` items costing `cost` bytes each (and a level or a key
    /// each, from `count`) fit; spends them.
    fn take(&mut self, wanted: usize, cost: usize, count: Which) -> usize {
        let left = match count {
            Which::Levels => self.levels,
            Which::Keys => self.keys,
        };
        let n = wanted.min(left).min(self.bytes / cost.max(1));
        match count {
            Which::Levels => self.levels -= n,
            Which::Keys => self.keys -= n,
        }
        self.bytes -= n * cost;
        n
    }
}

enum Which {
    Levels,
    Keys,
}

/// `VError::wrap`, or the builder's equivalent when backtraces are on in the
/// environment (a deep chain's backtrace would be resolved for every output).
fn wrap_in(cause: impl Error + Send + Sync + 'static, message: String) -> VError {
    if env_backtraces() {
        VError::builder()
            .message(message)
            .cause(cause)
            .backtrace(false)
            .build()
    } else {
        VError::wrap(cause, message)
    }
}

/// `VError::multi`, or the builder's equivalent when backtraces are on.
fn multi_of(errors: Vec<VError>) -> VError {
    if env_backtraces() {
        VError::builder().errors(errors).backtrace(false).build()
    } else {
        VError::multi(errors)
    }
}

/// `VError::new`, or the builder's equivalent when backtraces are on.
fn leaf(message: String) -> VError {
    if env_backtraces() {
        VError::builder().message(message).backtrace(false).build()
    } else {
        VError::new(message)
    }
}

/// `unit` repeated to `len` bytes (cut at a character boundary).
fn repeated(unit: &str, len: usize) -> String {
    let unit = if unit.is_empty() { "x" } else { unit };
    let mut out = unit.repeat(len / unit.len() + 1);
    let mut end = len.min(out.len());
    while !out.is_char_boundary(end) {
        end -= 1;
    }
    out.truncate(end);
    out
}

impl GrowSpec {
    fn apply(&self, mut e: VError, budget: &mut GrowBudget) -> VError {
        match self {
            GrowSpec::Wrap { times, message } => {
                let message = message.get();
                for _ in 0..budget.take(usize::from(*times), message.len(), Which::Levels) {
                    e = wrap_in(e, message.clone());
                }
                e
            }
            GrowSpec::Multi { times } => {
                for _ in 0..budget.take(usize::from(*times), 16, Which::Levels) {
                    e = multi_of(vec![e]);
                }
                e
            }
            GrowSpec::Io { times, message } => {
                let message = message.get();
                let n = budget.take(usize::from(*times), message.len() + 16, Which::Levels);
                for _ in 0..n {
                    e = wrap_in(std::io::Error::other(e), message.clone());
                }
                e
            }
            GrowSpec::Wide { width, message } => {
                let message = message.get();
                let n = budget.take(usize::from(*width), message.len() + 16, Which::Levels);
                let mut errors = Vec::with_capacity(n + 1);
                errors.push(e);
                errors.extend((0..n).map(|_| leaf(message.clone())));
                multi_of(errors)
            }
            GrowSpec::Long { len, unit, place } => {
                if budget.levels == 0 {
                    return e;
                }
                budget.levels -= 1;
                let len = usize::from(*len).min(budget.bytes);
                budget.bytes -= len;
                let long = repeated(&unit.get(), len);
                let builder = VError::builder().backtrace(false);
                let builder = match place {
                    LongPlace::Name => builder.name(long).message("long name"),
                    LongPlace::Message => builder.message(long),
                    LongPlace::Key => builder.message("long key").info(long, 1),
                    LongPlace::Value => builder.message("long value").info("long", long),
                };
                builder.cause(e).build()
            }
            GrowSpec::Keys {
                count,
                key,
                value: spec,
            } => {
                let key = key.get();
                let v = value(spec, 0);
                let cost = key.len() + 8 + v.to_string().len();
                let n = budget.take(usize::from(*count), cost, Which::Keys);
                let mut builder = VError::builder().message("many keys").backtrace(false);
                for i in 0..n {
                    builder = builder.info(format!("{key}{i}"), v.clone());
                }
                builder.cause(e).build()
            }
        }
    }
}

/// The chain `data` stands for, when it stands for one.
fn build_chain(data: &[u8]) -> Option<VError> {
    let spec = ChainSpec::arbitrary_take_rest(Unstructured::new(data)).ok()?;
    let mut err = build_level(&spec.top, 0, &mut MAX_LEVELS.clone());
    let mut budget = GrowBudget {
        levels: MAX_GROWN_LEVELS / grow_divisor(),
        bytes: MAX_GROWN_BYTES / grow_divisor(),
        keys: MAX_GROWN_KEYS / grow_divisor(),
    };
    for step in &spec.grow {
        err = step.apply(err, &mut budget);
    }
    Some(err)
}

#[derive(Debug, Arbitrary)]
enum NodeSpec {
    Level(Box<LevelSpec>),
    Foreign(ForeignSpec),
}

#[derive(Debug, Arbitrary)]
struct LevelSpec {
    name: String,
    message: Option<String>,
    info: Vec<(String, ValueSpec)>,
    /// Sensitive fields, holding [`SECRET`]; inserted before or after `info`.
    sensitive: Vec<(String, SecretShape)>,
    sensitive_first: bool,
    skip_cause: bool,
    /// Built with `VError::new` / `VError::wrap` / `VError::multi` (the message and
    /// what is below only) when backtraces are off in the environment.
    plain: bool,
    below: BelowSpec,
}

#[derive(Debug, Arbitrary)]
enum BelowSpec {
    Nothing,
    Cause(Box<NodeSpec>),
    /// `Builder::cause_boxed` (a cause answering to `"Error"`).
    Boxed(Box<NodeSpec>),
    /// A MultiError of these.
    Errors(Vec<NodeSpec>),
    /// `verror::error_from_list` (none, the lone error, or a MultiError).
    FromList(Vec<NodeSpec>),
}

#[derive(Debug, Arbitrary)]
struct ForeignSpec {
    kind: ForeignKind,
    message: String,
    /// The foreign error's own `source()`.
    source: Option<Box<NodeSpec>>,
}

#[derive(Debug, Arbitrary)]
enum ForeignKind {
    /// `std::io::Error::other` of a [`Foreign`].
    Io,
    /// A [`Foreign`] itself.
    Custom,
}

#[derive(Debug, Arbitrary)]
enum SecretShape {
    Plain,
    InArray,
    InObject(String),
}

#[derive(Debug, Arbitrary)]
enum ValueSpec {
    Null,
    Bool(bool),
    I64(i64),
    U64(u64),
    F64(f64),
    Str(String),
    Array(Vec<ValueSpec>),
    Object(Vec<(String, ValueSpec)>),
}

/// A foreign error with an optional source of its own.
#[derive(Debug)]
struct Foreign {
    message: String,
    source: Option<Box<dyn Error + Send + Sync + 'static>>,
}

impl fmt::Display for Foreign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl Error for Foreign {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn Error + 'static))
    }
}

/// Generated text, without the character that marks [`SECRET`].
fn text(s: &str) -> String {
    s.replace('\u{2603}', "")
}

fn value(spec: &ValueSpec, depth: usize) -> Value {
    match spec {
        ValueSpec::Null => Value::Null,
        ValueSpec::Bool(b) => Value::Bool(*b),
        ValueSpec::I64(n) => Value::from(*n),
        ValueSpec::U64(n) => Value::from(*n),
        ValueSpec::F64(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
        ValueSpec::Str(s) => Value::String(text(s)),
        ValueSpec::Array(_) | ValueSpec::Object(_) if depth >= MAX_VALUE_DEPTH => Value::Null,
        ValueSpec::Array(items) => items.iter().map(|v| value(v, depth + 1)).collect(),
        ValueSpec::Object(fields) => Value::Object(
            fields
                .iter()
                .map(|(k, v)| (text(k), value(v, depth + 1)))
                .collect(),
        ),
    }
}

fn secret(shape: &SecretShape) -> Value {
    match shape {
        SecretShape::Plain => Value::from(SECRET),
        SecretShape::InArray => serde_json::json!([1, SECRET]),
        SecretShape::InObject(key) => serde_json::json!({ text(key): SECRET }),
    }
}

/// A generated level that may be foreign.
enum Built {
    VError(VError),
    Foreign(Box<dyn Error + Send + Sync + 'static>),
}

impl Built {
    fn into_verror(self) -> VError {
        match self {
            Built::VError(v) => v,
            Built::Foreign(e) => VError::builder()
                .message("foreign")
                .cause_boxed(e)
                .backtrace(false)
                .build(),
        }
    }

    fn into_error(self) -> Box<dyn Error + Send + Sync + 'static> {
        match self {
            Built::VError(v) => Box::new(v),
            Built::Foreign(e) => e,
        }
    }
}

/// Builds `spec` at `depth`, spending one of `budget` per level; once the depth or
/// the budget is spent, levels get no causes.
fn build_node(spec: &NodeSpec, depth: usize, budget: &mut usize) -> Built {
    *budget = budget.saturating_sub(1);
    match spec {
        NodeSpec::Level(level) => Built::VError(build_level(level, depth, budget)),
        NodeSpec::Foreign(foreign) => {
            let source = match &foreign.source {
                Some(node) if depth < MAX_DEPTH && *budget > 0 => {
                    Some(build_node(node, depth + 1, budget).into_error())
                }
                _ => None,
            };
            let error = Foreign {
                message: text(&foreign.message),
                source,
            };
            Built::Foreign(match foreign.kind {
                ForeignKind::Io => Box::new(std::io::Error::other(error)),
                ForeignKind::Custom => Box::new(error),
            })
        }
    }
}

/// Whether the environment turns backtraces on (as `verror` reads it).
fn env_backtraces() -> bool {
    std::env::var_os("RUST_LIB_BACKTRACE")
        .or_else(|| std::env::var_os("RUST_BACKTRACE"))
        .is_some_and(|v| v != "0")
}

/// A level made by the short constructors, which take the environment's backtrace
/// setting: `None` where the spec does not ask for one or backtraces are on.
fn build_plain(spec: &LevelSpec, depth: usize, budget: &mut usize) -> Option<VError> {
    if !spec.plain || depth >= MAX_DEPTH || *budget == 0 || env_backtraces() {
        return None;
    }
    let message = text(spec.message.as_deref().unwrap_or(""));
    match &spec.below {
        BelowSpec::Nothing => Some(VError::new(message)),
        BelowSpec::Cause(node) => Some(match build_node(node, depth + 1, budget) {
            Built::VError(v) => VError::wrap(v, message),
            Built::Foreign(e) => VError::wrap(ForeignBox(e), message),
        }),
        BelowSpec::Errors(nodes) => Some(VError::multi(build_children(nodes, depth + 1, budget))),
        _ => None,
    }
}

fn build_level(spec: &LevelSpec, depth: usize, budget: &mut usize) -> VError {
    if let Some(plain) = build_plain(spec, depth, budget) {
        return plain;
    }
    let mut builder = VError::builder().name(text(&spec.name)).backtrace(false);
    if let Some(message) = &spec.message {
        builder = builder.message(text(message));
    }
    let add_sensitive = |mut builder: verror::Builder| {
        for (key, shape) in &spec.sensitive {
            builder = builder.sensitive_info(text(key), secret(shape));
        }
        builder
    };
    if spec.sensitive_first {
        builder = add_sensitive(builder);
    }
    for (key, v) in &spec.info {
        builder = builder.info(text(key), value(v, 0));
    }
    if !spec.sensitive_first {
        builder = add_sensitive(builder);
    }
    if spec.skip_cause {
        builder = builder.skip_cause_message();
    }
    if depth >= MAX_DEPTH || *budget == 0 {
        return builder.build();
    }
    let depth = depth + 1;
    match &spec.below {
        BelowSpec::Nothing => builder.build(),
        BelowSpec::Cause(node) => match build_node(node, depth, budget) {
            Built::VError(v) => builder.cause(v).build(),
            Built::Foreign(e) => builder.cause(ForeignBox(e)).build(),
        },
        BelowSpec::Boxed(node) => builder
            .cause_boxed(build_node(node, depth, budget).into_error())
            .build(),
        BelowSpec::Errors(nodes) => {
            let errors = build_children(nodes, depth, budget);
            builder.errors(errors).build()
        }
        BelowSpec::FromList(nodes) => {
            let errors = build_children(nodes, depth, budget);
            match verror::error_from_list(errors) {
                Some(v) => builder.cause(v).build(),
                None => builder.build(),
            }
        }
    }
}

/// MultiError children, while the budget lasts.
fn build_children(nodes: &[NodeSpec], depth: usize, budget: &mut usize) -> Vec<VError> {
    let mut errors = Vec::new();
    for node in nodes {
        if *budget == 0 {
            break;
        }
        errors.push(build_node(node, depth, budget).into_verror());
    }
    errors
}

/// A boxed foreign error as a cause of its own type (so the `VError` names it).
#[derive(Debug)]
struct ForeignBox(Box<dyn Error + Send + Sync + 'static>);

impl fmt::Display for ForeignBox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl Error for ForeignBox {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.0.source()
    }
}

/// Whether a sensitive field holding [`SECRET`] is reachable the way the JSON walks
/// the chain (a MultiError's children, every other level's `source()`); iterative.
fn holds_secret(err: &(dyn Error + 'static)) -> bool {
    let mut pending = vec![err];
    while let Some(err) = pending.pop() {
        if let Some(v) = err.downcast_ref::<VError>() {
            let info = v.own_info();
            let here = info.sensitive_keys().any(|k| {
                info.reveal(k)
                    .is_some_and(|v| v.to_string().contains(SECRET))
            });
            if here {
                return true;
            }
            if v.is_multi() {
                pending.extend(v.errors().iter().map(|e| e as &(dyn Error + 'static)));
                continue;
            }
        }
        pending.extend(err.source());
    }
    false
}

fn assert_no_secret(what: &str, output: &str) {
    assert!(
        !output.contains(SECRET),
        "a sensitive value appears in the {what} output: {output}"
    );
}

/// An arbitrary generated chain: every output mode works, none shows a sensitive
/// value, and its JSON reads back to the same JSON and the same outputs.
pub fn verror_chain(data: &[u8]) {
    let Some(err) = build_chain(data) else {
        return;
    };

    let outputs = checked_renderings(&err);
    for (mode, output) in &outputs {
        assert_no_secret(mode, output);
    }
    for output in other_renderings(&err) {
        assert_no_secret("other", &output);
    }
    check_public(&err);
    check_bounds(&err);
    let (json, back) = round_trip(&err, &outputs);
    assert_no_secret("json", &json);
    for output in other_renderings(&back) {
        assert_no_secret("read-back", &output);
    }

    // The secret is hidden, not lost: the revealing JSON has it where a field holds it.
    // (Past the budget a sensitive field may be cut off with its level.)
    let revealed = json_text(ErrorJson::new(&err).reveal_sensitive());
    if revealed.contains(SECRET) || written_whole(&err, &revealed, true) {
        assert_eq!(
            revealed.contains(SECRET),
            holds_secret(&err),
            "{}",
            head(&revealed)
        );
    }
    // Read back from JSON, it is gone for good.
    let revealed = json_text(ErrorJson::new(&back).reveal_sensitive());
    assert_no_secret("read-back revealed", &revealed);
}

//! Decode and encode throughput of `verror::frame::FrameCodec` against tokio-util's
//! `LengthDelimitedCodec` (u32 big-endian, the same 1 MiB limit), on the same
//! pre-built buffers of 16 B, 1 KiB and 64 KiB frames (~16 MiB each), reported in
//! frames per second.
//!
//! ```text
//! cargo bench -p verror-benchmarks --bench codec -- --warm-up-time 1 --measurement-time 3
//! ```

use std::hint::black_box;

use bytes::{BufMut, Bytes, BytesMut};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec};
use verror::frame::FrameCodec;

/// About this many bytes of frames per buffer.
const TOTAL: usize = 16 << 20;
/// The limit, for both codecs.
const MAX: usize = 1 << 20;
const SIZES: [(&str, usize); 3] = [("16B", 16), ("1KiB", 1024), ("64KiB", 64 * 1024)];

fn tokio_codec() -> LengthDelimitedCodec {
    LengthDelimitedCodec::builder()
        .length_field_type::<u32>()
        .big_endian()
        .max_frame_length(MAX)
        .new_codec()
}

fn verror_codec() -> FrameCodec {
    FrameCodec::with_max_frame_len(MAX)
}

/// The payloads of one buffer: `count` slices of `size` bytes of one static
/// allocation, so cloning and dropping an item costs neither codec anything.
fn payloads(size: usize) -> Vec<Bytes> {
    let count = TOTAL / (4 + size);
    let data: &'static [u8] = Vec::leak((0..count * size).map(|i| i as u8).collect());
    let data = Bytes::from_static(data);
    (0..count)
        .map(|i| data.slice(i * size..(i + 1) * size))
        .collect()
}

/// The wire form of `payloads`.
fn wire(payloads: &[Bytes]) -> Vec<u8> {
    let mut wire = BytesMut::new();
    for p in payloads {
        wire.put_u32(p.len() as u32);
        wire.put_slice(p);
    }
    wire.to_vec()
}

/// Decodes every frame of `buf`, handing each to `black_box`; returns the
/// emptied buffer so that freeing it is not timed.
fn decode_all<D: Decoder<Item = BytesMut>>(mut codec: D, mut buf: BytesMut) -> BytesMut
where
    D::Error: std::fmt::Debug,
{
    while let Some(frame) = codec.decode(&mut buf).unwrap() {
        black_box(frame);
    }
    assert!(buf.is_empty());
    buf
}

fn encode_all<E: Encoder<Bytes>>(codec: &mut E, payloads: &[Bytes], dst: &mut BytesMut)
where
    E::Error: std::fmt::Debug,
{
    dst.clear();
    for p in payloads {
        codec.encode(p.clone(), dst).unwrap();
    }
    black_box(&*dst);
}

fn decode(c: &mut Criterion) {
    for (name, size) in SIZES {
        let payloads = payloads(size);
        let wire = wire(&payloads);
        let mut group = c.benchmark_group(format!("decode/{name}"));
        group.throughput(Throughput::Elements(payloads.len() as u64));
        group.bench_function("verror FrameCodec", |b| {
            b.iter_batched(
                || BytesMut::from(&wire[..]),
                |buf| decode_all(verror_codec(), buf),
                BatchSize::PerIteration,
            )
        });
        group.bench_function("tokio-util LengthDelimitedCodec", |b| {
            b.iter_batched(
                || BytesMut::from(&wire[..]),
                |buf| decode_all(tokio_codec(), buf),
                BatchSize::PerIteration,
            )
        });
        group.finish();
    }
}

fn encode(c: &mut Criterion) {
    for (name, size) in SIZES {
        let payloads = payloads(size);
        let len = wire(&payloads).len();
        let mut group = c.benchmark_group(format!("encode/{name}"));
        group.throughput(Throughput::Elements(payloads.len() as u64));
        // One destination per codec, allocated and touched before timing.
        let mut dst = BytesMut::with_capacity(len);
        let mut codec = verror_codec();
        encode_all(&mut codec, &payloads, &mut dst);
        group.bench_function("verror FrameCodec", |b| {
            b.iter(|| encode_all(&mut codec, &payloads, &mut dst))
        });
        let mut codec = tokio_codec();
        encode_all(&mut codec, &payloads, &mut dst);
        group.bench_function("tokio-util LengthDelimitedCodec", |b| {
            b.iter(|| encode_all(&mut codec, &payloads, &mut dst))
        });
        group.finish();
    }
}

criterion_group!(benches, decode, encode);
criterion_main!(benches);

//! A reference echo server for `verror load`, built the usual way from tokio-util's
//! `LengthDelimitedCodec` and `Framed`, answering in verror's response format
//! (status byte `0x00`, then the body), so that the same load runs against it and
//! against `verror serve`. The benchmark in `scripts/bench_load.sh` compares the two.
//!
//! ```text
//! cargo run --release -p verror-benchmarks --bin reference_echo -- 127.0.0.1:0
//! ```
//!
//! It prints `listening on ADDR` on stdout, then serves until killed. No limits,
//! no timeouts, no logs: the fastest idiomatic baseline, not a server to deploy.

use std::net::SocketAddr;

use bytes::{BufMut, Bytes, BytesMut};
use futures_util::StreamExt;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::codec::{Framed, LengthDelimitedCodec};
use verror::frame::DEFAULT_MAX_FRAME_LEN;
use verror::server::STATUS_OK;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr: SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:7879".to_owned())
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let listener = TcpListener::bind(addr).await?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        tokio::spawn(echo(stream));
    }
}

/// Answers every frame with `0x00` + the frame, in order. `forward` writes the
/// responses as the frames come and flushes when no complete frame is left,
/// so a pipelined burst is answered in one write.
async fn echo(stream: TcpStream) {
    let codec = LengthDelimitedCodec::builder()
        // The response is one byte longer than the request.
        .max_frame_length(DEFAULT_MAX_FRAME_LEN + 1)
        .new_codec();
    let (sink, stream) = Framed::new(stream, codec).split();
    let responses = stream.map(|frame| frame.map(respond));
    // A decode or I/O error ends the connection: a reference needs no more.
    let _ = responses.forward(sink).await;
}

fn respond(request: BytesMut) -> Bytes {
    let mut response = BytesMut::with_capacity(1 + request.len());
    response.put_u8(STATUS_OK);
    response.put_slice(&request);
    response.freeze()
}

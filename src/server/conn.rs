//! One connection: read bytes, decode frames, answer each in order, and close
//! well whatever the peer does.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::frame::{FrameCodec, FrameContext, FrameError, FrameState, HEADER_LEN};
use crate::VError;

use super::config::{Config, Exposure};
use super::handler::{call_guarded, Handler};
use super::report::{report, ConnRef, ErrorKind};
use super::response::Response;
use super::serve::Shared;
use super::{deadline_after, millis};

/// A connection's reads start with this much free space, so that one that sends
/// little (or only a frame header) costs little: a flood of them must cost at
/// most 16 KiB of heap each, task included.
const FIRST_READ: usize = 4 * 1024;
/// Once a read fills its free space, reads get this much, so a pipelined burst
/// takes few reads.
const READ_CHUNK: usize = 16 * 1024;
/// A write buffer that grew past this (a large response) is released once
/// flushed, so idle connections hold little memory.
const KEEP_WRITE_CAPACITY: usize = 64 * 1024;

/// The connection could not go on: the transport failed (already reported).
struct Broken;

/// What the connection is doing, for the error of one cut off at the shutdown
/// deadline.
#[derive(Clone, Copy)]
enum Stage {
    Reading,
    Handling { frame_index: u64 },
    Writing,
    Closing,
}

/// One connection's task: it owns the socket, the decoder and both buffers.
///
/// The loop, in short: decode every complete frame in the read buffer and answer
/// each (responses collect in the write buffer, written whenever it passes the
/// `write_buffer` setting); write what is pending; then read more, under the idle
/// timeout between frames or the frame timeout inside one. The decoder is driven
/// directly (not through tokio-util's `Framed`, which ends at the first error), so
/// that an oversized frame under the `Discard` policy is answered and skipped
/// while the connection carries on, and so that [`FrameCodec::state`] picks the
/// timeout.
pub(crate) struct Connection<H> {
    shared: Arc<Shared<H>>,
    stream: TcpStream,
    conn: ConnRef,
    codec: FrameCodec,
    read_buf: BytesMut,
    write_buf: BytesMut,
    /// The frame in progress and when its first byte arrived.
    frame_started: Option<(u64, Instant)>,
    /// The free space the next read gets: [`FIRST_READ`], then [`READ_CHUNK`].
    read_chunk: usize,
    answered: u64,
    stage: Stage,
}

impl<H: Handler> Connection<H> {
    pub(crate) fn new(stream: TcpStream, conn: ConnRef, shared: Arc<Shared<H>>) -> Connection<H> {
        let codec = FrameCodec::with_max_frame_len(shared.config.max_frame_len)
            .oversized(shared.config.oversized);
        Connection {
            shared,
            stream,
            conn,
            codec,
            read_buf: BytesMut::new(),
            write_buf: BytesMut::new(),
            frame_started: None,
            read_chunk: FIRST_READ,
            answered: 0,
            stage: Stage::Reading,
        }
    }

    /// Serves the connection to its end, or until the shutdown deadline cuts it off.
    pub(crate) async fn run(mut self) {
        let shared = Arc::clone(&self.shared);
        let finished = tokio::select! {
            biased;
            () = shared.shutdown.deadline_passed() => false,
            () = self.serve() => true,
        };
        // A connection cut off while lingering had answered and flushed everything.
        if finished || matches!(self.stage, Stage::Closing) {
            tracing::debug!(
                conn_id = self.conn.conn_id,
                frames = self.answered,
                "connection closed"
            );
        } else {
            shared.stats.count_error(ErrorKind::ShutdownDeadline);
            shared.shutdown.cut_off(self.cut_off_error());
        }
    }

    async fn serve(&mut self) {
        // Whether it ends cleanly or after a fault's error response, what is
        // pending goes out before the connection closes.
        if self.exchange().await.is_err() || self.flush().await.is_err() {
            return;
        }
        self.stage = Stage::Closing;
        close_gracefully(
            &mut self.stream,
            &mut self.read_buf,
            self.shared.config.linger,
        )
        .await;
    }

    /// Reads and answers frames until the connection should close: the peer is
    /// done, went idle, broke the protocol, or the server is shutting down.
    async fn exchange(&mut self) -> Result<(), Broken> {
        let mut draining = false;
        loop {
            if self.answer_buffered(false).await? {
                return Ok(());
            }
            self.flush().await?;
            let state = self.codec.state();
            // Shutting down: stop between frames, once what came in is answered.
            if draining && state == FrameState::Idle {
                return Ok(());
            }
            let deadline = self.read_deadline(state);
            if self.read_buf.capacity() - self.read_buf.len() < self.read_chunk / 2 {
                self.read_buf.reserve(self.read_chunk);
            }
            let free = self.read_buf.capacity() - self.read_buf.len();
            // Shutting down: read only what the frame in progress still lacks. A
            // peer that keeps pipelining would otherwise keep the connection
            // reading new frames until the deadline cut it off, with answered
            // responses still unsent.
            let wanted = if draining {
                missing_bytes(state)
            } else {
                usize::MAX
            };
            let mut into = (&mut self.read_buf).limit(wanted);
            self.stage = Stage::Reading;
            let read = tokio::select! {
                biased;
                () = self.shared.shutdown.begun(), if !draining => {
                    draining = true;
                    continue;
                }
                read = tokio::time::timeout_at(deadline, self.stream.read_buf(&mut into)) => read,
            };
            match read {
                Ok(Ok(0)) => {
                    // The peer is done sending: answer what is complete, report a cut-off frame.
                    self.answer_buffered(true).await?;
                    return Ok(());
                }
                Ok(Ok(n)) => {
                    self.shared.stats.count_received(n);
                    if n >= free && self.read_chunk < READ_CHUNK {
                        self.grow_read_buf();
                    }
                }
                Ok(Err(err)) => {
                    self.report_io("read", err);
                    return Err(Broken);
                }
                Err(_elapsed) if state == FrameState::Idle => {
                    tracing::debug!(conn_id = self.conn.conn_id, "closing an idle connection");
                    return Ok(());
                }
                Err(_elapsed) => {
                    let waited = self
                        .frame_started
                        .map_or(Duration::ZERO, |(_, at)| at.elapsed());
                    self.reject_frame(FrameError::timeout(state, waited));
                    return Ok(());
                }
            }
        }
    }

    /// The peer sends more than a first read holds: from now on reads get
    /// [`READ_CHUNK`], in a buffer made as if it had been that large from the
    /// start (what is buffered, at most one first read, moves over). Grown in
    /// place instead, the small buffer keeps being reclaimed at about its size by
    /// `BytesMut`, and reads stay near `READ_CHUNK`; from `READ_CHUNK` it doubles
    /// as a burst needs, and a burst of 4 KiB frames takes 40% fewer reads (a
    /// quarter less time).
    fn grow_read_buf(&mut self) {
        self.read_chunk = READ_CHUNK;
        let mut bigger = BytesMut::with_capacity(READ_CHUNK.max(self.read_buf.len()));
        bigger.extend_from_slice(&self.read_buf);
        self.read_buf = bigger;
    }

    /// When the next read gives up: the idle timeout between frames, the frame
    /// timeout from the first byte of the frame in progress.
    fn read_deadline(&mut self, state: FrameState) -> Instant {
        let now = Instant::now();
        let config = &self.shared.config;
        if state == FrameState::Idle {
            self.frame_started = None;
            return deadline_after(now, config.idle_timeout);
        }
        let index = self.codec.frame_index();
        let started = match self.frame_started {
            Some((started_index, at)) if started_index == index => at,
            _ => {
                self.frame_started = Some((index, now));
                now
            }
        };
        deadline_after(started, config.frame_timeout)
    }

    /// Answers every complete frame in the read buffer (at the end of the stream,
    /// `eof`, also reports a cut-off one). Returns whether a decode failure ends
    /// the connection.
    async fn answer_buffered(&mut self, eof: bool) -> Result<bool, Broken> {
        loop {
            let decoded = if eof {
                self.codec.decode_eof(&mut self.read_buf)
            } else {
                self.codec.decode(&mut self.read_buf)
            };
            match decoded {
                Ok(Some(frame)) => {
                    self.answer(frame.freeze()).await;
                    if self.write_buf.len() >= self.shared.config.write_buffer {
                        self.flush().await?;
                    }
                }
                Ok(None) => return Ok(false),
                Err(err) => {
                    // Under the discard policy an oversized frame is skipped and the
                    // connection goes on; any other failure ends it.
                    let fatal = !self.codec.is_discarding();
                    self.reject_frame(err);
                    if fatal {
                        return Ok(true);
                    }
                }
            }
        }
    }

    /// Runs the handler on one request and queues its response.
    async fn answer(&mut self, request: Bytes) {
        // The codec has already counted this frame.
        let frame_index = self.codec.frame_index().wrapping_sub(1);
        self.stage = Stage::Handling { frame_index };
        let timeout = self.shared.config.handler_timeout;
        let outcome = call_guarded(&self.shared.handler, request, timeout).await;
        let response = match outcome.into_result(self.conn, frame_index, timeout) {
            Ok(body) => Response::Ok(body),
            Err((kind, err)) => {
                // The log gets the whole chain; the client what the exposure allows.
                report(&self.shared.stats, kind, self.conn, &err);
                match self.shared.config.expose {
                    Exposure::Public => Response::Error(err.public()),
                    Exposure::Full => Response::Error(err),
                }
            }
        };
        self.answered += 1;
        self.shared.stats.count_frame();
        self.queue(response);
    }

    /// Answers a decode failure with an error response that says where and why.
    fn reject_frame(&mut self, err: FrameError) {
        let kind = ErrorKind::of_frame_error(&err);
        let err = FrameContext::new(self.conn.conn_id, self.conn.peer)
            .at(&self.codec)
            .to_verror(err);
        report(&self.shared.stats, kind, self.conn, &err);
        self.queue(Response::Error(err));
    }

    fn queue(&mut self, response: Response) {
        if let Err(too_large) =
            response.encode(self.shared.config.max_frame_len, &mut self.write_buf)
        {
            report(
                &self.shared.stats,
                ErrorKind::ResponseTooLarge,
                self.conn,
                &too_large,
            );
        }
    }

    /// Writes the pending responses, within the write timeout.
    async fn flush(&mut self) -> Result<(), Broken> {
        if self.write_buf.is_empty() {
            return Ok(());
        }
        self.stage = Stage::Writing;
        let timeout = self.shared.config.write_timeout;
        match tokio::time::timeout(timeout, self.stream.write_all(&self.write_buf)).await {
            Ok(Ok(())) => {
                self.write_buf.clear();
                if self.write_buf.capacity() > KEEP_WRITE_CAPACITY {
                    self.write_buf = BytesMut::new();
                }
                Ok(())
            }
            Ok(Err(err)) => {
                self.report_io("write", err);
                Err(Broken)
            }
            Err(_elapsed) => {
                let err = self
                    .error_builder()
                    .name("WriteTimeout")
                    .info("pending_bytes", self.write_buf.len())
                    .info("timeout_ms", millis(timeout))
                    .message(format_args!(
                        "connection {} from {}: the peer stopped reading; {} response bytes could not be written within {timeout:?}",
                        self.conn.conn_id,
                        self.conn.peer,
                        self.write_buf.len()
                    ))
                    .build();
                report(&self.shared.stats, ErrorKind::WriteTimeout, self.conn, &err);
                Err(Broken)
            }
        }
    }

    /// Reports a failed read or write; the connection is over.
    fn report_io(&self, op: &'static str, err: io::Error) {
        let kind = ErrorKind::of_io_error(&err);
        let mut builder = self.error_builder().name("ConnectionError").info("op", op);
        if let FrameState::InHeader { received } | FrameState::InFrame { received, .. } =
            self.codec.state()
        {
            builder = builder.info("received", received);
        }
        if let FrameState::InFrame { declared, .. } = self.codec.state() {
            builder = builder.info("declared_len", declared);
        }
        let err = builder
            .cause(err)
            .message(format_args!(
                "connection {} from {}: {op} failed after {} frames",
                self.conn.conn_id, self.conn.peer, self.answered
            ))
            .build();
        report(&self.shared.stats, kind, self.conn, &err);
    }

    /// The error of a connection still open at the shutdown deadline.
    fn cut_off_error(&self) -> VError {
        let doing = match self.stage {
            Stage::Reading => match self.codec.state() {
                FrameState::Idle => "waiting for a frame".to_owned(),
                FrameState::InHeader { received } => {
                    format!("reading a header, {received} of 4 bytes in")
                }
                FrameState::InFrame { declared, received } => {
                    format!("reading a frame, {received} of {declared} payload bytes in")
                }
            },
            Stage::Handling { frame_index } => {
                format!("waiting for the handler on frame {frame_index}")
            }
            Stage::Writing | Stage::Closing => {
                format!("writing {} response bytes", self.write_buf.len())
            }
        };
        self.error_builder()
            .name("ShutdownDeadline")
            .info("stage", &doing)
            .info("unsent_bytes", self.write_buf.len())
            .message(format_args!(
                "connection {} from {} was cut off at the shutdown deadline while {doing}",
                self.conn.conn_id, self.conn.peer
            ))
            .build()
    }

    /// A builder with the fields every connection error carries.
    fn error_builder(&self) -> crate::Builder {
        VError::builder()
            .info("conn_id", self.conn.conn_id)
            .info("peer", self.conn.peer.to_string())
            .info("frames", self.answered)
            .info("frame_index", self.codec.frame_index())
            .backtrace(false)
    }
}

/// The bytes the frame in progress still lacks, once the codec has decoded all
/// it could (a partial header or payload stays in the read buffer; a discarded
/// payload is skipped as it arrives): the rest of the header, or of the payload.
fn missing_bytes(state: FrameState) -> usize {
    match state {
        FrameState::Idle => 0,
        FrameState::InHeader { received } => HEADER_LEN - received,
        FrameState::InFrame { declared, received } => declared - received,
    }
}

/// The error a connection past `max_connections` is answered with.
pub(crate) fn busy_error(conn: ConnRef, max_connections: usize) -> VError {
    VError::builder()
        .name("ServerBusy")
        .info("conn_id", conn.conn_id)
        .info("peer", conn.peer.to_string())
        .info("max_connections", max_connections)
        .message(format_args!(
            "server busy: all {max_connections} connections are in use; connection {} from {} refused",
            conn.conn_id, conn.peer
        ))
        .backtrace(false)
        .build()
}

/// Answers a refused connection with `err` and closes it.
pub(crate) async fn refuse(mut stream: TcpStream, err: VError, config: &Config) {
    let mut response = BytesMut::new();
    // The refusal is short: it always fits.
    let _ = Response::Error(err).encode(config.max_frame_len, &mut response);
    if let Ok(Ok(())) =
        tokio::time::timeout(config.write_timeout, stream.write_all(&response)).await
    {
        close_gracefully(&mut stream, &mut response, config.linger).await;
    }
}

/// Closes our side (FIN), then reads and drops what the peer still sends until it
/// closes too, or for `linger` at most: closing with unread input would send a
/// reset, which may destroy the last response before the peer reads it.
async fn close_gracefully(stream: &mut TcpStream, scratch: &mut BytesMut, linger: Duration) {
    if stream.shutdown().await.is_err() {
        return;
    }
    let drain = async {
        loop {
            scratch.clear();
            scratch.reserve(FIRST_READ);
            match stream.read_buf(scratch).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    let _ = tokio::time::timeout(linger, drain).await;
}

//! One connection: read bytes, decode frames, answer each in order, and close
//! well whatever the peer does.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::{BufMut, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::VError;
use crate::frame::{FrameCodec, FrameError, FrameState, HEADER_LEN};
use crate::human::HumanDuration;

use super::config::{Config, Exposure};
use super::decode_error::{decode_error, kind_of, without_location};
use super::handler::{Handler, call_guarded};
use super::report::{ConnRef, FailureKind, report};
use super::response::Response;
use super::serve::Shared;
use super::{READ_CHUNK, WRITE_BATCH, deadline_after, millis};

/// A connection's reads start with this much free space, so that one that sends
/// little (or only a frame header) costs little: a flood of them must cost at
/// most 16 KiB of heap each, task included.
const FIRST_READ: usize = 4 * 1024;

/// The connection could not go on: the transport failed (already reported).
struct Broken;

/// Why a connection stops exchanging frames.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    /// The peer is done, went idle, or broke the protocol (and was answered).
    Done,
    /// The server is shutting down and has answered every frame it read.
    ShuttingDown,
}

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
    /// Since when the idle timeout runs: the connection's start, or its last
    /// non-empty frame (empty frames do not keep a connection alive).
    idle_since: Instant,
    /// Whether a non-empty frame came since `idle_since` was last set.
    useful: bool,
    /// The frame whose decode failure was answered: one header, one answer.
    rejected_frame: Option<u64>,
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
            idle_since: Instant::now(),
            useful: false,
            rejected_frame: None,
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
            tracing::debug!(frames = self.answered, "connection closed");
        } else {
            shared.stats.count_error(FailureKind::ShutdownDeadline);
            shared.shutdown.cut_off(self.cut_off_error());
        }
    }

    async fn serve(&mut self) {
        let Ok(end) = self.exchange().await else {
            return;
        };
        if end == End::ShuttingDown {
            self.queue_shutting_down();
        }
        // Whether it ends cleanly or after a fault's error response, what is
        // pending goes out before the connection closes.
        if self.flush().await.is_err() {
            return;
        }
        self.stage = Stage::Closing;
        // At a shutdown, the peer may keep sending past any linger: its input is
        // drained until it closes or falls silent, or until the shutdown deadline
        // ends this task (`run`), so that no reset destroys the answers still on
        // their way.
        let linger = self.shared.config.linger;
        let drain = if self.shared.shutdown.has_begun() {
            Drain::UntilQuietFor(linger)
        } else {
            Drain::For(linger)
        };
        close_gracefully(&mut self.stream, &mut self.read_buf, drain).await;
    }

    /// Reads and answers frames until the connection should close: the peer is
    /// done, went idle, broke the protocol, or the server is shutting down.
    async fn exchange(&mut self) -> Result<End, Broken> {
        let mut draining = false;
        loop {
            if self.answer_buffered(false).await? {
                return Ok(End::Done);
            }
            self.flush().await?;
            let state = self.codec.state();
            // Shutting down: stop between frames, once what came in is answered.
            if draining && state == FrameState::Idle {
                return Ok(End::ShuttingDown);
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
                    return Ok(End::Done);
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
                    tracing::debug!("closing an idle connection");
                    return Ok(End::Done);
                }
                Err(_elapsed) => {
                    let waited = self
                        .frame_started
                        .map_or(Duration::ZERO, |(_, at)| at.elapsed());
                    self.reject_frame(FrameError::timeout(state, waited));
                    return Ok(End::Done);
                }
            }
        }
    }

    /// The peer sends more than a first read holds: from now on reads get
    /// [`READ_CHUNK`], in a buffer made as if it had been that large from the
    /// start (what is buffered, at most one first read, moves over). Grown in
    /// place instead, the small buffer keeps being reclaimed at about its size by
    /// `BytesMut`, and reads stay near `READ_CHUNK`; from `READ_CHUNK` it doubles
    /// as a burst needs, and a burst takes fewer reads (BENCHMARKS.md has the
    /// figures).
    fn grow_read_buf(&mut self) {
        self.read_chunk = READ_CHUNK;
        let mut bigger = BytesMut::with_capacity(READ_CHUNK.max(self.read_buf.len()));
        bigger.extend_from_slice(&self.read_buf);
        self.read_buf = bigger;
    }

    /// When the next read gives up: the idle timeout from the last non-empty
    /// frame, the frame timeout from the first byte of the frame in progress.
    fn read_deadline(&mut self, state: FrameState) -> Instant {
        let now = Instant::now();
        if std::mem::take(&mut self.useful) {
            self.idle_since = now;
        }
        let config = &self.shared.config;
        if state == FrameState::Idle {
            self.frame_started = None;
            return deadline_after(self.idle_since, config.idle_timeout);
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
                    // connection goes on, unless it declares more than the discard
                    // ceiling; any other failure ends it.
                    let discarded = self.codec.is_discarding()
                        && err
                            .declared_len()
                            .is_some_and(|len| len <= self.shared.config.discard_limit());
                    self.reject_frame(err);
                    if !discarded {
                        return Ok(true);
                    }
                }
            }
        }
    }

    /// Runs the handler on one request and queues its response.
    async fn answer(&mut self, request: Bytes) {
        self.useful |= !request.is_empty();
        // The codec has already counted this frame.
        let frame_index = self.codec.frame_index().wrapping_sub(1);
        self.stage = Stage::Handling { frame_index };
        let timeout = self.shared.config.handler_timeout;
        let outcome = call_guarded(&self.shared.handler, request, timeout).await;
        let response = match outcome.into_result(self.conn, frame_index, timeout) {
            Ok(body) => Response::Ok(body),
            Err((kind, err)) => {
                // The log gets the whole chain; the client what the exposure allows.
                report(&self.shared.stats, kind, &err);
                match self.shared.config.expose {
                    Exposure::Public => Response::Error(crate::public_view(&err)),
                    Exposure::Full => Response::Error(err),
                }
            }
        };
        self.answered += 1;
        self.shared.stats.count_frame();
        self.queue(response);
    }

    /// Answers a decode failure with an error response that says where and why;
    /// once per frame: a frame being discarded that then times out or is cut
    /// off was already answered, and the connection just closes.
    fn reject_frame(&mut self, err: FrameError) {
        let frame_index = self.codec.frame_index();
        if self.rejected_frame == Some(frame_index) {
            tracing::debug!(frame_index, error = %err, "closing: the frame was already answered");
            return;
        }
        self.rejected_frame = Some(frame_index);
        let kind = kind_of(&err);
        let err = decode_error(self.conn, &self.codec, err);
        report(&self.shared.stats, kind, &err);
        let err = match self.shared.config.expose {
            Exposure::Public => without_location(err),
            Exposure::Full => err,
        };
        self.queue(Response::Error(err));
    }

    /// Queues the last frame of a connection the server stops reading at a
    /// shutdown: a `ShuttingDown` error, the answer to the next request the peer
    /// sent or will send. Not a failure: it is neither counted nor logged.
    fn queue_shutting_down(&mut self) {
        let err = self
            .error(FailureKind::ShuttingDown)
            .message(format_args!(
                "the server is shutting down: connection {} from {} had {} frames answered; no more are read",
                self.conn.conn_id, self.conn.peer, self.answered
            ))
            .build();
        self.queue(Response::Error(err));
    }

    fn queue(&mut self, response: Response) {
        let config = &self.shared.config;
        if let Err(too_large) = response.encode(
            config.max_frame_len,
            config.max_error_len,
            &mut self.write_buf,
        ) {
            report(
                &self.shared.stats,
                FailureKind::ResponseTooLarge,
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
                // A buffer grown by a large response is released: idle connections hold little.
                if self.write_buf.capacity() > WRITE_BATCH {
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
                    .error(FailureKind::WriteTimeout)
                    .info("pending_bytes", self.write_buf.len())
                    .info("timeout_ms", millis(timeout))
                    .message(format_args!(
                        "connection {} from {}: the peer stopped reading; {} response bytes could not be written within {}",
                        self.conn.conn_id,
                        self.conn.peer,
                        self.write_buf.len(),
                        HumanDuration(timeout)
                    ))
                    .build();
                report(&self.shared.stats, FailureKind::WriteTimeout, &err);
                Err(Broken)
            }
        }
    }

    /// Reports a failed read or write; the connection is over.
    fn report_io(&self, op: &'static str, err: io::Error) {
        let kind = FailureKind::of_io_error(&err);
        let mut builder = self.error(kind).info("op", op);
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
        report(&self.shared.stats, kind, &err);
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
        self.error(FailureKind::ShutdownDeadline)
            .info("stage", &doing)
            .info("unsent_bytes", self.write_buf.len())
            .message(format_args!(
                "connection {} from {} was cut off at the shutdown deadline while {doing}",
                self.conn.conn_id, self.conn.peer
            ))
            .build()
    }

    /// A builder for an error of `kind` with the fields every connection error
    /// carries.
    fn error(&self, kind: FailureKind) -> crate::Builder {
        self.conn
            .error(kind)
            .info("frames", self.answered)
            .info("frame_index", self.codec.frame_index())
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

/// Answers a refused connection with `err` and closes it.
pub(crate) async fn answer_refused(mut stream: TcpStream, err: VError, config: &Config) {
    let mut response = BytesMut::new();
    // The refusal is short: it always fits.
    let _ = Response::Error(err).encode(config.max_frame_len, config.max_error_len, &mut response);
    if let Ok(Ok(())) =
        tokio::time::timeout(config.write_timeout, stream.write_all(&response)).await
    {
        close_gracefully(&mut stream, &mut response, Drain::For(config.linger)).await;
    }
}

/// How long a closing connection reads and drops what its peer still sends.
#[derive(Clone, Copy)]
enum Drain {
    /// At most this long in all: the usual close.
    For(Duration),
    /// Until the peer has been silent this long: at a shutdown, a peer may keep
    /// pipelining past any fixed linger (the shutdown deadline bounds it).
    UntilQuietFor(Duration),
}

/// Closes our side (FIN), then reads and drops what the peer still sends until it
/// closes too, or for as long as `drain` says: closing with unread input would
/// send a reset, which may destroy the last responses before the peer reads them.
async fn close_gracefully(stream: &mut TcpStream, scratch: &mut BytesMut, drain: Drain) {
    if stream.shutdown().await.is_err() {
        return;
    }
    let mut read_and_drop = async |quiet: Option<Duration>| loop {
        scratch.clear();
        scratch.reserve(FIRST_READ);
        let read = stream.read_buf(scratch);
        let read = match quiet {
            Some(quiet) => match tokio::time::timeout(quiet, read).await {
                Ok(read) => read,
                Err(_silent) => return,
            },
            None => read.await,
        };
        match read {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    };
    match drain {
        Drain::For(linger) => {
            let _ = tokio::time::timeout(linger, read_and_drop(None)).await;
        }
        Drain::UntilQuietFor(quiet) => read_and_drop(Some(quiet)).await,
    }
}

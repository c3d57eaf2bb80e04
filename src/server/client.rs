//! A client for the framed protocol: requests, pipelines, and remote errors that
//! come back as the server's own chain.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpStream, ToSocketAddrs};
use tokio::time::Instant;

use crate::frame::{DEFAULT_MAX_FRAME_LEN, FrameCodec};
use crate::human::HumanDuration;
use crate::{Builder, VError};

use super::report::REMOTE_ERROR;
use super::response::{DEFAULT_MAX_ERROR_LEN, Response, STATUS_ERROR};
use super::{READ_CHUNK, WRITE_BATCH, deadline_after, millis};

/// Error responses up to this long are read back on the client's task; longer
/// ones on a blocking thread, so that the timeout bounds their decoding too.
const INLINE_DECODE: usize = 4 * 1024;

/// Settings for a [`Client`].
///
/// ```
/// use std::time::Duration;
/// use verror::server::Client;
///
/// let builder = Client::builder()
///     .connect_timeout(Duration::from_secs(1))
///     .timeout(Duration::from_secs(5))
///     .max_frame_len(64 * 1024) // the server's limit
///     .max_error_len(16 * 1024); // the longest error response accepted
/// ```
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `connect` is called"]
pub struct ClientBuilder {
    connect_timeout: Duration,
    timeout: Duration,
    max_frame_len: usize,
    max_error_len: usize,
}

impl Default for ClientBuilder {
    fn default() -> ClientBuilder {
        ClientBuilder {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            max_error_len: DEFAULT_MAX_ERROR_LEN,
        }
    }
}

impl ClientBuilder {
    /// Defaults: 5 s to connect, 30 s for each write and each response, the
    /// server's default limits: 1 MiB requests, 64 KiB error responses.
    pub fn new() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// How long connecting may take.
    pub fn connect_timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.connect_timeout = timeout;
        self
    }

    /// How long writing a request may take, and each response, read and
    /// decoded (a hostile server's huge error cannot hold the client longer).
    pub fn timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.timeout = timeout;
        self
    }

    /// The server's `max_frame_len`: requests longer than it are refused here,
    /// and responses may be one byte longer (the status byte).
    pub fn max_frame_len(mut self, max: usize) -> ClientBuilder {
        self.max_frame_len = max;
        self
    }

    /// The longest error response accepted (the server's `max_error_len`): one
    /// longer is a `ProtocolError`, read no further. With
    /// [`max_frame_len`](ClientBuilder::max_frame_len), it bounds the memory a
    /// response can take.
    pub fn max_error_len(mut self, max: usize) -> ClientBuilder {
        self.max_error_len = max;
        self
    }

    /// Connects to `addr` (an address or `"host:port"`). Fails with a
    /// `ConnectError` whose cause is the `io::Error`, or the timeout.
    pub async fn connect<A: ToSocketAddrs + fmt::Display>(self, addr: A) -> Result<Client, VError> {
        let connect_error = || {
            VError::builder()
                .name(ClientFailure::Connect.name())
                .info("addr", addr.to_string())
                .message(format_args!("cannot connect to {addr}"))
                .backtrace(false)
        };
        let stream =
            match tokio::time::timeout(self.connect_timeout, TcpStream::connect(&addr)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(err)) => return Err(connect_error().cause(err).build()),
                Err(elapsed) => {
                    return Err(connect_error()
                        .info("timeout_ms", millis(self.connect_timeout))
                        .cause(elapsed)
                        .build());
                }
            };
        let (peer, local) = match (stream.peer_addr(), stream.local_addr()) {
            (Ok(peer), Ok(local)) => (peer, local),
            (Err(err), _) | (_, Err(err)) => return Err(connect_error().cause(err).build()),
        };
        let _ = stream.set_nodelay(true);
        let ends = Ends { peer, local };
        let (read, write) = stream.into_split();
        Ok(Client {
            sender: RequestSender {
                stream: write,
                codec: FrameCodec::with_max_frame_len(self.max_frame_len),
                buf: BytesMut::new(),
                timeout: self.timeout,
                ends,
                sent: 0,
            },
            receiver: ResponseReceiver {
                stream: read,
                codec: FrameCodec::with_max_frame_len(
                    self.max_frame_len.max(self.max_error_len).saturating_add(1),
                ),
                max_error_len: self.max_error_len,
                buf: BytesMut::new(),
                timeout: self.timeout,
                ends,
                received: 0,
            },
        })
    }
}

/// A connection to a server: requests one at a time ([`request`](Client::request)),
/// a batch pipelined ([`pipeline`](Client::pipeline)), or its two halves in
/// separate tasks ([`split`](Client::split)).
///
/// A response with an error becomes a `VError` named `RemoteError`, with the
/// server (`server`), the client's own address (`local_addr`) and the request's
/// index on this connection (`request_index`) as info fields, and the chain the
/// server sent as its cause, names and info fields intact. Failures on the
/// client's side have their own names: `ConnectError`, `ClientTimeout`,
/// `ConnectionError` (I/O), `ConnectionClosed` (the server closed before
/// answering), `ProtocolError` (a response that breaks the protocol),
/// `RequestTooLarge`. After a timeout or a transport failure, drop the client:
/// which response comes next is no longer known.
///
/// ```
/// use bytes::Bytes;
/// use verror::server::{Client, ServerBuilder};
/// use verror::VError;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), VError> {
/// // Echoes, except `?KEY`, which looks a user up.
/// let handler = |request: Bytes| async move {
///     match request.strip_prefix(b"?") {
///         Some(b"2") => Ok(Bytes::from_static(b"grace")),
///         Some(_) => Err(VError::builder().name("NotFound").message("no such user").build()),
///         None => Ok(request),
///     }
/// };
/// # let server = ServerBuilder::new().addr("127.0.0.1:0".parse().unwrap()).bind(handler).await?;
/// # let addr = server.local_addr();
/// # tokio::spawn(server.serve());
/// let mut client = Client::connect(addr).await?;
/// assert_eq!(client.request(b"hello").await?, "hello");
///
/// let err = client.request(b"?42").await.unwrap_err();
/// assert_eq!(err.name(), "RemoteError");
/// assert!(verror::has_cause_with_name(&err, "NotFound")); // the server's chain
/// assert_eq!(verror::info(&err).get("request_index"), Some(&serde_json::json!(1)));
///
/// let answers = client.pipeline(["a", "?2", "c"]).await?;
/// assert_eq!(answers[1].as_ref().unwrap(), "grace");
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Client {
    sender: RequestSender,
    receiver: ResponseReceiver,
}

impl Client {
    /// Connects with the default settings; see [`ClientBuilder`] for others.
    pub async fn connect<A: ToSocketAddrs + fmt::Display>(addr: A) -> Result<Client, VError> {
        ClientBuilder::new().connect(addr).await
    }

    /// A builder for the timeouts and the frame limit.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::new()
    }

    /// The server's address.
    pub fn peer_addr(&self) -> SocketAddr {
        self.sender.ends.peer
    }

    /// The client's own address.
    pub fn local_addr(&self) -> SocketAddr {
        self.sender.ends.local
    }

    /// Sends one request and waits for its response: the body, or the server's
    /// error as a `RemoteError`.
    pub async fn request(&mut self, payload: impl AsRef<[u8]>) -> Result<Bytes, VError> {
        self.sender.send(payload.as_ref()).await?;
        self.receiver.recv().await
    }

    /// Sends every request without waiting, while reading the responses as they
    /// come (so neither side's buffers can fill up and stall the other), and
    /// returns one result per request, in order. The outer `Err` is a transport
    /// failure; the inner ones are the server's errors.
    pub async fn pipeline<I>(&mut self, payloads: I) -> Result<Vec<Result<Bytes, VError>>, VError>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        let payloads: Vec<I::Item> = payloads.into_iter().collect();
        let sender = &mut self.sender;
        let receiver = &mut self.receiver;
        let send_all = async {
            for payload in &payloads {
                sender.feed(payload.as_ref())?;
                if sender.buffered() >= WRITE_BATCH {
                    sender.flush().await?;
                }
            }
            sender.flush().await
        };
        let receive_all = async {
            let mut responses = Vec::with_capacity(payloads.len());
            for _ in 0..payloads.len() {
                match receiver.recv().await {
                    Err(err) if err.name() != REMOTE_ERROR => return Err(err),
                    response => responses.push(response),
                }
            }
            Ok(responses)
        };
        let ((), responses) = tokio::try_join!(send_all, receive_all)?;
        Ok(responses)
    }

    /// The two halves, to write requests and read responses from separate tasks
    /// (a load generator, say).
    pub fn split(self) -> (RequestSender, ResponseReceiver) {
        (self.sender, self.receiver)
    }

    /// Puts the two halves of one client back together (the inverse of
    /// [`split`](Client::split)). Halves of different connections are refused
    /// with a `MismatchedHalves` error, and dropped (closing both connections).
    pub fn reunite(sender: RequestSender, receiver: ResponseReceiver) -> Result<Client, VError> {
        let (s, r) = (sender.ends, receiver.ends);
        if (s.peer, s.local) != (r.peer, r.local) {
            return Err(s
                .error(ClientFailure::MismatchedHalves)
                .info("receiver_local_addr", r.local.to_string())
                .message("a request sender and a response receiver of different connections")
                .build());
        }
        Ok(Client { sender, receiver })
    }

    /// Closes the connection abruptly, with a TCP reset (`SO_LINGER` 0) instead
    /// of a FIN, dropping whatever is queued or unread: for testing how a server
    /// copes with a peer that vanishes in the middle of a frame.
    pub fn reset(self) -> Result<(), VError> {
        let ends = self.sender.ends;
        let stream = self
            .receiver
            .stream
            .reunite(self.sender.stream)
            .map_err(|e| {
                ends.error(ClientFailure::Connection)
                    .cause(e)
                    .message("reset failed")
                    .build()
            })?;
        stream.set_zero_linger().map_err(|e| {
            ends.error(ClientFailure::Connection)
                .info("op", "set_zero_linger")
                .cause(e)
                .message(format_args!("cannot reset the connection to {}", ends.peer))
                .build()
        })?;
        // With a zero linger, closing the socket sends a reset.
        drop(stream);
        Ok(())
    }
}

/// Both ends of a connection, for error context.
#[derive(Debug, Clone, Copy)]
struct Ends {
    peer: SocketAddr,
    local: SocketAddr,
}

/// Every error a client makes, by name (the table of
/// [`FailureKind`](super::FailureKind) lists them with the server's).
#[derive(Debug, Clone, Copy)]
enum ClientFailure {
    /// An error response: its cause is the server's chain.
    Remote,
    Connect,
    Timeout,
    Connection,
    Closed,
    Protocol,
    RequestTooLarge,
    MismatchedHalves,
}

impl ClientFailure {
    fn name(self) -> &'static str {
        match self {
            ClientFailure::Remote => REMOTE_ERROR,
            ClientFailure::Connect => "ConnectError",
            ClientFailure::Timeout => "ClientTimeout",
            ClientFailure::Connection => "ConnectionError",
            ClientFailure::Closed => "ConnectionClosed",
            ClientFailure::Protocol => "ProtocolError",
            ClientFailure::RequestTooLarge => "RequestTooLarge",
            ClientFailure::MismatchedHalves => "MismatchedHalves",
        }
    }
}

impl Ends {
    fn error(&self, failure: ClientFailure) -> Builder {
        VError::builder()
            .name(failure.name())
            // `server`, not `peer`: the server's own levels name their peer
            // (this client) `peer`, and a merged view must keep both.
            .info("server", self.peer.to_string())
            .info("local_addr", self.local.to_string())
            .backtrace(false)
    }
}

/// The writing half of a [`Client`]: frames requests and writes them.
#[derive(Debug)]
pub struct RequestSender {
    stream: OwnedWriteHalf,
    codec: FrameCodec,
    buf: BytesMut,
    timeout: Duration,
    ends: Ends,
    sent: u64,
}

impl RequestSender {
    /// Frames one request and writes it (with everything queued before it).
    pub async fn send(&mut self, payload: &[u8]) -> Result<(), VError> {
        self.feed(payload)?;
        self.flush().await
    }

    /// Frames one request into the write buffer without writing it; see
    /// [`flush`](RequestSender::flush). A request longer than the server's limit
    /// is refused with a `RequestTooLarge` error and nothing is queued.
    pub fn feed(&mut self, payload: &[u8]) -> Result<(), VError> {
        self.codec.encode(payload, &mut self.buf).map_err(|err| {
            self.ends
                .error(ClientFailure::RequestTooLarge)
                .info("request_index", self.sent)
                .cause(err)
                .message(format_args!(
                    "request {} is too large for the server",
                    self.sent
                ))
                .build()
        })?;
        self.sent += 1;
        Ok(())
    }

    /// Queues raw bytes, framed or not: for testing how a server copes with
    /// malformed input (a truncated frame, a header over the limit, garbage).
    pub fn feed_raw(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The bytes queued and not yet written.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// Writes everything queued, within the timeout.
    pub async fn flush(&mut self) -> Result<(), VError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        match tokio::time::timeout(self.timeout, self.stream.write_all(&self.buf)).await {
            Ok(Ok(())) => {
                self.buf.clear();
                Ok(())
            }
            Ok(Err(err)) => Err(self.io_error("write", err)),
            Err(elapsed) => Err(self
                .ends
                .error(ClientFailure::Timeout)
                .info("timeout_ms", millis(self.timeout))
                .info("pending_bytes", self.buf.len())
                .cause(elapsed)
                .message(format_args!(
                    "could not write {} bytes to {} within {}",
                    self.buf.len(),
                    self.ends.peer,
                    HumanDuration(self.timeout)
                ))
                .build()),
        }
    }

    /// Closes the writing side (the server sees the end of the stream once it
    /// has read what was sent), after writing what is queued.
    pub async fn shutdown(&mut self) -> Result<(), VError> {
        self.flush().await?;
        self.stream
            .shutdown()
            .await
            .map_err(|err| self.io_error("shutdown", err))
    }

    fn io_error(&self, op: &'static str, err: io::Error) -> VError {
        self.ends
            .error(ClientFailure::Connection)
            .info("op", op)
            .cause(err)
            .message(format_args!("{op} to {} failed", self.ends.peer))
            .build()
    }
}

/// The reading half of a [`Client`]: reads responses, in the order of the
/// requests.
#[derive(Debug)]
pub struct ResponseReceiver {
    stream: OwnedReadHalf,
    codec: FrameCodec,
    max_error_len: usize,
    buf: BytesMut,
    timeout: Duration,
    ends: Ends,
    received: u64,
}

impl ResponseReceiver {
    /// The next response: its body, or the server's error as a `RemoteError`
    /// (see [`Client`]), within the timeout.
    pub async fn recv(&mut self) -> Result<Bytes, VError> {
        let index = self.received;
        let deadline = deadline_after(Instant::now(), self.timeout);
        let payload = self.read_frame(index, deadline).await?;
        self.received += 1;
        match self.decode(index, payload, deadline).await? {
            Ok(Response::Ok(body)) => Ok(body),
            Ok(Response::Error(remote)) => Err(self
                .ends
                .error(ClientFailure::Remote)
                .info("request_index", index)
                .cause(remote)
                .message(format_args!(
                    "server {} answered request {index} with an error",
                    self.ends.peer
                ))
                .build()),
            Err(invalid) => Err(self.protocol_error(index, invalid)),
        }
    }

    /// The number of responses read so far.
    pub fn received(&self) -> u64 {
        self.received
    }

    /// Reads a response payload back, within `deadline`: an error response
    /// longer than [`INLINE_DECODE`] on a blocking thread, so that a hostile
    /// one costs this task no more than the timeout.
    async fn decode(
        &self,
        index: u64,
        payload: Bytes,
        deadline: Instant,
    ) -> Result<Result<Response, VError>, VError> {
        if payload.first() != Some(&STATUS_ERROR) {
            return Ok(Response::decode(payload));
        }
        let json_len = payload.len() - 1;
        if json_len > self.max_error_len {
            return Err(self
                .ends
                .error(ClientFailure::Protocol)
                .info("request_index", index)
                .info("len", json_len)
                .info("max_error_len", self.max_error_len)
                .message(format_args!(
                    "server {} sent an error response of {json_len} bytes to request {index}, past the limit of {}",
                    self.ends.peer, self.max_error_len
                ))
                .build());
        }
        if json_len <= INLINE_DECODE {
            return Ok(Response::decode(payload));
        }
        let decoding = tokio::task::spawn_blocking(move || Response::decode(payload));
        match tokio::time::timeout_at(deadline, decoding).await {
            Ok(Ok(decoded)) => Ok(decoded),
            Ok(Err(join)) => Err(self.protocol_error(index, join)),
            Err(elapsed) => Err(self
                .ends
                .error(ClientFailure::Timeout)
                .info("request_index", index)
                .info("timeout_ms", millis(self.timeout))
                .info("len", json_len)
                .cause(elapsed)
                .message(format_args!(
                    "the error response of {json_len} bytes from {} to request {index} could not be read within {}",
                    self.ends.peer, HumanDuration(self.timeout)
                ))
                .build()),
        }
    }

    async fn read_frame(&mut self, index: u64, deadline: Instant) -> Result<Bytes, VError> {
        loop {
            match self.codec.decode(&mut self.buf) {
                Ok(Some(frame)) => return Ok(frame.freeze()),
                Ok(None) => {}
                Err(err) => return Err(self.protocol_error(index, err)),
            }
            if self.buf.capacity() - self.buf.len() < READ_CHUNK / 2 {
                self.buf.reserve(READ_CHUNK);
            }
            match tokio::time::timeout_at(deadline, self.stream.read_buf(&mut self.buf)).await {
                Ok(Ok(0)) => return Err(self.closed_error(index)),
                Ok(Ok(_)) => {}
                Ok(Err(err)) => {
                    return Err(self
                        .ends
                        .error(ClientFailure::Connection)
                        .info("op", "read")
                        .info("request_index", index)
                        .cause(err)
                        .message(format_args!("read from {} failed", self.ends.peer))
                        .build());
                }
                Err(elapsed) => {
                    return Err(self
                        .ends
                        .error(ClientFailure::Timeout)
                        .info("request_index", index)
                        .info("timeout_ms", millis(self.timeout))
                        .cause(elapsed)
                        .message(format_args!(
                            "no response from {} to request {index} within {}",
                            self.ends.peer,
                            HumanDuration(self.timeout)
                        ))
                        .build());
                }
            }
        }
    }

    /// The server closed the connection where a response was expected; a
    /// response cut off in the middle is the cause.
    fn closed_error(&mut self, index: u64) -> VError {
        let builder = self
            .ends
            .error(ClientFailure::Closed)
            .info("request_index", index)
            .message(format_args!(
                "server {} closed the connection before answering request {index}",
                self.ends.peer
            ));
        match self.codec.decode_eof(&mut self.buf) {
            Err(truncated) => builder.cause(truncated).build(),
            Ok(_) => builder.build(),
        }
    }

    fn protocol_error<E>(&self, index: u64, cause: E) -> VError
    where
        E: std::error::Error + Send + Sync + 'static,
    {
        self.ends
            .error(ClientFailure::Protocol)
            .info("request_index", index)
            .cause(cause)
            .message(format_args!(
                "server {} sent an invalid response to request {index}",
                self.ends.peer
            ))
            .build()
    }
}

//! A tokio server and client for the length-prefixed frame protocol, where every
//! failure, a peer's or the server's own, is answered and logged as a `VError`
//! chain with its numbers.
//!
//! This module is meant to be read, like tokio's mini-redis: each file holds one
//! concern, and this page tells how they fit.
//!
//! # The protocol
//!
//! A request is one frame ([`crate::frame`]): a 4-byte big-endian length, then
//! the payload, at most `max_frame_len` bytes. The response is one frame whose
//! payload starts with a status byte: `0x00` then the body (at most
//! `max_frame_len` bytes), or `0x01` then the JSON of an error chain, with a cap
//! of its own (`max_error_len`, cut to fit by the error's size budget, never
//! replaced by another error) ([`Response`]). Requests on a connection may be
//! pipelined; responses come back in order, one per request.
//! [`FailureKind`](FailureKind#every-error-the-server-and-the-client-produce)
//! has the table of every error the server and the client produce.
//!
//! # Quick start
//!
//! ```
//! use bytes::Bytes;
//! use verror::server::{Client, ServerBuilder};
//! use verror::VError;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), VError> {
//! // A handler: an async function from request to response body or error.
//! let handler = |request: Bytes| async move {
//!     match &request[..] {
//!         b"ping" => Ok(Bytes::from_static(b"pong")),
//!         _ => Err(VError::builder()
//!             .name("UnknownRequest")
//!             .info("len", request.len())
//!             .message("only ping is understood")
//!             .build()),
//!     }
//! };
//! let server = ServerBuilder::new().addr("127.0.0.1:0".parse().unwrap()).bind(handler).await?;
//! let addr = server.local_addr();
//! let stop = server.shutdown_token();
//! let running = tokio::spawn(server.serve());
//!
//! let mut client = Client::connect(addr).await?;
//! assert_eq!(client.request(b"ping").await?, "pong");
//!
//! // The server's error comes back as the cause of a `RemoteError`, intact.
//! let err = client.request(b"pong").await.unwrap_err();
//! assert_eq!(err.name(), "RemoteError");
//! let remote = verror::find_cause_by_name(&err, "UnknownRequest").unwrap();
//! assert_eq!(remote.to_string(), "only ping is understood");
//! assert_eq!(verror::info(&err).get("len"), Some(&serde_json::json!(4)));
//!
//! stop.cancel();
//! let summary = running.await.unwrap();
//! assert_eq!(summary.frames, 2);
//! assert_eq!(summary.errors_of(verror::server::FailureKind::HandlerError), 1);
//! # Ok(())
//! # }
//! ```
//!
//! # How it works
//!
//! ```text
//!  listener.rs          conn.rs (one task per connection)                 response.rs
//!  accept loop ──► read ─► FrameCodec ─► handler.rs (guarded call) ─► status + body/JSON ─► write
//!   (workers)        ▲   (sans-IO)         panic? timeout?                                 │
//!                    └──────────── idle / frame / write timeouts, in order ◄───────────────┘
//! ```
//!
//! - **[`ServerBuilder`]** (`config.rs`) holds the settings and binds the
//!   sockets. **[`Server`]** (`serve.rs`) runs one accept loop per worker and,
//!   when told to stop, shuts down in order.
//! - **Accepting** (`listener.rs`): each worker owns a socket; with several, all
//!   are bound to one port with `SO_REUSEPORT` and the kernel spreads the
//!   connections. A failed `accept` (out of file descriptors, say) is logged and
//!   retried after a growing pause; it never stops the server. Past
//!   `max_connections`, or past `max_connections_per_address` from one IP
//!   address (an eighth of `max_connections` by default: one address cannot
//!   lock out the rest), a connection is accepted only to be answered with a
//!   `ServerBusy` error and closed, so its client fails fast; past
//!   `max_refusals` refusals at once (a connect storm), it is closed without
//!   an answer.
//! - **A connection** (`conn.rs`) is one task that owns its socket, a
//!   [`FrameCodec`](crate::frame::FrameCodec) and two buffers. It drives the
//!   codec itself rather than through tokio-util's `Framed`, which ends at the
//!   first error: an oversized frame under the `Discard` policy must be answered
//!   and skipped while the connection goes on, and the codec's
//!   [`state`](crate::frame::FrameCodec::state) chooses the timeout: the *idle
//!   timeout* since the last non-empty frame (empty frames do not keep a
//!   connection), the *frame timeout* once a frame has begun (a slowloris peer
//!   that trickles bytes is cut off with the count of what came).
//!   Every complete frame in the buffer is answered before the next read, and the
//!   responses written together: a pipelined burst costs one write.
//! - **Decode failures** are answered with an error response carrying the
//!   connection, the frame's index and offset, and the numbers (declared length,
//!   limit, bytes received, time waited); then the connection closes, or under
//!   `Discard` (oversized frames up to `max_discard_len`) carries on. One
//!   header earns one answer. They never capture a backtrace (a hostile peer
//!   must not make the server pay for one per frame), and under
//!   [`Exposure::Public`] they go out without their source location.
//! - **The handler** ([`Handler`], `handler.rs`) runs on the connection's task,
//!   guarded: a panic becomes a `HandlerPanic` response, a call past the
//!   handler timeout a `HandlerTimeout` response, and the connection carries on.
//! - **Responses** (`response.rs`) never carry a backtrace; a body never grows
//!   past the limit, an error's JSON past its own cap.
//! - **Memory is bounded**: the read buffer holds at most one frame plus one
//!   read (the codec never allocates a declared length); the write buffer at
//!   most the `write_buffer` setting plus one response; a peer that stops
//!   reading is cut off by the *write timeout*.
//! - **Closing** sends FIN, then reads and drops what the peer still sends for a
//!   short while (`linger`; at a shutdown, until the peer closes or has been
//!   silent for the `linger`, within the shutdown deadline), so that the last
//!   responses are not destroyed by the reset a close with unread input would
//!   cause.
//!
//! # Shutdown
//!
//! [`Server::serve_until`] takes any future as the trigger, such as
//! [`shutdown_signal`] (SIGINT or SIGTERM); [`Server::shutdown_token`] gives a
//! `CancellationToken` that does the same from anywhere. Then (`shutdown.rs`):
//! the accept loops stop; each connection stops reading new frames, answers
//! those it has read (finishing one partly in), sends a `ShuttingDown` error
//! (the answer to the next request its peer sent or sends), flushes,
//! half-closes, and drains what the peer still sends until the peer closes or
//! falls silent for the `linger`: every frame counted as answered reaches a
//! peer that keeps reading, even one that keeps sending. At the
//! `shutdown_deadline` whatever is still open is cut off and reported, all
//! together, as one MultiError. The [`Summary`] (connections, frames, errors by
//! kind) is logged and returned.
//!
//! # Logs
//!
//! Everything is logged through `tracing`. Each connection runs in a span named
//! `connection` with its `conn_id` and `peer`; each error is one event in it,
//! with a stable `kind` field ([`FailureKind::as_str`]: `oversized`,
//! `frame_timeout`, `handler_panic`, ...) and the error itself as `error`,
//! passed as `&dyn Error` so that a layer receives the whole chain through
//! `Visit::record_error` and can write it as nested JSON, and rate limit lines
//! per kind. (The error's own levels still carry `conn_id` and `peer` as info
//! fields: they go to the client too.) Peer faults are warnings, the server's
//! own failures errors.
//!
//! # Client
//!
//! [`Client`] sends requests one at a time or pipelined, or splits into a
//! [`RequestSender`] and a [`ResponseReceiver`] for separate tasks. An error
//! response becomes a `RemoteError` whose cause is the server's chain, names and
//! info fields intact (the client's level names the server `server`, the
//! server's levels name the client `peer`: merged, both stay);
//! [`FailureKind::classify`] tells which kind of server failure it was. The
//! client's timeout covers reading and decoding each response, and
//! `max_frame_len` and `max_error_len` bound the memory one can take.
//!
//! # Load
//!
//! [`Load`] (module [`load`]) drives N connections × M pipelined requests
//! against an echo server and reports throughput, latency percentiles and errors
//! by kind; with a [`Fault`](load::Fault), each connection then misbehaves in
//! one of the ways the server must survive (oversized, garbage, truncated,
//! slow, reset).

mod client;
mod config;
mod conn;
mod decode_error;
mod handler;
mod listener;
pub mod load;
mod per_address;
mod report;
mod response;
mod serve;
mod shutdown;
mod stats;

pub use client::{Client, ClientBuilder, RequestSender, ResponseReceiver};
pub use config::{Exposure, MAX_FRAME_LEN_LIMIT, ServerBuilder};
pub use handler::Handler;
pub use load::{Load, LoadReport};
pub use report::FailureKind;
pub use response::{DEFAULT_MAX_ERROR_LEN, MIN_ERROR_LEN, Response, STATUS_ERROR, STATUS_OK};
pub use serve::Server;
pub use shutdown::shutdown_signal;
pub use stats::{Stats, Summary};

use std::time::Duration;

use tokio::time::Instant;

/// Reads get at least this much free space once a peer sends more than a
/// first read holds (the server's connections, the client).
const READ_CHUNK: usize = 16 * 1024;
/// Pending writes are flushed at this size: the server's default
/// `write_buffer`, a pipelining client's batch; a buffer grown past it is
/// released once flushed.
const WRITE_BATCH: usize = 64 * 1024;

/// `start + duration`, or a far future when that overflows (a timeout set to
/// `Duration::MAX` means "never").
fn deadline_after(start: Instant, duration: Duration) -> Instant {
    start
        .checked_add(duration)
        .unwrap_or_else(|| start + Duration::from_secs(60 * 60 * 24 * 365))
}

/// A duration in whole milliseconds, for info fields.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

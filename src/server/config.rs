//! The server's settings, and the builder that binds a [`Server`].

use std::net::SocketAddr;
use std::time::Duration;

use crate::VError;
use crate::choice::unknown_value;
use crate::frame::{DEFAULT_MAX_FRAME_LEN, OversizedPolicy};

use super::WRITE_BATCH;
use super::handler::Handler;
use super::response::{DEFAULT_MAX_ERROR_LEN, MIN_ERROR_LEN};
use super::serve::Server;

/// The longest request payload: an ok response, one byte longer, must still fit
/// the 4-byte header.
pub const MAX_FRAME_LEN_LIMIT: usize = u32::MAX as usize - 1;

/// Every setting of a server. Built by [`ServerBuilder`]; read by the tasks.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) addr: SocketAddr,
    pub(crate) max_frame_len: usize,
    pub(crate) max_error_len: usize,
    pub(crate) oversized: OversizedPolicy,
    pub(crate) max_discard_len: usize,
    pub(crate) max_connections: usize,
    /// `None`: an eighth of `max_connections` (at least 1).
    pub(crate) max_connections_per_address: Option<usize>,
    pub(crate) max_refusals: usize,
    pub(crate) idle_timeout: Duration,
    pub(crate) frame_timeout: Duration,
    pub(crate) write_timeout: Duration,
    pub(crate) write_buffer: usize,
    pub(crate) handler_timeout: Duration,
    pub(crate) linger: Duration,
    pub(crate) shutdown_deadline: Duration,
    pub(crate) workers: usize,
    pub(crate) backlog: u32,
    pub(crate) expose: Exposure,
}

/// The error of a setting out of its range: a `ConfigError` that gives the
/// range allowed.
pub(crate) fn out_of_range(setting: &'static str, value: u64, allowed: String) -> VError {
    VError::builder()
        .name("ConfigError")
        .info(setting, value)
        .info("allowed", &allowed)
        .message(format_args!(
            "{setting} {value} is out of range ({allowed})"
        ))
        .backtrace(false)
        .build()
}

impl Config {
    /// Refuses settings that cannot work, with a `ConfigError` that gives the
    /// range allowed.
    pub(crate) fn check(&self) -> Result<(), VError> {
        let out_of_range =
            |setting, value: usize, allowed| Err(out_of_range(setting, value as u64, allowed));
        if !(1..=MAX_FRAME_LEN_LIMIT).contains(&self.max_frame_len) {
            return out_of_range(
                "max_frame_len",
                self.max_frame_len,
                format!(
                    "1 to {MAX_FRAME_LEN_LIMIT}: an ok response, one byte longer, must fit the 4-byte header"
                ),
            );
        }
        if self.workers == 0 {
            return out_of_range("workers", 0, "at least 1".to_owned());
        }
        if self.max_connections == 0 {
            return out_of_range("max_connections", 0, "at least 1".to_owned());
        }
        if self.max_connections_per_address == Some(0) {
            return out_of_range("max_connections_per_address", 0, "at least 1".to_owned());
        }
        Ok(())
    }

    /// The connections one IP address may hold at once.
    pub(crate) fn per_address_limit(&self) -> usize {
        self.max_connections_per_address
            .unwrap_or((self.max_connections / 8).max(1))
    }

    /// The longest oversized frame the discard policy skips.
    pub(crate) fn discard_limit(&self) -> usize {
        self.max_discard_len.max(self.max_frame_len)
    }
}

/// How much of a handler's error goes back to the client. The server's log always
/// has the whole chain; decode failures, which describe the client's own bytes,
/// always carry their numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Exposure {
    /// The error's [public view](crate::public_view): the chain down to the first
    /// level that hides its cause, or the top level alone; no sensitive fields, no
    /// locations.
    #[default]
    Public,
    /// The whole chain (sensitive values still redacted, backtraces never sent).
    Full,
}

impl std::str::FromStr for Exposure {
    type Err = VError;

    fn from_str(text: &str) -> Result<Exposure, VError> {
        match text {
            "public" => Ok(Exposure::Public),
            "full" => Ok(Exposure::Full),
            _ => Err(unknown_value("exposure", text, &["public", "full"])),
        }
    }
}

impl Default for Config {
    fn default() -> Config {
        Config {
            addr: SocketAddr::from(([127, 0, 0, 1], 7878)),
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            max_error_len: DEFAULT_MAX_ERROR_LEN,
            oversized: OversizedPolicy::Close,
            max_discard_len: 64 * 1024 * 1024,
            max_connections: 1024,
            max_connections_per_address: None,
            max_refusals: 64,
            idle_timeout: Duration::from_secs(60),
            frame_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(10),
            write_buffer: WRITE_BATCH,
            handler_timeout: Duration::from_secs(10),
            linger: Duration::from_secs(1),
            shutdown_deadline: Duration::from_secs(5),
            workers: 1,
            backlog: 1024,
            expose: Exposure::Public,
        }
    }
}

/// Settings for a [`Server`]; [`bind`](ServerBuilder::bind) opens the listening
/// sockets and gives the server, ready to [`serve`](Server::serve).
///
/// | setting | default | what it bounds |
/// |---|---|---|
/// | [`addr`](ServerBuilder::addr) | `127.0.0.1:7878` | where to listen (port 0: any free port) |
/// | [`max_frame_len`](ServerBuilder::max_frame_len) | 1 MiB | a request's payload (1 to 2³²−2); an ok response may be one byte longer |
/// | [`max_error_len`](ServerBuilder::max_error_len) | 64 KiB | an error response's JSON, cut to fit (at least [`MIN_ERROR_LEN`]) |
/// | [`oversized`](ServerBuilder::oversized) | `Close` | what follows an oversized header: close, or skip it and carry on |
/// | [`max_discard_len`](ServerBuilder::max_discard_len) | 64 MiB | the longest oversized frame `Discard` skips; past it the connection closes |
/// | [`max_connections`](ServerBuilder::max_connections) | 1024 | connections served at once; the next is answered `ServerBusy` and closed |
/// | [`max_connections_per_address`](ServerBuilder::max_connections_per_address) | `max_connections / 8` | connections from one IP address at once (one peer cannot lock out the rest) |
/// | [`max_refusals`](ServerBuilder::max_refusals) | 64 | refused connections answered `ServerBusy` at once; past it, closed without an answer |
/// | [`idle_timeout`](ServerBuilder::idle_timeout) | 60 s | time without a non-empty frame before the connection is closed |
/// | [`frame_timeout`](ServerBuilder::frame_timeout) | 10 s | a whole frame, from its first header byte to its last payload byte (slowloris) |
/// | [`write_timeout`](ServerBuilder::write_timeout) | 10 s | writing pending responses to a peer that stopped reading |
/// | [`write_buffer`](ServerBuilder::write_buffer) | 64 KiB | responses buffered before they are written (plus one response) |
/// | [`handler_timeout`](ServerBuilder::handler_timeout) | 10 s | one handler call |
/// | [`linger`](ServerBuilder::linger) | 1 s | reading (and dropping) what a peer still sends after the server closed its side, so the peer gets the last response instead of a reset |
/// | [`shutdown_deadline`](ServerBuilder::shutdown_deadline) | 5 s | a graceful shutdown, from the trigger to the last connection closed |
/// | [`workers`](ServerBuilder::workers) | 1 | accept loops, each on its own socket bound to the same port (`SO_REUSEPORT`) |
/// | [`backlog`](ServerBuilder::backlog) | 1024 | connections the kernel queues before they are accepted |
/// | [`expose`](ServerBuilder::expose) | `Public` | how much of a handler's error the client sees |
///
/// ```
/// use std::time::Duration;
/// use verror::frame::OversizedPolicy;
/// use verror::server::ServerBuilder;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), verror::VError> {
/// let server = ServerBuilder::new()
///     .addr("127.0.0.1:0".parse().unwrap())
///     .max_frame_len(64 * 1024)
///     .oversized(OversizedPolicy::Discard)
///     .frame_timeout(Duration::from_secs(5))
///     .bind(|request: bytes::Bytes| async move { Ok::<_, verror::VError>(request) })
///     .await?;
/// assert_ne!(server.local_addr().port(), 0);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default)]
#[must_use = "a builder does nothing until `bind` is called"]
pub struct ServerBuilder {
    config: Config,
}

impl ServerBuilder {
    /// A builder with the defaults in the table above.
    pub fn new() -> ServerBuilder {
        ServerBuilder::default()
    }

    /// The address to listen on. Port 0 picks a free port
    /// ([`Server::local_addr`] tells which).
    pub fn addr(mut self, addr: SocketAddr) -> ServerBuilder {
        self.config.addr = addr;
        self
    }

    /// The longest request payload accepted: 1 to [`MAX_FRAME_LEN_LIMIT`]
    /// (2³²−2, so that an ok response, one byte longer, still fits the 4-byte
    /// header); [`bind`](ServerBuilder::bind) refuses anything else with a
    /// `ConfigError`. Error responses have their own cap,
    /// [`max_error_len`](ServerBuilder::max_error_len).
    pub fn max_frame_len(mut self, max: usize) -> ServerBuilder {
        self.config.max_frame_len = max;
        self
    }

    /// The cap of an error response's JSON, independent of the request limit:
    /// an error past it is cut to fit by the error's size budget
    /// ([`ErrorJson::max_bytes`](crate::ErrorJson::max_bytes)), never replaced.
    /// Raised to [`MIN_ERROR_LEN`], room for any decode failure.
    pub fn max_error_len(mut self, max: usize) -> ServerBuilder {
        self.config.max_error_len = max.clamp(MIN_ERROR_LEN, MAX_FRAME_LEN_LIMIT);
        self
    }

    /// What to do after a header over the limit: [`OversizedPolicy::Close`] answers
    /// with the error and closes; [`OversizedPolicy::Discard`] answers with the
    /// error, skips the frame's bytes as they arrive and carries on.
    pub fn oversized(mut self, policy: OversizedPolicy) -> ServerBuilder {
        self.config.oversized = policy;
        self
    }

    /// Under [`OversizedPolicy::Discard`], the longest declared length that is
    /// skipped (at least `max_frame_len`): a header past it is answered, then the
    /// connection closes, rather than have the server read gigabytes, or swallow
    /// the peer's next frames as part of one it will never get.
    pub fn max_discard_len(mut self, max: usize) -> ServerBuilder {
        self.config.max_discard_len = max;
        self
    }

    /// The number of connections served at once. The connection past it is
    /// accepted, answered with a `ServerBusy` error response and closed, so that
    /// its client fails fast instead of waiting in the kernel's queue (see
    /// [`max_refusals`](ServerBuilder::max_refusals)).
    pub fn max_connections(mut self, max: usize) -> ServerBuilder {
        self.config.max_connections = max;
        self
    }

    /// The number of connections served at once for one IP address (default: an
    /// eighth of `max_connections`, at least 1), so that one address cannot take
    /// every connection and lock the others out. The connection past it is
    /// refused as one past `max_connections` is: `ServerBusy`, then closed.
    pub fn max_connections_per_address(mut self, max: usize) -> ServerBuilder {
        self.config.max_connections_per_address = Some(max);
        self
    }

    /// The number of refused connections being answered at once. Each refused
    /// connection gets a `ServerBusy` error response, then a graceful close (at
    /// most the `linger`); past this many at once (a connect storm), a refused
    /// connection is closed at once without an answer, and its client sees the
    /// end of the stream. Either way the refusal is counted and logged.
    pub fn max_refusals(mut self, max: usize) -> ServerBuilder {
        self.config.max_refusals = max;
        self
    }

    /// How long a connection may go without a non-empty frame before the server
    /// closes it (quietly: idleness is not an error). Empty frames do not count:
    /// a peer cannot hold a connection with keep-alives of nothing.
    pub fn idle_timeout(mut self, timeout: Duration) -> ServerBuilder {
        self.config.idle_timeout = timeout;
        self
    }

    /// How long a frame may take to arrive, from its first header byte to its last
    /// payload byte. A peer that sends too slowly (slowloris) gets a timeout error
    /// response saying how many bytes of the header or payload came, and is closed.
    pub fn frame_timeout(mut self, timeout: Duration) -> ServerBuilder {
        self.config.frame_timeout = timeout;
        self
    }

    /// How long writing pending responses may block. A peer that stops reading is
    /// closed after it (a `write_timeout` error in the log).
    pub fn write_timeout(mut self, timeout: Duration) -> ServerBuilder {
        self.config.write_timeout = timeout;
        self
    }

    /// How many bytes of responses to a pipelined burst are buffered before they
    /// are written. Responses are written at the latest when no complete request is
    /// left to answer; a connection's write buffer never holds more than this plus
    /// one response.
    pub fn write_buffer(mut self, bytes: usize) -> ServerBuilder {
        self.config.write_buffer = bytes;
        self
    }

    /// How long one handler call may run before it is dropped and answered with a
    /// `HandlerTimeout` error.
    pub fn handler_timeout(mut self, timeout: Duration) -> ServerBuilder {
        self.config.handler_timeout = timeout;
        self
    }

    /// How long a closing connection keeps reading, and dropping, what its peer
    /// still sends, after its last response and the server's FIN. Closing a socket
    /// with unread input makes the kernel send a reset, which can destroy a
    /// response the peer has not read yet. At a shutdown the drain goes on while
    /// the peer keeps sending, until it has been silent this long (within the
    /// shutdown deadline).
    pub fn linger(mut self, linger: Duration) -> ServerBuilder {
        self.config.linger = linger;
        self
    }

    /// How long a graceful shutdown may take: connections still open then are cut
    /// off, and their errors reported as one MultiError in the
    /// [`Summary`](super::Summary).
    pub fn shutdown_deadline(mut self, deadline: Duration) -> ServerBuilder {
        self.config.shutdown_deadline = deadline;
        self
    }

    /// The number of accept loops (at least 1). With more than one, each has its
    /// own socket bound to the same address with `SO_REUSEPORT`, and the kernel
    /// spreads incoming connections over them (Unix only). With port 0, the first
    /// socket picks the port and the others bind to it.
    pub fn workers(mut self, workers: usize) -> ServerBuilder {
        self.config.workers = workers;
        self
    }

    /// The listen backlog of each socket.
    pub fn backlog(mut self, backlog: u32) -> ServerBuilder {
        self.config.backlog = backlog;
        self
    }

    /// How much of a handler's error goes back to the client: its public view
    /// (the default) or the whole chain. The log always gets the whole chain.
    pub fn expose(mut self, expose: Exposure) -> ServerBuilder {
        self.config.expose = expose;
        self
    }

    /// Opens the listening socket(s) and returns the server, not yet accepting:
    /// call [`Server::serve`] or [`Server::serve_until`]. Fails with a
    /// `BindError` (its cause the `io::Error`) when an address cannot be bound,
    /// or a `ConfigError` for settings that cannot work.
    pub async fn bind<H: Handler>(self, handler: H) -> Result<Server<H>, VError> {
        Server::bind(self.config, handler)
    }
}

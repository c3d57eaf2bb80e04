//! What can go wrong in a server, by kind, and the one place that logs and
//! counts it.

use std::error::Error;
use std::fmt;
use std::net::SocketAddr;

use crate::VError;

use super::stats::Stats;

/// The kind of a server-side failure: the stable `kind` field of every error log
/// line (so lines can be rate limited and counted per kind) and the key of
/// [`Summary::errors`](super::Summary::errors).
///
/// [`FailureKind::classify`] recovers the kind from an error chain, a server's own or
/// one a [`Client`](super::Client) received in a `RemoteError`.
///
/// # Every error the server and the client produce
///
/// | error name | [`FailureKind`] | log `kind` | made by | when |
/// |---|---|---|---|---|
/// | `FrameDecodeError` | `Oversized` | `oversized` | server | a header declared more than `max_frame_len` |
/// | `FrameDecodeError` | `TruncatedHeader` | `truncated_header` | server | the stream ended inside a header |
/// | `FrameDecodeError` | `TruncatedPayload` | `truncated_payload` | server | the stream ended inside a payload |
/// | `FrameDecodeError` | `FrameTimeout` | `frame_timeout` | server | a started frame stalled past the frame timeout |
/// | the handler's own | `HandlerError` | `handler_error` | handler | the handler returned an error |
/// | `HandlerPanic` | `HandlerPanic` | `handler_panic` | server | the handler panicked |
/// | `HandlerTimeout` | `HandlerTimeout` | `handler_timeout` | server | the handler ran past the handler timeout |
/// | `ResponseTooLarge` | `ResponseTooLarge` | `response_too_large` | server | a body over `max_frame_len` |
/// | `ServerBusy` | `ServerBusy` | `server_busy` | server | a connection past `max_connections` or `max_connections_per_address` |
/// | `ShuttingDown` | `ShuttingDown` | (not logged) | server | the server stopped reading: the last frame of each connection at a shutdown |
/// | `WriteTimeout` | `WriteTimeout` | `write_timeout` | server (log only) | the peer stopped reading |
/// | `ConnectionError` | `Reset` | `reset` | server (log only) | the peer reset the connection |
/// | `ConnectionError` | `Io` | `io` | server (log only) | any other I/O failure on a connection |
/// | `io::Error` | `Accept` | `accept` | server (log only) | `accept` failed (the listener retries) |
/// | `io::Error` | `Signal` | `signal` | server (log only) | the signal handlers could not be installed |
/// | `ShutdownDeadline` | `ShutdownDeadline` | `shutdown_deadline` | server (log, [`Summary`](super::Summary)) | a connection still open at the shutdown deadline |
/// | `RemoteError` | the server's | - | client | an error response; its cause is the server's chain |
/// | `ConnectError` | - | - | client | connecting failed or timed out |
/// | `ClientTimeout` | - | - | client | a write or a response (read and decoded) took past the timeout |
/// | `ConnectionError` | - | - | client | a read or write failed |
/// | `ConnectionClosed` | - | - | client | the server closed before answering |
/// | `ProtocolError` | - | - | client | a response that breaks the protocol, or past the client's caps |
/// | `RequestTooLarge` | - | - | client | a request over `max_frame_len` (nothing sent) |
/// | `MismatchedHalves` | - | - | client | [`Client::reunite`](super::Client::reunite) of two connections' halves |
/// | `ConfigError`, `BindError`, `InvalidValue` | - | - | both | settings that cannot work; an address that cannot be bound; an unknown option value |
///
/// Every level the server makes carries its kind as the info field `kind`, so
/// [`FailureKind::classify`] reads it back from a chain, local or received,
/// without guessing from other fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum FailureKind {
    /// A header declared more than `max_frame_len`.
    Oversized,
    /// The stream ended inside a frame header.
    TruncatedHeader,
    /// The stream ended inside a payload.
    TruncatedPayload,
    /// A started header or payload stalled past the frame timeout (slowloris).
    FrameTimeout,
    /// The handler returned an error.
    HandlerError,
    /// The handler panicked.
    HandlerPanic,
    /// The handler ran past the handler timeout.
    HandlerTimeout,
    /// A response did not fit in a frame.
    ResponseTooLarge,
    /// A connection arrived past `max_connections`.
    ServerBusy,
    /// The server is shutting down: the frame that tells a connection its
    /// next requests will not be read.
    ShuttingDown,
    /// The peer stopped reading and a response could not be written in time.
    WriteTimeout,
    /// The peer reset the connection.
    Reset,
    /// Any other I/O failure on a connection.
    Io,
    /// Accepting a connection failed (for example `EMFILE`); the listener retries.
    Accept,
    /// The handlers of the shutdown signals could not be installed.
    Signal,
    /// A connection was still open at the shutdown deadline and was cut off.
    ShutdownDeadline,
}

impl FailureKind {
    /// Every kind, in the order summaries list them.
    pub const ALL: [FailureKind; 16] = [
        FailureKind::Oversized,
        FailureKind::TruncatedHeader,
        FailureKind::TruncatedPayload,
        FailureKind::FrameTimeout,
        FailureKind::HandlerError,
        FailureKind::HandlerPanic,
        FailureKind::HandlerTimeout,
        FailureKind::ResponseTooLarge,
        FailureKind::ServerBusy,
        FailureKind::ShuttingDown,
        FailureKind::WriteTimeout,
        FailureKind::Reset,
        FailureKind::Io,
        FailureKind::Accept,
        FailureKind::Signal,
        FailureKind::ShutdownDeadline,
    ];

    /// The `kind` field of a log line: `"oversized"`, `"truncated_header"`,
    /// `"truncated_payload"`, `"frame_timeout"`, `"handler_error"`,
    /// `"handler_panic"`, `"handler_timeout"`, `"response_too_large"`,
    /// `"server_busy"`, `"shutting_down"`, `"write_timeout"`, `"reset"`, `"io"`,
    /// `"accept"`, `"signal"`, `"shutdown_deadline"`.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Oversized => "oversized",
            FailureKind::TruncatedHeader => "truncated_header",
            FailureKind::TruncatedPayload => "truncated_payload",
            FailureKind::FrameTimeout => "frame_timeout",
            FailureKind::HandlerError => "handler_error",
            FailureKind::HandlerPanic => "handler_panic",
            FailureKind::HandlerTimeout => "handler_timeout",
            FailureKind::ResponseTooLarge => "response_too_large",
            FailureKind::ServerBusy => "server_busy",
            FailureKind::ShuttingDown => "shutting_down",
            FailureKind::WriteTimeout => "write_timeout",
            FailureKind::Reset => "reset",
            FailureKind::Io => "io",
            FailureKind::Accept => "accept",
            FailureKind::Signal => "signal",
            FailureKind::ShutdownDeadline => "shutdown_deadline",
        }
    }

    /// The position of this kind in [`FailureKind::ALL`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The kind of an I/O failure on an open connection.
    pub(crate) fn of_io_error(err: &std::io::Error) -> FailureKind {
        use std::io::ErrorKind as Io;
        match err.kind() {
            Io::ConnectionReset | Io::ConnectionAborted | Io::BrokenPipe => FailureKind::Reset,
            _ => FailureKind::Io,
        }
    }

    /// The name of the error of this kind (see the table in the module docs):
    /// `FrameDecodeError` for the four decode failures, `ConnectionError` for
    /// `Reset` and `Io`, `None` for a handler's error (its own name) and for the
    /// kinds logged as a bare `io::Error`.
    pub fn error_name(self) -> Option<&'static str> {
        match self {
            FailureKind::Oversized
            | FailureKind::TruncatedHeader
            | FailureKind::TruncatedPayload
            | FailureKind::FrameTimeout => Some("FrameDecodeError"),
            FailureKind::HandlerPanic => Some("HandlerPanic"),
            FailureKind::HandlerTimeout => Some("HandlerTimeout"),
            FailureKind::ResponseTooLarge => Some("ResponseTooLarge"),
            FailureKind::ServerBusy => Some("ServerBusy"),
            FailureKind::ShuttingDown => Some("ShuttingDown"),
            FailureKind::WriteTimeout => Some("WriteTimeout"),
            FailureKind::Reset | FailureKind::Io => Some("ConnectionError"),
            FailureKind::ShutdownDeadline => Some("ShutdownDeadline"),
            FailureKind::HandlerError | FailureKind::Accept | FailureKind::Signal => None,
        }
    }

    /// The kind whose [`as_str`](FailureKind::as_str) is `text`.
    pub fn from_log_kind(text: &str) -> Option<FailureKind> {
        FailureKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }

    /// The kind of a server error found in `err`'s chain, or `None` when the chain
    /// holds none. It reads the `kind` field each level the server makes carries
    /// (on a level of that kind's [name](FailureKind::error_name)), so it works
    /// as well on a chain read back from JSON: a `RemoteError` from a
    /// [`Client`](super::Client) classifies as the server's failure, and a remote
    /// chain without one as [`HandlerError`](FailureKind::HandlerError).
    ///
    /// ```
    /// use verror::server::FailureKind;
    /// use verror::VError;
    ///
    /// let busy = VError::builder().name("ServerBusy").info("kind", "server_busy").message("busy").build();
    /// assert_eq!(FailureKind::classify(&busy), Some(FailureKind::ServerBusy));
    ///
    /// let remote = VError::builder().name("RemoteError").cause(VError::new("not found")).build();
    /// assert_eq!(FailureKind::classify(&remote), Some(FailureKind::HandlerError));
    /// assert_eq!(FailureKind::classify(&VError::new("local trouble")), None);
    /// ```
    pub fn classify(err: &(dyn Error + 'static)) -> Option<FailureKind> {
        let mut remote = false;
        for level in crate::chain::levels(err) {
            if level.name == REMOTE_ERROR {
                remote = true;
                continue;
            }
            let kind = level
                .verror()
                .and_then(|verror| verror.own_info().get(KIND_FIELD))
                .and_then(serde_json::Value::as_str)
                .and_then(FailureKind::from_log_kind)
                .filter(|kind| kind.error_name() == Some(level.name));
            if kind.is_some() {
                return kind;
            }
            if remote {
                return Some(FailureKind::HandlerError);
            }
        }
        None
    }
}

/// The info field in which every level the server makes carries its kind.
pub(crate) const KIND_FIELD: &str = "kind";

/// The name of the error a client makes of an error response.
pub(crate) const REMOTE_ERROR: &str = "RemoteError";

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whose failure an error is about.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnRef {
    pub(crate) conn_id: u64,
    pub(crate) peer: SocketAddr,
}

impl ConnRef {
    /// A builder for an error of `kind` on this connection: its name, the
    /// `kind` field, `conn_id` and `peer` (every level the server makes names
    /// its peer), and no backtrace (a peer must not make the server pay for
    /// one).
    pub(crate) fn error(self, kind: FailureKind) -> crate::Builder {
        VError::builder()
            .name(kind.error_name().unwrap_or("ServerError"))
            .info(KIND_FIELD, kind.as_str())
            .info("conn_id", self.conn_id)
            .info("peer", self.peer.to_string())
            .backtrace(false)
    }
}

/// Logs `err` as one event with its `kind` and the whole chain (through
/// `Visit::record_error`), and counts it in `stats`. The connection (`conn_id`,
/// `peer`) is the current span's. Peer faults are warnings; failures of the
/// server or its handler are errors.
pub(crate) fn report(stats: &Stats, kind: FailureKind, err: &VError) {
    stats.count_error(kind);
    let error = err as &(dyn Error + 'static);
    let message = kind.log_message();
    if kind.is_server_fault() {
        tracing::error!(kind = kind.as_str(), error, "{message}");
    } else {
        tracing::warn!(kind = kind.as_str(), error, "{message}");
    }
}

impl FailureKind {
    /// Whether the server or its handler failed (an error line), rather than a
    /// peer misbehaving or the handler refusing a request (a warning).
    pub(crate) fn is_server_fault(self) -> bool {
        matches!(
            self,
            FailureKind::HandlerPanic
                | FailureKind::HandlerTimeout
                | FailureKind::ResponseTooLarge
                | FailureKind::Io
                | FailureKind::Accept
                | FailureKind::Signal
                | FailureKind::ShutdownDeadline
        )
    }

    /// The message of a log line of this kind.
    pub(crate) fn log_message(self) -> &'static str {
        match self {
            FailureKind::Oversized
            | FailureKind::TruncatedHeader
            | FailureKind::TruncatedPayload
            | FailureKind::FrameTimeout => "frame decode failed",
            FailureKind::HandlerError => "handler failed",
            FailureKind::HandlerPanic => "handler panicked",
            FailureKind::HandlerTimeout => "handler timed out",
            FailureKind::ResponseTooLarge => "response too large",
            FailureKind::ServerBusy => "connection refused: server busy",
            FailureKind::ShuttingDown => "shutting down: no more frames read",
            FailureKind::WriteTimeout => "peer stopped reading",
            FailureKind::Reset => "connection reset",
            FailureKind::Io => "connection failed",
            FailureKind::Accept => "accept failed",
            FailureKind::Signal => "cannot listen for shutdown signals",
            FailureKind::ShutdownDeadline => "connection cut off at the shutdown deadline",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::FailureKind;

    #[test]
    fn every_kind_has_its_place_and_a_unique_name() {
        for (i, kind) in FailureKind::ALL.iter().enumerate() {
            assert_eq!(kind.index(), i);
            let same_name = FailureKind::ALL
                .iter()
                .filter(|k| k.as_str() == kind.as_str())
                .count();
            assert_eq!(same_name, 1, "{kind}");
        }
    }
}

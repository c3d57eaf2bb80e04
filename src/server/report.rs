//! What can go wrong in a server, by kind, and the one place that logs and
//! counts it.

use std::error::Error;
use std::fmt;
use std::net::SocketAddr;

use crate::frame::FrameError;
use crate::VError;

use super::stats::Stats;

/// The kind of a server-side failure: the stable `kind` field of every error log
/// line (so lines can be rate limited and counted per kind) and the key of
/// [`Summary::errors`](super::Summary::errors).
///
/// [`ErrorKind::classify`] recovers the kind from an error chain, a server's own or
/// one a [`Client`](super::Client) received in a `RemoteError`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
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
    /// The peer stopped reading and a response could not be written in time.
    WriteTimeout,
    /// The peer reset the connection.
    Reset,
    /// Any other I/O failure on a connection.
    Io,
    /// Accepting a connection failed (for example `EMFILE`); the listener retries.
    Accept,
    /// A connection was still open at the shutdown deadline and was cut off.
    ShutdownDeadline,
}

impl ErrorKind {
    /// Every kind, in the order summaries list them.
    pub const ALL: [ErrorKind; 14] = [
        ErrorKind::Oversized,
        ErrorKind::TruncatedHeader,
        ErrorKind::TruncatedPayload,
        ErrorKind::FrameTimeout,
        ErrorKind::HandlerError,
        ErrorKind::HandlerPanic,
        ErrorKind::HandlerTimeout,
        ErrorKind::ResponseTooLarge,
        ErrorKind::ServerBusy,
        ErrorKind::WriteTimeout,
        ErrorKind::Reset,
        ErrorKind::Io,
        ErrorKind::Accept,
        ErrorKind::ShutdownDeadline,
    ];

    /// The `kind` field of a log line: `"oversized"`, `"truncated_header"`,
    /// `"truncated_payload"`, `"frame_timeout"`, `"handler_error"`,
    /// `"handler_panic"`, `"handler_timeout"`, `"response_too_large"`,
    /// `"server_busy"`, `"write_timeout"`, `"reset"`, `"io"`, `"accept"`,
    /// `"shutdown_deadline"`.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Oversized => "oversized",
            ErrorKind::TruncatedHeader => "truncated_header",
            ErrorKind::TruncatedPayload => "truncated_payload",
            ErrorKind::FrameTimeout => "frame_timeout",
            ErrorKind::HandlerError => "handler_error",
            ErrorKind::HandlerPanic => "handler_panic",
            ErrorKind::HandlerTimeout => "handler_timeout",
            ErrorKind::ResponseTooLarge => "response_too_large",
            ErrorKind::ServerBusy => "server_busy",
            ErrorKind::WriteTimeout => "write_timeout",
            ErrorKind::Reset => "reset",
            ErrorKind::Io => "io",
            ErrorKind::Accept => "accept",
            ErrorKind::ShutdownDeadline => "shutdown_deadline",
        }
    }

    /// The position of this kind in [`ErrorKind::ALL`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The kind of a decode failure.
    pub(crate) fn of_frame_error(err: &FrameError) -> ErrorKind {
        match err {
            FrameError::Oversized { .. } => ErrorKind::Oversized,
            FrameError::TruncatedHeader { .. } => ErrorKind::TruncatedHeader,
            FrameError::TruncatedPayload { .. } => ErrorKind::TruncatedPayload,
            FrameError::Timeout { .. } => ErrorKind::FrameTimeout,
            _ => ErrorKind::Io,
        }
    }

    /// The kind of an I/O failure on an open connection.
    pub(crate) fn of_io_error(err: &std::io::Error) -> ErrorKind {
        use std::io::ErrorKind as Io;
        match err.kind() {
            Io::ConnectionReset | Io::ConnectionAborted | Io::BrokenPipe => ErrorKind::Reset,
            _ => ErrorKind::Io,
        }
    }

    /// The kind of a server error found in `err`'s chain, or `None` when the chain
    /// holds none. It reads names and info fields only, so it works as well on a
    /// chain read back from JSON: a `RemoteError` from a
    /// [`Client`](super::Client) classifies as the server's failure, and a remote
    /// chain of any other name as [`HandlerError`](ErrorKind::HandlerError).
    ///
    /// ```
    /// use verror::server::ErrorKind;
    /// use verror::VError;
    ///
    /// let busy = VError::builder().name("ServerBusy").message("busy").build();
    /// assert_eq!(ErrorKind::classify(&busy), Some(ErrorKind::ServerBusy));
    ///
    /// let remote = VError::builder().name("RemoteError").cause(VError::new("not found")).build();
    /// assert_eq!(ErrorKind::classify(&remote), Some(ErrorKind::HandlerError));
    /// assert_eq!(ErrorKind::classify(&VError::new("local trouble")), None);
    /// ```
    pub fn classify(err: &(dyn Error + 'static)) -> Option<ErrorKind> {
        let mut remote = false;
        for level in crate::chain::levels(err) {
            let kind = match level.name {
                "RemoteError" => {
                    remote = true;
                    continue;
                }
                "FrameDecodeError" => decode_kind(level.error),
                "ServerBusy" => Some(ErrorKind::ServerBusy),
                "HandlerPanic" => Some(ErrorKind::HandlerPanic),
                "HandlerTimeout" => Some(ErrorKind::HandlerTimeout),
                "ResponseTooLarge" => Some(ErrorKind::ResponseTooLarge),
                "WriteTimeout" => Some(ErrorKind::WriteTimeout),
                "ShutdownDeadline" => Some(ErrorKind::ShutdownDeadline),
                _ => None,
            };
            if kind.is_some() {
                return kind;
            }
            if remote {
                return Some(ErrorKind::HandlerError);
            }
        }
        None
    }
}

/// The kind of a `FrameDecodeError` level: from its typed cause where it has one,
/// else from the info fields [`FrameContext::to_verror`](crate::frame::FrameContext::to_verror)
/// sets (all a chain read back from JSON keeps).
fn decode_kind(level: &(dyn Error + 'static)) -> Option<ErrorKind> {
    if let Some(frame_error) = level.source().and_then(|e| e.downcast_ref::<FrameError>()) {
        return Some(ErrorKind::of_frame_error(frame_error));
    }
    let info = level.downcast_ref::<VError>()?.own_info();
    Some(if info.contains_key("elapsed_ms") {
        ErrorKind::FrameTimeout
    } else if info.contains_key("max_frame_len") {
        ErrorKind::Oversized
    } else if info.contains_key("declared_len") {
        ErrorKind::TruncatedPayload
    } else {
        ErrorKind::TruncatedHeader
    })
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whose failure a log line is about.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnRef {
    pub(crate) conn_id: u64,
    pub(crate) peer: SocketAddr,
}

/// Logs `err` as one event with its `kind`, the connection, and the whole chain
/// (through `Visit::record_error`), and counts it in `stats`. Peer faults are
/// warnings; failures of the server or its handler are errors.
pub(crate) fn report(stats: &Stats, kind: ErrorKind, conn: ConnRef, err: &VError) {
    stats.count_error(kind);
    let error = err as &(dyn Error + 'static);
    let message = kind.log_message();
    let (conn_id, peer) = (conn.conn_id, tracing::field::display(conn.peer));
    if kind.is_server_fault() {
        tracing::error!(kind = kind.as_str(), conn_id, %peer, error, "{message}");
    } else {
        tracing::warn!(kind = kind.as_str(), conn_id, %peer, error, "{message}");
    }
}

impl ErrorKind {
    /// Whether the server or its handler failed (an error line), rather than a
    /// peer misbehaving or the handler refusing a request (a warning).
    pub(crate) fn is_server_fault(self) -> bool {
        matches!(
            self,
            ErrorKind::HandlerPanic
                | ErrorKind::HandlerTimeout
                | ErrorKind::ResponseTooLarge
                | ErrorKind::Io
                | ErrorKind::Accept
                | ErrorKind::ShutdownDeadline
        )
    }

    /// The message of a log line of this kind.
    fn log_message(self) -> &'static str {
        match self {
            ErrorKind::Oversized
            | ErrorKind::TruncatedHeader
            | ErrorKind::TruncatedPayload
            | ErrorKind::FrameTimeout => "frame decode failed",
            ErrorKind::HandlerError => "handler failed",
            ErrorKind::HandlerPanic => "handler panicked",
            ErrorKind::HandlerTimeout => "handler timed out",
            ErrorKind::ResponseTooLarge => "response too large",
            ErrorKind::ServerBusy => "connection refused: server busy",
            ErrorKind::WriteTimeout => "peer stopped reading",
            ErrorKind::Reset => "connection reset",
            ErrorKind::Io => "connection failed",
            ErrorKind::Accept => "accept failed",
            ErrorKind::ShutdownDeadline => "connection cut off at the shutdown deadline",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ErrorKind;

    #[test]
    fn every_kind_has_its_place_and_a_unique_name() {
        for (i, kind) in ErrorKind::ALL.iter().enumerate() {
            assert_eq!(kind.index(), i);
            let same_name = ErrorKind::ALL
                .iter()
                .filter(|k| k.as_str() == kind.as_str())
                .count();
            assert_eq!(same_name, 1, "{kind}");
        }
    }
}

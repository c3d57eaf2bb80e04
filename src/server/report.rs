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
/// [`FailureKind::classify`] recovers the kind from an error chain, a server's own or
/// one a [`Client`](super::Client) received in a `RemoteError`.
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

impl FailureKind {
    /// Every kind, in the order summaries list them.
    pub const ALL: [FailureKind; 14] = [
        FailureKind::Oversized,
        FailureKind::TruncatedHeader,
        FailureKind::TruncatedPayload,
        FailureKind::FrameTimeout,
        FailureKind::HandlerError,
        FailureKind::HandlerPanic,
        FailureKind::HandlerTimeout,
        FailureKind::ResponseTooLarge,
        FailureKind::ServerBusy,
        FailureKind::WriteTimeout,
        FailureKind::Reset,
        FailureKind::Io,
        FailureKind::Accept,
        FailureKind::ShutdownDeadline,
    ];

    /// The `kind` field of a log line: `"oversized"`, `"truncated_header"`,
    /// `"truncated_payload"`, `"frame_timeout"`, `"handler_error"`,
    /// `"handler_panic"`, `"handler_timeout"`, `"response_too_large"`,
    /// `"server_busy"`, `"write_timeout"`, `"reset"`, `"io"`, `"accept"`,
    /// `"shutdown_deadline"`.
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
            FailureKind::WriteTimeout => "write_timeout",
            FailureKind::Reset => "reset",
            FailureKind::Io => "io",
            FailureKind::Accept => "accept",
            FailureKind::ShutdownDeadline => "shutdown_deadline",
        }
    }

    /// The position of this kind in [`FailureKind::ALL`].
    pub(crate) fn index(self) -> usize {
        self as usize
    }

    /// The kind of a decode failure.
    pub(crate) fn of_frame_error(err: &FrameError) -> FailureKind {
        match err {
            FrameError::Oversized { .. } => FailureKind::Oversized,
            FrameError::TruncatedHeader { .. } => FailureKind::TruncatedHeader,
            FrameError::TruncatedPayload { .. } => FailureKind::TruncatedPayload,
            FrameError::Timeout { .. } => FailureKind::FrameTimeout,
            _ => FailureKind::Io,
        }
    }

    /// The kind of an I/O failure on an open connection.
    pub(crate) fn of_io_error(err: &std::io::Error) -> FailureKind {
        use std::io::ErrorKind as Io;
        match err.kind() {
            Io::ConnectionReset | Io::ConnectionAborted | Io::BrokenPipe => FailureKind::Reset,
            _ => FailureKind::Io,
        }
    }

    /// The kind of a server error found in `err`'s chain, or `None` when the chain
    /// holds none. It reads names and info fields only, so it works as well on a
    /// chain read back from JSON: a `RemoteError` from a
    /// [`Client`](super::Client) classifies as the server's failure, and a remote
    /// chain of any other name as [`HandlerError`](FailureKind::HandlerError).
    ///
    /// ```
    /// use verror::server::FailureKind;
    /// use verror::VError;
    ///
    /// let busy = VError::builder().name("ServerBusy").message("busy").build();
    /// assert_eq!(FailureKind::classify(&busy), Some(FailureKind::ServerBusy));
    ///
    /// let remote = VError::builder().name("RemoteError").cause(VError::new("not found")).build();
    /// assert_eq!(FailureKind::classify(&remote), Some(FailureKind::HandlerError));
    /// assert_eq!(FailureKind::classify(&VError::new("local trouble")), None);
    /// ```
    pub fn classify(err: &(dyn Error + 'static)) -> Option<FailureKind> {
        let mut remote = false;
        for level in crate::chain::levels(err) {
            let kind = match level.name {
                "RemoteError" => {
                    remote = true;
                    continue;
                }
                "FrameDecodeError" => decode_kind(level.error),
                "ServerBusy" => Some(FailureKind::ServerBusy),
                "HandlerPanic" => Some(FailureKind::HandlerPanic),
                "HandlerTimeout" => Some(FailureKind::HandlerTimeout),
                "ResponseTooLarge" => Some(FailureKind::ResponseTooLarge),
                "WriteTimeout" => Some(FailureKind::WriteTimeout),
                "ShutdownDeadline" => Some(FailureKind::ShutdownDeadline),
                _ => None,
            };
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

/// The kind of a `FrameDecodeError` level: from its typed cause where it has one,
/// else from the info fields [`FrameContext::to_verror`](crate::frame::FrameContext::to_verror)
/// sets (all a chain read back from JSON keeps).
fn decode_kind(level: &(dyn Error + 'static)) -> Option<FailureKind> {
    if let Some(frame_error) = level.source().and_then(|e| e.downcast_ref::<FrameError>()) {
        return Some(FailureKind::of_frame_error(frame_error));
    }
    let info = level.downcast_ref::<VError>()?.own_info();
    Some(if info.contains_key("elapsed_ms") {
        FailureKind::FrameTimeout
    } else if info.contains_key("max_frame_len") {
        FailureKind::Oversized
    } else if info.contains_key("declared_len") {
        FailureKind::TruncatedPayload
    } else {
        FailureKind::TruncatedHeader
    })
}

impl fmt::Display for FailureKind {
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
pub(crate) fn report(stats: &Stats, kind: FailureKind, conn: ConnRef, err: &VError) {
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
                | FailureKind::ShutdownDeadline
        )
    }

    /// The message of a log line of this kind.
    fn log_message(self) -> &'static str {
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
            FailureKind::WriteTimeout => "peer stopped reading",
            FailureKind::Reset => "connection reset",
            FailureKind::Io => "connection failed",
            FailureKind::Accept => "accept failed",
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

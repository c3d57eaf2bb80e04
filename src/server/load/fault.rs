//! The faults a load run (or the demo) can commit on a connection, and what the
//! server answers to each.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use bytes::Bytes;

use crate::VError;
use crate::choice::unknown_value;
use crate::frame::HEADER_LEN;

use super::super::{Client, FailureKind, RequestSender};

/// The payload length the partial frames of the truncated, slow and reset faults
/// declare (the server's limit must be at least this, or they read as oversized).
const PARTIAL_DECLARED: usize = 100;
/// The payload bytes those partial frames actually carry.
const PARTIAL_SENT: usize = 10;
/// The bytes of garbage the [`Fault::Garbage`] fault sends: an HTTP request. Its
/// first four bytes, read as a header, declare 1 195 725 856 bytes.
const GARBAGE: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
/// How long the [`Fault::Reset`] fault waits between sending its partial frame and
/// the reset, so that the server has read the bytes (and its log counts them).
const RESET_PAUSE: Duration = Duration::from_millis(50);

/// A way for a client to misbehave, and the server error it earns.
///
/// | fault | what the client sends | server error kind | then |
/// |---|---|---|---|
/// | `oversized` | a header declaring `u32::MAX` bytes, then 1 KiB | [`Oversized`](FailureKind::Oversized) | closed (`Close` policy), or skipped (`Discard`) |
/// | `garbage` | `GET / HTTP/1.1…`: its first 4 bytes declare 1 195 725 856 | [`Oversized`](FailureKind::Oversized) | as above |
/// | `truncated-header` (or `truncated`) | 2 of the 4 header bytes, then FIN | [`TruncatedHeader`](FailureKind::TruncatedHeader) | closed |
/// | `truncated-payload` | a header declaring 100, 10 payload bytes, then FIN | [`TruncatedPayload`](FailureKind::TruncatedPayload) | closed |
/// | `slow-header` (or `slow`) | 2 header bytes, then nothing | [`FrameTimeout`](FailureKind::FrameTimeout) once the frame timeout passes | closed |
/// | `slow-payload` | a header declaring 100 and 10 payload bytes, then nothing | [`FrameTimeout`](FailureKind::FrameTimeout) | closed |
/// | `reset` | a header declaring 100 and 10 payload bytes, then a TCP reset | [`Reset`](FailureKind::Reset), in the server's log only: the client is gone | - |
///
/// Every fault but `reset` is answered with an error response, which
/// [`inject`](Fault::inject) returns as a `RemoteError`; the slow ones wait for it
/// past the server's frame timeout (the client's timeout must be longer).
///
/// ```
/// use verror::server::load::Fault;
/// use verror::server::FailureKind;
///
/// let fault: Fault = "truncated".parse()?;
/// assert_eq!(fault, Fault::TruncatedHeader);
/// assert_eq!(fault.expected_kind(), FailureKind::TruncatedHeader);
/// assert_eq!(Fault::Garbage.expected_kind(), FailureKind::Oversized);
/// assert!(!Fault::Reset.is_answered());
/// assert!("smoke".parse::<Fault>().is_err());
/// # Ok::<(), verror::VError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(into = "&'static str")]
pub enum Fault {
    /// A header over any limit, then some payload bytes.
    Oversized,
    /// Bytes that are not a frame at all (an HTTP request).
    Garbage,
    /// Half a header, then the end of the stream.
    TruncatedHeader,
    /// A header and part of its payload, then the end of the stream.
    TruncatedPayload,
    /// Half a header, then silence past the frame timeout (slowloris).
    SlowHeader,
    /// A header and part of its payload, then silence past the frame timeout.
    SlowPayload,
    /// A header and part of its payload, then a TCP reset.
    Reset,
}

impl Fault {
    /// Every fault, in the order of the table above.
    pub const ALL: [Fault; 7] = [
        Fault::Oversized,
        Fault::Garbage,
        Fault::TruncatedHeader,
        Fault::TruncatedPayload,
        Fault::SlowHeader,
        Fault::SlowPayload,
        Fault::Reset,
    ];

    /// The name [`FromStr`] reads: `oversized`, `garbage`, `truncated-header`,
    /// `truncated-payload`, `slow-header`, `slow-payload`, `reset` (and the short
    /// names `truncated` and `slow`, for the header variants).
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::Oversized => "oversized",
            Fault::Garbage => "garbage",
            Fault::TruncatedHeader => "truncated-header",
            Fault::TruncatedPayload => "truncated-payload",
            Fault::SlowHeader => "slow-header",
            Fault::SlowPayload => "slow-payload",
            Fault::Reset => "reset",
        }
    }

    /// What the client sends, in a few words.
    pub fn description(self) -> &'static str {
        match self {
            Fault::Oversized => "a header declaring 4294967295 bytes, then 1 KiB of payload",
            Fault::Garbage => "an HTTP request instead of a frame",
            Fault::TruncatedHeader => "2 of the 4 header bytes, then the end of the stream",
            Fault::TruncatedPayload => {
                "a header declaring 100 bytes and 10 of them, then the end of the stream"
            }
            Fault::SlowHeader => "2 of the 4 header bytes, then nothing",
            Fault::SlowPayload => "a header declaring 100 bytes and 10 of them, then nothing",
            Fault::Reset => "a header declaring 100 bytes and 10 of them, then a TCP reset",
        }
    }

    /// The kind of error the server reports for this fault (in its log, and, for
    /// every fault but [`Reset`](Fault::Reset), in its error response).
    pub fn expected_kind(self) -> FailureKind {
        match self {
            Fault::Oversized | Fault::Garbage => FailureKind::Oversized,
            Fault::TruncatedHeader => FailureKind::TruncatedHeader,
            Fault::TruncatedPayload => FailureKind::TruncatedPayload,
            Fault::SlowHeader | Fault::SlowPayload => FailureKind::FrameTimeout,
            Fault::Reset => FailureKind::Reset,
        }
    }

    /// The payload bytes the fault's partial frame lacks (0 for the faults
    /// without one): what a test trickles to keep a slow payload coming without
    /// ever completing it.
    pub fn missing_payload(self) -> usize {
        match self {
            Fault::TruncatedPayload | Fault::SlowPayload | Fault::Reset => {
                PARTIAL_DECLARED - PARTIAL_SENT
            }
            _ => 0,
        }
    }

    /// Whether the client gets an error response (every fault but a reset).
    pub fn is_answered(self) -> bool {
        self != Fault::Reset
    }

    /// Commits the fault on `client`'s connection (after any requests it has
    /// answered), and reads what the server answers: `Some` of the next response
    /// (an error, as a `RemoteError`, when the server behaves) or of the client's
    /// own failure; `None` for a reset, after which there is no connection left to
    /// read from.
    pub async fn inject(self, client: Client) -> Option<Result<Bytes, VError>> {
        let (mut sender, mut receiver) = client.split();
        if let Err(err) = self.send(&mut sender).await {
            return Some(Err(err));
        }
        if self == Fault::Reset {
            tokio::time::sleep(RESET_PAUSE).await;
            let reset = Client::reunite(sender, receiver).and_then(Client::reset);
            return reset.err().map(Err);
        }
        Some(receiver.recv().await)
    }

    /// Writes the fault's bytes on `sender`, after (and in the same write as)
    /// whatever is queued there, and reads nothing: the sending half of
    /// [`inject`](Fault::inject), for callers that compose their own fault (a
    /// good request pipelined first, bytes trickled after, their own reads).
    ///
    /// The truncated faults end the stream (see [`RequestSender::shutdown`]).
    /// [`Reset`](Fault::Reset) sends only its partial frame: the reset itself is
    /// [`Client::reset`], on the halves [reunited](Client::reunite), once the
    /// server has read the bytes.
    ///
    /// ```
    /// use verror::server::load::Fault;
    /// use verror::server::{Client, FailureKind, ServerBuilder};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), verror::VError> {
    /// let echo = |request: bytes::Bytes| async move { Ok::<_, verror::VError>(request) };
    /// let server = ServerBuilder::new().addr("127.0.0.1:0".parse().unwrap()).bind(echo).await?;
    /// let addr = server.local_addr();
    /// tokio::spawn(server.serve());
    ///
    /// // A good request, then the fault, in one write.
    /// let (mut sender, mut receiver) = Client::connect(addr).await?.split();
    /// sender.feed(b"hello")?;
    /// Fault::TruncatedPayload.send(&mut sender).await?;
    /// assert_eq!(receiver.recv().await?, "hello");
    /// let err = receiver.recv().await.unwrap_err();
    /// assert_eq!(FailureKind::classify(&err), Some(FailureKind::TruncatedPayload));
    /// # Ok(())
    /// # }
    /// ```
    pub async fn send(self, sender: &mut RequestSender) -> Result<(), VError> {
        let partial_header = [0u8; 2];
        let mut partial_frame = (PARTIAL_DECLARED as u32).to_be_bytes().to_vec();
        partial_frame.resize(HEADER_LEN + PARTIAL_SENT, 0x5a);
        match self {
            Fault::Oversized => {
                sender.feed_raw(&u32::MAX.to_be_bytes());
                sender.feed_raw(&[0xab; 1024]);
                sender.flush().await
            }
            Fault::Garbage => {
                sender.feed_raw(GARBAGE);
                sender.flush().await
            }
            Fault::TruncatedHeader => {
                sender.feed_raw(&partial_header);
                sender.shutdown().await
            }
            Fault::TruncatedPayload => {
                sender.feed_raw(&partial_frame);
                sender.shutdown().await
            }
            Fault::SlowHeader => {
                sender.feed_raw(&partial_header);
                sender.flush().await
            }
            Fault::SlowPayload | Fault::Reset => {
                sender.feed_raw(&partial_frame);
                sender.flush().await
            }
        }
    }
}

impl From<Fault> for &'static str {
    fn from(fault: Fault) -> &'static str {
        fault.as_str()
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Fault {
    type Err = VError;

    fn from_str(text: &str) -> Result<Fault, VError> {
        match text {
            "truncated" => return Ok(Fault::TruncatedHeader),
            "slow" => return Ok(Fault::SlowHeader),
            _ => {}
        }
        Fault::ALL
            .into_iter()
            .find(|fault| fault.as_str() == text)
            .ok_or_else(|| unknown_value("fault", text, &Fault::ALL.map(Fault::as_str)))
    }
}

//! One faulty connection of each of the library's [`Fault`]s, each checked
//! against the error it must earn, and the error counts a mix of them must
//! produce.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use verror::VError;
pub use verror::server::load::Fault;
use verror::server::{Client, FailureKind, ResponseReceiver};

use super::connect;

/// Whether a faulty connection sends a good frame (answered) before its fault:
/// all but garbage, which stands for a stray client of another protocol (an
/// HTTP request) and comes first.
pub fn good_frame_first(fault: Fault) -> bool {
    fault != Fault::Garbage
}

/// The error counts by kind that `faults` (how many of each) must produce.
pub fn expected_errors(faults: &BTreeMap<Fault, u64>) -> BTreeMap<FailureKind, u64> {
    let mut errors = BTreeMap::new();
    for (fault, &n) in faults {
        if n > 0 {
            *errors.entry(fault.expected_kind()).or_insert(0) += n;
        }
    }
    errors
}

/// How often the slow-payload fault trickles a byte.
pub const TRICKLE_EVERY: Duration = Duration::from_millis(50);

/// Opens one connection and commits `fault` on it (the library's bytes, see
/// [`Fault::send`]), checking that the server answers the good frame pipelined
/// before it (see [`good_frame_first`]), answers the fault with the error of
/// [`Fault::expected_kind`] (except a reset, which leaves no one to answer), and
/// then closes the connection. `seed` varies the good frame.
///
/// Two faults are composed here: the reset comes (`SO_LINGER` 0) once the good
/// frame is answered, so the server has read the partial frame; and the slow
/// payload is a slowloris: after its partial frame, one more byte every
/// [`TRICKLE_EVERY`], stopping one byte short of a whole frame (4.45 s of bytes
/// that keep coming, past the frame timeouts of these tests), so that the frame
/// timeout, not an idle one, must end it.
pub async fn inject(addr: SocketAddr, fault: Fault, seed: usize) {
    let before = format!("before {fault} fault {seed}");
    let (mut sender, mut receiver) = connect(addr).await.split();
    if good_frame_first(fault) {
        sender.feed(before.as_bytes()).unwrap();
    }
    fault
        .send(&mut sender)
        .await
        .unwrap_or_else(|e| panic!("{fault}: {e:#}"));
    if good_frame_first(fault) {
        let body = receiver
            .recv()
            .await
            .unwrap_or_else(|e| panic!("{fault}: the good frame before the fault: {e:#}"));
        assert!(
            body == before.as_bytes(),
            "{fault}: the good frame's answer"
        );
    }
    let err = match fault {
        Fault::Reset => {
            // The good frame is answered: the server has read this far.
            return Client::reunite(sender, receiver)
                .and_then(Client::reset)
                .unwrap_or_else(|e| panic!("{fault}: {e:#}"));
        }
        Fault::SlowPayload => {
            let trickle = async {
                for _ in 1..fault.missing_payload() {
                    tokio::time::sleep(TRICKLE_EVERY).await;
                    sender.feed_raw(b"s");
                    if sender.flush().await.is_err() {
                        break;
                    }
                }
                std::future::pending::<()>().await;
            };
            tokio::select! {
                () = trickle => unreachable!(),
                err = expect_error(&mut receiver, fault) => err,
            }
        }
        _ => expect_error(&mut receiver, fault).await,
    };
    let remote = std::error::Error::source(&err)
        .and_then(|e| e.downcast_ref::<VError>())
        .expect("a RemoteError holds the server's chain");
    assert_eq!(remote.name(), "FrameDecodeError", "{err:?}");
    let closed = receiver
        .recv()
        .await
        .expect_err("the connection closes after the fault");
    assert_eq!(closed.name(), "ConnectionClosed", "{fault}: {closed:?}");
}

async fn expect_error(receiver: &mut ResponseReceiver, fault: Fault) -> VError {
    let err = receiver
        .recv()
        .await
        .expect_err("a fault is answered with an error");
    assert_eq!(
        FailureKind::classify(&err),
        Some(fault.expected_kind()),
        "{fault}: {err:?}"
    );
    err
}

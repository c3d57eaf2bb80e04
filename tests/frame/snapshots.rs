//! insta snapshots of every `FrameError` (`{}` and `{:?}`): codec facts only
//! (the `FrameDecodeError` a server wraps one in is the server's).

use std::fmt::Write as _;
use std::io;
use std::time::Duration;

use verror::frame::{FrameError, FrameState};

/// One of each variant, with a name for its snapshot.
fn errors() -> Vec<(&'static str, FrameError)> {
    vec![
        (
            "oversized",
            FrameError::Oversized {
                declared: 5_000_000,
                max: 1_048_576,
            },
        ),
        (
            "truncated_header",
            FrameError::TruncatedHeader { received: 2 },
        ),
        (
            "truncated_payload",
            FrameError::TruncatedPayload {
                declared: 9,
                received: 4,
            },
        ),
        (
            "timeout_header",
            FrameError::timeout(
                FrameState::InHeader { received: 1 },
                Duration::from_secs(10),
            ),
        ),
        (
            "timeout_payload",
            FrameError::timeout(
                FrameState::InFrame {
                    declared: 65_536,
                    received: 1_200,
                },
                Duration::from_millis(30_250),
            ),
        ),
        (
            "io",
            FrameError::Io(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "connection reset by peer",
            )),
        ),
    ]
}

#[test]
fn frame_errors() {
    let mut out = String::new();
    for (name, err) in errors() {
        writeln!(out, "{name}\n  {{}}   {err}\n  {{:?}} {err:?}").unwrap();
    }
    insta::assert_snapshot!(out);
}

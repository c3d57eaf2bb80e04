//! insta snapshots of every `FrameError` (`{}` and `{:?}`) and of the `VError`
//! that wraps it (`{:#}`, the `{:?}` report and the JSON). Source locations are
//! replaced by `[location]`; `to_verror` never captures a backtrace, so the
//! snapshots hold whatever `RUST_BACKTRACE` says.

use std::fmt::Write as _;
use std::io;
use std::time::Duration;

use verror::frame::{FrameError, FrameState};
use verror::VError;

use crate::ctx;

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

/// Replaces `err`'s location (`file:line:col`) with `[location]`.
fn scrub(err: &VError, text: String) -> String {
    match err.location() {
        Some(location) => text.replace(&location.to_string(), "[location]"),
        None => text,
    }
}

#[test]
fn frame_errors() {
    let mut out = String::new();
    for (name, err) in errors() {
        writeln!(out, "{name}\n  {{}}   {err}\n  {{:?}} {err:?}").unwrap();
    }
    insta::assert_snapshot!(out);
}

#[test]
fn wrapped_in_verror() {
    for (name, err) in errors() {
        let err = ctx().to_verror(err);
        let text = format!(
            "{{:#}}\n{err:#}\n\n{{:?}}\n{err:?}\n\nJSON\n{}",
            serde_json::to_string_pretty(&err).unwrap()
        );
        insta::assert_snapshot!(name, scrub(&err, text));
    }
}

//! What a client sees of a handler's error: its public view by default, the whole
//! chain when the server is told so; the log always has the whole chain, with
//! sensitive values redacted.
#![cfg(all(feature = "server", feature = "tracing"))]

use crate::support::*;
use bytes::Bytes;
use verror::VError;
use verror::server::{Exposure, FailureKind};

const SECRET: &str = "pg-password-0123456789";

/// A handler error with internals: a hidden cause and a sensitive field.
async fn failing_handler(_request: Bytes) -> Result<Bytes, VError> {
    let db = VError::builder()
        .name("DbError")
        .info("query", "SELECT * FROM accounts")
        .sensitive_info("password", SECRET)
        .cause(std::io::Error::other("connection refused by 10.0.0.5:5432"))
        .message("query failed")
        .backtrace(false)
        .build();
    Err(VError::builder()
        .name("AccountsUnavailable")
        .info("retry_after_s", 30)
        .cause(db)
        .skip_cause_message()
        .message("accounts are unavailable")
        .backtrace(false)
        .build())
}

#[tokio::test]
async fn the_client_gets_the_public_view_and_the_log_the_whole_chain() {
    let logs = Logs::capture();
    let server = start(builder(), failing_handler).await;
    let mut client = connect(server.addr).await;

    let err = within(client.request(b"balance")).await.unwrap_err();
    let remote = remote_cause(&err);
    assert_eq!(remote.name(), "AccountsUnavailable");
    assert_eq!(format!("{remote:#}"), "accounts are unavailable");
    assert_eq!(verror::chain(remote).count(), 1);
    assert!(remote.location().is_none());
    let seen = format!("{err:?}{}", serde_json::to_string(&err).unwrap());
    for internal in ["DbError", "SELECT", "10.0.0.5", "password", SECRET] {
        assert!(
            !seen.contains(internal),
            "{internal} reached the client: {seen}"
        );
    }

    let line = logs.wait_for(FailureKind::HandlerError.as_str()).await;
    let text = line.to_string();
    assert_eq!(line["error"]["cause"]["name"], "DbError", "{line}");
    assert_eq!(
        line["error"]["cause"]["info"]["password"], "[redacted]",
        "{line}"
    );
    assert!(text.contains("10.0.0.5"), "{line}");
    assert!(!text.contains(SECRET), "{line}");

    drop(client);
    server.stop().await;
}

#[tokio::test]
async fn full_exposure_sends_the_chain_with_secrets_still_redacted() {
    let server = start(builder().expose(Exposure::Full), failing_handler).await;
    let mut client = connect(server.addr).await;

    let err = within(client.request(b"balance")).await.unwrap_err();
    assert!(verror::has_cause_with_name(&err, "DbError"));
    assert!(verror::has_cause_with_name(&err, "io::Error"));
    let seen = serde_json::to_string(&err).unwrap();
    assert!(!seen.contains(SECRET), "{seen}");
    assert!(seen.contains(r#""password":"[redacted]""#), "{seen}");

    drop(client);
    server.stop().await;
}

#[tokio::test]
async fn decode_failures_always_carry_their_numbers() {
    // The default (public) exposure applies to handler errors only: a decode
    // failure describes the client's own bytes.
    let server = start(builder(), failing_handler).await;
    let err = answer_to_an_oversized_header(&server).await;
    assert_eq!(
        field(remote_cause(&err), "max_frame_len"),
        serde_json::json!(LIMIT)
    );
    assert!(verror::has_cause_with_name(&err, "FrameError"));
    server.stop().await;
}

/// What the server answers to a header one byte over its limit: a remote
/// `FrameDecodeError` with the declared length.
async fn answer_to_an_oversized_header(server: &Running) -> VError {
    let (mut sender, mut receiver) = connect_split(server.addr).await;
    sender.feed_raw(&(LIMIT as u32 + 1).to_be_bytes());
    within(sender.flush()).await.unwrap();
    let err = within(receiver.recv()).await.unwrap_err();
    let remote = remote_cause(&err);
    assert_eq!(remote.name(), "FrameDecodeError");
    assert_eq!(field(remote, "declared_len"), serde_json::json!(LIMIT + 1));
    err
}

#[tokio::test]
async fn under_public_exposure_decode_errors_keep_their_numbers_not_their_location() {
    for (expose, located) in [(Exposure::Public, false), (Exposure::Full, true)] {
        let server = start(builder().expose(expose), echo()).await;
        let err = answer_to_an_oversized_header(&server).await;
        assert_eq!(
            remote_cause(&err).location().is_some(),
            located,
            "{expose:?}: {err:?}"
        );
        assert!(
            format!("{err:#}").ends_with("exceeds the limit of 4096"),
            "{err:#}"
        );
        server.stop().await;
    }
}

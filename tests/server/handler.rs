//! Handler failures: errors go back as their chain (without backtraces), panics
//! and timeouts are answered and the connection and server carry on.
#![cfg(all(feature = "server", feature = "tracing"))]

use std::error::Error;
use std::fmt;
use std::sync::{Arc, Mutex};

use crate::support::*;
use bytes::Bytes;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use verror::server::{Exposure, FailureKind, MIN_ERROR_LEN};
use verror::{ResultExt, VError};

#[cfg(feature = "cli")]
#[tokio::test]
async fn a_handler_panic_is_answered_and_the_connection_goes_on() {
    let logs = Logs::capture();
    let server = start(builder(), DemoHandler::new()).await;
    let neighbour = good_neighbour(server.addr, 30);
    let mut client = connect(server.addr).await;

    assert_eq!(within(client.request(b"before")).await.unwrap(), "before");
    let err = within(client.request(b"!panic the disk is lava"))
        .await
        .unwrap_err();
    let remote = remote_cause(&err);
    assert_eq!(remote.name(), "HandlerPanic");
    assert_eq!(field(remote, "frame_index"), json!(1));
    // The panic's text is an internal: the client's public view stops above it.
    assert!(!format!("{err:?}").contains("the disk is lava"), "{err:?}");
    assert_eq!(FailureKind::classify(&err), Some(FailureKind::HandlerPanic));
    assert_eq!(within(client.request(b"after")).await.unwrap(), "after");

    let line = logs.wait_for("handler_panic").await;
    assert_eq!(line["level"], "error", "{line}");
    assert_eq!(line["error"]["cause"]["name"], "Panic", "{line}");
    assert_eq!(
        line["error"]["cause"]["short_message"], "the disk is lava",
        "{line}"
    );

    within(neighbour).await.unwrap();
    drop(client);
    let summary = server.stop().await;
    assert_eq!(summary.errors_of(FailureKind::HandlerPanic), 1, "{summary}");
    assert_eq!(summary.frames, 3 + 90, "{summary}");
}

#[tokio::test]
async fn a_panic_before_the_handler_future_exists_is_caught_too() {
    let handler = |request: Bytes| {
        assert!(&request[..] != b"boom", "refusing {request:?}");
        async move { Ok::<_, VError>(request) }
    };
    let server = start(builder(), handler).await;
    let mut client = connect(server.addr).await;
    let err = within(client.request(b"boom")).await.unwrap_err();
    assert_eq!(remote_cause(&err).name(), "HandlerPanic");
    assert_eq!(within(client.request(b"fine")).await.unwrap(), "fine");
    drop(client);
    server.stop().await;
}

#[cfg(feature = "cli")]
#[tokio::test]
async fn a_handler_timeout_is_answered_and_the_connection_goes_on() {
    let logs = Logs::capture();
    let server = start(
        builder().handler_timeout(std::time::Duration::from_millis(40)),
        DemoHandler::new(),
    )
    .await;
    let neighbour = good_neighbour(server.addr, 30);
    let mut client = connect(server.addr).await;

    let answers = within(client.pipeline(["!sleep 5000", "next", "!sleep 1"]))
        .await
        .unwrap();
    let err = answers[0].as_ref().unwrap_err();
    let remote = remote_cause(err);
    assert_eq!(remote.name(), "HandlerTimeout");
    assert_eq!(field(remote, "timeout_ms"), json!(40));
    assert_eq!(field(remote, "frame_index"), json!(0));
    assert_eq!(
        FailureKind::classify(err),
        Some(FailureKind::HandlerTimeout)
    );
    assert_eq!(answers[1].as_ref().unwrap(), "next");
    assert_eq!(answers[2].as_ref().unwrap(), "slept 1 ms");

    let line = logs.wait_for("handler_timeout").await;
    assert_eq!(line["level"], "error", "{line}");
    assert_eq!(line["error"]["name"], "HandlerTimeout", "{line}");

    within(neighbour).await.unwrap();
    drop(client);
    let summary = server.stop().await;
    assert_eq!(
        summary.errors_of(FailureKind::HandlerTimeout),
        1,
        "{summary}"
    );
}

/// A chain with names, info of every type, a foreign cause and a MultiError.
fn rich_error() -> VError {
    let parse = "x7".parse::<u32>().context("bad id").unwrap_err();
    let multi = VError::multi(vec![
        VError::builder()
            .name("ReplicaError")
            .info("replica", 1)
            .message("replica 1 down")
            .backtrace(false)
            .build(),
        VError::builder()
            .name("ReplicaError")
            .info("replica", 2)
            .message("replica 2 down")
            .backtrace(false)
            .build(),
    ]);
    let storage = VError::builder()
        .name("StorageError")
        .info("zeta", "last")
        .info("alpha", json!({"nested": [1, 2.5, null, true]}))
        .cause(multi)
        .message("no replica answered")
        .backtrace(false)
        .build();
    VError::builder()
        .name("LookupError")
        .info("key", "x7")
        .info("attempt", 3)
        .cause(
            VError::builder()
                .name("RequestError")
                .cause(storage)
                .message("")
                .backtrace(false)
                .build(),
        )
        .message(format_args!("lookup failed after {} tries ({})", 3, parse))
        .backtrace(false)
        .build()
}

#[tokio::test]
async fn the_remote_error_chain_equals_the_chain_the_server_sent() {
    let logs = Logs::capture();
    let sent: Arc<Mutex<Option<String>>> = Arc::default();
    let record = Arc::clone(&sent);
    let handler = move |_request: Bytes| {
        let record = Arc::clone(&record);
        async move {
            let err = rich_error();
            *record.lock().unwrap() = Some(serde_json::to_string(&err).unwrap());
            Err::<Bytes, _>(err)
        }
    };
    // The whole chain goes back only when the server is told to expose it.
    let server = start(builder().expose(Exposure::Full), handler).await;
    let mut client = connect(server.addr).await;

    let err = within(client.request(b"any")).await.unwrap_err();
    let sent = sent.lock().unwrap().clone().unwrap();
    let remote = remote_cause(&err);
    // Every name, message, info field (in order), location and child, as sent,
    // less the backtrace the MultiError captured (RUST_BACKTRACE may be set).
    assert_eq!(
        serde_json::to_string(remote).unwrap(),
        without_backtrace_fields(&sent)
    );
    assert_eq!(FailureKind::classify(&err), Some(FailureKind::HandlerError));

    // The client's own context sits on top.
    // `server` on the client's level, `peer` on the server's: merged, both stay.
    assert_eq!(
        err.own_info().get("server"),
        Some(&json!(server.addr.to_string()))
    );
    assert_eq!(
        verror::info(&err).get("server"),
        Some(&json!(server.addr.to_string()))
    );
    assert_eq!(
        err.own_info().get("local_addr"),
        Some(&json!(client.local_addr().to_string()))
    );
    assert_eq!(err.own_info().get("request_index"), Some(&json!(0)));
    assert_eq!(
        format!("{err:#}"),
        format!(
            "server {} answered request 0 with an error: {}",
            server.addr,
            rich_error().message()
        )
    );
    assert!(verror::has_cause_with_name(&err, "ReplicaError"));

    let line = logs.wait_for("handler_error").await;
    assert_eq!(line["level"], "warn", "{line}");
    assert_eq!(line["error"]["name"], "LookupError", "{line}");
    assert_eq!(
        line["error"]["cause"]["cause"]["cause"]["errors"][1]["info"]["replica"], 2,
        "{line}"
    );

    drop(client);
    server.stop().await;
}

/// `json` without its `"backtrace":"..."` members (JSON strings escape their
/// quotes, so the first unescaped quote ends one).
fn without_backtrace_fields(json: &str) -> String {
    const KEY: &str = ",\"backtrace\":\"";
    let mut out = String::new();
    let mut rest = json;
    while let Some(start) = rest.find(KEY) {
        out.push_str(&rest[..start]);
        let value = &rest[start + KEY.len()..];
        let mut escaped = false;
        let end = value
            .char_indices()
            .find(|&(_, c)| {
                let closes = c == '"' && !escaped;
                escaped = c == '\\' && !escaped;
                closes
            })
            .map_or(value.len(), |(i, _)| i + 1);
        rest = &value[end..];
    }
    out.push_str(rest);
    out
}

/// A foreign error whose cause is a `VError`: a backtrace behind it is out of
/// the server's reach in place.
#[derive(Debug)]
struct Opaque(VError);

impl fmt::Display for Opaque {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("opaque wrapper")
    }
}

impl Error for Opaque {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

#[tokio::test]
async fn no_response_carries_a_backtrace() {
    let handler = |request: Bytes| async move {
        let traced = |name: &'static str| {
            VError::builder()
                .name(name)
                .message("deep")
                .backtrace(true)
                .build()
        };
        let err = match &request[..] {
            b"plain" => traced("Traced"),
            b"wrapped" => VError::wrap(traced("Traced"), "outer"),
            b"multi" => VError::multi(vec![traced("A"), traced("B")]),
            _ => VError::wrap(Opaque(traced("Hidden")), "behind a foreign error"),
        };
        assert!(verror::find_backtrace(&err).is_some() || err.is_multi());
        Err::<Bytes, _>(err)
    };
    let server = start(builder(), handler).await;

    let mut stream = within(TcpStream::connect(server.addr)).await.unwrap();
    for request in [&b"plain"[..], b"wrapped", b"multi", b"opaque"] {
        stream.write_all(&frame(request)).await.unwrap();
        let mut header = [0; 4];
        within(stream.read_exact(&mut header)).await.unwrap();
        let mut payload = vec![0; u32::from_be_bytes(header) as usize];
        within(stream.read_exact(&mut payload)).await.unwrap();
        assert_eq!(payload[0], verror::server::STATUS_ERROR);
        let text = std::str::from_utf8(&payload[1..]).unwrap();
        assert!(!text.contains("backtrace"), "{request:?}: {text}");
        let back: VError = serde_json::from_str(text).unwrap();
        assert!(verror::find_backtrace(&back).is_none());
        let names: Vec<&str> = [back.name()]
            .into_iter()
            .chain(back.errors().iter().map(|e| e.name()))
            .collect();
        assert!(!names.is_empty());
    }
    drop(stream);
    server.stop().await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_replaced_by_a_response_too_large_error() {
    let logs = Logs::capture();
    let handler = |request: Bytes| async move {
        match &request[..] {
            b"big body" => Ok(Bytes::from(vec![b'x'; LIMIT + 1])),
            _ => Ok(Bytes::from(vec![b'y'; LIMIT])),
        }
    };
    let server = start(builder(), handler).await;
    let mut client = connect(server.addr).await;

    let answers = within(client.pipeline(["big body", "exactly the limit"]))
        .await
        .unwrap();
    let body_err = remote_cause(answers[0].as_ref().unwrap_err());
    assert_eq!(body_err.name(), "ResponseTooLarge");
    assert_eq!(field(body_err, "len"), json!(LIMIT + 1));
    assert_eq!(field(body_err, "limit"), json!(LIMIT));
    assert_eq!(
        FailureKind::classify(answers[0].as_ref().unwrap_err()),
        Some(FailureKind::ResponseTooLarge)
    );
    assert_eq!(answers[1].as_ref().unwrap().len(), LIMIT);

    assert_eq!(logs.of_kind("response_too_large").len(), 1);
    drop(client);
    server.stop().await;
}

#[tokio::test]
async fn an_error_longer_than_the_request_limit_arrives_whole() {
    let handler = |_request: Bytes| async move {
        Err::<Bytes, _>(
            VError::builder()
                .name("Chatty")
                .info("essay", "blah ".repeat(LIMIT))
                .message("too much to say")
                .build(),
        )
    };
    let server = start(builder(), handler).await;
    let mut client = connect(server.addr).await;
    let err = within(client.request("talk")).await.unwrap_err();
    let remote = remote_cause(&err);
    assert_eq!(remote.name(), "Chatty");
    assert_eq!(field(remote, "essay"), json!("blah ".repeat(LIMIT)));
    drop(client);
    server.stop().await;
}

#[tokio::test]
async fn an_error_over_its_cap_arrives_cut_within_it() {
    let logs = Logs::capture();
    let handler = |_request: Bytes| async move {
        Err::<Bytes, _>(
            VError::builder()
                .name("Chatty")
                .info("essay", "blah ".repeat(4 * MIN_ERROR_LEN))
                .message("too much to say")
                .build(),
        )
    };
    let server = start(builder().max_error_len(MIN_ERROR_LEN), handler).await;
    let (mut sender, mut receiver) = connect_split(server.addr).await;
    sender.feed(b"talk").unwrap();
    within(sender.flush()).await.unwrap();
    let err = within(receiver.recv()).await.unwrap_err();
    // Cut, not replaced: the same error, within the cap.
    assert_eq!(remote_cause(&err).name(), "Chatty", "{err:?}");
    assert!(serde_json::to_vec(remote_cause(&err)).unwrap().len() <= MIN_ERROR_LEN);
    assert!(logs.of_kind("response_too_large").is_empty());
    drop((sender, receiver));
    server.stop().await;
}

/// The program's handler, called directly: echo, lookups that fail two levels
/// deep, and a failure whose internals stay out of the public view.
#[cfg(feature = "cli")]
#[tokio::test]
async fn the_program_handler_answers_its_commands_with_chained_errors() {
    use verror::server::Handler;
    let handler = DemoHandler::new();
    assert_eq!(handler.call(Bytes::from("hello")).await.unwrap(), "hello");
    assert_eq!(handler.call(Bytes::from("!lookup 1")).await.unwrap(), "ada");

    let err = handler.call(Bytes::from("!lookup x1")).await.unwrap_err();
    assert_eq!(err.name(), "LookupError");
    assert_eq!(
        format!("{err:#}"),
        r#"lookup of "x1" failed: key "x1" is not a user id"#
    );
    assert!(verror::has_cause_with_name(&err, "ParseIntError"));
    assert!(!verror::has_cause_with_name(
        &verror::public_view(&err),
        "ParseIntError"
    ));

    let err = handler
        .call(Bytes::from("!fail disk on fire"))
        .await
        .unwrap_err();
    assert_eq!(format!("{err:#}"), "disk on fire");
    assert!(verror::has_cause_with_name(&err, "StorageError"));
    assert!(!format!("{err:?}").contains("s3cret"));

    let err = handler.call(Bytes::from("!lookup 42")).await.unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        r#"lookup of "42" failed: no user with id 42"#
    );
    assert_eq!(verror::info(&err).get("id"), Some(&json!(42)));
}

#[cfg(feature = "cli")]
#[tokio::test]
async fn a_huge_lookup_key_is_copied_into_the_error_once() {
    use verror::server::Handler;
    // A 1 MiB key of control bytes, as a hostile peer sends it.
    let key = "\u{1}".repeat(1 << 20);
    let request = Bytes::from(format!("!lookup {key}"));
    let err = DemoHandler::new().call(request).await.unwrap_err();
    // Every text the error holds, every level: the key whole once (in the outer
    // level's info), and short previews in the messages.
    let mut held = 0;
    for level in verror::chain(&err) {
        match level.downcast_ref::<VError>() {
            Some(v) => {
                held += v.name().len() + v.short_message().len();
                for (key, value) in v.own_info().iter() {
                    held += key.len() + value.to_string().len();
                }
            }
            None => held += level.to_string().len(),
        }
    }
    // The info value is JSON (each \u{1} written as \u0001): 6 bytes a byte.
    assert!(
        held <= 6 * key.len() + 4096,
        "{held} bytes held for a {}-byte key",
        key.len()
    );
    assert!(err.to_string().len() < 512, "{}", err.to_string().len());
    assert_eq!(
        verror::info(&err)
            .get("key")
            .and_then(|v| v.as_str())
            .map(str::len),
        Some(key.len())
    );
}

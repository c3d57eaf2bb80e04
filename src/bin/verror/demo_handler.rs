//! The program's handler: echo, plus a few `!` commands that fail with real
//! chained errors, to show the error path over the wire. The `server_*` tests
//! include this file too (`#[path]`), to drive the program's handler.

use std::collections::BTreeMap;
use std::time::Duration;

use bytes::Bytes;

use verror::server::Handler;
use verror::{ResultExt, VError};

/// The handler the `verror` program serves: every payload is echoed back, except
/// payloads that start with `!`, which are commands:
///
/// | command | answer |
/// |---|---|
/// | `!help` | the list of commands |
/// | `!lookup KEY` | the user with id `KEY`; fails with a `LookupError` whose cause is an `InvalidKey` (wrapping the `ParseIntError`, whose text it hides) or a `NotFound` |
/// | `!fail [MESSAGE]` | fails with a `RequestedFailure` that hides its internals: a `StorageError` with a sensitive `dsn` field, over an `io::Error` |
/// | `!panic [MESSAGE]` | panics (the server answers `HandlerPanic` and carries on) |
/// | `!sleep MS` | waits `MS` milliseconds, then answers (past the handler timeout: `HandlerTimeout`) |
///
/// Any other command fails with `UnknownCommand`.
///
/// The errors are built to show what a client sees of them (the server answers
/// with their public view (`verror::public_view`) by default): `InvalidKey`,
/// `NotFound` and `RequestedFailure` hide what lies below them, and the storage
/// failure's connection string is a sensitive field, redacted even in the log.
#[derive(Debug, Clone)]
pub struct DemoHandler {
    users: BTreeMap<u32, &'static str>,
}

impl Default for DemoHandler {
    fn default() -> DemoHandler {
        DemoHandler::new()
    }
}

const HELP: &str = "\
commands (anything else is echoed back):
  !help            this list
  !lookup KEY      the user with id KEY (try 1, 42, or x1)
  !fail [MESSAGE]  fail with a chained error
  !panic [MESSAGE] panic in the handler
  !sleep MS        answer after MS milliseconds";

impl DemoHandler {
    /// A handler whose lookup table holds users 1 (`ada`), 2 (`grace`) and 3
    /// (`barbara`).
    pub fn new() -> DemoHandler {
        DemoHandler {
            users: BTreeMap::from([(1, "ada"), (2, "grace"), (3, "barbara")]),
        }
    }

    async fn command(&self, line: &[u8]) -> Result<Bytes, VError> {
        let line = std::str::from_utf8(line).map_err(|e| {
            VError::builder()
                .name("InvalidCommand")
                .cause(e)
                .message("the command is not UTF-8")
                .build()
        })?;
        let (name, arg) = line.split_once(' ').unwrap_or((line, ""));
        let arg = arg.trim();
        match name {
            "help" => Ok(Bytes::from_static(HELP.as_bytes())),
            "lookup" => self
                .lookup(arg)
                .map(|user| Bytes::from_static(user.as_bytes())),
            "fail" => Err(requested_failure(arg)),
            "panic" if arg.is_empty() => panic!("panic requested by the client"),
            "panic" => panic!("{arg}"),
            "sleep" => sleep(arg).await,
            _ => Err(VError::builder()
                .name("UnknownCommand")
                .info("command", name)
                .info("known", ["help", "lookup", "fail", "panic", "sleep"])
                .message(format_args!("unknown command {name:?} (try !help)"))
                .build()),
        }
    }

    /// A lookup whose failures are two levels deep: the lookup, then why.
    fn lookup(&self, key: &str) -> Result<&'static str, VError> {
        let found = parse_user_id(key).and_then(|id| {
            self.users.get(&id).copied().ok_or_else(|| {
                VError::builder()
                    .name("NotFound")
                    .info("id", id)
                    .info("known_ids", self.users.keys().collect::<Vec<_>>())
                    // Nothing below to hide, but the public view ends here.
                    .skip_cause_message()
                    .message(format_args!("no user with id {id}"))
                    .build()
            })
        });
        found.map_err(|cause| {
            VError::builder()
                .name("LookupError")
                .info("key", key)
                .cause(cause)
                .message(format_args!("lookup of {} failed", Preview(key)))
                .build()
        })
    }
}

impl Handler for DemoHandler {
    async fn call(&self, request: Bytes) -> Result<Bytes, VError> {
        match request.strip_prefix(b"!") {
            Some(line) => self.command(line).await,
            None => Ok(request),
        }
    }
}

/// The level above holds the key whole in its info: this one names it only.
fn parse_user_id(key: &str) -> Result<u32, VError> {
    key.parse::<u32>().map_err(|e| {
        VError::builder()
            .name("InvalidKey")
            .cause(e)
            .skip_cause_message()
            .message(format_args!("key {} is not a user id", Preview(key)))
            .build()
    })
}

/// A peer's key as a message names it: quoted and escaped, its first 64 bytes only
/// (the whole key is one info field, so a long key is copied into the error once).
struct Preview<'a>(&'a str);

impl std::fmt::Display for Preview<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const SHOWN: usize = 64;
        let key = self.0;
        if key.len() <= SHOWN {
            return write!(f, "{key:?}");
        }
        let mut end = SHOWN;
        while !key.is_char_boundary(end) {
            end -= 1;
        }
        write!(f, "{:?}… ({} bytes)", &key[..end], key.len())
    }
}

fn requested_failure(message: &str) -> VError {
    let message = if message.is_empty() {
        "failure requested by the client"
    } else {
        message
    };
    let storage = VError::builder()
        .name("StorageError")
        .info("table", "users")
        .sensitive_info("dsn", "postgres://app:s3cret@db.internal/users")
        .cause(std::io::Error::other("simulated storage failure"))
        .message("write to table users failed")
        .build();
    VError::builder()
        .name("RequestedFailure")
        .info("requested", message)
        .cause(storage)
        .skip_cause_message()
        .message(message.to_owned())
        .build()
}

async fn sleep(arg: &str) -> Result<Bytes, VError> {
    let ms = arg
        .parse::<u64>()
        .with_context(|| format!("!sleep needs a number of milliseconds, not {arg:?}"))?;
    tokio::time::sleep(Duration::from_millis(ms)).await;
    Ok(Bytes::from(format!("slept {ms} ms")))
}

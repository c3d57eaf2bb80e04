//! Rich contextual errors in the spirit of Node's [`verror`], for services that must
//! explain what went wrong, where, and with which data.
//!
//! A [`VError`] has a **name** (`"ConnectionError"`), a **message**, **structured info
//! fields** (`peer`, `declared_len`, ...), the **location** where it was created, and
//! **causes**: another error (a `VError` or any foreign `std::error::Error`) or, for a
//! MultiError, several. It prints as one line (`outer: middle: root`) or as a full
//! report, serializes as JSON for logs and reads back from JSON, and captures a
//! backtrace only where the environment asks for one, resolving it only when shown.
//!
//! [`verror`]: https://github.com/TritonDataCenter/node-verror
//!
//! # Quick start
//!
//! ```
//! use verror::{ErrorJson, ResultExt, VError};
//!
//! fn parse_port(text: &str) -> verror::Result<u16> {
//!     // `?` converts the standard errors as they are: this level *is* the ParseIntError.
//!     Ok(text.parse::<u16>()?)
//! }
//!
//! fn load(text: &str) -> verror::Result<u16> {
//!     // One lazy call adds a name, info fields and a message; the error becomes the cause.
//!     let port = parse_port(text).with_context(|| {
//!         VError::builder()
//!             .name("ConfigError")
//!             .info("path", "/etc/app.toml")
//!             .info("line", 3)
//!             .message(format_args!("invalid port {text:?}"))
//!     })?;
//!     verror::ensure!(port >= 1024, "port {port} is privileged");
//!     Ok(port)
//! }
//!
//! let err = load("http").unwrap_err();
//!
//! // `{}`: this level's own message; `{:#}`: the whole story on one line.
//! assert_eq!(err.to_string(), r#"invalid port "http""#);
//! assert_eq!(format!("{err:#}"), r#"invalid port "http": invalid digit found in string"#);
//!
//! // Names, typed lookup, and info merged along the chain.
//! assert!(verror::has_cause_with_name(&err, "ConfigError"));
//! assert!(verror::has_cause_with_name(&err, "ParseIntError"));
//! assert!(verror::find_cause::<std::num::ParseIntError>(&err).is_some());
//! assert_eq!(verror::info(&err).get("line"), Some(&serde_json::json!(3)));
//!
//! // JSON out and back in, every name, message and field intact.
//! let json = ErrorJson::new(&err).to_json();
//! let back: VError = serde_json::from_str(&json).unwrap();
//! assert_eq!(format!("{back:#}"), format!("{err:#}"));
//! assert_eq!(ErrorJson::new(&back).to_json(), json);
//!
//! // `{:?}` is a report with every level, its fields and where it was made.
//! let report = format!("{err:?}");
//! assert!(report.starts_with("ConfigError: invalid port \"http\"\n    path: \"/etc/app.toml\""));
//! ```
//!
//! # The everyday path
//!
//! | to | write |
//! |---|---|
//! | return a new error | `bail!("frame {n} too large")`, `ensure!(cond, ...)`, `verror!(...)` |
//! | pass a standard error up | `?` (the `VError` stands for it: same text, its type's name) |
//! | say what was being done | `.context("reading config")`, `.with_context(\|\| format!(...))` |
//! | add a name and fields too | `.with_context(\|\| VError::builder().name(..).info(..).message(..))` |
//! | keep a typed error's fields | `VError::typed(err)` (any `Error + Serialize`) |
//! | your own error type through `?` | [`impl_from!`]`(MyError)` |
//!
//! # How it prints
//!
//! | format | what |
//! |---|---|
//! | `{}` | this level's short message (its name when the message is empty; the held error's text for a level made by `?`); never a cause's text, so chain printers (anyhow, eyre, tracing) print each message once |
//! | `{:#}` | the node-verror message: each level's short message joined by `": "`, stopping at a level built with [`Builder::skip_cause_message`] |
//! | `{:?}` | the report: name, message, info fields, location, numbered causes, MultiError children as a tree, the backtrace when captured |
//! | `{:#?}` | a struct view of the first 8 levels and 64 children of each MultiError |
//! | [`full_stack`] | node-verror's `fullStack`: each level's `Name: message` and location, joined by `"\ncaused by: "`, up to 256 KiB |
//! | JSON | the [`ErrorJson`] shape, within a size budget: [`ErrorJson::to_json`] for the text, `Serialize` for an error inside other serde data (the same bytes through `serde_json`); [`records`] has whole ECS, OpenTelemetry and Bunyan records |
//!
//! Every rendering is linear in the chain's size and runs in constant stack, at any
//! depth and shape (150,000 levels on a 1 MiB thread in the tests, past what any
//! recursion could hold). `{}`, `{:#}` and the JSON keep the exact text; the human
//! renderings (`{:?}`, `{:#?}`, `full_stack`) escape control characters, so no error
//! text can forge a line or drive a terminal.
//!
//! # Working with any error
//!
//! The free functions take any `&(dyn Error + 'static)`: [`chain`], [`info`],
//! [`find_cause`], [`find_cause_by_name`], [`has_cause_with_name`], [`full_stack`],
//! [`find_backtrace`], [`error_for_each`]; [`error_from_list`] folds many errors into one.
//!
//! # What an error reveals
//!
//! Errors travel into logs and, through a server, to clients. An info field marked
//! sensitive ([`Builder::sensitive_info`]) shows as `"[redacted]"` in every output —
//! `{:?}`, `{:#?}`, the JSON, the log records — while code can still read it
//! ([`Info::reveal`]). [`public_view`] gives what a client may
//! see: the chain down to the first level that hides its cause (node-verror's
//! `WError`, [`Builder::skip_cause_message`]), without sensitive fields, locations or
//! backtraces.
//!
//! ```
//! use verror::VError;
//! let db = VError::builder()
//!     .name("DbError")
//!     .sensitive_info("dsn", "postgres://app:hunter2@db/users")
//!     .message("connection refused")
//!     .build();
//! let err = VError::builder()
//!     .name("ServiceUnavailable")
//!     .cause(db)
//!     .skip_cause_message()
//!     .message("user service unavailable")
//!     .build();
//! assert!(!format!("{err:?}").contains("hunter2"));           // the log: whole chain, secret redacted
//! assert_eq!(format!("{:#}", verror::public_view(&err)), "user service unavailable"); // the client: no internals
//! ```
//!
//! # Backtraces
//!
//! As for `std::backtrace::Backtrace::capture`: `RUST_LIB_BACKTRACE`, or else
//! `RUST_BACKTRACE`, set to anything but `0` turns them on. One is captured per chain,
//! at its first `VError` (wrapping a `VError` captures none, as anyhow's `context`), as
//! bare return addresses; symbols are resolved the first time it is printed or
//! serialized. [`Backtrace::set_enabled`]
//! decides for the whole process in place of the environment, [`Builder::backtrace`] for
//! one error.
//!
//! # Feature flags
//!
//! | feature | what it adds |
//! |---|---|
//! | *(none)* | the error core and the sans-IO frame codec ([`frame`]) |
//! | `codec` | `tokio_util::codec::{Decoder, Encoder}` for [`frame::FrameCodec`] |
//! | `tracing` | `verror::layer`: a `tracing` layer that logs errors as nested JSON |
//! | `server` | the tokio server, client and load generator (`verror::server`) |
//! | `cli` | the `verror` program (`cargo run --features cli -- demo`); nothing more in the library |
#![deny(missing_docs)]
#![forbid(unsafe_code)]
// docs.rs builds with `--cfg docsrs`: each feature-gated item shows its feature.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod backtrace;
mod budget;
mod builder;
mod chain;
mod choice;
mod convert;
mod de;
mod error;
mod escape;
mod ext;
mod fmt;
mod human;
mod info;
mod json_text;
mod location;
#[cfg(any(feature = "server", feature = "tracing"))]
mod lock;
#[macro_use]
mod macros;
mod multi;
#[cfg(any(feature = "server", feature = "tracing"))]
mod panic_payload;
mod public;
mod ser;
mod typed;

pub mod frame;
#[cfg(feature = "tracing")]
#[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
pub mod layer;
pub mod records;
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub mod server;

pub use crate::backtrace::Backtrace;
pub use crate::builder::{Builder, Message, NoCause, WithCause, WithErrors};
pub use crate::chain::{
    Chain, chain, find_backtrace, find_cause, find_cause_by_name, has_cause_with_name,
};
pub use crate::error::VError;
pub use crate::ext::{IntoContext, OptionExt, ResultExt};
pub use crate::fmt::full_stack;
pub use crate::info::{Info, REDACTED, info};
pub use crate::location::Location;
pub use crate::multi::{error_for_each, error_from_list};
pub use crate::public::public_view;
pub use crate::ser::ErrorJson;

/// `Result<T, VError>`, with the error type overridable as for `std::io::Result`.
///
/// ```
/// fn port(text: &str) -> verror::Result<u16> {
///     Ok(text.parse::<u16>()?)
/// }
/// assert_eq!(port("80").unwrap(), 80);
/// ```
pub type Result<T, E = VError> = std::result::Result<T, E>;

#[doc(hidden)]
pub use crate::macros::private as __private;

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

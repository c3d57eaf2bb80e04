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
//! use verror::{verror, ResultExt, VError};
//!
//! fn parse_port(text: &str) -> Result<u16, VError> {
//!     text.parse::<u16>().with_context(|| format!("invalid port {text:?}"))
//! }
//!
//! fn load(text: &str) -> Result<u16, VError> {
//!     let port = parse_port(text).map_err(|e| {
//!         VError::builder()
//!             .name("ConfigError")
//!             .info("path", "/etc/app.toml")
//!             .info("line", 3)
//!             .cause(e)
//!             .message("invalid config")
//!             .backtrace(false)
//!             .build()
//!     })?;
//!     verror::ensure!(port >= 1024, "port {port} is privileged");
//!     Ok(port)
//! }
//!
//! let err = load("http").unwrap_err();
//!
//! // `{}`: this level's own message; `{:#}`: the whole story on one line.
//! assert_eq!(err.to_string(), "invalid config");
//! assert_eq!(format!("{err:#}"), r#"invalid config: invalid port "http": invalid digit found in string"#);
//!
//! // Names, typed lookup, and info merged along the chain.
//! assert!(verror::has_cause_with_name(&err, "ConfigError"));
//! assert!(verror::find_cause::<std::num::ParseIntError>(&err).is_some());
//! assert_eq!(verror::info(&err).get("line"), Some(&serde_json::json!(3)));
//!
//! // JSON out and back in, every name, message and field intact.
//! let json = serde_json::to_string(&err).unwrap();
//! let back: VError = serde_json::from_str(&json).unwrap();
//! assert_eq!(format!("{back:#}"), format!("{err:#}"));
//! assert_eq!(serde_json::to_string(&back).unwrap(), json);
//!
//! // `{:?}` is a report with every level, its fields and where it was made.
//! let report = format!("{err:?}");
//! assert!(report.starts_with("ConfigError: invalid config\n    path: \"/etc/app.toml\""));
//! ```
//!
//! # How it prints
//!
//! | format | what |
//! |---|---|
//! | `{}` | this level's short message (its name when the message is empty); never a cause's text, so chain printers (anyhow, eyre, tracing) print each message once |
//! | `{:#}` | the node-verror message: each level's short message joined by `": "`, stopping at a level built with [`Builder::skip_cause_message`] |
//! | `{:?}` | the report: name, message, info fields, location, numbered causes, MultiError children as a tree, the backtrace when captured |
//! | `{:#?}` | a struct view of every level |
//! | [`full_stack`] | node-verror's `fullStack`: each level's `Name: message` and location, joined by `"\ncaused by: "` |
//! | JSON | the [`ErrorJson`] shape; [`log`] has whole ECS, OpenTelemetry and Bunyan records |
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
//! ([`Info::reveal`]). [`VError::public`] ([`public_view`]) gives what a client may
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
//! assert_eq!(format!("{:#}", err.public()), "user service unavailable"); // the client: no internals
//! ```
//!
//! # Backtraces
//!
//! As for `std::backtrace::Backtrace::capture`: `RUST_LIB_BACKTRACE`, or else
//! `RUST_BACKTRACE`, set to anything but `0` turns them on. One is captured per chain
//! (wrapping an error that has one captures none), as bare return addresses; symbols are
//! resolved the first time it is printed or serialized. [`Builder::backtrace`] forces it
//! on or off.
//!
//! # Feature flags
//!
//! | feature | what it adds |
//! |---|---|
//! | *(none)* | the error core and the sans-IO frame codec ([`frame`]) |
//! | `codec` | `tokio_util::codec::{Decoder, Encoder}` for [`frame::FrameCodec`] |
//! | `tracing` | a `tracing` layer that logs errors as nested JSON |
//! | `server` | the tokio server, client, load generator and the `verror` program (`verror::server`) |
#![deny(missing_docs)]
#![forbid(unsafe_code)]
// docs.rs builds with `--cfg docsrs`: each feature-gated item shows its feature.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod backtrace;
mod builder;
mod chain;
#[allow(dead_code)] // callers land with the log and server work
mod choice;
mod convert;
mod error;
#[allow(dead_code)] // callers land with the report and text-log work
mod escape;
mod ext;
mod fmt;
mod info;
mod location;
mod macros;
mod multi;
mod public;
mod ser;

pub mod frame;
pub mod log;
#[cfg(feature = "server")]
#[cfg_attr(docsrs, doc(cfg(feature = "server")))]
pub mod server;
#[cfg(feature = "tracing")]
#[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
pub mod tracing;

pub use crate::backtrace::Backtrace;
pub use crate::builder::{Builder, Message};
pub use crate::chain::{
    chain, find_backtrace, find_cause, find_cause_by_name, has_cause_with_name, Chain,
};
pub use crate::error::VError;
pub use crate::ext::{OptionExt, ResultExt};
pub use crate::fmt::full_stack;
pub use crate::info::{info, Info, REDACTED};
pub use crate::location::Location;
pub use crate::multi::{error_for_each, error_from_list};
pub use crate::public::public_view;
pub use crate::ser::ErrorJson;

/// The README's examples, compiled and run as doc tests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

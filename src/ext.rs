//! `context` and `with_context` on `Result` and `Option`.

use std::error::Error;

use crate::builder::Message;
use crate::VError;

/// Adds context to the error of a `Result`: the error becomes the cause of a new
/// `VError` with your message. Works for any `E: Error + Send + Sync + 'static`,
/// `VError` included (moved in as the cause, never boxed twice).
///
/// ```
/// use verror::ResultExt;
///
/// fn read_port(text: &str) -> Result<u16, verror::VError> {
///     text.trim().parse::<u16>().with_context(|| format!("invalid port {text:?}"))
/// }
///
/// let err = read_port("http").unwrap_err();
/// assert_eq!(format!("{err:#}"), r#"invalid port "http": invalid digit found in string"#);
/// assert!(verror::find_cause::<std::num::ParseIntError>(&err).is_some());
/// ```
pub trait ResultExt<T> {
    /// Wraps the error with `message`.
    fn context(self, message: impl Into<Message>) -> Result<T, VError>;

    /// Wraps the error with the message `f` returns; `f` runs only on error.
    fn with_context<M: Into<Message>, F: FnOnce() -> M>(self, f: F) -> Result<T, VError>;
}

impl<T, E: Error + Send + Sync + 'static> ResultExt<T> for Result<T, E> {
    #[track_caller]
    fn context(self, message: impl Into<Message>) -> Result<T, VError> {
        match self {
            Ok(value) => Ok(value),
            Err(error) => Err(VError::wrap(error, message)),
        }
    }

    #[track_caller]
    fn with_context<M: Into<Message>, F: FnOnce() -> M>(self, f: F) -> Result<T, VError> {
        match self {
            Ok(value) => Ok(value),
            Err(error) => Err(VError::wrap(error, f())),
        }
    }
}

/// Turns a `None` into a `VError` with your message.
///
/// ```
/// use verror::OptionExt;
/// let ports = std::collections::HashMap::from([("http", 80)]);
/// let err = ports.get("gopher").context("unknown service").unwrap_err();
/// assert_eq!(err.to_string(), "unknown service");
/// ```
pub trait OptionExt<T> {
    /// A `VError` with `message` when `None`.
    fn context(self, message: impl Into<Message>) -> Result<T, VError>;

    /// A `VError` with the message `f` returns when `None`; `f` runs only then.
    fn with_context<M: Into<Message>, F: FnOnce() -> M>(self, f: F) -> Result<T, VError>;
}

impl<T> OptionExt<T> for Option<T> {
    #[track_caller]
    fn context(self, message: impl Into<Message>) -> Result<T, VError> {
        match self {
            Some(value) => Ok(value),
            None => Err(VError::new(message)),
        }
    }

    #[track_caller]
    fn with_context<M: Into<Message>, F: FnOnce() -> M>(self, f: F) -> Result<T, VError> {
        match self {
            Some(value) => Ok(value),
            None => Err(VError::new(f())),
        }
    }
}

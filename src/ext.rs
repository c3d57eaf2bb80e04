//! `context` and `with_context` on `Result` and `Option`: the everyday way to add what
//! was being done — a message, or a name, info fields and a message — to an error.

use std::error::Error;

use crate::VError;
use crate::builder::{Builder, Message, NoCause};
use crate::error::Sources;

/// What [`ResultExt::context`] and [`with_context`](ResultExt::with_context) take: a
/// message (`&'static str`, `String`, `format_args!(..)`), for a plain level; or a
/// [`Builder`] without a cause (`VError::builder().name(..).info(..).message(..)`),
/// for a level with a name and fields, whose cause the call fills in.
pub trait IntoContext: sealed::Sealed {
    /// The new level, with `cause` below it.
    #[doc(hidden)]
    #[track_caller]
    fn wrap_cause<E: Error + Send + Sync + 'static>(self, cause: E) -> VError;

    /// The new level, with no cause.
    #[doc(hidden)]
    #[track_caller]
    fn without_cause(self) -> VError;
}

mod sealed {
    pub trait Sealed {}
}

impl<M: Into<Message>> sealed::Sealed for M {}

impl<M: Into<Message>> IntoContext for M {
    #[track_caller]
    #[inline]
    fn wrap_cause<E: Error + Send + Sync + 'static>(self, cause: E) -> VError {
        VError::wrap(cause, self)
    }

    #[track_caller]
    #[inline]
    fn without_cause(self) -> VError {
        VError::new(self)
    }
}

impl sealed::Sealed for Builder<NoCause> {}

impl IntoContext for Builder<NoCause> {
    #[track_caller]
    #[inline]
    fn wrap_cause<E: Error + Send + Sync + 'static>(self, cause: E) -> VError {
        let location = std::panic::Location::caller();
        self.with_sources::<crate::builder::WithCause>(Sources::cause(cause))
            .build_at(location)
    }

    #[track_caller]
    #[inline]
    fn without_cause(self) -> VError {
        self.build()
    }
}

/// Adds context to the error of a `Result`: the error becomes the cause of a new
/// `VError`. Works for any `E: Error + Send + Sync + 'static`, `VError` included
/// (moved in as the cause, never boxed twice).
///
/// With a message:
///
/// ```
/// use verror::ResultExt;
///
/// fn read_port(text: &str) -> verror::Result<u16> {
///     text.trim().parse::<u16>().with_context(|| format!("invalid port {text:?}"))
/// }
///
/// let err = read_port("http").unwrap_err();
/// assert_eq!(format!("{err:#}"), r#"invalid port "http": invalid digit found in string"#);
/// assert!(verror::find_cause::<std::num::ParseIntError>(&err).is_some());
/// ```
///
/// With a name, info fields (sensitive ones too) and a message, in one lazy call —
/// the closure runs only on `Err`, and the error is filled in as the cause:
///
/// ```
/// use verror::{ResultExt, VError};
///
/// fn connect(dsn: &str, attempt: u32) -> verror::Result<()> {
///     let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
///     Err(refused).with_context(|| {
///         VError::builder()
///             .name("DbError")
///             .info("attempt", attempt)
///             .sensitive_info("dsn", dsn)
///             .message(format_args!("cannot reach the database (attempt {attempt})"))
///     })
/// }
///
/// let err = connect("postgres://app:hunter2@db/users", 3).unwrap_err();
/// assert_eq!(err.name(), "DbError");
/// assert_eq!(err.to_string(), "cannot reach the database (attempt 3)");
/// assert_eq!(verror::info(&err).get("attempt"), Some(&serde_json::json!(3)));
/// assert!(!format!("{err:?}").contains("hunter2"));
/// assert!(verror::find_cause::<std::io::Error>(&err).is_some());
/// ```
pub trait ResultExt<T> {
    /// Wraps the error with `context` (a message, or a builder without a cause).
    fn context(self, context: impl IntoContext) -> Result<T, VError>;

    /// Wraps the error with the context `f` returns; `f` runs only on error.
    fn with_context<C: IntoContext, F: FnOnce() -> C>(self, f: F) -> Result<T, VError>;
}

impl<T, E: Error + Send + Sync + 'static> ResultExt<T> for Result<T, E> {
    #[track_caller]
    #[inline]
    fn context(self, context: impl IntoContext) -> Result<T, VError> {
        match self {
            Ok(value) => Ok(value),
            Err(error) => Err(context.wrap_cause(error)),
        }
    }

    #[track_caller]
    #[inline]
    fn with_context<C: IntoContext, F: FnOnce() -> C>(self, f: F) -> Result<T, VError> {
        match self {
            Ok(value) => Ok(value),
            Err(error) => Err(f().wrap_cause(error)),
        }
    }
}

/// Turns a `None` into a `VError` made from your context (a message, or a builder
/// without a cause).
///
/// ```
/// use verror::{OptionExt, VError};
/// let ports = std::collections::HashMap::from([("http", 80)]);
/// let err = ports.get("gopher").context("unknown service").unwrap_err();
/// assert_eq!(err.to_string(), "unknown service");
///
/// let err = ports
///     .get("gopher")
///     .with_context(|| VError::builder().name("UnknownService").info("service", "gopher").message("unknown service"))
///     .unwrap_err();
/// assert_eq!(err.name(), "UnknownService");
/// ```
pub trait OptionExt<T> {
    /// A `VError` made from `context` when `None`.
    fn context(self, context: impl IntoContext) -> Result<T, VError>;

    /// A `VError` made from the context `f` returns when `None`; `f` runs only then.
    fn with_context<C: IntoContext, F: FnOnce() -> C>(self, f: F) -> Result<T, VError>;
}

impl<T> OptionExt<T> for Option<T> {
    #[track_caller]
    #[inline]
    fn context(self, context: impl IntoContext) -> Result<T, VError> {
        match self {
            Some(value) => Ok(value),
            None => Err(context.without_cause()),
        }
    }

    #[track_caller]
    #[inline]
    fn with_context<C: IntoContext, F: FnOnce() -> C>(self, f: F) -> Result<T, VError> {
        match self {
            Some(value) => Ok(value),
            None => Err(f().without_cause()),
        }
    }
}

//! `VError` itself: one machine word pointing at the record of one level of a chain.

use std::borrow::Cow;
use std::error::Error;

use crate::backtrace::Backtrace;
use crate::info::Info;
use crate::location::Location;

/// A rich error: a name, a short message, structured info fields, where it was
/// created, and the causes beneath it (one cause, or the children of a MultiError).
///
/// `VError` is one machine word (a `Box` of its record), so `Result<T, VError>` is
/// as small as `Result<T, Box<_>>`. It is `Send + Sync + 'static` and implements
/// [`std::error::Error`], with [`source()`](Error::source) returning its cause.
///
/// How it prints:
///
/// | format | output |
/// |---|---|
/// | `{}` | the short message only (its name when the short message is empty) |
/// | `{:#}` | the node-verror message, `outer: middle: root` ([`VError::message`]) |
/// | `{:?}` | a multi-line report: names, info, locations, causes, MultiError children, backtrace |
/// | `{:#?}` | a struct view of the record |
///
/// ```
/// use verror::{VError, ResultExt};
///
/// let io = std::io::Error::new(std::io::ErrorKind::NotFound, "no such file");
/// let err = Err::<(), _>(io)
///     .context("failed to read config")
///     .context("startup failed")
///     .unwrap_err();
///
/// assert_eq!(err.to_string(), "startup failed");
/// assert_eq!(format!("{err:#}"), "startup failed: failed to read config: no such file");
/// assert_eq!(verror::chain(&err).count(), 3);
/// ```
pub struct VError(pub(crate) Box<Inner>);

/// The record behind a [`VError`]: one level of a chain.
pub(crate) struct Inner {
    pub(crate) name: Cow<'static, str>,
    pub(crate) short: Cow<'static, str>,
    pub(crate) info: Info,
    pub(crate) skip_cause_message: bool,
    pub(crate) sources: Sources,
    pub(crate) location: Option<Location>,
    pub(crate) backtrace: Option<Backtrace>,
}

/// What lies beneath one level.
pub(crate) enum Sources {
    /// A root error.
    None,
    /// A single cause.
    Cause(Cause),
    /// The children of a MultiError; `source()` is the first.
    Multi(Vec<VError>),
}

/// A cause: another `VError` (stored as is, never boxed twice) or a foreign error
/// with the name of its Rust type.
pub(crate) enum Cause {
    VError(VError),
    Foreign {
        name: &'static str,
        error: Box<dyn Error + Send + Sync + 'static>,
    },
}

impl Cause {
    /// Takes any error as a cause; a `VError` is moved in as it is.
    pub(crate) fn new<E: Error + Send + Sync + 'static>(error: E) -> Cause {
        let mut slot = Some(error);
        if let Some(verror) = (&mut slot as &mut dyn std::any::Any).downcast_mut::<Option<VError>>()
        {
            if let Some(verror) = verror.take() {
                return Cause::VError(verror);
            }
        }
        match slot {
            Some(error) => Cause::Foreign {
                name: crate::chain::type_name_of::<E>(),
                error: Box::new(error),
            },
            // Unreachable: only the VError branch takes the value out.
            None => Cause::VError(VError::new("")),
        }
    }

    pub(crate) fn as_error(&self) -> &(dyn Error + Send + Sync + 'static) {
        match self {
            Cause::VError(verror) => verror,
            Cause::Foreign { error, .. } => &**error,
        }
    }
}

impl VError {
    pub(crate) const DEFAULT_NAME: &'static str = "VError";
    pub(crate) const MULTI_NAME: &'static str = "MultiError";

    pub(crate) fn from_inner(inner: Inner) -> VError {
        VError(Box::new(inner))
    }

    /// The error's name: `"VError"` by default, `"MultiError"` for an aggregate,
    /// or whatever [`Builder::name`](crate::Builder::name) set.
    ///
    /// ```
    /// let err = verror::VError::builder().name("ConfigError").message("bad config").build();
    /// assert_eq!(err.name(), "ConfigError");
    /// assert_eq!(verror::VError::new("x").name(), "VError");
    /// ```
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// This level's own message, without any cause's text (what `{}` prints).
    ///
    /// ```
    /// let err = verror::VError::wrap(verror::VError::new("root"), "outer");
    /// assert_eq!(err.short_message(), "outer");
    /// ```
    pub fn short_message(&self) -> &str {
        &self.0.short
    }

    /// The whole one-line story, node-verror style: this level's short message, then
    /// `": "` and the cause's message, down the chain (through foreign causes' own
    /// `source()` chains too). A level built with
    /// [`skip_cause_message`](crate::Builder::skip_cause_message) ends the story there;
    /// empty messages add no empty segment. The same text as `format!("{err:#}")`.
    ///
    /// ```
    /// use verror::VError;
    /// let err = VError::wrap(VError::wrap(VError::new("root cause"), "mid"), "top");
    /// assert_eq!(err.message(), "top: mid: root cause");
    /// ```
    pub fn message(&self) -> String {
        format!("{self:#}")
    }

    /// This level's own info fields, in insertion order (see [`info`](crate::info)
    /// for the view merged along the chain).
    ///
    /// ```
    /// let err = verror::VError::builder().info("port", 7878).message("bind failed").build();
    /// assert_eq!(err.own_info().get("port"), Some(&serde_json::json!(7878)));
    /// ```
    pub fn own_info(&self) -> &Info {
        &self.0.info
    }

    /// The children of a MultiError, in order; empty for any other error.
    ///
    /// ```
    /// use verror::VError;
    /// let multi = VError::multi(vec![VError::new("a"), VError::new("b")]);
    /// let names: Vec<String> = multi.errors().iter().map(|e| e.to_string()).collect();
    /// assert_eq!(names, ["a", "b"]);
    /// ```
    pub fn errors(&self) -> &[VError] {
        match &self.0.sources {
            Sources::Multi(errors) => errors,
            _ => &[],
        }
    }

    /// Whether this error aggregates several errors (built by [`VError::multi`] or
    /// [`error_from_list`](crate::error_from_list)).
    pub fn is_multi(&self) -> bool {
        matches!(self.0.sources, Sources::Multi(_))
    }

    /// Whether this level hides its cause's text from [`message`](VError::message)
    /// (node-verror's `WError`).
    pub fn skips_cause_message(&self) -> bool {
        self.0.skip_cause_message
    }

    /// The backtrace captured for this chain, if this level holds it. A chain holds at
    /// most one, at the level where it was first captured; see
    /// [`find_backtrace`](crate::find_backtrace) for a search down the chain.
    pub fn backtrace(&self) -> Option<&Backtrace> {
        self.0.backtrace.as_ref()
    }

    /// Where this error was created (`#[track_caller]`), or the location read back from
    /// JSON. `None` only for errors deserialized without one.
    ///
    /// ```
    /// let err = verror::VError::new("oops");
    /// assert_eq!(err.location().unwrap().file(), file!());
    /// ```
    pub fn location(&self) -> Option<&Location> {
        self.0.location.as_ref()
    }

    /// The deepest error of the chain (this error itself when it has no cause).
    ///
    /// ```
    /// use verror::ResultExt;
    /// let err = "x".parse::<u8>().context("bad port").unwrap_err();
    /// assert!(err.root_cause().is::<std::num::ParseIntError>());
    /// ```
    pub fn root_cause(&self) -> &(dyn Error + 'static) {
        crate::chain::chain(self).last().unwrap_or(self)
    }

    /// The first error of type `T` in this chain, this error included, at any depth
    /// and through foreign causes too. The same as [`find_cause`](crate::find_cause).
    ///
    /// ```
    /// use verror::ResultExt;
    /// let err = "x".parse::<u8>().context("bad port").unwrap_err();
    /// assert!(err.downcast_ref::<std::num::ParseIntError>().is_some());
    /// ```
    pub fn downcast_ref<T: Error + 'static>(&self) -> Option<&T> {
        crate::chain::find_cause::<T>(self)
    }

    /// The cause of this level, if any (for a MultiError, its first child).
    pub(crate) fn cause(&self) -> Option<&(dyn Error + Send + Sync + 'static)> {
        match &self.0.sources {
            Sources::None => None,
            Sources::Cause(cause) => Some(cause.as_error()),
            Sources::Multi(errors) => errors.first().map(|e| e as _),
        }
    }

    /// The name recorded for this level's direct foreign cause, if it has one.
    pub(crate) fn foreign_cause_name(&self) -> Option<&'static str> {
        match &self.0.sources {
            Sources::Cause(Cause::Foreign { name, .. }) => Some(name),
            _ => None,
        }
    }
}

impl Error for VError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.cause().map(|e| e as _)
    }
}

impl Drop for Inner {
    // Unlinks a long chain level by level, so dropping it never overflows the stack.
    fn drop(&mut self) {
        let mut next = std::mem::replace(&mut self.sources, Sources::None);
        loop {
            next = match next {
                Sources::Cause(Cause::VError(mut v)) => {
                    std::mem::replace(&mut v.0.sources, Sources::None)
                }
                Sources::Multi(children) => {
                    for mut child in children {
                        drop(std::mem::replace(&mut child.0.sources, Sources::None));
                    }
                    Sources::None
                }
                _ => break,
            };
        }
    }
}

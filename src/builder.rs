//! Building a `VError`: the full set of options, and the message type the
//! constructors take.

use std::any::TypeId;
use std::borrow::Cow;
use std::error::Error;
use std::fmt;
use std::marker::PhantomData;
use std::panic;

use serde::Serialize;

use crate::backtrace::{self, Backtrace};
use crate::error::{Below, Extra, Inner, Sources, VError};
use crate::info::{self, Info};
use crate::location::Caller;

/// A message for a new error: a `&'static str` (stored without allocating), a
/// `String`, or `format_args!(..)` (stored without allocating when it has no
/// arguments).
///
/// ```
/// use verror::VError;
/// let n = 3;
/// assert_eq!(VError::new("static").to_string(), "static");
/// assert_eq!(VError::new(format!("{n} issues")).to_string(), "3 issues");
/// assert_eq!(VError::new(format_args!("{n} issues")).to_string(), "3 issues");
/// ```
pub struct Message(pub(crate) Cow<'static, str>);

impl From<&'static str> for Message {
    fn from(text: &'static str) -> Message {
        Message(Cow::Borrowed(text))
    }
}

impl From<String> for Message {
    fn from(text: String) -> Message {
        Message(Cow::Owned(text))
    }
}

impl From<Cow<'static, str>> for Message {
    fn from(text: Cow<'static, str>) -> Message {
        Message(text)
    }
}

impl From<fmt::Arguments<'_>> for Message {
    #[inline]
    fn from(args: fmt::Arguments<'_>) -> Message {
        match args.as_str() {
            Some(text) => Message(Cow::Borrowed(text)),
            None => Message(Cow::Owned(fmt::format(args))),
        }
    }
}

/// How a new error decides on a backtrace.
#[derive(Clone, Copy)]
enum BacktracePolicy {
    /// As the environment says (`RUST_LIB_BACKTRACE`, then `RUST_BACKTRACE`).
    Env,
    Always,
    Never,
}

/// A [`Builder`] with no cause yet: [`cause`](Builder::cause) or
/// [`errors`](Builder::errors) may still be given (one of them, once).
pub struct NoCause;
/// A [`Builder`] that was given its cause.
pub struct WithCause;
/// A [`Builder`] that was given the children of a MultiError.
pub struct WithErrors;

/// Every option of a new [`VError`], node-verror's `new VError(options, ...)`.
///
/// A builder takes a cause ([`cause`](Builder::cause)) or the children of a
/// MultiError ([`errors`](Builder::errors)), at most one of them, once: the state in
/// its type makes a second one a compile error instead of a silently lost cause.
/// To add a name and fields to the error of a `Result`, hand a builder without a
/// cause to [`ResultExt::with_context`](crate::ResultExt::with_context), which fills
/// the cause in.
///
/// ```
/// use verror::VError;
///
/// let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "connection reset");
/// let err = VError::builder()
///     .name("ConnectionError")
///     .info("peer", "127.0.0.1:50412")
///     .info("conn_id", 7)
///     .cause(io)
///     .message(format_args!("connection {} lost", 7))
///     .build();
///
/// assert_eq!(err.name(), "ConnectionError");
/// assert_eq!(format!("{err:#}"), "connection 7 lost: connection reset");
/// assert_eq!(err.own_info().get("conn_id"), Some(&serde_json::json!(7)));
/// ```
///
/// ```compile_fail
/// # use verror::VError;
/// // A second cause does not compile.
/// let err = VError::builder().cause(VError::new("a")).cause(VError::new("b")).build();
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct Builder<S = NoCause> {
    name: Option<Cow<'static, str>>,
    message: Option<Cow<'static, str>>,
    info: Info,
    sources: Sources,
    skip_cause_message: bool,
    backtrace: BacktracePolicy,
    state: PhantomData<S>,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            name: None,
            message: None,
            info: Info::new(),
            sources: Sources::None,
            skip_cause_message: false,
            backtrace: BacktracePolicy::Env,
            state: PhantomData,
        }
    }
}

impl Builder<NoCause> {
    /// The cause: any error, a `VError` included (moved in as it is, never boxed twice).
    pub fn cause<E: Error + Send + Sync + 'static>(self, cause: E) -> Builder<WithCause> {
        self.with_sources(Sources::cause(cause))
    }

    /// The cause, already boxed (an `anyhow::Error` or `eyre::Report` converted with
    /// `into()`, say). A `VError` or an `io::Error` inside is unboxed; any other error
    /// answers to the name `"Error"`.
    pub fn cause_boxed(self, cause: Box<dyn Error + Send + Sync + 'static>) -> Builder<WithCause> {
        self.with_sources(Sources::boxed(cause))
    }

    /// Makes this error a MultiError holding `errors` (see [`VError::multi`]): its
    /// cause is the first, [`VError::errors`] gives them all. Unless set, the name is
    /// `"MultiError"` and the message `first of N errors`.
    pub fn errors(self, errors: impl IntoIterator<Item = VError>) -> Builder<WithErrors> {
        self.with_sources(Sources::Multi(errors.into_iter().collect()))
    }

    pub(crate) fn with_sources<T>(self, sources: Sources) -> Builder<T> {
        Builder {
            name: self.name,
            message: self.message,
            info: self.info,
            sources,
            skip_cause_message: self.skip_cause_message,
            backtrace: self.backtrace,
            state: PhantomData,
        }
    }
}

impl<S> Builder<S> {
    /// The error's name (default `"VError"`). An empty name keeps the default, as in
    /// node-verror.
    pub fn name(mut self, name: impl Into<Cow<'static, str>>) -> Builder<S> {
        let name = name.into();
        if !name.is_empty() {
            self.name = Some(name);
        }
        self
    }

    /// The error's own (short) message.
    pub fn message(mut self, message: impl Into<Message>) -> Builder<S> {
        self.message = Some(message.into().0);
        self
    }

    /// An info field: any `Serialize` value, stored as JSON. Setting a key again
    /// replaces its value. A value with no JSON form is stored as the text of why.
    pub fn info(mut self, key: impl Into<Cow<'static, str>>, value: impl Serialize) -> Builder<S> {
        self.info.insert(key, info::to_value(&value));
        self
    }

    /// A sensitive info field (a token, a password, personal data): every view of the
    /// error — `{:?}`, `{:#?}`, the JSON, the log records — shows `"[redacted]"`
    /// instead of its value, which stays readable in code through
    /// [`Info::reveal`](crate::Info::reveal). JSON lists the field under `sensitive`,
    /// so it stays redacted when read back.
    ///
    /// ```
    /// let err = verror::VError::builder()
    ///     .sensitive_info("token", "hunter2-hunter2-hunter2")
    ///     .info("user", "ann")
    ///     .message("login failed")
    ///     .build();
    /// assert!(!format!("{err:?}").contains("hunter2"));
    /// assert!(!serde_json::to_string(&err).unwrap().contains("hunter2"));
    /// assert_eq!(err.own_info().reveal("token"), Some(&serde_json::json!("hunter2-hunter2-hunter2")));
    /// ```
    pub fn sensitive_info(
        mut self,
        key: impl Into<Cow<'static, str>>,
        value: impl Serialize,
    ) -> Builder<S> {
        self.info.insert_sensitive(key, info::to_value(&value));
        self
    }

    /// Hides the cause's text from [`VError::message`] and `{:#}` (node-verror's
    /// `WError`, `skipCauseMessage`): the story a reader sees stops at this level,
    /// while the cause stays reachable through `source()`, info and lookups.
    pub fn skip_cause_message(mut self) -> Builder<S> {
        self.skip_cause_message = true;
        self
    }

    /// Forces a backtrace on (`true`) or off (`false`), whatever the environment says
    /// (which decides only at a chain's first level: see [`Backtrace`]). Wrapping an
    /// error whose chain already holds a backtrace never captures another.
    pub fn backtrace(mut self, capture: bool) -> Builder<S> {
        self.backtrace = if capture {
            BacktracePolicy::Always
        } else {
            BacktracePolicy::Never
        };
        self
    }

    /// Builds the error, recording the caller's location.
    #[track_caller]
    #[must_use]
    pub fn build(self) -> VError {
        let location = panic::Location::caller();
        self.build_at(location)
    }

    pub(crate) fn build_at(self, location: Caller) -> VError {
        let wanted = match self.backtrace {
            // As for `wrap`: the chain's first level decides.
            BacktracePolicy::Env => {
                !matches!(self.sources, Sources::VError(_) | Sources::Multi(_))
                    && backtrace::enabled_by_env()
            }
            BacktracePolicy::Always => true,
            BacktracePolicy::Never => false,
        };
        let default_message = match &self.sources {
            Sources::Multi(errors) => {
                let n = errors.len();
                let plural = if n == 1 { "" } else { "s" };
                Cow::Owned(format!("first of {n} error{plural}"))
            }
            _ => Cow::Borrowed(""),
        };
        let sources = self.sources;
        let short = self.message.unwrap_or(default_message);
        let (mut err, capture) = level(short, || sources, location, wanted);
        let mut info = self.info;
        record_spans(err.starts_chain(), &mut info);
        err.0.extra = Extra::new(self.name, info, capture.then(Backtrace::capture), None);
        err.0.skip_cause_message = self.skip_cause_message;
        err
    }
}

/// A new level, without its side box, and whether it is to capture a backtrace: it is
/// when `wanted`, unless the chain below holds one already (one per chain is enough;
/// the flag answers without a walk).
#[inline(always)]
fn level(
    short: Cow<'static, str>,
    sources: impl FnOnce() -> Sources,
    location: Caller,
    wanted: bool,
) -> (VError, bool) {
    // The box first: the record's fields are then written straight into it, not
    // assembled on the stack and copied. The sources are made after it (a `VError` or
    // an `io::Error` cause is one word until then, the sources three: fewer values
    // kept across the call); the side box after the record (nothing kept across that
    // call).
    let slot = Box::new_uninit();
    let sources = sources();
    let below = sources.below();
    let capture = wanted && !below.backtrace;
    let err = VError(Box::write(
        slot,
        Inner {
            short,
            sources,
            location: Some(location),
            extra: None,
            backtrace_below: below.backtrace || wanted,
            drop_depth: below.drop_depth,
            skip_cause_message: false,
            transparent: false,
        },
    ));
    (err, capture)
}

/// A level with a message and maybe a cause, nothing else (`new`, `wrap`, `?`): its
/// side box, rare, is made out of line.
#[inline(always)]
fn plain(short: Cow<'static, str>, sources: impl FnOnce() -> Sources, location: Caller) -> VError {
    let (mut err, capture) = level(short, sources, location, backtrace::enabled_by_env());
    if capture || cfg!(feature = "tracing") {
        err.0.extra = plain_side_box(capture, err.starts_chain());
    }
    err
}

/// A level over a `VError` cause, with a message (`wrap`, `context`): the chain below
/// decided on a backtrace at its first level, so there is nothing to decide but the
/// flags it passes up.
#[inline(always)]
fn over(cause: VError, short: Cow<'static, str>, location: Caller) -> VError {
    let slot = Box::new_uninit();
    let below = Below::of(&cause);
    VError(Box::write(
        slot,
        Inner {
            short,
            sources: Sources::VError(cause),
            location: Some(location),
            extra: None,
            backtrace_below: below.backtrace,
            drop_depth: below.drop_depth,
            skip_cause_message: false,
            transparent: false,
        },
    ))
}

/// A level over any other cause, with a message (kept out of the callers' line).
#[inline(never)]
fn wrap_foreign<E: Error + Send + Sync + 'static>(
    cause: E,
    message: Message,
    location: Caller,
) -> VError {
    plain(message.0, || Sources::cause(cause), location)
}

#[inline(never)]
fn plain_side_box(capture: bool, first: bool) -> Option<Box<Extra>> {
    let mut info = Info::new();
    record_spans(first, &mut info);
    Extra::new(None, info, capture.then(Backtrace::capture), None)
}

/// With the `tracing` feature and the layer's `spans_in_errors` on: an error made inside spans
/// records them in its info, once per chain: at its `first` `VError` (the one whose
/// causes are not `VError`s).
#[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
fn record_spans(first: bool, info: &mut Info) {
    #[cfg(feature = "tracing")]
    if first
        && !info.contains_key(crate::layer::SPANS_KEY)
        && let Some(spans) = crate::layer::current_spans()
    {
        info.insert(crate::layer::SPANS_KEY, spans);
    }
}

impl VError {
    /// A root error with a message.
    ///
    /// ```
    /// let err = verror::VError::new("disk full");
    /// assert_eq!(format!("{err:#}"), "disk full");
    /// ```
    #[track_caller]
    #[inline]
    pub fn new(message: impl Into<Message>) -> VError {
        // What `Builder::default().message(message).build()` makes, without moving a
        // builder through three calls: this is every `verror!`'s path.
        let location = panic::Location::caller();
        plain(message.into().0, || Sources::None, location)
    }

    /// An error with a message and a cause (node-verror's `new VError(cause, msg)`).
    ///
    /// ```
    /// use verror::VError;
    /// let err = VError::wrap(VError::new("root cause"), "proximate cause");
    /// assert_eq!(format!("{err:#}"), "proximate cause: root cause");
    /// ```
    #[track_caller]
    #[inline]
    pub fn wrap<E: Error + Send + Sync + 'static>(cause: E, message: impl Into<Message>) -> VError {
        // As `Builder::default().cause(cause).message(message).build()`, directly: the
        // path of `context` and `with_context`. Which arm is taken is known where `E`
        // is: a `VError` cause takes the short one, inlined.
        let location = panic::Location::caller();
        if TypeId::of::<E>() != TypeId::of::<VError>() {
            return wrap_foreign(cause, message.into(), location);
        }
        match Sources::cause(cause) {
            Sources::VError(cause) => over(cause, message.into().0, location),
            // Not taken: `E` is `VError`.
            sources => plain(message.into().0, || sources, location),
        }
    }

    /// A `VError` that stands for `error` (what `?` makes through `From`): it prints as
    /// `error` (`{}` is its text, [`name`](VError::name) its type's name), `source()`
    /// continues with `error`'s own source, and typed lookup finds `error` here. A
    /// `VError` is returned as it is.
    #[track_caller]
    pub(crate) fn transparent<E: Error + Send + Sync + 'static>(error: E) -> VError {
        let location = panic::Location::caller();
        match Sources::cause(error) {
            Sources::VError(verror) => verror,
            cause => VError::from_transparent_cause(cause, location),
        }
    }

    pub(crate) fn from_transparent_cause(cause: Sources, location: Caller) -> VError {
        let mut err = plain(Cow::Borrowed(""), || cause, location);
        err.0.transparent = true;
        err
    }

    /// A builder for every option: name, cause, info fields, skipping the cause's
    /// message, backtrace on or off.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// A MultiError: several errors as one, node-verror's `new MultiError(errors)`. Its
    /// message is `first of N errors: ` followed by the first error's message, its
    /// cause is the first error, and [`errors`](VError::errors) gives them all. See
    /// [`error_from_list`](crate::error_from_list) to get back a lone error unchanged.
    ///
    /// ```
    /// use verror::VError;
    /// let multi = VError::multi(vec![VError::new("error one"), VError::new("error two")]);
    /// assert_eq!(multi.name(), "MultiError");
    /// assert_eq!(format!("{multi:#}"), "first of 2 errors: error one");
    /// ```
    #[track_caller]
    pub fn multi(errors: impl IntoIterator<Item = VError>) -> VError {
        Builder::default().errors(errors).build()
    }
}

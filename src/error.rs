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
///
/// Kept lean for the everyday path (create, wrap, print): what most errors never have
/// (a backtrace) lives in a side box, and the common foreign cause (`io::Error`) is
/// held inline rather than boxed a second time.
pub(crate) struct Inner {
    pub(crate) name: Cow<'static, str>,
    pub(crate) short: Cow<'static, str>,
    pub(crate) info: Info,
    pub(crate) sources: Sources,
    pub(crate) location: Option<Location>,
    pub(crate) backtrace: Option<Box<Backtrace>>,
    pub(crate) skip_cause_message: bool,
    /// This level stands for its foreign cause (made by `From`, the `?` path): it
    /// prints as that error, and `source()` continues below it.
    pub(crate) transparent: bool,
    /// This level or one below holds a backtrace, so a new level above captures none
    /// without walking the chain (wrapping stays O(1) at any depth).
    pub(crate) backtrace_below: bool,
    /// How many `VError` levels dropping this one goes down through, field by field,
    /// before one that unlinks its own chain: at most [`SHALLOW`], else [`DEEP`] and
    /// this level unlinks the chain below it ([`Sources::below`]).
    pub(crate) drop_depth: u8,
}

/// The deepest a level's drop goes down through the levels below it field by field:
/// the everyday chains, a few levels deep, drop with no unlinking at all.
const SHALLOW: u8 = 16;
/// A level whose drop unlinks the chain below it.
const DEEP: u8 = u8::MAX;

/// What lies beneath one level.
pub(crate) enum Sources {
    /// A root error.
    None,
    /// A single cause.
    Cause(Cause),
    /// The children of a MultiError; `source()` is the first. (A boxed slice, not a
    /// `Vec`: one word less keeps the record at 128 bytes, which is moved without a
    /// call to `memcpy`.)
    Multi(Box<[VError]>),
}

/// A cause: another `VError` (stored as is, never boxed twice), an `io::Error` (held
/// inline: one word), or any other error with the name of its Rust type.
pub(crate) enum Cause {
    VError(VError),
    Io(std::io::Error),
    Foreign(Box<dyn Foreign>),
}

/// A foreign error with the name of its Rust type, in one allocation.
pub(crate) trait Foreign: Send + Sync + 'static {
    fn name(&self) -> &'static str;
    fn error(&self) -> &(dyn Error + Send + Sync + 'static);
}

struct Typed<E>(E);

impl<E: Error + Send + Sync + 'static> Foreign for Typed<E> {
    fn name(&self) -> &'static str {
        crate::chain::type_name_of::<E>()
    }
    fn error(&self) -> &(dyn Error + Send + Sync + 'static) {
        &self.0
    }
}

/// An error boxed by its producer (`Box<dyn Error>`, `anyhow::Error` into a box): its
/// type is unknown, so it answers to the name `Error`.
struct Boxed(Box<dyn Error + Send + Sync + 'static>);

impl Foreign for Boxed {
    fn name(&self) -> &'static str {
        crate::chain::FOREIGN_NAME
    }
    fn error(&self) -> &(dyn Error + Send + Sync + 'static) {
        &*self.0
    }
}

impl Cause {
    /// Takes any error as a cause; a `VError` is moved in as it is, an `io::Error`
    /// inline.
    pub(crate) fn new<E: Error + Send + Sync + 'static>(error: E) -> Cause {
        let mut slot = Some(error);
        let any = &mut slot as &mut dyn std::any::Any;
        if let Some(verror) = any.downcast_mut::<Option<VError>>() {
            if let Some(verror) = verror.take() {
                return Cause::VError(verror);
            }
        } else if let Some(io) = any.downcast_mut::<Option<std::io::Error>>()
            && let Some(io) = io.take()
        {
            return Cause::Io(io);
        }
        match slot {
            Some(error) => Cause::Foreign(Box::new(Typed(error))),
            // Unreachable: only the branches above take the value out.
            None => Cause::VError(VError::new("")),
        }
    }

    /// A boxed error: a `VError` inside is unboxed, anything else answers to `Error`.
    pub(crate) fn boxed(error: Box<dyn Error + Send + Sync + 'static>) -> Cause {
        match error.downcast::<VError>() {
            Ok(verror) => Cause::VError(*verror),
            Err(error) => match error.downcast::<std::io::Error>() {
                Ok(io) => Cause::Io(*io),
                Err(error) => Cause::Foreign(Box::new(Boxed(error))),
            },
        }
    }

    pub(crate) fn as_error(&self) -> &(dyn Error + Send + Sync + 'static) {
        match self {
            Cause::VError(verror) => verror,
            Cause::Io(io) => io,
            Cause::Foreign(foreign) => foreign.error(),
        }
    }

    /// The name of a foreign cause's Rust type (`None` for a `VError`).
    pub(crate) fn foreign_name(&self) -> Option<&'static str> {
        match self {
            Cause::VError(_) => None,
            Cause::Io(_) => Some("io::Error"),
            Cause::Foreign(foreign) => Some(foreign.name()),
        }
    }
}

/// Whether the first `VError` in a run of foreign errors holds a backtrace (kept out of
/// the wrapping path's line: foreign causes other than `io::Error` are the rare case).
#[inline(never)]
fn foreign_run_has_backtrace(foreign: &(dyn Error + 'static)) -> bool {
    /// How far into a foreign run to look for the next `VError` (past it, a second
    /// backtrace may be captured: harmless, and the cost stays constant).
    const FOREIGN_RUN: usize = 8;
    crate::chain::chain(foreign)
        .skip(1)
        .take(FOREIGN_RUN)
        .find_map(|e| e.downcast_ref::<VError>())
        .is_some_and(|v| v.0.backtrace_below)
}

/// What a new level learns of the chain below it, in one look and in O(1) (a `VError`
/// answers for everything below it).
pub(crate) struct Below {
    /// A backtrace is held somewhere below ([`Inner::backtrace_below`]).
    pub(crate) backtrace: bool,
    /// The new level's [`Inner::drop_depth`].
    pub(crate) drop_depth: u8,
}

impl Sources {
    /// What a level above these sources needs to know of them.
    #[inline]
    pub(crate) fn below(&self) -> Below {
        let verror = match self {
            Sources::None => None,
            Sources::Cause(Cause::VError(verror)) => Some(verror),
            // `io::Error::other(verror)` hides the VError from `source()` (it reports
            // the VError's own source): look inside.
            Sources::Cause(Cause::Io(io)) => io.get_ref().and_then(|e| e.downcast_ref::<VError>()),
            // A `VError` inside a foreign error unlinks its own chain when deep.
            Sources::Cause(Cause::Foreign(foreign)) => {
                return Below {
                    backtrace: foreign_run_has_backtrace(foreign.error()),
                    drop_depth: 0,
                };
            }
            Sources::Multi(errors) => {
                return Below {
                    backtrace: errors.iter().any(|e| e.0.backtrace_below),
                    drop_depth: DEEP,
                };
            }
        };
        match verror {
            None => Below {
                backtrace: false,
                drop_depth: 0,
            },
            Some(verror) => Below {
                backtrace: verror.0.backtrace_below,
                drop_depth: match verror.0.drop_depth {
                    depth if depth < SHALLOW => depth + 1,
                    _ => DEEP,
                },
            },
        }
    }
}

impl VError {
    pub(crate) const DEFAULT_NAME: &'static str = "VError";
    pub(crate) const MULTI_NAME: &'static str = "MultiError";

    #[inline]
    pub(crate) fn from_inner(inner: Inner) -> VError {
        VError(Box::new(inner))
    }

    /// The error's name: `"VError"` by default, `"MultiError"` for an aggregate,
    /// whatever [`Builder::name`](crate::Builder::name) set, or, for an error converted
    /// by `?` (`From`), the name of the converted error's type (`io::Error`).
    ///
    /// ```
    /// let err = verror::VError::builder().name("ConfigError").message("bad config").build();
    /// assert_eq!(err.name(), "ConfigError");
    /// assert_eq!(verror::VError::new("x").name(), "VError");
    /// ```
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// This level's own message, without any cause's text (what `{}` prints). Empty
    /// for an error converted by `?` (`From`), which prints as the error it holds.
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
        self.0.backtrace.as_deref()
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

    /// The cause of this level as `source()` gives it: for a MultiError its first
    /// child; for a level made by `From`, the source of the error it stands for.
    pub(crate) fn cause(&self) -> Option<&(dyn Error + 'static)> {
        match &self.0.sources {
            Sources::None => None,
            Sources::Cause(cause) if self.0.transparent => cause.as_error().source(),
            Sources::Cause(cause) => Some(cause.as_error()),
            Sources::Multi(errors) => errors.first().map(|e| e as _),
        }
    }

    /// [`cause`](VError::cause) when it is a `VError`, known without a type check.
    pub(crate) fn cause_verror(&self) -> Option<&VError> {
        match &self.0.sources {
            Sources::Cause(Cause::VError(cause)) if !self.0.transparent => Some(cause),
            Sources::Multi(errors) => errors.first(),
            _ => None,
        }
    }

    /// The error a level made by `From` stands for.
    pub(crate) fn held(&self) -> Option<&(dyn Error + Send + Sync + 'static)> {
        match &self.0.sources {
            Sources::Cause(cause) if self.0.transparent => Some(cause.as_error()),
            _ => None,
        }
    }

    /// The name recorded for this level's direct foreign cause, if it has one.
    pub(crate) fn foreign_cause_name(&self) -> Option<&'static str> {
        match &self.0.sources {
            Sources::Cause(cause) if !self.0.transparent => cause.foreign_name(),
            _ => None,
        }
    }
}

impl Error for VError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.cause()
    }
}

impl Drop for Inner {
    // A short chain drops field by field. Past `SHALLOW` levels (and below every
    // MultiError) a level unlinks the chain below it level by level (MultiErrors
    // nested in MultiErrors, VErrors under an `io::Error` under a VError), so a drop
    // never goes deeper than `SHALLOW` levels, whatever the chain's depth.
    #[inline]
    fn drop(&mut self) {
        // A backtrace is rare and its drop is long: out of line, so that the check
        // alone is inlined into every level's drop.
        if let Some(backtrace) = self.backtrace.take() {
            drop_backtrace(backtrace);
        }
        if self.drop_depth == DEEP {
            unlink(std::mem::replace(&mut self.sources, Sources::None));
        }
    }
}

#[cold]
#[inline(never)]
fn drop_backtrace(backtrace: Box<Backtrace>) {
    drop(backtrace);
}

/// Drops what lies below a level one level at a time (kept out of line: most levels
/// drop with nothing deep below them).
#[inline(never)]
fn unlink(sources: Sources) {
    // Only MultiErrors need a list of what is left; a plain chain is followed in place.
    let mut pending: Vec<Sources> = Vec::new();
    let mut next = sources;
    loop {
        next = match next {
            Sources::Cause(Cause::VError(mut v)) => {
                std::mem::replace(&mut v.0.sources, Sources::None)
            }
            Sources::Cause(Cause::Io(io)) => {
                match io.into_inner().map(|e| e.downcast::<VError>()) {
                    Some(Ok(mut v)) => std::mem::replace(&mut v.0.sources, Sources::None),
                    _ => Sources::None,
                }
            }
            Sources::Multi(children) => {
                for mut child in children {
                    pending.push(std::mem::replace(&mut child.0.sources, Sources::None));
                }
                Sources::None
            }
            Sources::None | Sources::Cause(Cause::Foreign(_)) => match pending.pop() {
                Some(sources) => sources,
                None => break,
            },
        };
    }
}

#[cfg(test)]
mod tests {
    use super::{DEEP, SHALLOW, VError};
    use std::io;

    /// At 128 bytes or less the record is moved into its box without a call to
    /// `memcpy`: a field that grows it costs every create and every wrap.
    #[cfg(target_pointer_width = "64")]
    #[test]
    fn the_record_fits_in_128_bytes() {
        assert!(std::mem::size_of::<super::Inner>() <= 128);
    }

    /// A drop goes down field by field through at most `SHALLOW` levels: past them a
    /// level unlinks, and so does every level above a MultiError.
    #[test]
    fn a_level_unlinks_once_the_chain_below_is_deeper_than_shallow() {
        let mut err = VError::new("root");
        assert_eq!(err.0.drop_depth, 0);
        for depth in 1..=usize::from(SHALLOW) + 2 {
            err = VError::wrap(err, "wrapped");
            let expected = if depth <= usize::from(SHALLOW) {
                depth as u8
            } else {
                DEEP
            };
            assert_eq!(err.0.drop_depth, expected, "{depth} levels below");
        }
        // An io::Error that holds a VError counts that VError's levels.
        let held = VError::wrap(VError::new("root"), "inside");
        let through_io = VError::wrap(io::Error::other(held), "outside");
        assert_eq!(through_io.0.drop_depth, 2);
        // An io::Error with anything else inside counts as the end (as any other
        // foreign error does: a VError inside one unlinks its own chain when deep).
        let plain_io = VError::wrap(io::Error::other("disk"), "outside");
        assert_eq!(plain_io.0.drop_depth, 0);
        assert_eq!(VError::multi([VError::new("a")]).0.drop_depth, DEEP);
    }
}

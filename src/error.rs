//! `VError` itself: one machine word pointing at the record of one level of a chain.

use std::borrow::Cow;
use std::error::Error;

use crate::backtrace::Backtrace;
use crate::info::Info;
use crate::location::{Caller, Location};

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
/// Kept lean for the everyday path (create, wrap, print: a message, a cause, a
/// location): what a plain level never has (a name of its own, info fields, a
/// backtrace) lives in one side box, and the common foreign cause (`io::Error`) is held
/// inline rather than boxed a second time. Every field is written by each create and
/// each wrap, and checked by each drop.
pub(crate) struct Inner {
    pub(crate) short: Cow<'static, str>,
    /// Where it was made; `None` for a level read back from JSON, whose location's
    /// text, if it had one, is in the side box.
    pub(crate) location: Option<Caller>,
    pub(crate) extra: Option<Box<Extra>>,
    /// Last: fields drop in this order, and the cause's drop then ends this one's.
    pub(crate) sources: Sources,
    pub(crate) skip_cause_message: bool,
    /// This level stands for its foreign cause (made by `From`, the `?` path): it
    /// prints as that error, and `source()` continues below it.
    pub(crate) transparent: bool,
    /// This level or one below holds a backtrace, so a new level above captures none
    /// without walking the chain (wrapping stays O(1) at any depth).
    pub(crate) backtrace_below: bool,
    /// How many `VError` levels lie below this one, counted up to [`DEEP`] (a
    /// MultiError counts as `DEEP`): past [`SHALLOW`], this level's drop unlinks the
    /// chain below it ([`Sources::below`]).
    pub(crate) drop_depth: u8,
}

/// The side box of a level: what a plain level (a message and a cause) never has.
#[derive(Default)]
pub(crate) struct Extra {
    /// A name set by the builder or read back from JSON; without one a level answers
    /// to the name its kind implies ([`VError::name`]).
    pub(crate) name: Option<Cow<'static, str>>,
    pub(crate) info: Info,
    /// Boxed: a name and fields, the usual contents, keep the side box small.
    pub(crate) backtrace: Option<Box<Backtrace>>,
    /// The location of a level read back from JSON, as it was written.
    pub(crate) location: Option<Box<str>>,
}

impl Extra {
    /// The side box, when there is anything to put in it.
    pub(crate) fn new(
        name: Option<Cow<'static, str>>,
        info: Info,
        backtrace: Option<Backtrace>,
        location: Option<Box<str>>,
    ) -> Option<Box<Extra>> {
        if name.is_none() && info.is_empty() && backtrace.is_none() && location.is_none() {
            None
        } else {
            Some(Box::new(Extra {
                name,
                info,
                backtrace: backtrace.map(Box::new),
                location,
            }))
        }
    }
}

/// The deepest a level's drop goes down through the levels below it field by field:
/// the everyday chains, a few levels deep, drop with no unlinking at all.
const SHALLOW: u8 = 16;
/// The most [`Inner::drop_depth`] counts (and what a MultiError counts as).
const DEEP: u8 = u8::MAX;

/// What lies beneath one level: nothing, one cause, or the children of a MultiError.
///
/// A cause is another `VError` (stored as is, never boxed twice), an `io::Error` (held
/// inline: one word), or any other error with the name of its Rust type. One enum,
/// not an enum of causes inside one of sources: every drop and every walk decides on
/// one tag.
pub(crate) enum Sources {
    /// A root error.
    None,
    VError(VError),
    Io(std::io::Error),
    Foreign(ForeignBox),
    /// The children of a MultiError; `source()` is the first.
    Multi(Children),
}

/// The children of a MultiError: a boxed slice (one word less than a `Vec`, and every
/// record pays for the largest of [`Sources`]), dropped out of line, so that every
/// level's drop does not carry the loop over them (the MultiError's own drop unlinks
/// them anyway, see [`Inner::drop_depth`]).
pub(crate) struct Children(Box<[VError]>);

impl std::ops::Deref for Children {
    type Target = [VError];

    fn deref(&self) -> &[VError] {
        &self.0
    }
}

impl From<Vec<VError>> for Children {
    fn from(errors: Vec<VError>) -> Children {
        Children(errors.into_boxed_slice())
    }
}

impl FromIterator<VError> for Children {
    fn from_iter<I: IntoIterator<Item = VError>>(errors: I) -> Children {
        Children(errors.into_iter().collect())
    }
}

impl Drop for Children {
    #[inline]
    fn drop(&mut self) {
        drop_children(std::mem::take(&mut self.0));
    }
}

#[inline(never)]
fn drop_children(children: Box<[VError]>) {
    drop(children);
}

/// A foreign error, dropped out of line (its drop, a call through its vtable, would
/// cost every level's drop two registers kept across it).
pub(crate) struct ForeignBox(Box<dyn Foreign>);

impl std::ops::Deref for ForeignBox {
    type Target = dyn Foreign;

    fn deref(&self) -> &dyn Foreign {
        &*self.0
    }
}

impl Drop for ForeignBox {
    #[inline]
    fn drop(&mut self) {
        // A zero-sized stand-in: boxing it allocates nothing, dropping it does nothing.
        drop_foreign(std::mem::replace(&mut self.0, Box::new(Dropped)));
    }
}

#[inline(never)]
fn drop_foreign(foreign: Box<dyn Foreign>) {
    drop(foreign);
}

/// What a dropped [`ForeignBox`] holds while its own drop ends.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("dropped")
    }
}

impl Error for Dropped {}

impl Foreign for Dropped {
    fn name(&self) -> &'static str {
        crate::chain::FOREIGN_NAME
    }
    fn error(&self) -> &(dyn Error + Send + Sync + 'static) {
        self
    }
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

impl Sources {
    /// Any error as a cause; a `VError` is moved in as it is, an `io::Error` inline.
    pub(crate) fn cause<E: Error + Send + Sync + 'static>(error: E) -> Sources {
        let mut slot = Some(error);
        let any = &mut slot as &mut dyn std::any::Any;
        if let Some(verror) = any.downcast_mut::<Option<VError>>() {
            if let Some(verror) = verror.take() {
                return Sources::VError(verror);
            }
        } else if let Some(io) = any.downcast_mut::<Option<std::io::Error>>()
            && let Some(io) = io.take()
        {
            return Sources::Io(io);
        }
        match slot {
            Some(error) => Sources::Foreign(ForeignBox(Box::new(Typed(error)))),
            // Unreachable: only the branches above take the value out.
            None => Sources::None,
        }
    }

    /// A boxed error as a cause: a `VError` inside is unboxed, anything else answers
    /// to `Error`.
    pub(crate) fn boxed(error: Box<dyn Error + Send + Sync + 'static>) -> Sources {
        match error.downcast::<VError>() {
            Ok(verror) => Sources::VError(*verror),
            Err(error) => match error.downcast::<std::io::Error>() {
                Ok(io) => Sources::Io(*io),
                Err(error) => Sources::Foreign(ForeignBox(Box::new(Boxed(error)))),
            },
        }
    }

    /// The name a level over these sources keeps of the `name` it is read back with
    /// (from JSON, or fitted to a budget): none when it is the one such a level implies
    /// (the default names, read a million times in a wide MultiError, cost nothing).
    pub(crate) fn name_to_keep(&self, name: String) -> Option<Cow<'static, str>> {
        let implied = match self {
            Sources::Multi(_) => VError::MULTI_NAME,
            _ => VError::DEFAULT_NAME,
        };
        (name != implied).then_some(Cow::Owned(name))
    }

    /// The cause, when these sources are a single one.
    pub(crate) fn single(&self) -> Option<&(dyn Error + Send + Sync + 'static)> {
        match self {
            Sources::VError(verror) => Some(verror),
            Sources::Io(io) => Some(io),
            Sources::Foreign(foreign) => Some(foreign.error()),
            Sources::None | Sources::Multi(_) => None,
        }
    }

    /// The name of a foreign cause's Rust type (`None` for anything else).
    pub(crate) fn foreign_name(&self) -> Option<&'static str> {
        match self {
            Sources::Io(_) => Some("io::Error"),
            Sources::Foreign(foreign) => Some(foreign.name()),
            Sources::None | Sources::VError(_) | Sources::Multi(_) => None,
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
            Sources::VError(verror) => Some(verror),
            // `io::Error::other(verror)` hides the VError from `source()` (it reports
            // the VError's own source): look inside. (The size, read from the vtable,
            // rules out most payloads without the type check's call.)
            Sources::Io(io) => io
                .get_ref()
                .filter(|e| std::mem::size_of_val(*e) == std::mem::size_of::<VError>())
                .and_then(|e| e.downcast_ref::<VError>()),
            // A `VError` inside a foreign error unlinks its own chain when deep.
            Sources::Foreign(foreign) => {
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
            Some(verror) => Below::of(verror),
        }
    }
}

impl Below {
    /// What a level over `verror` learns of it.
    #[inline(always)]
    pub(crate) fn of(verror: &VError) -> Below {
        Below {
            backtrace: verror.0.backtrace_below,
            drop_depth: verror.0.drop_depth.saturating_add(1),
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
        match self.extra().and_then(|extra| extra.name.as_deref()) {
            Some(name) => name,
            None => self.implied_name(),
        }
    }

    /// Whether this level has a name of its own (set by the builder, or read back).
    pub(crate) fn has_own_name(&self) -> bool {
        self.extra().is_some_and(|extra| extra.name.is_some())
    }

    /// The name a level without one of its own answers to: its kind's.
    fn implied_name(&self) -> &'static str {
        match &self.0.sources {
            Sources::Multi(_) => VError::MULTI_NAME,
            sources if self.0.transparent => {
                sources.foreign_name().unwrap_or(crate::chain::FOREIGN_NAME)
            }
            _ => VError::DEFAULT_NAME,
        }
    }

    /// Whether this level starts a chain of `VError`s: its causes, if any, are not
    /// `VError`s (where a chain records what is known once per chain, its spans).
    pub(crate) fn starts_chain(&self) -> bool {
        !matches!(self.0.sources, Sources::VError(_) | Sources::Multi(_))
    }

    /// The side box, when this level has one.
    #[inline]
    pub(crate) fn extra(&self) -> Option<&Extra> {
        self.0.extra.as_deref()
    }

    /// The side box, made empty when this level had none.
    pub(crate) fn extra_mut(&mut self) -> &mut Extra {
        self.0.extra.get_or_insert_with(Box::default)
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
        static NONE: Info = Info::new();
        self.extra().map_or(&NONE, |extra| &extra.info)
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
        self.extra().and_then(|extra| extra.backtrace.as_deref())
    }

    /// Where this error was created (`#[track_caller]`), or the location read back from
    /// JSON. `None` only for errors deserialized without one.
    ///
    /// ```
    /// let err = verror::VError::new("oops");
    /// assert_eq!(err.location().unwrap().file(), file!());
    /// ```
    pub fn location(&self) -> Option<Location<'_>> {
        match self.0.location {
            Some(caller) => Some(Location::caller(caller)),
            None => self.extra()?.location.as_deref().map(Location::text),
        }
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
            Sources::Multi(errors) => errors.first().map(|e| e as _),
            sources if self.0.transparent => sources.single()?.source(),
            sources => sources.single().map(|e| e as _),
        }
    }

    /// [`cause`](VError::cause) when it is a `VError`, known without a type check.
    pub(crate) fn cause_verror(&self) -> Option<&VError> {
        match &self.0.sources {
            Sources::VError(cause) if !self.0.transparent => Some(cause),
            Sources::Multi(errors) => errors.first(),
            _ => None,
        }
    }

    /// The error a level made by `From` stands for.
    pub(crate) fn held(&self) -> Option<&(dyn Error + Send + Sync + 'static)> {
        if self.0.transparent {
            self.0.sources.single()
        } else {
            None
        }
    }

    /// The name recorded for this level's direct foreign cause, if it has one.
    pub(crate) fn foreign_cause_name(&self) -> Option<&'static str> {
        if self.0.transparent {
            None
        } else {
            self.0.sources.foreign_name()
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
        // A side box is rare on the everyday path and its drop is long: out of line,
        // so that the check alone is inlined into every level's drop.
        if let Some(extra) = self.extra.take() {
            drop_extra(extra);
        }
        if self.drop_depth > SHALLOW {
            unlink(std::mem::replace(&mut self.sources, Sources::None));
        }
    }
}

#[inline(never)]
fn drop_extra(extra: Box<Extra>) {
    drop(extra);
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
            Sources::VError(mut v) => std::mem::replace(&mut v.0.sources, Sources::None),
            Sources::Io(io) => match io.into_inner().map(|e| e.downcast::<VError>()) {
                Some(Ok(mut v)) => std::mem::replace(&mut v.0.sources, Sources::None),
                _ => Sources::None,
            },
            Sources::Multi(mut children) => {
                for mut child in std::mem::take(&mut children.0) {
                    pending.push(std::mem::replace(&mut child.0.sources, Sources::None));
                }
                Sources::None
            }
            Sources::None | Sources::Foreign(_) => match pending.pop() {
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

    /// Every create and every wrap writes each word of the record, and every drop
    /// checks each field: a field that grows it costs the everyday path (what a plain
    /// level never has belongs in the side box).
    #[cfg(target_pointer_width = "64")]
    #[test]
    fn the_record_is_nine_words() {
        assert_eq!(std::mem::size_of::<super::Inner>(), 72);
    }

    /// The side box of a level with a name and fields (the usual contents) is nine
    /// words: a backtrace, rare, is boxed apart.
    #[cfg(target_pointer_width = "64")]
    #[test]
    fn the_side_box_is_nine_words() {
        assert_eq!(std::mem::size_of::<super::Extra>(), 72);
    }

    /// A drop goes down field by field through at most `SHALLOW` levels: past them a
    /// level unlinks, and so does every level above a MultiError.
    #[test]
    fn a_level_unlinks_once_the_chain_below_is_deeper_than_shallow() {
        let mut err = VError::new("root");
        assert_eq!(err.0.drop_depth, 0);
        for depth in 1..=300usize {
            err = VError::wrap(err, "wrapped");
            let expected = u8::try_from(depth).unwrap_or(DEEP);
            assert_eq!(err.0.drop_depth, expected, "{depth} levels below");
            assert_eq!(err.0.drop_depth > SHALLOW, depth > usize::from(SHALLOW));
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

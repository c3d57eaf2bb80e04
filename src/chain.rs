//! Walking any `&dyn Error` chain: iteration, typed and by-name lookup, level names.

use std::borrow::Cow;
use std::error::Error;
use std::fmt::{self, Write as _};

use arrayvec::ArrayString;

use crate::VError;
use crate::error::Sources;

/// An iterator over an error and its causes, outermost first, following
/// [`Error::source`]. Made by [`chain`].
#[derive(Clone)]
pub struct Chain<'a> {
    next: Option<&'a (dyn Error + 'static)>,
}

impl<'a> Iterator for Chain<'a> {
    type Item = &'a (dyn Error + 'static);

    fn next(&mut self) -> Option<Self::Item> {
        let current = self.next?;
        self.next = current.source();
        Some(current)
    }
}

impl std::iter::FusedIterator for Chain<'_> {}

/// The error itself, then each cause in turn (node-verror's `VError.cause()` loop).
/// A MultiError's cause is its first child.
///
/// ```
/// use verror::ResultExt;
/// let err = "x".parse::<u8>().context("bad port").context("bad config").unwrap_err();
/// let texts: Vec<String> = verror::chain(&err).map(|e| e.to_string()).collect();
/// assert_eq!(texts, ["bad config", "bad port", "invalid digit found in string"]);
/// ```
pub fn chain<'a>(err: &'a (dyn Error + 'static)) -> Chain<'a> {
    Chain { next: Some(err) }
}

/// One level of a chain with the name it answers to.
#[derive(Clone, Copy)]
pub(crate) struct Level<'a> {
    pub(crate) error: &'a (dyn Error + 'static),
    pub(crate) name: &'a str,
    /// `error` as a `VError`, looked up once: every walk asks at each level.
    verror: Option<&'a VError>,
}

impl<'a> Level<'a> {
    /// A level whose name is known: a `VError`'s own, else `name` (or `"Error"`).
    pub(crate) fn new(error: &'a (dyn Error + 'static), name: Option<&'a str>) -> Level<'a> {
        match error.downcast_ref::<VError>() {
            Some(verror) => Level::of(verror),
            None => Level {
                error,
                name: name.unwrap_or(FOREIGN_NAME),
                verror: None,
            },
        }
    }

    /// A `VError`'s level.
    pub(crate) fn of(verror: &'a VError) -> Level<'a> {
        Level {
            error: verror,
            name: verror.name(),
            verror: Some(verror),
        }
    }

    pub(crate) fn verror(&self) -> Option<&'a VError> {
        self.verror
    }

    /// Whether the name needs no escaping in JSON: one a level's kind implies or a
    /// Rust type's, not one set by the builder or read back.
    pub(crate) fn name_is_plain(&self) -> bool {
        self.verror.is_none_or(|verror| !verror.has_own_name())
    }

    /// The level below, named from what this level recorded about it.
    #[inline]
    pub(crate) fn cause(&self) -> Option<Level<'a>> {
        match self.verror {
            Some(verror) => match verror.cause_verror() {
                Some(cause) => Some(Level::of(cause)),
                None => Some(Level::new(verror.cause()?, verror.foreign_cause_name())),
            },
            None => Some(Level::new(self.error.source()?, None)),
        }
    }

    /// This level's own message: a `VError`'s short message, or the text of the
    /// error it stands for (made by `From`), or a foreign error's `Display`.
    pub(crate) fn own_text(self) -> OwnText<'a> {
        OwnText(self)
    }

    /// The length of [`own_text`](Level::own_text), without keeping it.
    pub(crate) fn text_len(&self) -> usize {
        match self.verror() {
            Some(verror) if verror.held().is_none() => verror.short_message().len(),
            _ => {
                let mut counter = Counter(0);
                self.write_own_text(&mut counter);
                counter.0
            }
        }
    }

    /// [`own_text`](Level::own_text) as a string, borrowed where it can be.
    pub(crate) fn text(&self) -> Cow<'a, str> {
        match self.verror() {
            Some(verror) if verror.held().is_none() => Cow::Borrowed(verror.short_message()),
            _ => {
                let mut text = String::new();
                self.write_own_text(&mut text);
                Cow::Owned(text)
            }
        }
    }
}

/// One level's own text, formatted once and kept on the stack for the other writers of
/// the same output: a chain's root cause is most often a foreign error (an
/// `io::Error`), whose `Display` would otherwise run once for the JSON's size check,
/// once for the root `message` and once for the level's `short_message`.
pub(crate) struct KnownText<'a> {
    level: Option<&'a (dyn Error + 'static)>,
    text: ArrayString<KNOWN_TEXT_MAX>,
}

/// The longest text a [`KnownText`] keeps (a longer one is formatted at each use).
const KNOWN_TEXT_MAX: usize = 256;

impl<'a> KnownText<'a> {
    pub(crate) fn new() -> KnownText<'a> {
        KnownText {
            level: None,
            text: ArrayString::new(),
        }
    }

    /// The length of `level`'s own text, which is kept when it is the first level
    /// measured that needs formatting and it is short enough.
    pub(crate) fn measure(&mut self, level: Level<'a>) -> usize {
        let plain = level.verror().is_some_and(|verror| verror.held().is_none());
        if plain || self.level.is_some() {
            return level.text_len();
        }
        let mut capture = Capture {
            text: &mut self.text,
            len: 0,
            whole: true,
        };
        level.write_own_text(&mut capture);
        let (len, whole) = (capture.len, capture.whole);
        if whole {
            self.level = Some(level.error);
        } else {
            self.text.clear();
        }
        len
    }

    /// The text kept for `error`'s level, if it is the one kept.
    pub(crate) fn of(&self, error: &(dyn Error + 'static)) -> Option<&str> {
        // The address and the type (the vtable): an error whose source is its own
        // first field, or two zero-sized errors, share an address. (A type with two
        // vtables only misses the kept text, and formats it again.)
        self.level
            .filter(|kept| std::ptr::eq(*kept, error))
            .map(|_| self.text.as_str())
    }
}

/// Keeps what is written while it fits, and counts all of it (never fails: a
/// `Display` that stops at an error would be measured short).
struct Capture<'t> {
    text: &'t mut ArrayString<KNOWN_TEXT_MAX>,
    len: usize,
    whole: bool,
}

impl fmt::Write for Capture<'_> {
    fn write_str(&mut self, piece: &str) -> fmt::Result {
        self.len += piece.len();
        if self.whole && self.text.try_push_str(piece).is_err() {
            self.whole = false;
        }
        Ok(())
    }
}

/// A level's own message as `Display` (see [`Level::own_text`]), for a serializer's
/// `collect_str`.
pub(crate) struct OwnText<'a>(Level<'a>);

impl fmt::Display for OwnText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.own() {
            Ok(text) => f.write_str(text),
            Err(display) => write_display(f, display),
        }
    }
}

impl<'a> Level<'a> {
    /// [`own_text`](Level::own_text): the short message of a plain `VError` level, or
    /// the `Display` that writes it (the error a level made by `?` holds, a foreign
    /// error).
    pub(crate) fn own(&self) -> Result<&'a str, &'a dyn fmt::Display> {
        match self.verror() {
            Some(verror) => match verror.held() {
                Some(held) => Err(held),
                None => Ok(verror.short_message()),
            },
            None => Err(self.error),
        }
    }

    /// Writes [`own_text`](Level::own_text) to `out`, a writer that takes all it is
    /// given: a `Display` that fails on its own only ends its text there.
    pub(crate) fn write_own_text(&self, out: &mut impl fmt::Write) {
        match self.own() {
            Ok(text) => {
                let _ = out.write_str(text);
            }
            Err(display) => {
                let _ = write!(out, "{display}");
            }
        }
    }
}

/// `value`'s `Display` as a string, its text ending where it fails on its own
/// (`to_string` panics there).
pub(crate) fn display_string(value: &dyn fmt::Display) -> String {
    let mut text = String::new();
    let _ = write!(text, "{value}");
    text
}

/// Writes `value`'s `Display` to `out`. A `Display` that fails on its own (while `out`
/// took all it was given: a foreign error's broken `Display`) only ends its text there,
/// so that no rendering of a chain fails, nor panics, because of one; a failure of
/// `out` is passed on.
pub(crate) fn write_display(out: &mut dyn fmt::Write, value: &dyn fmt::Display) -> fmt::Result {
    /// Tells `out`'s failures from the value's.
    struct Watched<'o> {
        out: &'o mut dyn fmt::Write,
        failed: bool,
    }

    impl fmt::Write for Watched<'_> {
        fn write_str(&mut self, text: &str) -> fmt::Result {
            self.out.write_str(text).inspect_err(|_| self.failed = true)
        }
    }

    let mut watched = Watched { out, failed: false };
    match write!(watched, "{value}") {
        Err(error) if watched.failed => Err(error),
        _ => Ok(()),
    }
}

/// Counts the bytes written to it.
struct Counter(usize);

impl fmt::Write for Counter {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.0 += text.len();
        Ok(())
    }
}

/// The name of a foreign error whose Rust type is not known.
pub(crate) const FOREIGN_NAME: &str = "Error";

/// The levels of a chain with their names.
pub(crate) fn levels<'a>(err: &'a (dyn Error + 'static)) -> impl Iterator<Item = Level<'a>> {
    std::iter::successors(Some(Level::new(err, None)), Level::cause)
}

/// How many levels lie under and including each of `roots`, every MultiError child
/// counted; iterative, so any depth and width.
pub(crate) fn count_levels<'a>(roots: impl IntoIterator<Item = Level<'a>>) -> usize {
    let mut stack: Vec<Level<'a>> = roots.into_iter().collect();
    let mut count = 0;
    while let Some(level) = stack.pop() {
        count += 1;
        match level.verror().filter(|v| v.is_multi()) {
            Some(multi) => stack.extend(multi.errors().iter().map(|e| Level::new(e, None))),
            None => stack.extend(level.cause()),
        }
    }
    count
}

/// The first error of type `T` in the chain, `err` itself included, at any depth and
/// whatever the errors between (foreign ones included).
///
/// ```
/// use verror::ResultExt;
/// let err = std::fs::read("/no/such/file").context("load failed").unwrap_err();
/// let io = verror::find_cause::<std::io::Error>(&err).unwrap();
/// assert_eq!(io.kind(), std::io::ErrorKind::NotFound);
/// ```
pub fn find_cause<'a, T: Error + 'static>(err: &'a (dyn Error + 'static)) -> Option<&'a T> {
    chain(err).find_map(|e| {
        e.downcast_ref::<T>().or_else(|| {
            // A level made by `From` stands for the error it holds.
            let held = e.downcast_ref::<VError>()?.held()?;
            (held as &(dyn Error + 'static)).downcast_ref::<T>()
        })
    })
}

/// The first error of the chain whose name is `name`, `err` itself included
/// (node-verror's `findCauseByName`). A `VError` answers to its [`name`](VError::name);
/// a foreign error wrapped directly by a `VError` answers to its Rust type's name, best
/// effort (`ParseIntError`, `io::Error` for `std::io::Error`); any other foreign error
/// answers to `"Error"`.
///
/// ```
/// use verror::{VError, ResultExt};
/// let err = "x".parse::<u8>().context("bad port").unwrap_err();
/// assert!(verror::find_cause_by_name(&err, "ParseIntError").is_some());
/// assert!(verror::find_cause_by_name(&err, "VError").is_some());
/// assert!(verror::find_cause_by_name(&err, "ConfigError").is_none());
/// ```
pub fn find_cause_by_name<'a>(
    err: &'a (dyn Error + 'static),
    name: &str,
) -> Option<&'a (dyn Error + 'static)> {
    levels(err)
        .find(|level| level.name == name)
        .map(|level| level.error)
}

/// Whether [`find_cause_by_name`] finds an error of that name (node-verror's
/// `hasCauseWithName`).
///
/// ```
/// let err = verror::VError::builder().name("TimeoutError").message("slow").build();
/// assert!(verror::has_cause_with_name(&err, "TimeoutError"));
/// ```
pub fn has_cause_with_name(err: &(dyn Error + 'static), name: &str) -> bool {
    find_cause_by_name(err, name).is_some()
}

/// The backtrace of the chain: the first one held by a `VError` level.
///
/// ```
/// use verror::VError;
/// let root = VError::builder().message("root").backtrace(true).build();
/// let outer = VError::wrap(root, "outer");
/// assert!(outer.backtrace().is_none());
/// assert!(verror::find_backtrace(&outer).is_some());
/// ```
pub fn find_backtrace<'a>(err: &'a (dyn Error + 'static)) -> Option<&'a crate::Backtrace> {
    // In the order the report and the JSON list the levels: down the chain, into
    // every MultiError child in turn; iterative, so any depth and width.
    let mut pending: Vec<&'a (dyn Error + 'static)> = Vec::new();
    let mut next = Some(err);
    while let Some(level) = next.take().or_else(|| pending.pop()) {
        match level.downcast_ref::<VError>() {
            Some(verror) => {
                if let Some(backtrace) = verror.backtrace() {
                    return Some(backtrace);
                }
                match &verror.0.sources {
                    Sources::Multi(children) => {
                        pending.extend(children.iter().rev().map(|c| c as &(dyn Error + 'static)))
                    }
                    _ => next = verror.source(),
                }
            }
            None => next = level.source(),
        }
    }
    None
}

/// The short name of a Rust type, best effort: its last path segment without generic
/// arguments, with `std::io::Error` shown as `io::Error`.
pub(crate) fn type_name_of<E: ?Sized>() -> &'static str {
    let full = std::any::type_name::<E>();
    if full == "std::io::error::Error" {
        return "io::Error";
    }
    let base = full.split('<').next().unwrap_or(full);
    let short = base.rsplit("::").next().unwrap_or(base);
    if short.is_empty() || !base.starts_with(|c: char| c.is_alphabetic() || c == '_') {
        FOREIGN_NAME
    } else {
        short
    }
}

#[cfg(test)]
mod tests {
    use super::{KnownText, Level, type_name_of};
    use crate::VError;

    #[test]
    fn the_first_foreign_text_is_kept_once_measured() {
        let io = std::io::Error::other("disk on fire");
        let err = VError::wrap(io, "write failed");
        let cause = Level::of(&err).cause().unwrap();
        let mut known = KnownText::new();
        // A plain level's text is its message: nothing to keep.
        assert_eq!(known.measure(Level::of(&err)), "write failed".len());
        assert_eq!(known.of(&err), None);
        assert_eq!(known.measure(cause), "disk on fire".len());
        assert_eq!(known.of(cause.error), Some("disk on fire"));
        // Kept by identity: an equal error elsewhere is not it.
        let other = std::io::Error::other("disk on fire");
        assert_eq!(known.of(&other), None);
    }

    #[test]
    fn a_long_foreign_text_is_measured_whole_and_not_kept() {
        let long = "x".repeat(1000);
        let err = VError::wrap(std::io::Error::other(long.clone()), "outer");
        let cause = Level::of(&err).cause().unwrap();
        let mut known = KnownText::new();
        assert_eq!(known.measure(cause), long.len());
        assert_eq!(known.of(cause.error), None);
    }

    #[test]
    fn type_names_are_short() {
        assert_eq!(type_name_of::<std::io::Error>(), "io::Error");
        assert_eq!(type_name_of::<std::num::ParseIntError>(), "ParseIntError");
        assert_eq!(type_name_of::<Vec<String>>(), "Vec");
        assert_eq!(type_name_of::<dyn std::error::Error>(), "Error");
    }
}

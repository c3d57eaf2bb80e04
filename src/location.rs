//! Where an error was created: a `#[track_caller]` location, or one read back from JSON.

use std::fmt;
use std::panic;

/// The source location where a [`VError`](crate::VError) was created.
///
/// Errors built in this process point at a static [`std::panic::Location`] (recorded
/// for free through `#[track_caller]`); errors read back from JSON keep the text they
/// were given, so a round trip is exact.
///
/// ```
/// let err = verror::VError::new("oops");
/// let loc = err.location().unwrap();
/// assert_eq!(loc.file(), file!());
/// assert_eq!(loc.to_string(), format!("{}:{}:{}", file!(), loc.line().unwrap(), loc.column().unwrap()));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Location(Repr);

#[derive(Clone, PartialEq, Eq)]
enum Repr {
    Caller(&'static panic::Location<'static>),
    Text(Box<str>),
}

impl Location {
    pub(crate) fn caller(location: &'static panic::Location<'static>) -> Location {
        Location(Repr::Caller(location))
    }

    pub(crate) fn text(text: impl Into<Box<str>>) -> Location {
        Location(Repr::Text(text.into()))
    }

    /// The file: the part before `:line:column`, or the whole text read back from JSON
    /// when it has no such suffix.
    pub fn file(&self) -> &str {
        match &self.0 {
            Repr::Caller(loc) => loc.file(),
            Repr::Text(text) => split(text).map_or(text, |(file, _, _)| file),
        }
    }

    /// The line number, when known.
    pub fn line(&self) -> Option<u32> {
        match &self.0 {
            Repr::Caller(loc) => Some(loc.line()),
            Repr::Text(text) => split(text).map(|(_, line, _)| line),
        }
    }

    /// The column number, when known.
    pub fn column(&self) -> Option<u32> {
        match &self.0 {
            Repr::Caller(loc) => Some(loc.column()),
            Repr::Text(text) => split(text).map(|(_, _, column)| column),
        }
    }
}

/// Splits `file:line:column`.
fn split(text: &str) -> Option<(&str, u32, u32)> {
    let (rest, column) = text.rsplit_once(':')?;
    let (file, line) = rest.rsplit_once(':')?;
    Some((file, line.parse().ok()?, column.parse().ok()?))
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Caller(loc) => fmt::Display::fmt(loc, f),
            Repr::Text(text) => f.write_str(text),
        }
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

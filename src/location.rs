//! Where an error was created: a `#[track_caller]` location, or one read back from JSON.

use std::fmt;
use std::panic;

use arrayvec::ArrayString;
use serde::{Serialize, Serializer};

/// The source location where a [`VError`](crate::VError) was created, as
/// [`VError::location`](crate::VError::location) gives it: a small `Copy` view.
///
/// Errors built in this process point at a static [`std::panic::Location`] (recorded
/// for free through `#[track_caller]`, one word in the error); errors read back from
/// JSON keep the text they were given, so a round trip is exact.
///
/// ```
/// let err = verror::VError::new("oops");
/// let loc = err.location().unwrap();
/// assert_eq!(loc.file(), file!());
/// assert_eq!(loc.to_string(), format!("{}:{}:{}", file!(), loc.line().unwrap(), loc.column().unwrap()));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Location<'a>(Repr<'a>);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Repr<'a> {
    Caller(&'static panic::Location<'static>),
    /// Read back from JSON (rare; kept in the level's side box).
    Text(&'a str),
}

impl<'a> Location<'a> {
    pub(crate) fn caller(location: &'static panic::Location<'static>) -> Location<'a> {
        Location(Repr::Caller(location))
    }

    pub(crate) fn text(text: &'a str) -> Location<'a> {
        Location(Repr::Text(text))
    }

    /// The file: the part before `:line:column`, or the whole text read back from JSON
    /// when it has no such suffix.
    pub fn file(&self) -> &'a str {
        match self.0 {
            Repr::Caller(loc) => loc.file(),
            Repr::Text(text) => split(text).map_or(text, |(file, _, _)| file),
        }
    }

    /// What a writer needs to write it: a caller's file and numbers, or the text.
    pub(crate) fn parts(&self) -> Parts<'a> {
        match self.0 {
            Repr::Caller(loc) => Parts::Caller {
                file: loc.file(),
                line: loc.line(),
                column: loc.column(),
            },
            Repr::Text(text) => Parts::Text(text),
        }
    }

    /// The length of its text, or an upper bound of it (without formatting it).
    pub(crate) fn text_len(&self) -> usize {
        match self.0 {
            Repr::Caller(loc) => loc.file().len() + 22,
            Repr::Text(text) => text.len(),
        }
    }

    /// The line number, when known.
    pub fn line(&self) -> Option<u32> {
        match self.0 {
            Repr::Caller(loc) => Some(loc.line()),
            Repr::Text(text) => split(text).map(|(_, line, _)| line),
        }
    }

    /// The column number, when known.
    pub fn column(&self) -> Option<u32> {
        match self.0 {
            Repr::Caller(loc) => Some(loc.column()),
            Repr::Text(text) => split(text).map(|(_, _, column)| column),
        }
    }
}

/// Where a level made in this process was created: one word in its record.
pub(crate) type Caller = &'static panic::Location<'static>;

/// A [`Location`] as a writer takes it apart.
pub(crate) enum Parts<'a> {
    /// Recorded in this process: `file:line:column`.
    Caller {
        file: &'static str,
        line: u32,
        column: u32,
    },
    /// Read back from JSON, kept as it was written.
    Text(&'a str),
}

/// Splits `file:line:column`.
fn split(text: &str) -> Option<(&str, u32, u32)> {
    let (rest, column) = text.rsplit_once(':')?;
    let (file, line) = rest.rsplit_once(':')?;
    Some((file, line.parse().ok()?, column.parse().ok()?))
}

impl fmt::Display for Location<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Repr::Caller(loc) => fmt::Display::fmt(loc, f),
            Repr::Text(text) => f.write_str(text),
        }
    }
}

/// The location's text, control characters escaped (one read back from JSON may hold
/// anything).
impl fmt::Debug for Location<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Repr::Caller(loc) => fmt::Display::fmt(loc, f),
            Repr::Text(text) => crate::escape::write_escaped(f, text),
        }
    }
}

/// The location as a JSON string, `file:line:column`. One recorded in this process is
/// assembled on the stack and escaped in one pass (through `Display`, the formatting
/// machinery would escape its five pieces one by one, on a field every level carries).
impl Serialize for Location<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Repr::Text(text) => serializer.serialize_str(text),
            Repr::Caller(loc) => {
                let mut text = ArrayString::<128>::new();
                let fits = text.try_push_str(loc.file()).is_ok()
                    && push_number(&mut text, loc.line())
                    && push_number(&mut text, loc.column());
                if fits {
                    serializer.serialize_str(&text)
                } else {
                    serializer.collect_str(loc)
                }
            }
        }
    }
}

/// Appends `:` and `n` in decimal; false when they do not fit.
fn push_number(text: &mut ArrayString<128>, n: u32) -> bool {
    text.try_push_str(":").is_ok() && text.try_push_str(itoa::Buffer::new().format(n)).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_as_display_writes_them() {
        for n in [
            0,
            1,
            9,
            10,
            11,
            99,
            100,
            101,
            999,
            1000,
            10_007,
            65_535,
            u32::MAX,
        ] {
            let mut text = ArrayString::<128>::new();
            assert!(push_number(&mut text, n));
            assert_eq!(text.as_str(), format!(":{n}"));
        }
    }

    #[test]
    fn a_number_that_does_not_fit_is_refused() {
        let mut text = ArrayString::<128>::new();
        text.try_push_str(&"x".repeat(120)).unwrap();
        assert!(!push_number(&mut text, u32::MAX));
    }

    #[test]
    fn json_is_file_line_column() {
        let location = Location::caller(panic::Location::caller());
        let json = serde_json::to_string(&location).unwrap();
        assert_eq!(json, format!("\"{location}\""));
        assert!(json.starts_with("\"src/location.rs:"), "{json}");
    }
}

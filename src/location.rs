//! Where an error was created: a `#[track_caller]` location, or one read back from JSON.

use std::fmt;
use std::panic;

use serde::{Serialize, Serializer};

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

    /// The length of its text, or an upper bound of it (without formatting it).
    pub(crate) fn text_len(&self) -> usize {
        match &self.0 {
            Repr::Caller(loc) => loc.file().len() + 22,
            Repr::Text(text) => text.len(),
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

/// The location's text, control characters escaped (one read back from JSON may hold
/// anything).
impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Caller(loc) => fmt::Display::fmt(loc, f),
            Repr::Text(text) => crate::escape::write_escaped(f, text),
        }
    }
}

/// The location as a JSON string, `file:line:column`. One recorded in this process is
/// assembled on the stack and escaped in one pass (through `Display`, the formatting
/// machinery would escape its five pieces one by one, on a field every level carries).
impl Serialize for Location {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Repr::Text(text) => serializer.serialize_str(text),
            Repr::Caller(loc) => {
                let mut text = StackText::new();
                let fits = text.push(loc.file().as_bytes())
                    && text.push(b":")
                    && text.push_number(loc.line())
                    && text.push(b":")
                    && text.push_number(loc.column());
                match text.as_str() {
                    Some(text) if fits => serializer.serialize_str(text),
                    _ => serializer.collect_str(self),
                }
            }
        }
    }
}

/// A short text built on the stack.
struct StackText {
    bytes: [u8; 256],
    len: usize,
}

impl StackText {
    fn new() -> StackText {
        StackText {
            bytes: [0; 256],
            len: 0,
        }
    }

    /// Appends `bytes`; false when they do not fit.
    fn push(&mut self, bytes: &[u8]) -> bool {
        let end = self.len + bytes.len();
        match self.bytes.get_mut(self.len..end) {
            Some(room) => {
                room.copy_from_slice(bytes);
                self.len = end;
                true
            }
            None => false,
        }
    }

    /// Appends `n` in decimal.
    fn push_number(&mut self, mut n: u32) -> bool {
        // Two digits a step: line and column numbers are mostly 2 to 4 digits.
        const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
            2021222324252627282930313233343536373839\
            4041424344454647484950515253545556575859\
            6061626364656667686970717273747576777879\
            8081828384858687888990919293949596979899";
        let mut digits = [0u8; 10];
        let mut start = digits.len();
        while n >= 100 {
            let pair = (n % 100) as usize * 2;
            n /= 100;
            start -= 2;
            digits[start..start + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
        }
        if n >= 10 {
            let pair = n as usize * 2;
            start -= 2;
            digits[start..start + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
        } else {
            start -= 1;
            digits[start] = b'0' + n as u8;
        }
        self.push(&digits[start..])
    }

    fn as_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.bytes[..self.len]).ok()
    }
}

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
    /// Read back from JSON (rare): boxed twice so that a location is two words and
    /// the record that holds one stays small.
    Text(Box<Box<str>>),
}

impl Location {
    pub(crate) fn caller(location: &'static panic::Location<'static>) -> Location {
        Location(Repr::Caller(location))
    }

    pub(crate) fn text(text: impl Into<Box<str>>) -> Location {
        Location(Repr::Text(Box::new(text.into())))
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
/// streamed in two pieces, the file and its `:line:column` suffix assembled on the
/// stack (through `Display`, the formatting machinery would escape five pieces one by
/// one, on a field every level carries).
impl Serialize for Location {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Repr::Text(text) => serializer.serialize_str(text),
            Repr::Caller(loc) => {
                let mut suffix = Suffix::default();
                suffix.push(loc.line());
                suffix.push(loc.column());
                let (file, suffix) = (loc.file().as_bytes(), suffix.as_str().as_bytes());
                let mut text = [0u8; 128];
                match text.get_mut(..file.len() + suffix.len()) {
                    Some(room) => {
                        let (head, tail) = room.split_at_mut(file.len());
                        head.copy_from_slice(file);
                        tail.copy_from_slice(suffix);
                        serializer.serialize_str(std::str::from_utf8(room).unwrap_or_default())
                    }
                    None => serializer.collect_str(&InTwoPieces(loc)),
                }
            }
        }
    }
}

/// `file:line:column` written as the file, then the rest in one piece.
struct InTwoPieces(&'static panic::Location<'static>);

impl fmt::Display for InTwoPieces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.file())?;
        let mut suffix = Suffix::default();
        suffix.push(self.0.line());
        suffix.push(self.0.column());
        f.write_str(suffix.as_str())
    }
}

/// `:line:column`, built on the stack.
#[derive(Default)]
struct Suffix {
    /// Room for two colons and two `u32`s of ten digits.
    bytes: [u8; 22],
    len: usize,
}

impl Suffix {
    /// Appends `:` and `n` in decimal.
    fn push(&mut self, mut n: u32) {
        // Two digits a step: line and column numbers are mostly 2 to 4 digits.
        const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
            2021222324252627282930313233343536373839\
            4041424344454647484950515253545556575859\
            6061626364656667686970717273747576777879\
            8081828384858687888990919293949596979899";
        let mut digits = [0u8; 11];
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
        start -= 1;
        digits[start] = b':';
        let piece = &digits[start..];
        self.bytes[self.len..self.len + piece.len()].copy_from_slice(piece);
        self.len += piece.len();
    }

    fn as_str(&self) -> &str {
        // Colons and digits only: always UTF-8.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

//! The JSON text of an error chain, written directly: the same bytes as serializing
//! [`ErrorJson`] with `serde_json`, without the serializer's detours. The keys are
//! known and copied as they are, strings are scanned for what needs escaping eight
//! bytes at a time, and the buffer is sized ahead from the budget's measure of the
//! chain, so the usual error takes one allocation.

use std::convert::Infallible;
use std::error::Error;
use std::fmt::{self, Write as _};

use serde_json::Value;

use crate::ErrorJson;
use crate::chain::{KnownText, Level};
use crate::info::Info;
use crate::location::{Location, Parts};
use crate::ser::{Children, Fields, Key, Node};

impl ErrorJson<'_> {
    /// The JSON text: the same bytes as `serde_json::to_string(&self)` (and, for a
    /// `VError`, as `serde_json::to_string(&err)`), written in one pass into a string
    /// sized ahead. This is the way to a JSON line or a payload; the `Serialize` impl is
    /// for an error inside other serde data, in any format.
    ///
    /// ```
    /// use verror::{ErrorJson, ResultExt};
    ///
    /// let err = "x".parse::<u8>().context("bad port").unwrap_err();
    /// let json = ErrorJson::new(&err).to_json();
    /// assert!(json.starts_with(r#"{"name":"VError","message":"bad port: invalid digit found in string""#));
    /// assert_eq!(json, serde_json::to_string(&err).unwrap());
    /// ```
    #[must_use]
    pub fn to_json(&self) -> String {
        let mut json = String::new();
        self.write_json(&mut json);
        json
    }

    /// Appends the JSON text to `out` (a log line being assembled, a buffer used
    /// again), reserving its length first: what [`to_json`](ErrorJson::to_json) returns.
    ///
    /// ```
    /// let err = verror::VError::new("disk full");
    /// let mut line = String::from("error=");
    /// verror::ErrorJson::new(&err).write_json(&mut line);
    /// assert!(line.starts_with(r#"error={"name":"VError","message":"disk full""#));
    /// ```
    pub fn write_json(&self, out: &mut String) {
        self.write_into(out);
    }

    /// [`write_json`](ErrorJson::write_json) into any buffer (the server's frames).
    pub(crate) fn write_into<B: Buffer>(&self, out: &mut B) {
        self.with_root(|root, len| {
            out.reserve(len);
            write_node(out, root);
        });
    }
}

/// A buffer the JSON text is written into: text, or bytes.
pub(crate) trait Buffer {
    fn reserve(&mut self, additional: usize);
    fn put(&mut self, text: &str);
    fn put_ascii(&mut self, byte: u8);
}

impl Buffer for String {
    fn reserve(&mut self, additional: usize) {
        String::reserve(self, additional);
    }
    #[inline]
    fn put(&mut self, text: &str) {
        self.push_str(text);
    }
    #[inline]
    fn put_ascii(&mut self, byte: u8) {
        self.push(char::from(byte));
    }
}

impl Buffer for bytes::BytesMut {
    fn reserve(&mut self, additional: usize) {
        bytes::BytesMut::reserve(self, additional);
    }
    #[inline]
    fn put(&mut self, text: &str) {
        self.extend_from_slice(text.as_bytes());
    }
    #[inline]
    fn put_ascii(&mut self, byte: u8) {
        self.extend_from_slice(&[byte]);
    }
}

/// Writes one level and everything below it.
fn write_node<B: Buffer>(out: &mut B, node: &Node<'_>) {
    out.put_ascii(b'{');
    let Ok(()) = node.write(&mut Text { out, first: true });
    out.put_ascii(b'}');
}

/// The fields of one level as JSON text.
struct Text<'o, B> {
    out: &'o mut B,
    first: bool,
}

impl<B: Buffer> Text<'_, B> {
    #[inline(always)]
    fn key(&mut self, key: Key) {
        if self.first {
            self.first = false;
            self.out.put(&key.json[1..]);
        } else {
            self.out.put(key.json);
        }
    }
}

impl<B: Buffer> Fields for Text<'_, B> {
    type Error = Infallible;

    #[inline(always)]
    fn str(&mut self, key: Key, value: &str) -> Result<(), Infallible> {
        self.key(key);
        write_string(self.out, value);
        Ok(())
    }

    fn plain_str(&mut self, key: Key, value: &str) -> Result<(), Infallible> {
        debug_assert!(!value.bytes().any(needs_escape), "{value:?} needs escaping");
        self.key(key);
        self.out.put_ascii(b'"');
        self.out.put(value);
        self.out.put_ascii(b'"');
        Ok(())
    }

    fn message(
        &mut self,
        key: Key,
        error: &(dyn Error + 'static),
        known: &KnownText<'_>,
    ) -> Result<(), Infallible> {
        self.key(key);
        self.out.put_ascii(b'"');
        // Escaping never fails, and a foreign error's failing `Display` only ends its text.
        let _ = crate::fmt::write_message_knowing(&mut Escaping(self.out), error, Some(known));
        self.out.put_ascii(b'"');
        Ok(())
    }

    fn own_text(&mut self, key: Key, level: Level<'_>) -> Result<(), Infallible> {
        self.key(key);
        self.out.put_ascii(b'"');
        level.write_own_text(&mut Escaping(self.out));
        self.out.put_ascii(b'"');
        Ok(())
    }

    fn info(&mut self, key: Key, info: &Info, reveal: bool) -> Result<(), Infallible> {
        self.key(key);
        self.out.put_ascii(b'{');
        for (i, (name, value)) in info.iter_for(reveal).enumerate() {
            if i > 0 {
                self.out.put_ascii(b',');
            }
            write_string(self.out, name);
            self.out.put_ascii(b':');
            write_value(self.out, value);
        }
        self.out.put_ascii(b'}');
        Ok(())
    }

    fn sensitive_keys(&mut self, key: Key, info: &Info) -> Result<(), Infallible> {
        self.key(key);
        self.out.put_ascii(b'[');
        for (i, name) in info.sensitive_keys().enumerate() {
            if i > 0 {
                self.out.put_ascii(b',');
            }
            write_string(self.out, name);
        }
        self.out.put_ascii(b']');
        Ok(())
    }

    fn flag(&mut self, key: Key) -> Result<(), Infallible> {
        self.key(key);
        self.out.put("true");
        Ok(())
    }

    fn location(&mut self, key: Key, location: Location<'_>) -> Result<(), Infallible> {
        self.key(key);
        match location.parts() {
            Parts::Caller { file, line, column } => {
                self.out.put_ascii(b'"');
                escape(self.out, file);
                for n in [line, column] {
                    self.out.put_ascii(b':');
                    self.out.put(itoa::Buffer::new().format(n));
                }
                self.out.put_ascii(b'"');
            }
            Parts::Text(text) => write_string(self.out, text),
        }
        Ok(())
    }

    fn node(&mut self, key: Key, node: &Node<'_>) -> Result<(), Infallible> {
        self.key(key);
        write_node(self.out, node);
        Ok(())
    }

    fn children(&mut self, key: Key, children: &Children<'_>) -> Result<(), Infallible> {
        self.key(key);
        self.out.put_ascii(b'[');
        for (i, node) in children.nodes().enumerate() {
            if i > 0 {
                self.out.put_ascii(b',');
            }
            write_node(self.out, &node);
        }
        self.out.put_ascii(b']');
        Ok(())
    }
}

/// A JSON value as serde_json writes it. Its nesting is bounded by the budget's
/// (deeper values are kept as their JSON text).
fn write_value<B: Buffer>(out: &mut B, value: &Value) {
    match value {
        Value::Null => out.put("null"),
        Value::Bool(true) => out.put("true"),
        Value::Bool(false) => out.put("false"),
        // A number's `Display` is its JSON (with serde_json's `arbitrary_precision` too).
        Value::Number(n) => {
            let _ = write!(Escaping(out), "{n}");
        }
        Value::String(text) => write_string(out, text),
        Value::Array(items) => {
            out.put_ascii(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.put_ascii(b',');
                }
                write_value(out, item);
            }
            out.put_ascii(b']');
        }
        Value::Object(map) => {
            out.put_ascii(b'{');
            for (i, (name, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.put_ascii(b',');
                }
                write_string(out, name);
                out.put_ascii(b':');
                write_value(out, item);
            }
            out.put_ascii(b'}');
        }
    }
}

/// Formatted text, escaped into a JSON string as it comes.
struct Escaping<'o, B>(&'o mut B);

impl<B: Buffer> fmt::Write for Escaping<'_, B> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        escape(self.0, text);
        Ok(())
    }
}

/// `text` as a JSON string, quotes included.
fn write_string<B: Buffer>(out: &mut B, text: &str) {
    out.put_ascii(b'"');
    escape(out, text);
    out.put_ascii(b'"');
}

/// Appends `text` as the inside of a JSON string, escaped as `serde_json` escapes it:
/// `"`, `\` and the control characters below U+0020 (`\b`, `\t`, `\n`, `\f`, `\r`, or
/// `\u00xx`); everything else, non-ASCII included, as it is. What needs no escaping is
/// copied in runs, found eight bytes at a time.
fn escape<B: Buffer>(out: &mut B, text: &str) {
    let bytes = text.as_bytes();
    // `start`: the first byte not yet written; `at`: the first not yet looked at. Both
    // are character boundaries: a byte to escape is ASCII.
    let mut start = 0;
    let mut at = 0;
    while let Some(special) = next_special(bytes, at) {
        out.put(&text[start..special]);
        put_escape(out, bytes[special]);
        at = special + 1;
        start = at;
    }
    out.put(&text[start..]);
}

/// The index of the first byte at or after `at` that needs escaping.
#[inline]
fn next_special(bytes: &[u8], mut at: usize) -> Option<usize> {
    while let Some(word) = bytes.get(at..).and_then(<[u8]>::first_chunk::<8>) {
        let found = specials(u64::from_le_bytes(*word));
        if found != 0 {
            // The lowest flagged byte is always a real one (see `specials`).
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let left = bytes.len().checked_sub(at).filter(|&left| left > 0)?;
    match bytes.last_chunk::<8>() {
        // Fewer than eight bytes left of a longer text: the last eight bytes, shifted
        // so that the first one left is lowest (the bytes already looked at drop out
        // below; zeros come in above, flagged but past the end).
        Some(word) => {
            let found = specials(u64::from_le_bytes(*word) >> (8 * (8 - left)));
            let index = (found.trailing_zeros() / 8) as usize;
            (index < left).then_some(at + index)
        }
        None => bytes[at..]
            .iter()
            .position(|&b| needs_escape(b))
            .map(|i| at + i),
    }
}

/// Whether JSON needs `byte` escaped.
fn needs_escape(byte: u8) -> bool {
    byte < 0x20 || byte == b'"' || byte == b'\\'
}

const ONES: u64 = u64::from_le_bytes([0x01; 8]);
const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);

/// The high bit of each byte of `word` (little-endian: its first byte lowest) that
/// needs escaping: below 0x20, `"`, or `\`. Each test is the classic one for a zero
/// byte (`x - 1` borrows into the high bit only from zero, `!x` keeps bytes below
/// 0x80): exact up to the lowest byte it flags, and past it only a borrow from that
/// byte can flag another, so the lowest flagged byte of the three is always a real one.
fn specials(word: u64) -> u64 {
    let controls = word.wrapping_sub(ONES * 0x20) & !word;
    let quotes = word ^ (ONES * u64::from(b'"'));
    let quotes = quotes.wrapping_sub(ONES) & !quotes;
    let backslashes = word ^ (ONES * u64::from(b'\\'));
    let backslashes = backslashes.wrapping_sub(ONES) & !backslashes;
    (controls | quotes | backslashes) & HIGHS
}

/// Writes the escape of a byte that needs one.
fn put_escape<B: Buffer>(out: &mut B, byte: u8) {
    let short = match byte {
        b'"' => "\\\"",
        b'\\' => "\\\\",
        0x08 => "\\b",
        0x0c => "\\f",
        b'\n' => "\\n",
        b'\r' => "\\r",
        b'\t' => "\\t",
        _ => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.put("\\u00");
            out.put_ascii(HEX[usize::from(byte >> 4)]);
            out.put_ascii(HEX[usize::from(byte & 0xf)]);
            return;
        }
    };
    out.put(short);
}

#[cfg(test)]
mod tests {
    use super::{escape, needs_escape, specials, write_value};
    use serde_json::json;

    /// Values as serde_json writes them: every kind of number, nested lists and maps,
    /// keys and strings that need escaping.
    #[test]
    fn values_are_written_as_serde_json_writes_them() {
        let values = [
            json!(null),
            json!(true),
            json!(false),
            json!(0),
            json!(u64::MAX),
            json!(i64::MIN),
            json!(-0.0),
            json!(0.1),
            json!(1e300),
            json!(-2.5e-8),
            json!(f64::MAX),
            json!(1.0),
            json!("tab\there \"quoted\" \u{1}"),
            json!([1, [2, [3, {}]], [], "x"]),
            json!({"k\n": {"nested": [null, 1.5]}, "": "", "é": "✓"}),
        ];
        for value in values {
            let mut out = String::new();
            write_value(&mut out, &value);
            assert_eq!(out, serde_json::to_string(&value).unwrap());
        }
    }

    fn escaped(text: &str) -> String {
        let mut out = String::new();
        escape(&mut out, text);
        out
    }

    /// Every byte value, at every position of an eight-byte word and in the tail after
    /// it, next to every other kind of byte: escaped exactly as serde_json does.
    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        let neighbours = ['a', '"', '\\', '\n', '\u{1f}', ' ', 'é', '\u{7f}', '€'];
        for c in (0u8..=0x7f).map(char::from).chain(['é', '€', '\u{10ffff}']) {
            for n in neighbours {
                for len in 0..20 {
                    for at in 0..=len {
                        let mut text: String = std::iter::repeat_n(n, len).collect();
                        let index = text.char_indices().nth(at).map_or(text.len(), |(i, _)| i);
                        text.insert(index, c);
                        let json = serde_json::to_string(&text).unwrap();
                        assert_eq!(escaped(&text), json[1..json.len() - 1], "{text:?}");
                    }
                }
            }
        }
    }

    /// The word test flags exactly the bytes that need escaping, when only one does;
    /// with several, its lowest flag is the first of them.
    #[test]
    fn the_word_test_finds_the_first_byte_to_escape() {
        for byte in 0..=u8::MAX {
            for at in 0..8 {
                let mut word = [b'x'; 8];
                word[at] = byte;
                let found = specials(u64::from_le_bytes(word));
                let expected = if needs_escape(byte) {
                    0x80u64 << (8 * at)
                } else {
                    0
                };
                assert_eq!(found, expected, "{byte:#04x} at {at}");
                // A byte to escape after it never hides it.
                for later in at + 1..8 {
                    let mut word = word;
                    word[later] = b'"';
                    let found = specials(u64::from_le_bytes(word));
                    let first = if needs_escape(byte) { at } else { later };
                    assert_eq!(
                        found.trailing_zeros() / 8,
                        first as u32,
                        "{byte:#04x} at {at}"
                    );
                }
            }
        }
    }
}

//! Control characters made visible, so no error text can end a line, move the cursor
//! or colour a terminal in a human-readable output (reports, text logs).

use std::fmt::{self, Write};

/// Whether `c` must not reach a terminal raw: the C0 and C1 controls, DEL, and the
/// invisible formatting characters that reorder or hide text (bidi overrides and
/// isolates, zero-width marks).
pub(crate) fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// Whether `byte` can begin the UTF-8 of an unsafe character: the C0 controls and
/// DEL are single bytes, the C1 controls begin with `0xC2`, the bidi and zero-width
/// marks with `0xE2`, U+FEFF with `0xEF`.
fn may_begin_unsafe(byte: u8) -> bool {
    byte < 0x20 || matches!(byte, 0x7f | 0xc2 | 0xe2 | 0xef)
}

/// Writes `text` with every unsafe character escaped as Rust writes it (`\n`, `\r`,
/// `\t`, `\u{1b}`, `\u{202e}`); the rest is copied as it is, in runs.
pub(crate) fn write_escaped(out: &mut (impl Write + ?Sized), text: &str) -> fmt::Result {
    // Most text has nothing to escape: one pass over its bytes, then one write.
    if !text.bytes().any(may_begin_unsafe) {
        return out.write_str(text);
    }
    let mut start = 0;
    for (at, c) in text.char_indices() {
        if is_unsafe(c) {
            out.write_str(&text[start..at])?;
            for e in c.escape_debug() {
                out.write_char(e)?;
            }
            start = at + c.len_utf8();
        }
    }
    out.write_str(&text[start..])
}

/// `Display` of a text with its unsafe characters escaped ([`write_escaped`]).
pub(crate) struct Escaped<'a>(pub(crate) &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_escaped(f, self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::{Escaped, is_unsafe, may_begin_unsafe};

    #[test]
    fn every_unsafe_character_begins_with_a_byte_the_quick_check_sees() {
        let mut utf8 = [0; 4];
        for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            if is_unsafe(c) {
                let first = c.encode_utf8(&mut utf8).as_bytes()[0];
                assert!(may_begin_unsafe(first), "{c:?}");
            }
        }
    }

    #[test]
    fn controls_and_bidi_are_escaped_and_the_rest_kept() {
        let text = "a\nb\rc\td\u{1b}[2Je\u{7f}f\u{202e}g é ✓";
        assert_eq!(
            Escaped(text).to_string(),
            r"a\nb\rc\td\u{1b}[2Je\u{7f}f\u{202e}g é ✓"
        );
        assert_eq!(Escaped("plain").to_string(), "plain");
    }
}

//! No error text can forge a line or drive a terminal: the human renderings (the
//! `{:?}` report, `{:#?}`, `full_stack`) escape control characters in names, messages,
//! keys and values, while `{}`, `{:#}` and the JSON keep the exact text.

use arbitrary::{Result, Unstructured};
use verror::VError;

// Whether a character may not reach a terminal raw: the fuzz harness's test.
use crate::fuzz_harness::is_raw_unsafe;
use crate::property::{self, vec_of};

/// Up to 24 characters, most of them the ones that could forge a line or drive a
/// terminal: line breaks, escape, bell, DEL, C1's CSI, a bidi override, tab, NUL.
fn hostile(u: &mut Unstructured<'_>) -> Result<String> {
    const CHOSEN: [char; 9] = [
        '\n', '\r', '\u{1b}', '\u{7}', '\u{7f}', '\u{9b}', '\u{202e}', '\t', '\0',
    ];
    vec_of(u, 24, |u| {
        Ok(match u.int_in_range(0..=CHOSEN.len() + 1)? {
            i if i < CHOSEN.len() => CHOSEN[i],
            i if i == CHOSEN.len() => u.arbitrary::<char>()?,
            // A letter or a space.
            _ => match u.int_in_range(b'a'..=b'z' + 1)? {
                b if b > b'z' => ' ',
                b => char::from(b),
            },
        })
    })
    .map(|chars| chars.into_iter().collect())
}

fn error(name: &str, message: &str, key: &str, value: &str) -> VError {
    let root = VError::builder()
        .name(name.to_owned())
        .info(key.to_owned(), value)
        .cause(std::io::Error::other(message.to_owned()))
        .message(message.to_owned())
        .backtrace(false)
        .build();
    let sibling = VError::builder()
        .name(name.to_owned())
        .message(message.to_owned())
        .backtrace(false)
        .build();
    let multi = VError::builder()
        .errors(vec![root, sibling])
        .backtrace(false)
        .build();
    VError::builder()
        .name(name.to_owned())
        .info(key.to_owned(), value)
        .cause(multi)
        .message(message.to_owned())
        .backtrace(false)
        .build()
}

#[test]
fn human_renderings_escape_every_control_character() {
    property::check(256, |u| {
        let (name, message) = (hostile(u)?, hostile(u)?);
        let (key, value) = (hostile(u)?, hostile(u)?);
        let err = error(&name, &message, &key, &value);
        for (what, text) in [
            ("report", format!("{err:?}")),
            ("struct view", format!("{err:#?}")),
            ("full_stack", verror::full_stack(&err)),
        ] {
            let bad: Vec<char> = text.chars().filter(|&c| is_raw_unsafe(c)).collect();
            assert!(bad.is_empty(), "{what} holds {bad:?}:\n{text}");
        }
        // In the report, a message's own line breaks continue an indented line: after
        // the first line, nothing an error wrote starts at column 0.
        let report = format!("{err:?}");
        for line in report.lines().skip(1) {
            assert!(
                line.is_empty() || line.starts_with(' ') || line == "Caused by:",
                "a line at column 0: {line:?}\n{report}"
            );
        }
        // full_stack: one header line per level, each `caused by: `, and `    at` lines.
        let stack = verror::full_stack(&err);
        for line in stack.lines().skip(1) {
            assert!(
                line.starts_with("caused by: ") || line.starts_with("    "),
                "{line:?}"
            );
        }
        // The data renderings keep the exact text.
        assert_eq!(err.short_message(), message.as_str());
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(json["short_message"].as_str().unwrap(), message.as_str());
        Ok(())
    });
}

/// A backtrace read from JSON is text a peer chose: `{:#?}` shows it escaped line by
/// line (found by the verror_json fuzz target; `{:?}` and `full_stack` escaped it
/// already).
#[test]
fn a_backtrace_read_from_json_is_escaped_in_the_struct_view() {
    let json = r#"{"name":"VError","short_message":"m","backtrace":"   0: main\u001b[2J\r\n   1: \u202estart\t"}"#;
    let err: VError = serde_json::from_str(json).unwrap();
    for (what, text) in [
        ("report", format!("{err:?}")),
        ("struct view", format!("{err:#?}")),
        ("full_stack", verror::full_stack(&err)),
    ] {
        let bad: Vec<char> = text.chars().filter(|&c| is_raw_unsafe(c)).collect();
        assert!(bad.is_empty(), "{what} holds {bad:?}:\n{text}");
    }
    let view = format!("{err:#?}");
    assert!(
        view.contains("0: main\\u{1b}[2J\\r\n") && view.contains("1: \\u{202e}start\\t"),
        "{view}"
    );
    // The data keeps the exact text.
    assert_eq!(
        serde_json::to_value(&err).unwrap()["backtrace"],
        "   0: main\u{1b}[2J\r\n   1: \u{202e}start\t"
    );
}

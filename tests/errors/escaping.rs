//! No error text can forge a line or drive a terminal: the human renderings (the
//! `{:?}` report, `{:#?}`, `full_stack`) escape control characters in names, messages,
//! keys and values, while `{}`, `{:#}` and the JSON keep the exact text.

use proptest::prelude::*;
use verror::VError;

/// Whether a character may not reach a terminal raw (besides the renderings' own
/// line breaks).
fn unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\n')
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

fn hostile() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just('\n'),
            Just('\r'),
            Just('\u{1b}'),
            Just('\u{7}'),
            Just('\u{7f}'),
            Just('\u{9b}'),
            Just('\u{202e}'),
            Just('\t'),
            Just('\0'),
            any::<char>(),
            "[a-z ]".prop_map(|s| s.chars().next().unwrap()),
        ],
        0..24,
    )
    .prop_map(|chars| chars.into_iter().collect())
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

proptest! {
    #[test]
    fn human_renderings_escape_every_control_character(
        name in hostile(), message in hostile(), key in hostile(), value in hostile()
    ) {
        let err = error(&name, &message, &key, &value);
        for (what, text) in [
            ("report", format!("{err:?}")),
            ("struct view", format!("{err:#?}")),
            ("full_stack", verror::full_stack(&err)),
        ] {
            let bad: Vec<char> = text.chars().filter(|&c| unsafe_char(c)).collect();
            prop_assert!(bad.is_empty(), "{what} holds {bad:?}:\n{text}");
        }
        // In the report, a message's own line breaks continue an indented line: after
        // the first line, nothing an error wrote starts at column 0.
        let report = format!("{err:?}");
        for line in report.lines().skip(1) {
            prop_assert!(
                line.is_empty() || line.starts_with(' ') || line == "Caused by:",
                "a line at column 0: {line:?}\n{report}"
            );
        }
        // full_stack: one header line per level, each `caused by: `, and `    at` lines.
        let stack = verror::full_stack(&err);
        for line in stack.lines().skip(1) {
            prop_assert!(line.starts_with("caused by: ") || line.starts_with("    "), "{line:?}");
        }
        // The data renderings keep the exact text.
        prop_assert_eq!(err.short_message(), message.as_str());
        let json = serde_json::to_value(&err).unwrap();
        prop_assert_eq!(json["short_message"].as_str().unwrap(), message.as_str());
    }
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
        let bad: Vec<char> = text.chars().filter(|&c| unsafe_char(c)).collect();
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

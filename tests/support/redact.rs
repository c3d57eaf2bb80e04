//! What changes from run to run (times, pids, hostnames, source lines), replaced by a
//! placeholder before a snapshot. Fixed patterns, found by plain search: insta's own
//! filters would build the `regex` crate into every test build for these few.

/// `text` with each value that follows `marker` replaced by `placeholder`: the run of
/// characters `in_value` accepts, at least one (`marker` stays).
pub fn after(
    text: &str,
    marker: &str,
    in_value: impl Fn(char) -> bool,
    placeholder: &str,
) -> String {
    replace_runs(text, marker, in_value, placeholder, true)
}

/// `text` with each `file:line:column` of `file` as `[location]`.
pub fn locations(text: &str, file: &str) -> String {
    let marker = format!("{file}:");
    let in_numbers = |c: char| c.is_ascii_digit() || c == ':';
    replace_runs(text, &marker, in_numbers, "[location]", false)
}

/// [`after`], keeping the marker or not.
fn replace_runs(
    text: &str,
    marker: &str,
    in_value: impl Fn(char) -> bool,
    placeholder: &str,
    keep_marker: bool,
) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(marker) {
        let (before, from_marker) = rest.split_at(at);
        let value = &from_marker[marker.len()..];
        let len = value.find(|c| !in_value(c)).unwrap_or(value.len());
        out.push_str(before);
        if len == 0 || keep_marker {
            out.push_str(marker);
        }
        if len > 0 {
            out.push_str(placeholder);
        }
        rest = &value[len..];
    }
    out.push_str(rest);
    out
}

/// `text` with each RFC 3339 time of milliseconds (`2024-05-01T12:00:00.123Z`) as
/// `[time]`.
pub fn times(text: &str) -> String {
    const SHAPE: &[u8] = b"dddd-dd-ddTdd:dd:dd.dddZ";
    let fits = |window: &[u8]| {
        window.iter().zip(SHAPE).all(|(&b, &s)| match s {
            b'd' => b.is_ascii_digit(),
            _ => b == s,
        })
    };
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut copied, mut i) = (0, 0);
    while i + SHAPE.len() <= bytes.len() {
        if fits(&bytes[i..i + SHAPE.len()]) {
            out.push_str(&text[copied..i]);
            out.push_str("[time]");
            i += SHAPE.len();
            copied = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&text[copied..]);
    out
}

#[test]
fn redaction_replaces_only_what_matches() {
    let digits = |c: char| c.is_ascii_digit();
    assert_eq!(
        after(
            r#"{"pid":42,"pid":x,"ppid":7}"#,
            r#""pid":"#,
            digits,
            "[pid]"
        ),
        r#"{"pid":[pid],"pid":x,"ppid":7}"#
    );
    assert_eq!(
        locations("at a.rs:12:5, a.rs: x, b.rs:1:2", "a.rs"),
        "at [location], a.rs: x, b.rs:1:2"
    );
    assert_eq!(
        times("t=2024-05-01T12:00:00.123Z 2024-05-01T12:00:00Z é"),
        "t=[time] 2024-05-01T12:00:00Z é"
    );
}

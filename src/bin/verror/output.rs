//! What the program writes, and how: stdout that ends the program quietly when
//! its reader goes away (`verror demo | head -3`), colour only on a terminal
//! that wants it, and error reports without the library's source locations
//! unless asked for (`-v`).

use std::ffi::OsString;
use std::fmt;
use std::io::{IsTerminal, Write};
use std::sync::OnceLock;

use anstyle::{AnsiColor, Style};
use clap::ValueEnum;
use verror::VError;

/// `--color`: when reports are coloured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless `NO_COLOR` is set (to anything but nothing).
    #[default]
    Auto,
    /// Always, even into a pipe.
    Always,
    /// Never.
    Never,
}

/// How the program writes, set once at the start.
#[derive(Debug, Clone, Copy)]
struct Settings {
    color: ColorChoice,
    verbose: bool,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// Sets the colour choice and whether reports show source locations.
pub fn init(color: ColorChoice, verbose: bool) {
    let _ = SETTINGS.set(Settings { color, verbose });
}

fn settings() -> Settings {
    SETTINGS.get().copied().unwrap_or(Settings {
        color: ColorChoice::Auto,
        verbose: false,
    })
}

/// Whether what goes to stderr is coloured.
pub fn stderr_colored() -> bool {
    colored(std::io::stderr().is_terminal())
}

/// Whether what goes to stdout is coloured.
pub fn stdout_colored() -> bool {
    colored(std::io::stdout().is_terminal())
}

fn colored(terminal: bool) -> bool {
    wants_color(settings().color, terminal, std::env::var_os("NO_COLOR"))
}

/// The rule: `always` and `never` say it all; `auto` colours a terminal unless
/// `NO_COLOR` is set to anything but nothing (no-color.org).
fn wants_color(choice: ColorChoice, terminal: bool, no_color: Option<OsString>) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && no_color.is_none_or(|value| value.is_empty()),
    }
}

/// Writes a line to stdout. A reader that has gone away (`| head`) ends the
/// program, quietly and with status 0: there is no one left to tell.
pub fn line(args: fmt::Arguments<'_>) {
    let mut stdout = std::io::stdout().lock();
    let written = stdout
        .write_fmt(args)
        .and_then(|()| stdout.write_all(b"\n"))
        .and_then(|()| stdout.flush());
    if let Err(err) = written
        && err.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

/// `say!("...", args)`: a line on stdout; see [`line`].
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::output::line(format_args!($($arg)*))
    };
}

/// Writes `text` to stderr; a closed stderr is ignored.
pub fn to_stderr(text: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(text.as_bytes());
    let _ = stderr.write_all(b"\n");
}

/// The `{:?}` report of `err`, as the program shows it: without the lines that
/// give the library's source locations (`at src/...:12:5`) unless `-v`, and
/// with the names coloured when `colored`.
pub fn report(err: &VError, colored: bool) -> String {
    let verbose = settings().verbose;
    let name = Style::new().bold().fg_color(Some(AnsiColor::Red.into()));
    let cause = Style::new().bold().fg_color(Some(AnsiColor::Yellow.into()));
    let dim = Style::new().dimmed();
    let mut out = String::new();
    for (i, text) in format!("{err:?}").lines().enumerate() {
        let location = is_location(text);
        if location && !verbose {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        if !colored {
            out.push_str(text);
        } else if location {
            out.push_str(&format!("{dim}{text}{dim:#}"));
        } else if i == 0 {
            out.push_str(&paint_name(text, "", name));
        } else if let Some((number, rest)) = numbered(text) {
            out.push_str(&paint_name(rest, number, cause));
        } else {
            out.push_str(text);
        }
    }
    out
}

/// Whether a report line gives a location: `    at src/server/conn.rs:287:14`.
/// (Reports escape control characters, so no message can forge one.)
fn is_location(text: &str) -> bool {
    let Some(place) = text.trim_start().strip_prefix("at ") else {
        return false;
    };
    let mut parts = place.rsplitn(3, ':');
    let numbers = [parts.next(), parts.next()];
    !place.contains(' ')
        && numbers
            .iter()
            .all(|n| n.is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())))
}

/// A cause line of a report, `    0: Name: message`, split after its number.
fn numbered(text: &str) -> Option<(&str, &str)> {
    let trimmed = text.trim_start();
    let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || !trimmed[digits..].starts_with(": ") {
        return None;
    }
    let split = text.len() - trimmed.len() + digits + 2;
    Some(text.split_at(split))
}

/// `prefix`, then the name at the start of `text` (up to `": "`) in `style`.
fn paint_name(text: &str, prefix: &str, style: Style) -> String {
    match text.split_once(": ") {
        Some((name, rest)) if !name.contains(' ') => {
            format!("{prefix}{style}{name}{style:#}: {rest}")
        }
        _ => format!("{prefix}{text}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_turns_auto_off_on_a_terminal_only_when_set() {
        let set = || Some(OsString::from("1"));
        assert!(wants_color(ColorChoice::Auto, true, None));
        assert!(wants_color(ColorChoice::Auto, true, Some(OsString::new())));
        assert!(!wants_color(ColorChoice::Auto, true, set()));
        assert!(!wants_color(ColorChoice::Auto, false, None));
        assert!(wants_color(ColorChoice::Always, false, set()));
        assert!(!wants_color(ColorChoice::Never, true, None));
    }

    #[test]
    fn location_lines_are_told_from_others() {
        assert!(is_location("    at src/server/conn.rs:287:14"));
        assert!(is_location("at C:\\src\\x.rs:1:2"));
        assert!(!is_location("    at the end of the stream"));
        assert!(!is_location("    at src/x.rs:12"));
        assert!(!is_location("    offset: 0"));
    }

    #[test]
    fn a_report_loses_its_locations_and_keeps_the_rest() {
        let err = VError::builder()
            .name("Outer")
            .info("key", "at src/fake.rs:1:2")
            // Locations, not a backtrace, whatever RUST_BACKTRACE says.
            .cause(VError::builder().message("inner").backtrace(false).build())
            .message("outer failed")
            .backtrace(false)
            .build();
        let full = format!("{err:?}");
        let shown = report(&err, false);
        assert!(full.contains("at src/bin/verror/output.rs"), "{full}");
        assert!(!shown.contains("output.rs"), "{shown}");
        assert!(shown.contains("Outer: outer failed"), "{shown}");
        assert!(shown.contains("inner"), "{shown}");
        assert!(
            shown.contains("at src/fake.rs:1:2"),
            "an info value stays: {shown}"
        );
        let colored = report(&err, true);
        assert!(colored.contains("\u{1b}["), "{colored:?}");
    }
}

//! The stack text embedded in records (ECS `error.stack_trace`, OpenTelemetry
//! `exception.stacktrace`, Bunyan `err.stack`): linear in the chain, unlike
//! [`full_stack`](crate::full_stack), which repeats each level's whole message as
//! node-verror does.
//!
//! Each level is written once as `Name: short message`, with its location and its
//! backtrace where it has them; causes follow after a separator (`"\ncaused by: "`, or
//! Bunyan's `"\nCaused by: "`); a MultiError's children follow it one by one, each
//! introduced by `"\nerror 2 of 3 (of MultiError #1): "`, so nested MultiErrors stay
//! unambiguous without indentation that would grow with depth. The walk keeps its own
//! stack (no recursion), so any depth runs on a small thread; past the byte budget it
//! stops with a line that says how many levels were left out. Nothing is escaped: the
//! text is data inside JSON.

use std::error::Error;
use std::fmt::{self, Write};

use super::budget::Capped;
use crate::chain::Level;

/// How one level is introduced after the first.
enum Link {
    /// The cause of the level before.
    Cause,
    /// Child `index` (from 1) of `count` of the MultiError numbered `multi`.
    Child {
        index: usize,
        count: usize,
        multi: usize,
    },
}

/// What remains to walk: a level and how it is introduced.
struct Pending<'a> {
    level: Level<'a>,
    link: Link,
}

/// Writes the stack text of `err` into `out`, at most about `max_bytes` long (a cut
/// level's text and the final marker may pass it by a line), separating causes with
/// `caused_by` (`"\ncaused by: "`).
pub(crate) fn write_stack(
    out: &mut String,
    err: &(dyn Error + 'static),
    caused_by: &str,
    max_bytes: usize,
) {
    let start = out.len();
    let mut pending = vec![Pending {
        level: Level::new(err, None),
        link: Link::Cause,
    }];
    let mut first = true;
    let mut multis = 0;
    while let Some(Pending { level, link }) = pending.pop() {
        if out.len() - start >= max_bytes {
            let rest = pending.into_iter().map(|p| p.level);
            let left_out = crate::chain::count_levels(std::iter::once(level).chain(rest));
            let _ = write!(
                out,
                "\n[{left_out} more level{} left out]",
                if left_out == 1 { "" } else { "s" }
            );
            return;
        }
        if !first {
            match link {
                Link::Cause => out.push_str(caused_by),
                Link::Child {
                    index,
                    count,
                    multi,
                } => {
                    let _ = write!(out, "\nerror {index} of {count} (of MultiError #{multi}): ");
                }
            }
        }
        first = false;
        let multi = level.verror().filter(|v| v.is_multi());
        if multi.is_some() {
            multis += 1;
        }
        let number = multi.map(|_| multis);
        let room = max_bytes.saturating_sub(out.len() - start);
        // A huge message or backtrace costs no more than the room left; a cut ends with `…`.
        if write_level(&mut Capped { out, room }, &level, number).is_err() {
            out.push('…');
        }
        match multi {
            Some(multi) => {
                let count = multi.errors().len();
                // Pushed last first, so the first child is walked first.
                for (i, child) in multi.errors().iter().enumerate().rev() {
                    pending.push(Pending {
                        level: Level::new(child, None),
                        link: Link::Child {
                            index: i + 1,
                            count,
                            multi: multis,
                        },
                    });
                }
            }
            None => {
                if let Some(cause) = level.cause() {
                    pending.push(Pending {
                        level: cause,
                        link: Link::Cause,
                    });
                }
            }
        }
    }
}

/// `Name: short message` (and ` (MultiError #n)` for the MultiError numbered `n`),
/// then the location and the backtrace lines.
fn write_level(out: &mut dyn Write, level: &Level<'_>, multi: Option<usize>) -> fmt::Result {
    out.write_str(level.name)?;
    match level.verror() {
        Some(verror) => {
            if !verror.short_message().is_empty() {
                write!(out, ": {}", verror.short_message())?;
            }
            if let Some(n) = multi {
                write!(out, " (MultiError #{n})")?;
            }
            if let Some(location) = verror.location() {
                write!(out, "\n    at {location}")?;
            }
            if let Some(backtrace) = verror.backtrace() {
                for line in backtrace.as_str().lines() {
                    write!(out, "\n    {line}")?;
                }
            }
            Ok(())
        }
        // A foreign error's text, after `": "` unless it is empty (as a `VError` read
        // back from JSON writes it).
        None => write!(
            Prefixed {
                out,
                prefix: Some(": "),
            },
            "{}",
            level.error
        ),
    }
}

/// Writes `prefix` before the first non-empty text, if any.
struct Prefixed<'a> {
    out: &'a mut dyn Write,
    prefix: Option<&'static str>,
}

impl Write for Prefixed<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        if text.is_empty() {
            return Ok(());
        }
        if let Some(prefix) = self.prefix.take() {
            self.out.write_str(prefix)?;
        }
        self.out.write_str(text)
    }
}

/// The stack text of `err` as a string (see [`write_stack`]).
pub(crate) fn stack_text(err: &(dyn Error + 'static), caused_by: &str, max_bytes: usize) -> String {
    let mut out = String::new();
    write_stack(&mut out, err, caused_by, max_bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VError;

    fn plain(name: &str, message: &str) -> VError {
        VError::builder()
            .name(name.to_owned())
            .message(message.to_owned())
            .backtrace(false)
            .build()
    }

    /// The stack without its `    at` lines.
    fn headers(text: &str) -> Vec<&str> {
        text.lines().filter(|l| !l.starts_with("    at ")).collect()
    }

    #[test]
    fn each_level_once_and_every_child() {
        let a = VError::builder()
            .cause(plain("Root", "disk"))
            .message("a")
            .backtrace(false)
            .build();
        let multi = VError::builder()
            .errors(vec![a, plain("B", "b")])
            .backtrace(false)
            .build();
        let err = VError::builder()
            .name("Outer")
            .cause(multi)
            .message("batch failed")
            .backtrace(false)
            .build();
        let text = stack_text(&err, "\ncaused by: ", 1 << 20);
        assert_eq!(
            headers(&text),
            [
                "Outer: batch failed",
                "caused by: MultiError: first of 2 errors (MultiError #1)",
                "error 1 of 2 (of MultiError #1): VError: a",
                "caused by: Root: disk",
                "error 2 of 2 (of MultiError #1): B: b",
            ]
        );
    }

    #[test]
    fn a_million_levels_on_a_small_thread_within_the_budget() {
        std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(|| {
                let mut err = plain("Root", "bottom");
                for _ in 0..1_000_000 {
                    err = VError::builder()
                        .name("Level")
                        .cause(err)
                        .message("a level")
                        .backtrace(false)
                        .build();
                }
                let text = stack_text(&err, "\nCaused by: ", 4096);
                assert!(text.len() < 4096 + 200, "{} bytes", text.len());
                let last = text.lines().last().unwrap();
                assert!(
                    last.starts_with('[') && last.ends_with(" more levels left out]"),
                    "{:?}",
                    &text[text.len() - 120..]
                );
                let shown = text.matches("Caused by: ").count() + 1;
                let left: usize = last[1..].split(' ').next().unwrap().parse().unwrap();
                assert_eq!(shown + left, 1_000_001);
                // Dropping a deep chain is the core's business; keep the test about the stack.
                std::mem::forget(err);
            })
            .unwrap()
            .join()
            .unwrap();
    }

    #[test]
    fn a_huge_message_is_cut_to_the_budget() {
        let err = VError::builder()
            .cause(plain("Root", &"x".repeat(100_000)))
            .message("outer")
            .backtrace(false)
            .build();
        let text = stack_text(&err, "\ncaused by: ", 1000);
        assert!(text.len() < 1000 + 100, "{} bytes", text.len());
        assert!(text.contains('…'));
    }
}

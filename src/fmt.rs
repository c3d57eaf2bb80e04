//! How errors print: `{}`, `{:#}` (the one-line story), the `{:?}` report, the
//! `{:#?}` struct view, and [`full_stack`].
//!
//! Every one of them is linear in the chain's size and runs in constant stack at any
//! depth and shape. `{}` and `{:#}` are the exact text (data, as `?` needs it); the
//! human renderings (the report, `{:#?}`, `full_stack`) escape control characters, so no
//! error text can end a line, move the cursor or colour a terminal.

use std::error::Error;
use std::fmt::{self, Write};

use crate::chain::{KnownText, Level, display_string, levels};
use crate::error::{Sources, VError};
use crate::escape::{Escaped, write_escaped};

/// Writes text segments joined by `": "`, skipping empty ones.
struct Segments<'a> {
    out: &'a mut dyn Write,
    separator_due: bool,
    wrote_any: bool,
    /// `out` failed (a segment's own `Display` failing only ends that segment).
    failed: bool,
}

impl Write for Segments<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        if text.is_empty() {
            return Ok(());
        }
        if self.separator_due {
            self.separator_due = false;
            self.out
                .write_str(": ")
                .inspect_err(|_| self.failed = true)?;
        }
        self.wrote_any = true;
        self.out.write_str(text).inspect_err(|_| self.failed = true)
    }
}

impl Segments<'_> {
    fn next_segment(&mut self) {
        self.separator_due = self.wrote_any;
    }

    /// A segment written by a foreign `Display`: its own failure ends the segment, a
    /// failure of `out` the message (what `chain::write_display` does for any writer,
    /// here without a second trip through the formatting machinery).
    fn write_display(&mut self, display: &dyn fmt::Display) -> fmt::Result {
        match write!(self, "{display}") {
            Err(error) if self.failed => Err(error),
            _ => Ok(()),
        }
    }
}

/// Writes the node-verror message of `err`: each level's own message joined by
/// `": "`, down the chain, stopping after a level that skips its cause's message.
pub(crate) fn write_message(out: &mut dyn Write, err: &(dyn Error + 'static)) -> fmt::Result {
    write_message_knowing(out, err, None)
}

/// [`write_message`], taking a level's text from `known` where it has it.
#[inline]
pub(crate) fn write_message_knowing(
    out: &mut dyn Write,
    err: &(dyn Error + 'static),
    known: Option<&KnownText<'_>>,
) -> fmt::Result {
    let mut segments = Segments {
        out,
        separator_due: false,
        wrote_any: false,
        failed: false,
    };
    for level in crate::chain::chain(err) {
        segments.next_segment();
        let known_text = known.and_then(|known| known.of(level));
        match level.downcast_ref::<VError>() {
            Some(verror) => {
                match (known_text, verror.held()) {
                    (Some(text), _) => segments.write_str(text)?,
                    (None, Some(held)) => segments.write_display(held)?,
                    (None, None) => segments.write_str(verror.short_message())?,
                }
                if verror.skips_cause_message() {
                    break;
                }
            }
            None => match known_text {
                Some(text) => segments.write_str(text)?,
                None => segments.write_display(level)?,
            },
        }
    }
    Ok(())
}

impl fmt::Display for VError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            write_message(f, self)
        } else if let Some(held) = self.held() {
            // Made by `From`: this level stands for the error it holds.
            fmt::Display::fmt(held, f)
        } else if self.short_message().is_empty() {
            // Chain printers (anyhow's `{:#}`, tracing) show each level's `{}`: an empty
            // segment would read as a stray `": "`.
            f.write_str(self.name())
        } else {
            f.write_str(self.short_message())
        }
    }
}

impl fmt::Debug for VError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            fmt::Debug::fmt(
                &StructView {
                    error: self,
                    depth: 0,
                },
                f,
            )
        } else {
            write_report(f, self)
        }
    }
}

/// How many levels `{:#?}` nests before it says how many more there are: its
/// indentation grows with each level, so a deep chain would print quadratic text.
const STRUCT_VIEW_DEPTH: usize = 8;

/// One level of the `{:#?}` struct view, `depth` levels below the top.
struct StructView<'a> {
    error: &'a VError,
    depth: usize,
}

impl<'a> fmt::Debug for StructView<'a> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.error;
        let mut s = f.debug_struct("VError");
        s.field("name", &v.name());
        match v.held() {
            Some(held) => s.field("message", &display_string(held)),
            None => s.field("message", &v.short_message()),
        };
        s.field("info", v.own_info())
            .field("location", &v.location());
        if v.skips_cause_message() {
            s.field("skip_cause_message", &true);
        }
        let below = |error: &'a VError| StructView {
            error,
            depth: self.depth + 1,
        };
        match &v.0.sources {
            Sources::None => {}
            _ if self.depth + 1 >= STRUCT_VIEW_DEPTH => {
                let more = crate::chain::chain(v).count() - 1 + v.errors().len().saturating_sub(1);
                s.field(
                    "cause",
                    &format_args!("… {more} more levels (the report, {{:?}}, shows them all)"),
                );
            }
            Sources::VError(cause) => {
                s.field("cause", &below(cause));
            }
            Sources::Io(_) | Sources::Foreign(_) => {
                if let Some(error) = v.0.sources.single() {
                    s.field(
                        "cause",
                        &ForeignDebug {
                            name: v
                                .0
                                .sources
                                .foreign_name()
                                .unwrap_or(crate::chain::FOREIGN_NAME),
                            error,
                        },
                    );
                }
            }
            Sources::Multi(errors) => {
                s.field(
                    "errors",
                    &Children {
                        shown: errors.iter().take(STRUCT_VIEW_CHILDREN).map(below),
                        more: errors.len().saturating_sub(STRUCT_VIEW_CHILDREN),
                    },
                );
            }
        }
        if let Some(backtrace) = v.backtrace() {
            s.field("backtrace", backtrace);
        }
        s.finish()
    }
}

/// How many of a MultiError's children `{:#?}` shows before it says how many more.
const STRUCT_VIEW_CHILDREN: usize = 64;

/// A MultiError's children in the struct view.
struct Children<I> {
    shown: I,
    more: usize,
}

impl<'a, I: Iterator<Item = StructView<'a>> + Clone> fmt::Debug for Children<I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_list();
        list.entries(self.shown.clone());
        if self.more > 0 {
            list.entry(&format_args!("… {} more errors", self.more));
        }
        list.finish()
    }
}

struct ForeignDebug<'a> {
    name: &'a str,
    error: &'a (dyn Error + Send + Sync),
}

impl fmt::Debug for ForeignDebug<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(self.name)
            .field("message", &display_string(self.error))
            .finish()
    }
}

/// How many MultiErrors deep the report's tree indents; deeper children keep the
/// indentation of this depth, so the report stays linear in the chain's size.
const TREE_DEPTH: usize = 16;

/// The multi-line report of `{:?}`: the error, its info and location, its causes
/// numbered, MultiError children as a tree, and the chain's backtrace when captured.
pub(crate) fn write_report(out: &mut dyn Write, err: &(dyn Error + 'static)) -> fmt::Result {
    let top = Level::new(err, None);
    write_level(out, top, "", "")?;
    if is_multi(top) {
        write_children(out, top, "", 0)?;
    } else {
        let mut causes =
            std::iter::successors(top.cause(), |l| if is_multi(*l) { None } else { l.cause() })
                .enumerate()
                .peekable();
        if causes.peek().is_some() {
            out.write_str("\n\nCaused by:")?;
        }
        for (i, cause) in causes {
            let first = format!("\n{i:5}: ");
            let rest = " ".repeat(first.len() - 1);
            write_level(out, cause, &first, &rest)?;
            if is_multi(cause) {
                write_children(out, cause, &rest, 0)?;
            }
        }
    }
    if let Some(backtrace) = crate::chain::find_backtrace(err) {
        out.write_str("\n\nStack backtrace:")?;
        for line in backtrace.as_str().lines() {
            out.write_char('\n')?;
            write_escaped(out, line)?;
        }
    }
    Ok(())
}

fn is_multi(level: Level<'_>) -> bool {
    level.verror().is_some_and(VError::is_multi)
}

/// What is left to print of a MultiError's tree.
enum Pending<'a> {
    /// A level and what continues below it (its causes, or its own children).
    Level {
        level: Level<'a>,
        first: String,
        rest: String,
        depth: usize,
    },
    /// The children of a MultiError from `next` on.
    Children {
        errors: &'a [VError],
        next: usize,
        rest: String,
        depth: usize,
    },
}

/// The children of the MultiError `multi` as a tree under it, each child followed by
/// its causes on `caused by:` lines; iterative, so any nesting prints.
fn write_children(out: &mut dyn Write, multi: Level<'_>, rest: &str, depth: usize) -> fmt::Result {
    let mut stack = vec![Pending::Children {
        errors: multi.verror().map_or(&[], VError::errors),
        next: 0,
        rest: rest.to_owned(),
        depth,
    }];
    while let Some(pending) = stack.pop() {
        match pending {
            Pending::Level {
                level,
                first,
                rest,
                depth,
            } => {
                write_level(out, level, &first, &rest)?;
                if let Some(errors) = level.verror().filter(|v| v.is_multi()).map(VError::errors) {
                    stack.push(Pending::Children {
                        errors,
                        next: 0,
                        rest,
                        depth,
                    });
                } else if let Some(cause) = level.cause() {
                    stack.push(Pending::Level {
                        level: cause,
                        first: format!("\n{rest}caused by: "),
                        rest,
                        depth,
                    });
                }
            }
            Pending::Children {
                errors,
                next,
                rest,
                depth,
            } => {
                let Some(child) = errors.get(next) else {
                    continue;
                };
                let last = next + 1 == errors.len();
                let first = format!("\n{rest}    {}", if last { "└─ " } else { "├─ " });
                let stem = if depth < TREE_DEPTH {
                    format!("{rest}    {}", if last { "   " } else { "│  " })
                } else {
                    rest.clone()
                };
                stack.push(Pending::Children {
                    errors,
                    next: next + 1,
                    rest,
                    depth,
                });
                stack.push(Pending::Level {
                    level: Level::new(child, None),
                    first,
                    rest: stem,
                    depth: depth + 1,
                });
            }
        }
    }
    Ok(())
}

/// One level: `Name: message` after `first`, then its info fields and location, each
/// line continued with `rest`; names, messages, keys and values escaped.
fn write_level(out: &mut dyn Write, level: Level<'_>, first: &str, rest: &str) -> fmt::Result {
    out.write_str(first)?;
    write_escaped(out, level.name)?;
    let text = level.text();
    if !text.is_empty() {
        out.write_str(": ")?;
        write_indented(out, &text, rest)?;
    }
    let Some(verror) = level.verror() else {
        return Ok(());
    };
    for (key, value) in verror.own_info().iter() {
        write!(out, "\n{rest}    {}: ", Escaped(key))?;
        write_indented(out, &value.to_string(), rest)?;
    }
    if let Some(location) = verror.location() {
        write!(out, "\n{rest}    at ")?;
        write_escaped(out, &location.to_string())?;
    }
    Ok(())
}

/// Writes `text` escaped, continuing each further line with `rest` and two spaces, so
/// no line of it starts at column 0.
fn write_indented(out: &mut dyn Write, text: &str, rest: &str) -> fmt::Result {
    let mut lines = text.split('\n');
    write_escaped(out, lines.next().unwrap_or(""))?;
    for line in lines {
        write!(out, "\n{rest}  ")?;
        write_escaped(out, line)?;
    }
    Ok(())
}

/// What [`full_stack`] writes at most before it says how many levels it left out: its
/// node-verror shape repeats each level's full message, quadratic in the depth.
pub(crate) const FULL_STACK_BUDGET: usize = 256 * 1024;

/// Every level of the chain as `Name: message` (that level's full message, as
/// node's stack headers show it), with its location and backtrace when it has them,
/// joined by `"\ncaused by: "` — node-verror's `VError.fullStack(err)`. Control
/// characters are escaped. Past 256 KiB (a deep chain repeats each message at every
/// level above it), it ends with a line saying how many levels it left out.
///
/// ```
/// use verror::VError;
/// let err = VError::builder()
///     .name("RequestError")
///     .cause(VError::builder().message("failed to stat").backtrace(false).build())
///     .message("request failed")
///     .backtrace(false)
///     .build();
/// let stack = verror::full_stack(&err);
/// let headers: Vec<&str> = stack.lines().filter(|l| !l.starts_with("    at ")).collect();
/// assert_eq!(headers, ["RequestError: request failed: failed to stat", "caused by: VError: failed to stat"]);
/// ```
pub fn full_stack(err: &(dyn Error + 'static)) -> String {
    let mut out = Budgeted {
        out: String::new(),
        left: FULL_STACK_BUDGET,
    };
    let mut written = 0;
    let complete = write_full_stack(&mut out, err, &mut written).is_ok();
    let mut out = out.out;
    if !complete {
        let more = levels(err).count() - written;
        let _ = write!(out, "\n… {more} more levels");
    }
    out
}

/// A string that takes at most `left` more bytes, each write counting at least one
/// (so a walk over empty messages spends the budget too); past it, writes fail.
struct Budgeted {
    out: String,
    left: usize,
}

impl Write for Budgeted {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let cost = text.len().max(1);
        if cost > self.left {
            let mut end = self.left.min(text.len());
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            self.out.push_str(&text[..end]);
            self.left = 0;
            return Err(fmt::Error);
        }
        self.left -= cost;
        self.out.push_str(text);
        Ok(())
    }
}

fn write_full_stack(
    out: &mut Budgeted,
    err: &(dyn Error + 'static),
    written: &mut usize,
) -> fmt::Result {
    for (i, level) in levels(err).enumerate() {
        if i > 0 {
            out.write_str("\ncaused by: ")?;
        }
        write_escaped(out, level.name)?;
        let mut message = Escaping(&mut *out, false);
        write_message(&mut message, level.error)?;
        if let Some(verror) = level.verror() {
            if let Some(location) = verror.location() {
                out.write_str("\n    at ")?;
                write_escaped(out, &location.to_string())?;
            }
            if let Some(backtrace) = verror.backtrace() {
                for line in backtrace.as_str().lines() {
                    out.write_str("\n    ")?;
                    write_escaped(out, line)?;
                }
            }
        }
        *written = i + 1;
    }
    Ok(())
}

/// Writes a message escaped, with `": "` before its first non-empty text.
struct Escaping<'a, W: Write>(&'a mut W, bool);

impl<W: Write> Write for Escaping<'_, W> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        if !self.1 && !text.is_empty() {
            self.0.write_str(": ")?;
            self.1 = true;
        }
        write_escaped(self.0, text)
    }
}

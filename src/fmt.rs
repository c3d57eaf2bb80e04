//! How errors print: `{}`, `{:#}` (the one-line story), the `{:?}` report, the
//! `{:#?}` struct view, and [`full_stack`].

use std::error::Error;
use std::fmt::{self, Write};

use crate::chain::{levels, Level};
use crate::error::{Sources, VError};

/// Writes text segments joined by `": "`, skipping empty ones.
struct Segments<'a> {
    out: &'a mut dyn Write,
    separator_due: bool,
    wrote_any: bool,
}

impl Write for Segments<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        if text.is_empty() {
            return Ok(());
        }
        if self.separator_due {
            self.out.write_str(": ")?;
            self.separator_due = false;
        }
        self.wrote_any = true;
        self.out.write_str(text)
    }
}

impl Segments<'_> {
    fn next_segment(&mut self) {
        self.separator_due = self.wrote_any;
    }
}

/// Writes the node-verror message of `err`: each level's short message joined by
/// `": "`, down the chain, stopping after a level that skips its cause's message.
pub(crate) fn write_message(out: &mut dyn Write, err: &(dyn Error + 'static)) -> fmt::Result {
    let mut segments = Segments {
        out,
        separator_due: false,
        wrote_any: false,
    };
    for level in crate::chain::chain(err) {
        segments.next_segment();
        match level.downcast_ref::<VError>() {
            Some(verror) => {
                segments.write_str(verror.short_message())?;
                if verror.skips_cause_message() {
                    break;
                }
            }
            None => write!(segments, "{level}")?,
        }
    }
    Ok(())
}

impl fmt::Display for VError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.alternate() {
            write_message(f, self)
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
            self.debug_struct(f)
        } else {
            write_report(f, self)
        }
    }
}

impl VError {
    fn debug_struct(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("VError");
        s.field("name", &self.name())
            .field("message", &self.short_message())
            .field("info", self.own_info())
            .field("location", &self.location());
        if self.skips_cause_message() {
            s.field("skip_cause_message", &true);
        }
        match &self.0.sources {
            Sources::None => {}
            Sources::Cause(crate::error::Cause::VError(cause)) => {
                s.field("cause", cause);
            }
            Sources::Cause(crate::error::Cause::Foreign { name, error }) => {
                s.field(
                    "cause",
                    &ForeignDebug {
                        name,
                        error: &**error,
                    },
                );
            }
            Sources::Multi(errors) => {
                s.field("errors", errors);
            }
        }
        if let Some(backtrace) = self.backtrace() {
            s.field("backtrace", backtrace);
        }
        s.finish()
    }
}

struct ForeignDebug<'a> {
    name: &'a str,
    error: &'a (dyn Error + Send + Sync),
}

impl fmt::Debug for ForeignDebug<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(self.name)
            .field("error", &self.error)
            .finish()
    }
}

/// The multi-line report of `{:?}`: the error, its info and location, its causes
/// numbered, MultiError children as a tree, and the chain's backtrace when captured.
pub(crate) fn write_report(out: &mut dyn Write, err: &(dyn Error + 'static)) -> fmt::Result {
    let top = Level::new(err, None);
    write_level(out, top, "", "")?;
    let causes: Vec<Level<'_>> = linear_causes(top).collect();
    if !causes.is_empty() {
        out.write_str("\n\nCaused by:")?;
        for (i, cause) in causes.into_iter().enumerate() {
            let first = format!("\n{i:5}: ");
            write_level(out, cause, &first, &" ".repeat(first.len() - 1))?;
        }
    }
    if let Some(backtrace) = crate::chain::find_backtrace(err) {
        write!(out, "\n\nStack backtrace:\n{backtrace}")?;
    }
    Ok(())
}

/// The causes below `level` down to and including the first MultiError (whose
/// children its own entry shows as a tree).
fn linear_causes(level: Level<'_>) -> impl Iterator<Item = Level<'_>> {
    let below = if is_multi(level) { None } else { level.cause() };
    std::iter::successors(below, |l| if is_multi(*l) { None } else { l.cause() })
}

fn is_multi(level: Level<'_>) -> bool {
    level.verror().is_some_and(VError::is_multi)
}

/// One level: `Name: message` after `first`, then its info fields and location, then
/// (for a MultiError) its children as a tree, each line continued with `rest`.
fn write_level(out: &mut dyn Write, level: Level<'_>, first: &str, rest: &str) -> fmt::Result {
    out.write_str(first)?;
    out.write_str(level.name)?;
    let short = match level.verror() {
        Some(verror) => std::borrow::Cow::Borrowed(verror.short_message()),
        None => std::borrow::Cow::Owned(level.error.to_string()),
    };
    if !short.is_empty() {
        out.write_str(": ")?;
        write_indented(out, &short, rest)?;
    }
    let Some(verror) = level.verror() else {
        return Ok(());
    };
    for (key, value) in verror.own_info().iter() {
        write!(out, "\n{rest}    {key}: ")?;
        write_indented(out, &value.to_string(), rest)?;
    }
    if let Some(location) = verror.location() {
        write!(out, "\n{rest}    at {location}")?;
    }
    let children = verror.errors();
    for (i, child) in children.iter().enumerate() {
        let last = i + 1 == children.len();
        let branch = format!("\n{rest}    {}", if last { "└─ " } else { "├─ " });
        let stem = format!("{rest}    {}", if last { "   " } else { "│  " });
        write_subtree(out, Level::new(child, None), &branch, &stem)?;
    }
    Ok(())
}

/// A MultiError child and its causes, each cause on a `caused by:` line.
fn write_subtree(out: &mut dyn Write, level: Level<'_>, first: &str, rest: &str) -> fmt::Result {
    write_level(out, level, first, rest)?;
    for cause in linear_causes(level) {
        write_level(out, cause, &format!("\n{rest}caused by: "), rest)?;
    }
    Ok(())
}

/// Writes `text`, continuing each further line with `rest`.
fn write_indented(out: &mut dyn Write, text: &str, rest: &str) -> fmt::Result {
    let mut lines = text.split('\n');
    out.write_str(lines.next().unwrap_or(""))?;
    for line in lines {
        write!(out, "\n{rest}  {line}")?;
    }
    Ok(())
}

/// Every level of the chain as `Name: message` (that level's full message, as
/// node's stack headers show it), with its location and backtrace when it has them,
/// joined by `"\ncaused by: "` — node-verror's `VError.fullStack(err)`.
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
    let mut out = String::new();
    let _ = write_full_stack(&mut out, err);
    out
}

pub(crate) fn write_full_stack(out: &mut dyn Write, err: &(dyn Error + 'static)) -> fmt::Result {
    for (i, level) in levels(err).enumerate() {
        if i > 0 {
            out.write_str("\ncaused by: ")?;
        }
        out.write_str(level.name)?;
        let mut message = String::new();
        write_message(&mut message, level.error)?;
        if !message.is_empty() {
            write!(out, ": {message}")?;
        }
        if let Some(verror) = level.verror() {
            if let Some(location) = verror.location() {
                write!(out, "\n    at {location}")?;
            }
            if let Some(backtrace) = verror.backtrace() {
                for line in backtrace.as_str().lines() {
                    write!(out, "\n    {line}")?;
                }
            }
        }
    }
    Ok(())
}

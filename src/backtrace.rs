//! Backtraces: captured cheaply (instruction pointers only) where the environment
//! enables them, resolved to symbols only when printed or serialized.

use std::ffi::c_void;
use std::fmt::{self, Write as _};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

/// A stack backtrace captured when a chain's first [`VError`](crate::VError) was built.
///
/// Capturing records only the return addresses (a stack walk, no symbol lookup);
/// resolving them to function names, files and lines happens once, the first time the
/// backtrace is printed or serialized. A backtrace read back from JSON is kept as text.
///
/// Capture follows the standard library's rules: `RUST_LIB_BACKTRACE`, or else
/// `RUST_BACKTRACE`, set to anything but `0` enables it (read once per process). Where
/// enabled, a chain's first `VError` (one made over no cause or over a foreign error)
/// captures one; a level over a `VError` never does, as anyhow's `context` does not.
/// [`Backtrace::set_enabled`] overrides the environment for the whole process, and
/// [`Builder::backtrace`](crate::Builder::backtrace) forces it on or off per error (on
/// a chain that holds none yet).
///
/// ```
/// let err = verror::VError::builder().message("with a trace").backtrace(true).build();
/// let trace = err.backtrace().unwrap().to_string();
/// assert!(!trace.is_empty());
/// ```
pub struct Backtrace(Repr);

enum Repr {
    Captured {
        frames: Box<[usize]>,
        resolved: OnceLock<String>,
    },
    Text(String),
}

/// What the environment says, read once (or what [`Backtrace::set_enabled`] said):
/// 0 not read yet, 1 off, 2 on.
static ENABLED: AtomicU8 = AtomicU8::new(0);

/// Whether the environment enables backtraces (`RUST_LIB_BACKTRACE`, then
/// `RUST_BACKTRACE`, as for `std::backtrace::Backtrace::capture`).
#[inline]
pub(crate) fn enabled_by_env() -> bool {
    match ENABLED.load(Ordering::Relaxed) {
        1 => false,
        2 => true,
        _ => read_env(),
    }
}

/// The first answer: once per process (kept out of every error's line).
#[cold]
fn read_env() -> bool {
    let var = std::env::var_os("RUST_LIB_BACKTRACE").or_else(|| std::env::var_os("RUST_BACKTRACE"));
    let on = var.is_some_and(|v| v != "0");
    ENABLED.store(if on { 2 } else { 1 }, Ordering::Relaxed);
    on
}

impl Backtrace {
    /// Whether chains started from now on capture a backtrace, for the whole process,
    /// in place of what `RUST_LIB_BACKTRACE` and `RUST_BACKTRACE` say.
    ///
    /// A program that wants its panics' backtraces (`RUST_BACKTRACE=1`) without one
    /// in every error calls `Backtrace::set_enabled(false)` at start; unlike setting
    /// `RUST_LIB_BACKTRACE` from inside the program, this is safe with threads
    /// running. [`Builder::backtrace`](crate::Builder::backtrace) still decides for
    /// one error.
    ///
    /// ```
    /// use verror::{Backtrace, VError};
    ///
    /// Backtrace::set_enabled(false);
    /// assert!(VError::new("no trace").backtrace().is_none());
    /// Backtrace::set_enabled(true);
    /// assert!(VError::new("a trace").backtrace().is_some());
    /// ```
    pub fn set_enabled(enabled: bool) {
        ENABLED.store(if enabled { 2 } else { 1 }, Ordering::Relaxed);
    }

    /// Walks the stack now; resolves nothing.
    #[inline(never)]
    pub(crate) fn capture() -> Backtrace {
        let mut frames = Vec::with_capacity(32);
        backtrace::trace(|frame| {
            frames.push(frame.ip() as usize);
            true
        });
        Backtrace(Repr::Captured {
            frames: frames.into_boxed_slice(),
            resolved: OnceLock::new(),
        })
    }

    pub(crate) fn from_text(text: String) -> Backtrace {
        Backtrace(Repr::Text(text))
    }

    /// The backtrace as text, one frame a line with its file and line where known,
    /// resolved on first use and kept.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Captured { frames, resolved } => resolved.get_or_init(|| resolve(frames)),
            Repr::Text(text) => text,
        }
    }
}

/// Resolves return addresses to symbols, skipping the frames of the capture itself.
fn resolve(frames: &[usize]) -> String {
    let mut out = String::new();
    let mut index = 0;
    let mut started = false;
    for &ip in frames.iter().filter(|&&ip| ip != 0) {
        let mut symbols = Vec::new();
        backtrace::resolve(ip as *mut c_void, |symbol| {
            let name = symbol.name().map(|n| format!("{n:#}"));
            let place = symbol
                .filename()
                .map(|file| (file.display().to_string(), symbol.lineno()));
            symbols.push((name, place));
        });
        // The top frames are the stack walk, verror's constructors and the library
        // helpers they inline; the first other frame is the caller's.
        if !started {
            if symbols
                .iter()
                .all(|(name, _)| name.as_deref().is_some_and(is_internal))
            {
                continue;
            }
            started = true;
        }
        let _ = write!(out, "{index:4}: ");
        if symbols.is_empty() {
            let _ = writeln!(out, "{ip:#x}");
        }
        for (i, (name, place)) in symbols.into_iter().enumerate() {
            if i > 0 {
                out.push_str("      ");
            }
            let _ = writeln!(out, "{}", name.as_deref().unwrap_or("<unknown>"));
            match place {
                Some((file, Some(line))) => {
                    let _ = writeln!(out, "          at {file}:{line}");
                }
                Some((file, None)) => {
                    let _ = writeln!(out, "          at {file}");
                }
                None => {}
            }
        }
        index += 1;
    }
    out.truncate(out.trim_end().len());
    out
}

/// Whether a frame belongs to the capture rather than to the caller.
fn is_internal(name: &str) -> bool {
    let name = name.trim_start_matches('<');
    ["backtrace::", "verror::", "core::", "alloc::", "std::"]
        .iter()
        .any(|prefix| name.starts_with(prefix))
}

impl fmt::Display for Backtrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text, line by line, with control characters escaped (`{:#?}` shows it): a
/// backtrace read from JSON is text a peer chose.
impl fmt::Debug for Backtrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Captured { frames, resolved } if resolved.get().is_none() => {
                write!(f, "Backtrace({} frames, unresolved)", frames.len())
            }
            _ => {
                for (i, line) in self.as_str().split('\n').enumerate() {
                    if i > 0 {
                        f.write_char('\n')?;
                    }
                    crate::escape::write_escaped(f, line)?;
                }
                Ok(())
            }
        }
    }
}

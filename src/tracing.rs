//! A [`tracing_subscriber::Layer`] that logs errors as structured records instead of
//! flattened strings (feature `tracing`).
//!
//! [`LogLayer`] writes one record per event: a JSON object per line in one of the
//! [`LogFormat`]s of [`crate::log`] (verror's native record, Elastic Common Schema,
//! an OpenTelemetry log record, Bunyan), or human text. An error recorded as an event
//! field (any `&(dyn Error + 'static)`, a [`VError`](crate::VError) or not) stays a
//! nested object with its name, message, info and causes ([`ErrorJson`]), never a
//! string of JSON; the event's other fields become typed record fields.
//!
//! ```
//! use tracing_subscriber::layer::SubscriberExt;
//! use tracing_subscriber::util::SubscriberInitExt;
//! use verror::log::LogFormat;
//! use verror::tracing::{as_error, LogBuffer, LogLayer};
//! use verror::VError;
//!
//! // Logs go to stderr by default; this example captures them.
//! let logs = LogBuffer::new();
//! let layer = LogLayer::builder().format(LogFormat::Native).writer(logs.clone()).build();
//! let counts = layer.handle();
//! tracing_subscriber::registry().with(layer).init();
//!
//! let err = VError::builder()
//!     .name("FrameDecodeError")
//!     .info("conn_id", 7)
//!     .cause(VError::builder().name("FrameError").message("declared length 5000000 exceeds the limit of 1048576").build())
//!     .message("connection 7, frame 3")
//!     .build();
//! tracing::error!(error = as_error(&err), conn_id = 7, kind = "oversized", "frame rejected");
//!
//! let line: serde_json::Value = serde_json::from_str(&logs.contents()).unwrap();
//! assert_eq!(line["level"], "error");
//! assert_eq!(line["message"], "frame rejected");
//! assert_eq!(line["conn_id"], 7);                    // typed, not "7"
//! assert_eq!(line["kind"], "oversized");
//! assert_eq!(line["error"]["name"], "FrameDecodeError");  // an object, not a string
//! assert_eq!(line["error"]["info"]["conn_id"], 7);
//! assert_eq!(line["error"]["cause"]["name"], "FrameError");
//! assert_eq!(
//!     line["error"]["message"],
//!     "connection 7, frame 3: declared length 5000000 exceeds the limit of 1048576"
//! );
//! assert_eq!(counts.logged("oversized"), 1);
//! ```
//!
//! # Recording an error
//!
//! `tracing` hands a field to a layer as an error only when its value is a
//! `&(dyn Error + 'static)` (`Visit::record_error`); `error = %err` or `error = ?err`
//! would arrive as text. Write `error = &err as &(dyn std::error::Error + 'static)`, or
//! [`as_error`]`(&err)`. The first error field of an event is *the* error of its
//! record (any name will do; `error` or `err` is customary). Further error fields
//! become record fields holding their [`ErrorJson`] objects.
//!
//! # Fields
//!
//! - The `message` field (the format string of `tracing::error!(…, "text")`) is the
//!   record's message. An error event without one takes the error's whole message.
//! - Other fields keep their types: integers, floats, booleans and strings as such,
//!   `?value` and `%value` as strings. A field whose name a format already uses (say
//!   `level` or `msg`) is written as `fields.<name>`. Fields `log.*` (added by
//!   `tracing-log`) are skipped.
//! - The event's target is a field: `log.logger` in ECS, `target` elsewhere (turn it off
//!   with [`LogLayerBuilder::target`]).
//! - Span fields are not included.
//!
//! # Rate limiting
//!
//! Error lines (events carrying an error) are limited per **kind**: the event's `kind`
//! field when it has one, else the error's name. At most [`RateLimit::lines`] lines of a
//! kind are written per [`RateLimit::window`] (10 a second by default); the rest are
//! counted and dropped. When the window of a kind rolls over (at the next event of
//! that kind) or on [`LogHandle::flush`] (also run when the layer is dropped), one line
//! at the level of the dropped events reports them, with fields `kind` and
//! `suppressed`:
//!
//! ```json
//! {"timestamp":"…","level":"error","message":"suppressed 37 error lines of kind oversized","target":"verror::tracing","kind":"oversized","suppressed":37}
//! ```
//!
//! Events without an error are never limited. [`LogHandle`] counts the error lines
//! written and suppressed by kind, for a final summary. At most 1024 kinds are
//! tracked; error lines of further kinds share the kind `(other)`.
//!
//! # Cost and failure
//!
//! The layer never panics and never captures a backtrace. Suppressed events cost a
//! pass over their fields and a map lookup. Written lines are rendered into a
//! per-thread buffer and handed to the writer in one `write_all`, so lines from
//! several threads never interleave on a writer that locks per write (as stderr
//! does); a failing writer is counted ([`LogHandle::write_errors`]) and otherwise
//! ignored.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::error::Error;
use std::fmt::{self, Write as _};
use std::io::{self, Write};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use ::tracing::field::{Field, Visit};
use ::tracing::{Event, Subscriber};
use serde_json::Value;
use tracing_subscriber::layer::Context;

use crate::info::Info;
use crate::log::{Level, LogFormat, LogRecord, Rfc3339};
use crate::ser::ErrorJson;

/// Views any error as the `&(dyn Error + 'static)` that `tracing` records as an error
/// (through `Visit::record_error`) rather than as text.
///
/// ```
/// let err = verror::VError::new("disk full");
/// tracing::error!(error = verror::tracing::as_error(&err), "write failed");
/// ```
pub fn as_error<E: Error + 'static>(error: &E) -> &(dyn Error + 'static) {
    error
}

// ---------------------------------------------------------------------------------------
// Format

/// What [`LogLayer`] writes: a JSON record per line in one of the [`LogFormat`]s, or
/// human text.
///
/// Reads from the names `json` (or `native`), `ecs`, `otel` (or `opentelemetry`),
/// `bunyan`, `text` and `compact`:
///
/// ```
/// use verror::log::LogFormat;
/// use verror::tracing::Format;
/// assert_eq!("ecs".parse::<Format>().unwrap(), Format::Json(LogFormat::Ecs));
/// assert_eq!("text".parse::<Format>().unwrap(), Format::Text);
/// assert_eq!(Format::from(LogFormat::Bunyan).to_string(), "bunyan");
/// assert!("xml".parse::<Format>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// One JSON object per line, a whole record in this format.
    Json(LogFormat),
    /// Human text: one line per event (time, level, target, message, `key=value`
    /// fields); an error event adds the error's whole message and its report
    /// (`{:?}`), indented below.
    Text,
    /// Human text, one line per event, an error as `error="Name: whole message"`.
    Compact,
}

impl Format {
    /// Every format, for tests and help texts.
    pub const ALL: [Format; 6] = [
        Format::Json(LogFormat::Native),
        Format::Json(LogFormat::Ecs),
        Format::Json(LogFormat::OpenTelemetry),
        Format::Json(LogFormat::Bunyan),
        Format::Text,
        Format::Compact,
    ];

    /// The name [`FromStr`] reads: `json`, `ecs`, `otel`, `bunyan`, `text`, `compact`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json(format) => format.as_str(),
            Format::Text => "text",
            Format::Compact => "compact",
        }
    }

    /// Record keys this format writes itself; a field of that name is renamed.
    fn reserved(self) -> &'static [&'static str] {
        match self {
            Format::Json(LogFormat::Native) => &["timestamp", "level", "message", "error", "info"],
            Format::Json(LogFormat::Ecs) => &[
                "@timestamp",
                "log.level",
                "message",
                "ecs.version",
                "service.name",
                "host.hostname",
                "process.pid",
                "error",
                "verror",
            ],
            Format::Json(LogFormat::OpenTelemetry) => &[
                "exception.type",
                "exception.message",
                "exception.stacktrace",
                "verror.error",
            ],
            Format::Json(LogFormat::Bunyan) => &[
                "name", "hostname", "pid", "level", "err", "msg", "time", "v",
            ],
            Format::Text | Format::Compact => &[],
        }
    }

    /// The record field that carries the event's target.
    fn target_key(self) -> &'static str {
        match self {
            Format::Json(LogFormat::Ecs) => "log.logger",
            _ => "target",
        }
    }
}

impl Default for Format {
    /// verror's native JSON record.
    fn default() -> Format {
        Format::Json(LogFormat::Native)
    }
}

impl From<LogFormat> for Format {
    fn from(format: LogFormat) -> Format {
        Format::Json(format)
    }
}

impl FromStr for Format {
    type Err = crate::VError;

    fn from_str(text: &str) -> Result<Format, crate::VError> {
        match text {
            "text" => Ok(Format::Text),
            "compact" => Ok(Format::Compact),
            _ => text.parse::<LogFormat>().map(Format::Json).map_err(|_| {
                crate::VError::builder()
                    .name("LogFormatError")
                    .info("given", text)
                    .info("expected", Format::ALL.map(Format::as_str))
                    .message(format!("unknown log format {text:?}"))
                    .backtrace(false)
                    .build()
            }),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------------------
// Writers

/// Where [`LogLayer`] writes: something that gives an [`io::Write`] for each line.
///
/// Implemented for closures `Fn() -> W` (so `std::io::stderr` and `std::io::stdout`
/// work as they are), for [`LogBuffer`], for `std::fs::File`, and for `Mutex<W>`.
/// Each line, its `\n` included, goes to the writer in one `write_all` call.
pub trait MakeWriter: Send + Sync + 'static {
    /// The writer for one line.
    type Writer<'a>: Write
    where
        Self: 'a;

    /// A writer for the next line.
    fn make_writer(&self) -> Self::Writer<'_>;
}

impl<F, W> MakeWriter for F
where
    F: Fn() -> W + Send + Sync + 'static,
    W: Write,
{
    type Writer<'a>
        = W
    where
        Self: 'a;

    fn make_writer(&self) -> W {
        self()
    }
}

impl MakeWriter for std::fs::File {
    type Writer<'a> = &'a std::fs::File;

    fn make_writer(&self) -> &std::fs::File {
        self
    }
}

impl<W: Write + Send + 'static> MakeWriter for Mutex<W> {
    type Writer<'a> = LockedWriter<'a, W>;

    fn make_writer(&self) -> LockedWriter<'_, W> {
        LockedWriter(self.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }
}

/// The writer of a `Mutex<W>`: holds the lock for one line.
pub struct LockedWriter<'a, W>(MutexGuard<'a, W>);

impl<W: Write> Write for LockedWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0.write_all(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

/// An in-memory log shared by its clones: point a [`LogLayer`] at one clone and read
/// the lines from another (tests, demos).
///
/// ```
/// use std::io::Write;
/// let logs = verror::tracing::LogBuffer::new();
/// let mut writer = logs.clone();
/// writer.write_all(b"{\"a\":1}\n{\"a\":2}\n").unwrap();
/// assert_eq!(logs.lines(), ["{\"a\":1}", "{\"a\":2}"]);
/// assert_eq!(logs.take(), "{\"a\":1}\n{\"a\":2}\n");
/// assert!(logs.contents().is_empty());
/// ```
#[derive(Clone, Debug, Default)]
pub struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl LogBuffer {
    /// An empty buffer.
    pub fn new() -> LogBuffer {
        LogBuffer::default()
    }

    fn bytes(&self) -> MutexGuard<'_, Vec<u8>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Everything written so far (invalid UTF-8 replaced).
    pub fn contents(&self) -> String {
        String::from_utf8_lossy(&self.bytes()).into_owned()
    }

    /// Everything written so far, one string a line, without the `\n`s.
    pub fn lines(&self) -> Vec<String> {
        self.contents().lines().map(str::to_owned).collect()
    }

    /// Everything written so far, leaving the buffer empty.
    pub fn take(&self) -> String {
        let bytes = std::mem::take(&mut *self.bytes());
        String::from_utf8(bytes)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
    }

    /// Empties the buffer.
    pub fn clear(&self) {
        self.bytes().clear();
    }
}

impl Write for &LogBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        (&*self).write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl MakeWriter for LogBuffer {
    type Writer<'a> = &'a LogBuffer;

    fn make_writer(&self) -> &LogBuffer {
        self
    }
}

/// A [`MakeWriter`] with its writer type erased.
trait WriteLine: Send + Sync {
    fn write_line(&self, line: &[u8]) -> io::Result<()>;
    fn flush(&self) -> io::Result<()>;
}

impl<M: MakeWriter> WriteLine for M {
    fn write_line(&self, line: &[u8]) -> io::Result<()> {
        self.make_writer().write_all(line)
    }

    fn flush(&self) -> io::Result<()> {
        self.make_writer().flush()
    }
}

// ---------------------------------------------------------------------------------------
// Configuration

/// At most [`lines`](RateLimit::lines) error lines of one kind per
/// [`window`](RateLimit::window).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RateLimit {
    /// Lines of one kind written per window; the rest are counted and dropped.
    pub lines: u32,
    /// The length of a window. Each kind's window starts at its first line.
    pub window: Duration,
}

impl RateLimit {
    /// `lines` per `window`.
    pub const fn new(lines: u32, window: Duration) -> RateLimit {
        RateLimit { lines, window }
    }
}

impl Default for RateLimit {
    /// 10 lines a second.
    fn default() -> RateLimit {
        RateLimit::new(10, Duration::from_secs(1))
    }
}

/// Builds a [`LogLayer`]. Made by [`LogLayer::builder`].
pub struct LogLayerBuilder {
    format: Format,
    writer: Box<dyn WriteLine>,
    rate_limit: Option<RateLimit>,
    service: String,
    target: bool,
}

impl fmt::Debug for LogLayerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogLayerBuilder")
            .field("format", &self.format)
            .field("rate_limit", &self.rate_limit)
            .field("service", &self.service)
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl LogLayerBuilder {
    /// The record format: a [`LogFormat`] or a [`Format`]. Default: the native JSON
    /// record.
    pub fn format(mut self, format: impl Into<Format>) -> LogLayerBuilder {
        self.format = format.into();
        self
    }

    /// Where lines go. Default: `std::io::stderr`.
    pub fn writer(mut self, writer: impl MakeWriter) -> LogLayerBuilder {
        self.writer = Box::new(writer);
        self
    }

    /// The rate limit of error lines per kind; `None` writes them all. Default:
    /// [`RateLimit::default`], 10 a second.
    pub fn rate_limit(mut self, limit: Option<RateLimit>) -> LogLayerBuilder {
        self.rate_limit = limit;
        self
    }

    /// The service name of the records (Bunyan's `name`, ECS `service.name`).
    /// Default: the file name of the running program.
    pub fn service(mut self, name: impl Into<String>) -> LogLayerBuilder {
        self.service = name.into();
        self
    }

    /// Whether records carry the event's target (`target`, or `log.logger` in ECS).
    /// Default: yes.
    pub fn target(mut self, on: bool) -> LogLayerBuilder {
        self.target = on;
        self
    }

    /// The layer.
    pub fn build(self) -> LogLayer {
        LogLayer {
            shared: Arc::new(Shared {
                format: self.format,
                writer: self.writer,
                rate_limit: self.rate_limit,
                service: self.service,
                target: self.target,
                kinds: Mutex::new(HashMap::new()),
                write_errors: AtomicU64::new(0),
            }),
        }
    }
}

/// The file name of the running program, or `"verror"`.
fn program_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|path| {
            path.file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
        })
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "verror".to_owned())
}

// ---------------------------------------------------------------------------------------
// The layer and its handle

/// A `tracing` layer that writes each event as a record with its error kept whole.
/// See the [module documentation](self).
///
/// Dropping the layer (with the subscriber that holds it) reports the error lines
/// still suppressed; a subscriber installed for the whole program is never dropped,
/// so call [`LogHandle::flush`] before exiting.
pub struct LogLayer {
    shared: Arc<Shared>,
}

impl fmt::Debug for LogLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogLayer")
            .field("format", &self.shared.format)
            .field("rate_limit", &self.shared.rate_limit)
            .finish_non_exhaustive()
    }
}

impl Default for LogLayer {
    /// [`LogLayer::new`].
    fn default() -> LogLayer {
        LogLayer::new()
    }
}

impl LogLayer {
    /// Native JSON records to stderr, 10 error lines per kind a second.
    pub fn new() -> LogLayer {
        LogLayer::builder().build()
    }

    /// A builder, with the defaults of [`LogLayer::new`].
    pub fn builder() -> LogLayerBuilder {
        LogLayerBuilder {
            format: Format::default(),
            writer: Box::new(io::stderr),
            rate_limit: Some(RateLimit::default()),
            service: program_name(),
            target: true,
        }
    }

    /// A handle on this layer's counts, to keep once the layer is installed.
    pub fn handle(&self) -> LogHandle {
        LogHandle {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl Drop for LogLayer {
    fn drop(&mut self) {
        self.shared.flush();
    }
}

impl<S: Subscriber> tracing_subscriber::Layer<S> for LogLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        self.shared.on_event(event);
    }
}

/// A cheap, cloneable handle on a [`LogLayer`]: error lines written and suppressed by
/// kind, and [`flush`](LogHandle::flush).
///
/// ```
/// use std::time::Duration;
/// use tracing_subscriber::layer::SubscriberExt;
/// use verror::tracing::{as_error, LogBuffer, LogLayer, RateLimit};
///
/// let logs = LogBuffer::new();
/// let layer = LogLayer::builder()
///     .writer(logs.clone())
///     .rate_limit(Some(RateLimit::new(2, Duration::from_secs(60))))
///     .build();
/// let handle = layer.handle();
/// let err = verror::VError::builder().name("TimeoutError").message("peer too slow").backtrace(false).build();
/// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
///     for _ in 0..5 {
///         tracing::warn!(error = as_error(&err), "giving up");
///     }
/// });
/// assert_eq!(handle.logged("TimeoutError"), 2);
/// assert_eq!(handle.suppressed("TimeoutError"), 3);
/// // Dropping the subscriber flushed the layer: 2 lines, then the report.
/// let lines = logs.lines();
/// assert_eq!(lines.len(), 3);
/// let report: serde_json::Value = serde_json::from_str(&lines[2]).unwrap();
/// assert_eq!(report["suppressed"], 3);
/// assert_eq!(report["kind"], "TimeoutError");
/// ```
#[derive(Clone)]
pub struct LogHandle {
    shared: Arc<Shared>,
}

impl fmt::Debug for LogHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogHandle")
            .field("counts", &self.counts())
            .finish()
    }
}

/// The error lines of one kind: written and suppressed, since the layer was built.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct KindCount {
    /// The kind: the event's `kind` field, else the error's name.
    pub kind: String,
    /// Lines written.
    pub logged: u64,
    /// Lines dropped by the rate limit.
    pub suppressed: u64,
}

impl LogHandle {
    /// Writes a report line for every kind with lines suppressed and not yet
    /// reported, then flushes the writer.
    pub fn flush(&self) {
        self.shared.flush();
    }

    /// The counts of every kind seen, sorted by kind.
    pub fn counts(&self) -> Vec<KindCount> {
        let kinds = self.shared.kinds();
        let mut counts: Vec<KindCount> = kinds
            .iter()
            .map(|(kind, state)| KindCount {
                kind: kind.clone(),
                logged: state.logged,
                suppressed: state.suppressed,
            })
            .collect();
        drop(kinds);
        counts.sort_by(|a, b| a.kind.cmp(&b.kind));
        counts
    }

    /// Error lines of `kind` written.
    pub fn logged(&self, kind: &str) -> u64 {
        self.shared
            .kinds()
            .get(kind)
            .map_or(0, |state| state.logged)
    }

    /// Error lines of `kind` suppressed.
    pub fn suppressed(&self, kind: &str) -> u64 {
        self.shared
            .kinds()
            .get(kind)
            .map_or(0, |state| state.suppressed)
    }

    /// Error lines written, every kind.
    pub fn total_logged(&self) -> u64 {
        self.shared.kinds().values().map(|state| state.logged).sum()
    }

    /// Error lines suppressed, every kind.
    pub fn total_suppressed(&self) -> u64 {
        self.shared
            .kinds()
            .values()
            .map(|state| state.suppressed)
            .sum()
    }

    /// Lines lost because the writer failed (or a value refused to serialize).
    pub fn write_errors(&self) -> u64 {
        self.shared.write_errors.load(Ordering::Relaxed)
    }
}

// ---------------------------------------------------------------------------------------
// Rate limiting

/// At most this many kinds are tracked; the rest share [`OTHER_KIND`].
const MAX_KINDS: usize = 1024;
const OTHER_KIND: &str = "(other)";

/// One kind's window and totals.
struct KindState {
    window_start: Instant,
    in_window: u32,
    /// Suppressed since the last report, and the highest level among them.
    pending: u64,
    pending_level: Level,
    logged: u64,
    suppressed: u64,
}

/// A line to write about suppressed lines.
struct Suppressed {
    kind: String,
    count: u64,
    level: Level,
}

struct Shared {
    format: Format,
    writer: Box<dyn WriteLine>,
    rate_limit: Option<RateLimit>,
    service: String,
    target: bool,
    kinds: Mutex<HashMap<String, KindState>>,
    write_errors: AtomicU64,
}

impl Shared {
    fn kinds(&self) -> MutexGuard<'_, HashMap<String, KindState>> {
        self.kinds
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether an error line of `kind` may be written, and the report of the window
    /// that just ended, if it suppressed anything.
    fn admit(&self, kind: &str, level: Level) -> (bool, Option<Suppressed>) {
        let now = Instant::now();
        let mut kinds = self.kinds();
        let kind = if kinds.contains_key(kind) || kinds.len() < MAX_KINDS {
            kind
        } else {
            OTHER_KIND
        };
        if !kinds.contains_key(kind) {
            let state = KindState {
                window_start: now,
                in_window: 0,
                pending: 0,
                pending_level: level,
                logged: 0,
                suppressed: 0,
            };
            kinds.insert(kind.to_owned(), state);
        }
        let Some(state) = kinds.get_mut(kind) else {
            return (true, None);
        };
        let Some(limit) = self.rate_limit else {
            state.logged += 1;
            return (true, None);
        };
        let mut report = None;
        if now.saturating_duration_since(state.window_start) >= limit.window {
            report = take_pending(kind, state);
            state.window_start = now;
            state.in_window = 0;
        }
        if state.in_window < limit.lines {
            state.in_window += 1;
            state.logged += 1;
            (true, report)
        } else {
            state.pending_level = if state.pending == 0 {
                level
            } else {
                state.pending_level.max(level)
            };
            state.pending += 1;
            state.suppressed += 1;
            (false, report)
        }
    }

    fn flush(&self) {
        let mut reports: Vec<Suppressed> = self
            .kinds()
            .iter_mut()
            .filter_map(|(kind, state)| take_pending(kind, state))
            .collect();
        reports.sort_by(|a, b| a.kind.cmp(&b.kind));
        with_scratch(|scratch| {
            for report in &reports {
                self.write_suppressed(scratch, report);
            }
        });
        if self.writer.flush().is_err() {
            self.write_errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn on_event(&self, event: &Event<'_>) {
        let metadata = event.metadata();
        let level = level_of(metadata.level());
        with_scratch(|scratch| {
            // Pass 1: is there an error, and of which kind?
            let mut probe = Probe {
                scratch,
                primary: None,
                has_kind: false,
            };
            event.record(&mut probe);
            let Probe {
                scratch,
                primary,
                has_kind,
            } = probe;
            if primary.is_some() {
                let kind = if has_kind {
                    &scratch.kind
                } else {
                    &scratch.error_name
                };
                let (admitted, report) = self.admit(kind, level);
                if let Some(report) = report {
                    self.write_suppressed(scratch, &report);
                }
                if !admitted {
                    return;
                }
            }

            // Pass 2: the record's message and fields.
            let record = &mut scratch.record;
            record.time = SystemTime::now();
            record.level = level;
            record.message.clear();
            record.fields = Info::new();
            if record.service != self.service {
                record.service.clone_from(&self.service);
            }
            let json = matches!(self.format, Format::Json(_));
            if self.target && json {
                record.fields.insert(
                    self.format.target_key(),
                    Value::String(metadata.target().to_owned()),
                );
            }
            event.record(&mut Collect {
                record,
                primary,
                reserved: self.format.reserved(),
            });
            let target = (self.target && !json).then(|| metadata.target());

            // Pass 3: render, with the error borrowed while the event lends it.
            match primary {
                None => self.write_record(scratch, target, None),
                Some(index) => event.record(&mut Render {
                    shared: self,
                    scratch,
                    index,
                    target,
                }),
            }
        });
    }

    /// Renders the scratch record with `error` and writes it.
    fn write_record(
        &self,
        scratch: &mut Scratch,
        target: Option<&str>,
        error: Option<&(dyn Error + 'static)>,
    ) {
        let Scratch { record, buf, .. } = scratch;
        buf.clear();
        let rendered = match self.format {
            Format::Json(format) => {
                serde_json::to_writer(&mut *buf, &record.with_error(format, error)).is_ok()
            }
            Format::Text | Format::Compact => {
                let compact = self.format == Format::Compact;
                write_text(&mut BufText(buf), record, target, error, compact).is_ok()
            }
        };
        buf.push(b'\n');
        if !rendered || self.writer.write_line(buf).is_err() {
            self.write_errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Writes the line that reports suppressed error lines.
    fn write_suppressed(&self, scratch: &mut Scratch, report: &Suppressed) {
        let record = &mut scratch.record;
        record.time = SystemTime::now();
        record.level = report.level;
        record.message.clear();
        let _ = write!(
            record.message,
            "suppressed {} error line{} of kind {}",
            report.count,
            if report.count == 1 { "" } else { "s" },
            report.kind
        );
        record.fields = Info::new();
        if record.service != self.service {
            record.service.clone_from(&self.service);
        }
        let json = matches!(self.format, Format::Json(_));
        let own_target = module_path!();
        if self.target && json {
            record.fields.insert(
                self.format.target_key(),
                Value::String(own_target.to_owned()),
            );
        }
        record
            .fields
            .insert("kind", Value::String(report.kind.clone()));
        record
            .fields
            .insert("suppressed", Value::from(report.count));
        let target = (self.target && !json).then_some(own_target);
        self.write_record(scratch, target, None);
    }
}

/// The pending report of a kind, resetting its count.
fn take_pending(kind: &str, state: &mut KindState) -> Option<Suppressed> {
    if state.pending == 0 {
        return None;
    }
    let report = Suppressed {
        kind: kind.to_owned(),
        count: state.pending,
        level: state.pending_level,
    };
    state.pending = 0;
    Some(report)
}

fn level_of(level: &::tracing::Level) -> Level {
    match *level {
        ::tracing::Level::TRACE => Level::Trace,
        ::tracing::Level::DEBUG => Level::Debug,
        ::tracing::Level::INFO => Level::Info,
        ::tracing::Level::WARN => Level::Warn,
        _ => Level::Error,
    }
}

// ---------------------------------------------------------------------------------------
// Per-thread scratch space

/// Buffers reused from one event to the next on a thread.
struct Scratch {
    record: LogRecord,
    /// The event's `kind` field.
    kind: String,
    /// The name of the event's error.
    error_name: String,
    /// The line being written.
    buf: Vec<u8>,
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            record: LogRecord::new(Level::Info, String::new()),
            kind: String::new(),
            error_name: String::new(),
            buf: Vec::new(),
        }
    }

    fn reset(&mut self) {
        self.kind.clear();
        self.error_name.clear();
        // Let an unusually large line go rather than keep its memory forever.
        if self.buf.capacity() > 64 * 1024 {
            self.buf = Vec::new();
        }
        if self.record.message.capacity() > 64 * 1024 {
            self.record.message = String::new();
        }
    }
}

thread_local! {
    static SCRATCH: RefCell<Option<Scratch>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's scratch space, or fresh space when that is in use (an
/// event logged from inside a writer) or gone (thread exit).
fn with_scratch(f: impl FnOnce(&mut Scratch)) {
    let mut f = Some(f);
    let _ = SCRATCH.try_with(|cell| {
        if let Ok(mut slot) = cell.try_borrow_mut() {
            let scratch = slot.get_or_insert_with(Scratch::new);
            scratch.reset();
            if let Some(f) = f.take() {
                f(scratch);
            }
        }
    });
    if let Some(f) = f.take() {
        f(&mut Scratch::new());
    }
}

// ---------------------------------------------------------------------------------------
// Visitors

/// Pass 1: finds the first error field and the event's kind.
struct Probe<'a> {
    scratch: &'a mut Scratch,
    primary: Option<usize>,
    has_kind: bool,
}

impl Visit for Probe<'_> {
    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        if self.primary.is_none() {
            self.primary = Some(field.index());
            self.scratch
                .error_name
                .push_str(crate::chain::Level::new(value, None).name);
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "kind" {
            self.scratch.kind.clear();
            self.scratch.kind.push_str(value);
            self.has_kind = true;
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "kind" {
            self.scratch.kind.clear();
            let _ = write!(self.scratch.kind, "{value:?}");
            self.has_kind = true;
        }
    }
}

/// Pass 2: the message and the typed fields, all but the record's error.
struct Collect<'a> {
    record: &'a mut LogRecord,
    primary: Option<usize>,
    reserved: &'static [&'static str],
}

impl Collect<'_> {
    fn field(&mut self, field: &Field, value: Value) {
        let name = field.name();
        if name.starts_with("log.") {
            return;
        }
        let key: Cow<'static, str> = if self.reserved.contains(&name) {
            Cow::Owned(format!("fields.{name}"))
        } else {
            Cow::Borrowed(name)
        };
        self.record.fields.insert(key, value);
    }
}

impl Visit for Collect<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        let value = serde_json::Number::from_f64(value)
            .map_or_else(|| Value::String(value.to_string()), Value::Number);
        self.field(field, value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.field(field, Value::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.field(field, Value::from(value));
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        let value =
            i64::try_from(value).map_or_else(|_| Value::String(value.to_string()), Value::from);
        self.field(field, value);
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        let value =
            u64::try_from(value).map_or_else(|_| Value::String(value.to_string()), Value::from);
        self.field(field, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.field(field, Value::Bool(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.record.message.push_str(value);
        } else {
            self.field(field, Value::String(value.to_owned()));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        if Some(field.index()) != self.primary {
            let json = serde_json::to_value(ErrorJson::new(value))
                .unwrap_or_else(|e| Value::String(e.to_string()));
            self.field(field, json);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            let _ = write!(self.record.message, "{value:?}");
        } else {
            self.field(field, Value::String(format!("{value:?}")));
        }
    }
}

/// Pass 3: renders and writes the record when the visit reaches its error.
struct Render<'a> {
    shared: &'a Shared,
    scratch: &'a mut Scratch,
    index: usize,
    target: Option<&'a str>,
}

impl Visit for Render<'_> {
    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        if field.index() != self.index {
            return;
        }
        if self.scratch.record.message.is_empty() {
            let _ = crate::fmt::write_message(&mut self.scratch.record.message, value);
        }
        self.shared
            .write_record(self.scratch, self.target, Some(value));
    }

    fn record_debug(&mut self, _field: &Field, _value: &dyn fmt::Debug) {}
}

// ---------------------------------------------------------------------------------------
// Text

/// `fmt::Write` into a byte buffer.
struct BufText<'a>(&'a mut Vec<u8>);

impl fmt::Write for BufText<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.0.extend_from_slice(text.as_bytes());
        Ok(())
    }
}

/// `2026-11-26T06:06:23.123Z ERROR target: message key=value ...`, then for an error
/// either ` error="Name: message"` (compact) or the whole message and the report,
/// indented below.
fn write_text(
    out: &mut dyn fmt::Write,
    record: &LogRecord,
    target: Option<&str>,
    error: Option<&(dyn Error + 'static)>,
    compact: bool,
) -> fmt::Result {
    let level = match record.level {
        Level::Trace => "TRACE",
        Level::Debug => "DEBUG",
        Level::Info => " INFO",
        Level::Warn => " WARN",
        Level::Error => "ERROR",
        Level::Fatal => "FATAL",
    };
    write!(out, "{} {level} ", Rfc3339(record.time))?;
    if let Some(target) = target {
        write!(out, "{target}: ")?;
    }
    out.write_str(&record.message)?;
    for (key, value) in record.fields.iter() {
        write!(out, " {key}=")?;
        write_text_value(out, value)?;
    }
    let Some(error) = error else {
        return Ok(());
    };
    let name = crate::chain::Level::new(error, None).name;
    if compact {
        let mut story = String::new();
        story.push_str(name);
        story.push_str(": ");
        crate::fmt::write_message(&mut story, error)?;
        out.write_str(" error=")?;
        return write_text_value(out, &Value::String(story));
    }
    out.write_str("\n  error: ")?;
    crate::fmt::write_message(
        &mut Indented {
            out: &mut *out,
            rest: "\n         ",
        },
        error,
    )?;
    let mut report = String::new();
    crate::fmt::write_report(&mut report, error)?;
    for line in report.lines() {
        if line.is_empty() {
            out.write_str("\n  │")?;
        } else {
            write!(out, "\n  │ {line}")?;
        }
    }
    Ok(())
}

/// Continues each further line of what is written with `rest`.
struct Indented<'a> {
    out: &'a mut dyn fmt::Write,
    rest: &'a str,
}

impl fmt::Write for Indented<'_> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        let mut lines = text.split('\n');
        self.out.write_str(lines.next().unwrap_or(""))?;
        for line in lines {
            self.out.write_str(self.rest)?;
            self.out.write_str(line)?;
        }
        Ok(())
    }
}

/// A field value as text: a plain string bare, one with spaces, quotes, `=` or control
/// characters quoted as JSON, anything else as compact JSON.
fn write_text_value(out: &mut dyn fmt::Write, value: &Value) -> fmt::Result {
    match value {
        Value::String(text) => {
            let plain = !text.is_empty()
                && !text
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '=');
            if plain {
                out.write_str(text)
            } else {
                write!(out, "{value}")
            }
        }
        _ => write!(out, "{value}"),
    }
}

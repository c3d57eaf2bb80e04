//! [`LogLayer`], its builder and its [`LogHandle`], and the handling of each event:
//! find its error, ask the rate limiter, fill the record, write it.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Instant;

use ::tracing::span::{Attributes, Id, Record};
use ::tracing::{Event, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use super::format::Format;
use super::limiter::{KindCount, RateLimit, RateLimiter, Suppressed};
use super::record::RecordWriter;
use super::scratch::{Scratch, with_scratch};
use super::visit::{Collect, Probe, Render};
use super::writer::WriteLine;
use crate::info::Info;
use crate::records::{Severity, SpanRecord};

/// What the layer reads the time from: the rate limit's windows.
type Clock = Box<dyn Fn() -> Instant + Send + Sync>;

/// Builds a [`LogLayer`]. Made by [`LogLayer::builder`].
pub struct LogLayerBuilder {
    format: Format,
    writer: Box<dyn WriteLine>,
    rate_limit: Option<RateLimit>,
    service: String,
    target: bool,
    clock: Clock,
    spans_in_errors: bool,
    ansi: bool,
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
    /// The record format: a [`LogFormat`](crate::records::LogFormat) or a [`Format`]. Default:
    /// the native JSON record.
    pub fn format(mut self, format: impl Into<Format>) -> LogLayerBuilder {
        self.format = format.into();
        self
    }

    /// Where lines go: any tracing-subscriber [`MakeWriter`] (a closure such as
    /// `std::io::stderr`, a `std::fs::File`, a `Mutex<W>`, tracing-appender's
    /// non-blocking writer, a [`LogBuffer`](super::LogBuffer)). Each line, its `\n`
    /// included, goes to the writer in one `write_all` call. Default: `std::io::stderr`.
    pub fn writer(
        mut self,
        writer: impl for<'a> MakeWriter<'a> + Send + Sync + 'static,
    ) -> LogLayerBuilder {
        self.writer = Box::new(writer);
        self
    }

    /// The rate limit of the lines at warn and above, per kind; `None` writes them
    /// all. Default: [`RateLimit::default`], 10 lines and 256 KiB of a kind and 1 MiB
    /// in all, a second.
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

    /// Colours the level of the text formats (`text`, `compact`) with ANSI escapes,
    /// for a terminal; the JSON formats are never coloured. Default: off.
    ///
    /// ```
    /// use verror::layer::{Format, LogBuffer, LogLayer};
    /// use tracing_subscriber::layer::SubscriberExt;
    /// let logs = LogBuffer::new();
    /// let layer = LogLayer::builder().format(Format::Text).ansi(true).writer(logs.clone()).build();
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     tracing::warn!("slow");
    /// });
    /// assert!(logs.contents().contains("\u{1b}[33m WARN\u{1b}[0m"));
    /// ```
    pub fn ansi(mut self, on: bool) -> LogLayerBuilder {
        self.ansi = on;
        self
    }

    /// Whether records carry the event's target (`target`, or `log.logger` in ECS).
    /// Default: yes.
    pub fn target(mut self, on: bool) -> LogLayerBuilder {
        self.target = on;
        self
    }

    /// Where the rate limit reads the time. Default: `Instant::now`. Tests pass a
    /// clock they move by hand, so that windows close without waiting.
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use std::time::{Duration, Instant};
    /// use verror::layer::LogLayer;
    ///
    /// let now = Arc::new(Mutex::new(Instant::now()));
    /// let clock = Arc::clone(&now);
    /// let layer = LogLayer::builder().clock(move || *clock.lock().unwrap()).build();
    /// *now.lock().unwrap() += Duration::from_secs(2); // a window later
    /// # drop(layer);
    /// ```
    pub fn clock(mut self, clock: impl Fn() -> Instant + Send + Sync + 'static) -> LogLayerBuilder {
        self.clock = Box::new(clock);
        self
    }

    /// Whether errors created inside spans record them (default: no): a `VError`
    /// built while this layer's subscriber is current and the thread is in spans gets
    /// a `spans` info field, `[{"name": .., field: value, ..}, ..]` outermost first, so
    /// that its report and its JSON say where it happened. Once per chain: an error
    /// whose cause is a `VError` records none.
    ///
    /// ```
    /// use tracing_subscriber::layer::SubscriberExt;
    /// use verror::layer::LogLayer;
    /// use verror::VError;
    ///
    /// let layer = LogLayer::builder().spans_in_errors(true).build();
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     let _request = tracing::info_span!("request", request_id = 42).entered();
    ///     let err = VError::new("lookup failed");
    ///     assert_eq!(
    ///         err.own_info().get("spans"),
    ///         Some(&serde_json::json!([{"name": "request", "request_id": 42}]))
    ///     );
    ///     assert!(format!("{err:?}").contains("request_id"));
    /// });
    /// ```
    pub fn spans_in_errors(mut self, on: bool) -> LogLayerBuilder {
        self.spans_in_errors = on;
        self
    }

    /// The layer.
    pub fn build(self) -> LogLayer {
        LogLayer {
            spans_in_errors: self.spans_in_errors,
            shared: Arc::new(Shared {
                records: RecordWriter::new(
                    self.format,
                    self.writer,
                    self.service,
                    self.target,
                    self.ansi,
                ),
                limiter: RateLimiter::new(self.rate_limit),
                clock: self.clock,
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

/// A `tracing` layer that writes each event as a record with its error kept whole.
/// See the [module documentation](super).
///
/// Dropping the layer (with the subscriber that holds it) reports the error lines
/// still suppressed; a subscriber installed for the whole program is never dropped,
/// so call [`LogHandle::flush`] before exiting.
pub struct LogLayer {
    shared: Arc<Shared>,
    spans_in_errors: bool,
}

impl fmt::Debug for LogLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogLayer")
            .field("format", &self.shared.records.format())
            .field("rate_limit", &self.shared.limiter.limit())
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
            clock: Box::new(Instant::now),
            spans_in_errors: false,
            ansi: false,
        }
    }

    /// Whether errors created inside spans record them.
    pub(super) fn spans_in_errors(&self) -> bool {
        self.spans_in_errors
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

/// The fields of a span, kept in its extensions from its creation on.
pub(super) struct SpanFields(pub(super) Info);

impl<S> tracing_subscriber::Layer<S> for LogLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = Info::new();
        attrs.record(&mut Collect::span(&mut fields));
        span.extensions_mut().insert(SpanFields(fields));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(SpanFields(fields)) = extensions.get_mut::<SpanFields>() {
            values.record(&mut Collect::span(fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        self.shared.on_event(event, |spans| {
            let Some(scope) = ctx.event_scope(event) else {
                return;
            };
            for span in scope.from_root() {
                let extensions = span.extensions();
                spans.push(SpanRecord {
                    name: span.name().to_owned(),
                    fields: extensions
                        .get::<SpanFields>()
                        .map(|SpanFields(fields)| fields.clone())
                        .unwrap_or_default(),
                });
            }
        });
    }
}

/// A cheap, cloneable handle on a [`LogLayer`]: lines written and suppressed by kind,
/// [`tick`](LogHandle::tick), [`report_eagerly`](LogHandle::report_eagerly) and
/// [`flush`](LogHandle::flush).
///
/// ```
/// use std::time::Duration;
/// use tracing_subscriber::layer::SubscriberExt;
/// use verror::layer::{as_error, LogBuffer, LogLayer, RateLimit};
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

impl LogHandle {
    /// Writes a report line for every kind with lines suppressed and not yet
    /// reported, then flushes the writer.
    pub fn flush(&self) {
        self.shared.flush();
    }

    /// Writes the reports whose window has closed. Any event does as much before its
    /// own line; call this periodically (say once a window) so that a report is not
    /// left waiting when the events stop.
    pub fn tick(&self) {
        self.shared.tick();
    }

    /// From now on, reports every suppression before the next line, window closed or
    /// not: call it when shutdown begins, so that the last lines of a program come
    /// after the reports of what it suppressed.
    pub fn report_eagerly(&self) {
        self.shared.limiter.report_eagerly();
    }

    /// The counts of every kind seen, sorted by kind.
    pub fn counts(&self) -> Vec<KindCount> {
        self.shared.limiter.counts()
    }

    /// Lines of `kind` written.
    pub fn logged(&self, kind: &str) -> u64 {
        self.shared.limiter.logged(kind)
    }

    /// Lines of `kind` suppressed.
    pub fn suppressed(&self, kind: &str) -> u64 {
        self.shared.limiter.suppressed(kind)
    }

    /// Lines at warn and above written, every kind.
    pub fn total_logged(&self) -> u64 {
        self.shared.limiter.total_logged()
    }

    /// Lines suppressed, every kind.
    pub fn total_suppressed(&self) -> u64 {
        self.shared.limiter.total_suppressed()
    }

    /// Lines lost because the writer failed (or a value refused to serialize).
    pub fn write_errors(&self) -> u64 {
        self.shared.records.write_errors()
    }
}

/// What the layer and its handles share.
struct Shared {
    records: RecordWriter,
    limiter: RateLimiter,
    clock: Clock,
}

impl Shared {
    /// Handles `event`; `spans` adds the spans it was written in, outermost first,
    /// once the event is admitted.
    fn on_event(&self, event: &Event<'_>, spans: impl FnOnce(&mut Vec<SpanRecord>)) {
        let metadata = event.metadata();
        let level = level_of(metadata.level());
        let now = (self.clock)();
        with_scratch(|scratch| {
            // Reports whose window has closed come before any later line.
            self.write_reports(scratch, self.limiter.due_reports(now));

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
            let owned_kind = if has_kind {
                std::mem::take(&mut scratch.kind)
            } else {
                std::mem::take(&mut scratch.error_name)
            };
            let kind = if has_kind || primary.is_some() {
                owned_kind.as_str()
            } else {
                metadata.target()
            };
            let limited = level >= Severity::Warn;
            if limited && !self.limiter.admit(kind, level, now) {
                return;
            }
            let gate = |bytes: usize| !limited || self.limiter.charge(kind, level, bytes, now);

            // Pass 2: the record's message and fields.
            let target = self
                .records
                .start_record(&mut scratch.record, level, metadata.target());
            spans(&mut scratch.record.spans);
            event.record(&mut Collect::event(&mut scratch.record, primary));

            // Pass 3: render, with the error borrowed while the event lends it.
            match primary {
                None => self.records.write_record(scratch, target, None, &gate),
                Some(index) => event.record(&mut Render {
                    records: &self.records,
                    scratch,
                    index,
                    target,
                    gate: &gate,
                }),
            }
        });
    }

    fn write_reports(&self, scratch: &mut Scratch, reports: Vec<Suppressed>) {
        for report in &reports {
            self.records.write_suppressed(scratch, report);
        }
    }

    /// Writes the reports due now.
    fn tick(&self) {
        let reports = self.limiter.due_reports((self.clock)());
        if !reports.is_empty() {
            with_scratch(|scratch| self.write_reports(scratch, reports));
        }
    }

    /// Reports the kinds with lines suppressed and not yet reported, then flushes the
    /// writer.
    fn flush(&self) {
        let reports = self.limiter.take_reports();
        with_scratch(|scratch| self.write_reports(scratch, reports));
        self.records.flush();
    }
}

fn level_of(level: &::tracing::Level) -> Severity {
    match *level {
        ::tracing::Level::TRACE => Severity::Trace,
        ::tracing::Level::DEBUG => Severity::Debug,
        ::tracing::Level::INFO => Severity::Info,
        ::tracing::Level::WARN => Severity::Warn,
        _ => Severity::Error,
    }
}

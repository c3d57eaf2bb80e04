//! The rate limit on lines at warn and above: per kind, lines and bytes per window,
//! and bytes per window over all kinds; the reports of suppressed lines, due once a
//! kind's window has closed; and the counts a [`LogHandle`](super::LogHandle) reads.
//!
//! The limiter never reads a clock: every call takes `now` from its caller (the
//! layer's clock, which tests freeze).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::records::Severity;

/// At most [`lines`](RateLimit::lines) lines and [`bytes`](RateLimit::bytes) bytes of
/// one kind, and [`total_bytes`](RateLimit::total_bytes) bytes of all kinds, per
/// [`window`](RateLimit::window), for the events at warn and above.
///
/// ```
/// use std::time::Duration;
/// use verror::layer::RateLimit;
/// let limit = RateLimit::new(5, Duration::from_secs(1)).bytes(64 * 1024).total_bytes(256 * 1024);
/// assert_eq!((limit.lines, limit.bytes, limit.total_bytes), (5, 65_536, 262_144));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RateLimit {
    /// Lines of one kind written per window; the rest are counted and dropped.
    pub lines: u32,
    /// Bytes of one kind written per window; a line that would pass them is counted
    /// and dropped. Keep it at least the record cap
    /// ([`DEFAULT_MAX_RECORD_BYTES`](crate::records::DEFAULT_MAX_RECORD_BYTES)), or
    /// the largest lines never pass.
    pub bytes: u64,
    /// Bytes of all kinds together written per window.
    pub total_bytes: u64,
    /// The length of a window. Each kind's window starts at its first line.
    pub window: Duration,
}

impl RateLimit {
    /// `lines` of a kind per `window`, with the default byte budgets: 256 KiB of a
    /// kind and 1 MiB in all per window.
    pub const fn new(lines: u32, window: Duration) -> RateLimit {
        RateLimit {
            lines,
            bytes: 256 * 1024,
            total_bytes: 1024 * 1024,
            window,
        }
    }

    /// The bytes of one kind per window.
    pub const fn bytes(mut self, bytes: u64) -> RateLimit {
        self.bytes = bytes;
        self
    }

    /// The bytes of all kinds together per window.
    pub const fn total_bytes(mut self, bytes: u64) -> RateLimit {
        self.total_bytes = bytes;
        self
    }
}

impl Default for RateLimit {
    /// 10 lines and 256 KiB of a kind, 1 MiB in all, a second.
    fn default() -> RateLimit {
        RateLimit::new(10, Duration::from_secs(1))
    }
}

/// The lines of one kind: written and suppressed, since the layer was built.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct KindCount {
    /// The kind: the event's `kind` field, else the error's name, else the target.
    pub kind: String,
    /// Lines written.
    pub logged: u64,
    /// Lines dropped by the rate limit.
    pub suppressed: u64,
}

/// At most this many kinds are tracked, so that unbounded kinds cannot grow the map;
/// the rest share [`OTHER_KIND`].
const MAX_KINDS: usize = 1024;
const OTHER_KIND: &str = "(other)";

/// A line to write about suppressed lines.
pub(super) struct Suppressed {
    pub(super) kind: String,
    pub(super) count: u64,
    pub(super) level: Severity,
}

/// One kind's window and totals.
struct KindState {
    window_start: Instant,
    lines_in_window: u32,
    bytes_in_window: u64,
    /// Suppressed since the last report, and the highest level among them.
    pending: u64,
    pending_level: Severity,
    logged: u64,
    suppressed: u64,
}

impl KindState {
    fn new(now: Instant, level: Severity) -> KindState {
        KindState {
            window_start: now,
            lines_in_window: 0,
            bytes_in_window: 0,
            pending: 0,
            pending_level: level,
            logged: 0,
            suppressed: 0,
        }
    }

    /// The pending report of `kind`, resetting its count.
    fn take_report(&mut self, kind: &str) -> Option<Suppressed> {
        if self.pending == 0 {
            return None;
        }
        let report = Suppressed {
            kind: kind.to_owned(),
            count: self.pending,
            level: self.pending_level,
        };
        self.pending = 0;
        Some(report)
    }

    fn suppress(&mut self, level: Severity) {
        self.pending_level = if self.pending == 0 {
            level
        } else {
            self.pending_level.max(level)
        };
        self.pending += 1;
        self.suppressed += 1;
    }
}

/// Everything behind the lock.
struct State {
    kinds: HashMap<String, KindState>,
    /// The window of the bytes of all kinds.
    total_start: Option<Instant>,
    total_bytes: u64,
    /// The earliest end of a window with lines suppressed, when the next report is due.
    next_due: Option<Instant>,
    /// Report every suppression at the next line, window closed or not (shutdown).
    eager: bool,
}

/// Counts lines by kind and, with a [`RateLimit`], decides which to write.
pub(super) struct RateLimiter {
    limit: Option<RateLimit>,
    state: Mutex<State>,
    /// Whether any suppression waits for its report: lets every event skip the lock
    /// when none does.
    pending: AtomicBool,
}

impl RateLimiter {
    /// A limiter to `limit`; `None` admits every line and only counts.
    pub(super) fn new(limit: Option<RateLimit>) -> RateLimiter {
        RateLimiter {
            limit,
            state: Mutex::new(State {
                kinds: HashMap::new(),
                total_start: None,
                total_bytes: 0,
                next_due: None,
                eager: false,
            }),
            pending: AtomicBool::new(false),
        }
    }

    pub(super) fn limit(&self) -> Option<RateLimit> {
        self.limit
    }

    fn state(&self) -> MutexGuard<'_, State> {
        crate::lock::lock(&self.state)
    }

    /// Whether a line of `kind` at `level` may be rendered at `now`; a line refused
    /// is counted as suppressed. An admitted line is written only if [`charge`]
    /// then accepts its bytes.
    ///
    /// [`charge`]: RateLimiter::charge
    pub(super) fn admit(&self, kind: &str, level: Severity, now: Instant) -> bool {
        let Some(limit) = self.limit else {
            return true;
        };
        let mut guard = self.state();
        let state = &mut *guard;
        roll_total(state, limit, now);
        let total_full = state.total_bytes >= limit.total_bytes;
        let Some(kind_state) = kind_state(&mut state.kinds, kind, level, now) else {
            return true;
        };
        if now.saturating_duration_since(kind_state.window_start) >= limit.window {
            kind_state.window_start = now;
            kind_state.lines_in_window = 0;
            kind_state.bytes_in_window = 0;
        }
        let admitted = kind_state.lines_in_window < limit.lines
            && kind_state.bytes_in_window < limit.bytes
            && !total_full;
        if !admitted {
            kind_state.suppress(level);
            due_at(&mut state.next_due, kind_state.window_start + limit.window);
            self.pending.store(true, Ordering::Release);
        }
        admitted
    }

    /// Counts a rendered line of `bytes` bytes as written if it fits the byte budgets,
    /// else as suppressed; returns whether to write it. Without a limit, counts it.
    pub(super) fn charge(&self, kind: &str, level: Severity, bytes: usize, now: Instant) -> bool {
        let bytes = bytes as u64;
        let mut guard = self.state();
        let state = &mut *guard;
        let Some(kind_state) = kind_state(&mut state.kinds, kind, level, now) else {
            return true;
        };
        let Some(limit) = self.limit else {
            kind_state.logged += 1;
            return true;
        };
        let total_fits = state.total_bytes + bytes <= limit.total_bytes;
        if !total_fits || kind_state.bytes_in_window + bytes > limit.bytes {
            kind_state.suppress(level);
            due_at(&mut state.next_due, kind_state.window_start + limit.window);
            self.pending.store(true, Ordering::Release);
            return false;
        }
        kind_state.lines_in_window += 1;
        kind_state.bytes_in_window += bytes;
        kind_state.logged += 1;
        state.total_bytes += bytes;
        true
    }

    /// The reports due at `now`: every kind with lines suppressed whose window has
    /// closed (every such kind at all once [`report_eagerly`] was called), sorted by
    /// kind; each is reported once.
    ///
    /// [`report_eagerly`]: RateLimiter::report_eagerly
    pub(super) fn due_reports(&self, now: Instant) -> Vec<Suppressed> {
        let Some(limit) = self.limit else {
            return Vec::new();
        };
        if !self.pending.load(Ordering::Acquire) {
            return Vec::new();
        }
        let mut state = self.state();
        let eager = state.eager;
        match state.next_due {
            Some(due) if eager || now >= due => {}
            _ => return Vec::new(),
        }
        let mut next_due = None;
        let mut reports = Vec::new();
        for (kind, kind_state) in state.kinds.iter_mut() {
            if kind_state.pending == 0 {
                continue;
            }
            let due = kind_state.window_start + limit.window;
            if eager || now >= due {
                reports.extend(kind_state.take_report(kind));
            } else {
                next_due = Some(next_due.map_or(due, |next: Instant| next.min(due)));
            }
        }
        state.next_due = next_due;
        if next_due.is_none() {
            self.pending.store(false, Ordering::Release);
        }
        reports.sort_by(|a, b| a.kind.cmp(&b.kind));
        reports
    }

    /// From now on, every suppression is due at once: the shutdown's last lines come
    /// after the reports.
    pub(super) fn report_eagerly(&self) {
        self.state().eager = true;
    }

    /// The reports of every kind with lines suppressed and not yet reported, sorted by
    /// kind; each is reported once.
    pub(super) fn take_reports(&self) -> Vec<Suppressed> {
        let mut state = self.state();
        state.next_due = None;
        self.pending.store(false, Ordering::Release);
        let mut reports: Vec<Suppressed> = state
            .kinds
            .iter_mut()
            .filter_map(|(kind, kind_state)| kind_state.take_report(kind))
            .collect();
        reports.sort_by(|a, b| a.kind.cmp(&b.kind));
        reports
    }

    /// The counts of every kind seen, sorted by kind.
    pub(super) fn counts(&self) -> Vec<KindCount> {
        let mut counts: Vec<KindCount> = self
            .state()
            .kinds
            .iter()
            .map(|(kind, state)| KindCount {
                kind: kind.clone(),
                logged: state.logged,
                suppressed: state.suppressed,
            })
            .collect();
        counts.sort_by(|a, b| a.kind.cmp(&b.kind));
        counts
    }

    /// Lines of `kind` written.
    pub(super) fn logged(&self, kind: &str) -> u64 {
        self.state().kinds.get(kind).map_or(0, |state| state.logged)
    }

    /// Lines of `kind` suppressed.
    pub(super) fn suppressed(&self, kind: &str) -> u64 {
        self.state()
            .kinds
            .get(kind)
            .map_or(0, |state| state.suppressed)
    }

    /// Lines written, every kind.
    pub(super) fn total_logged(&self) -> u64 {
        self.state().kinds.values().map(|state| state.logged).sum()
    }

    /// Lines suppressed, every kind.
    pub(super) fn total_suppressed(&self) -> u64 {
        self.state()
            .kinds
            .values()
            .map(|state| state.suppressed)
            .sum()
    }
}

/// Starts a new window of the bytes of all kinds once the last one has closed.
fn roll_total(state: &mut State, limit: RateLimit, now: Instant) {
    let closed = state
        .total_start
        .is_none_or(|start| now.saturating_duration_since(start) >= limit.window);
    if closed {
        state.total_start = Some(now);
        state.total_bytes = 0;
    }
}

/// The state of `kind` (of [`OTHER_KIND`] once [`MAX_KINDS`] are tracked), made at
/// `now` if new.
fn kind_state<'s>(
    kinds: &'s mut HashMap<String, KindState>,
    kind: &str,
    level: Severity,
    now: Instant,
) -> Option<&'s mut KindState> {
    let kind = if kinds.contains_key(kind) || kinds.len() < MAX_KINDS {
        kind
    } else {
        OTHER_KIND
    };
    // Looked up before inserting so that a known kind costs no allocation.
    if !kinds.contains_key(kind) {
        kinds.insert(kind.to_owned(), KindState::new(now, level));
    }
    kinds.get_mut(kind)
}

/// Moves `next_due` to `due` if that is earlier.
fn due_at(next_due: &mut Option<Instant>, due: Instant) {
    *next_due = Some(next_due.map_or(due, |next| next.min(due)));
}

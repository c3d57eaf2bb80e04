//! The per-kind rate limit on error lines: which lines to write, the pending reports of
//! suppressed ones, and the counts a [`LogHandle`](super::LogHandle) reads.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::records::Severity;

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

/// The limiter's answer for one error line.
pub(super) struct Admission {
    /// Whether to write the line.
    pub(super) admitted: bool,
    /// The report of the kind's window that just ended, if it suppressed anything;
    /// written before the line.
    pub(super) report: Option<Suppressed>,
}

impl Admission {
    /// Write the line, nothing to report.
    const WRITE: Admission = Admission {
        admitted: true,
        report: None,
    };
}

/// One kind's window and totals.
struct KindState {
    window_start: Instant,
    in_window: u32,
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
            in_window: 0,
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
}

/// Counts error lines by kind and, with a [`RateLimit`], decides which to write.
pub(super) struct RateLimiter {
    limit: Option<RateLimit>,
    kinds: Mutex<HashMap<String, KindState>>,
}

impl RateLimiter {
    /// A limiter to `limit`; `None` admits every line and only counts.
    pub(super) fn new(limit: Option<RateLimit>) -> RateLimiter {
        RateLimiter {
            limit,
            kinds: Mutex::new(HashMap::new()),
        }
    }

    pub(super) fn limit(&self) -> Option<RateLimit> {
        self.limit
    }

    fn kinds(&self) -> MutexGuard<'_, HashMap<String, KindState>> {
        self.kinds
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether an error line of `kind` at `level` may be written, counting it either
    /// way.
    pub(super) fn admit(&self, kind: &str, level: Severity) -> Admission {
        let now = Instant::now();
        let mut kinds = self.kinds();
        let kind = if kinds.contains_key(kind) || kinds.len() < MAX_KINDS {
            kind
        } else {
            OTHER_KIND
        };
        // Looked up before inserting so that a known kind costs no allocation.
        if !kinds.contains_key(kind) {
            kinds.insert(kind.to_owned(), KindState::new(now, level));
        }
        let Some(state) = kinds.get_mut(kind) else {
            return Admission::WRITE;
        };
        let Some(limit) = self.limit else {
            state.logged += 1;
            return Admission::WRITE;
        };
        let mut report = None;
        if now.saturating_duration_since(state.window_start) >= limit.window {
            report = state.take_report(kind);
            state.window_start = now;
            state.in_window = 0;
        }
        let admitted = state.in_window < limit.lines;
        if admitted {
            state.in_window += 1;
            state.logged += 1;
        } else {
            state.pending_level = if state.pending == 0 {
                level
            } else {
                state.pending_level.max(level)
            };
            state.pending += 1;
            state.suppressed += 1;
        }
        Admission { admitted, report }
    }

    /// The reports of every kind with lines suppressed and not yet reported, sorted by
    /// kind; each is reported once.
    pub(super) fn take_reports(&self) -> Vec<Suppressed> {
        let mut reports: Vec<Suppressed> = self
            .kinds()
            .iter_mut()
            .filter_map(|(kind, state)| state.take_report(kind))
            .collect();
        reports.sort_by(|a, b| a.kind.cmp(&b.kind));
        reports
    }

    /// The counts of every kind seen, sorted by kind.
    pub(super) fn counts(&self) -> Vec<KindCount> {
        let mut counts: Vec<KindCount> = self
            .kinds()
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

    /// Error lines of `kind` written.
    pub(super) fn logged(&self, kind: &str) -> u64 {
        self.kinds().get(kind).map_or(0, |state| state.logged)
    }

    /// Error lines of `kind` suppressed.
    pub(super) fn suppressed(&self, kind: &str) -> u64 {
        self.kinds().get(kind).map_or(0, |state| state.suppressed)
    }

    /// Error lines written, every kind.
    pub(super) fn total_logged(&self) -> u64 {
        self.kinds().values().map(|state| state.logged).sum()
    }

    /// Error lines suppressed, every kind.
    pub(super) fn total_suppressed(&self) -> u64 {
        self.kinds().values().map(|state| state.suppressed).sum()
    }
}

//! Live counters of a running server, and the [`Summary`] it ends with.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::VError;
use crate::human::{Count, HumanDuration};

use super::report::FailureKind;

/// A handle on a server's live counters (cheap to clone). Get one from
/// [`Server::stats`](super::Server::stats) and take a [`Summary`] whenever you
/// like, while the server runs.
#[derive(Clone)]
pub struct Stats(Arc<Counters>);

struct Counters {
    started: Instant,
    connections: AtomicU64,
    rejected: AtomicU64,
    frames: AtomicU64,
    bytes_received: AtomicU64,
    errors: [AtomicU64; FailureKind::ALL.len()],
    accepted_per_worker: Box<[AtomicU64]>,
}

impl Stats {
    pub(crate) fn new(workers: usize) -> Stats {
        Stats(Arc::new(Counters {
            started: Instant::now(),
            connections: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            frames: AtomicU64::new(0),
            bytes_received: AtomicU64::new(0),
            errors: std::array::from_fn(|_| AtomicU64::new(0)),
            accepted_per_worker: (0..workers).map(|_| AtomicU64::new(0)).collect(),
        }))
    }

    pub(crate) fn count_connection(&self, worker: usize) {
        self.0.connections.fetch_add(1, Ordering::Relaxed);
        if let Some(count) = self.0.accepted_per_worker.get(worker) {
            count.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn count_rejected(&self, worker: usize) {
        self.0.rejected.fetch_add(1, Ordering::Relaxed);
        if let Some(count) = self.0.accepted_per_worker.get(worker) {
            count.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn count_frame(&self) {
        self.0.frames.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn count_received(&self, bytes: usize) {
        self.0
            .bytes_received
            .fetch_add(bytes as u64, Ordering::Relaxed);
    }

    pub(crate) fn count_error(&self, kind: FailureKind) {
        self.0.errors[kind.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// The counters as they are now.
    pub fn snapshot(&self) -> Summary {
        let c = &*self.0;
        Summary {
            connections: c.connections.load(Ordering::Relaxed),
            rejected: c.rejected.load(Ordering::Relaxed),
            frames: c.frames.load(Ordering::Relaxed),
            bytes_received: c.bytes_received.load(Ordering::Relaxed),
            errors: FailureKind::ALL
                .iter()
                .map(|&kind| (kind, c.errors[kind.index()].load(Ordering::Relaxed)))
                .filter(|&(_, n)| n > 0)
                .collect(),
            accepted_per_worker: c
                .accepted_per_worker
                .iter()
                .map(|n| n.load(Ordering::Relaxed))
                .collect(),
            elapsed: c.started.elapsed(),
            shutdown_error: None,
        }
    }
}

impl fmt::Debug for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Stats").field(&self.snapshot()).finish()
    }
}

/// What a server did: returned by [`Server::serve`](super::Server::serve) when it
/// stops (and logged), or taken live with [`Stats::snapshot`].
///
/// `{}` prints one line:
/// `12 connections (1 refused), 3400 frames, 3 errors (oversized 1, frame_timeout 2) in 4.2s`.
#[derive(Debug)]
#[non_exhaustive]
pub struct Summary {
    /// Connections accepted and served (not counting those refused).
    pub connections: u64,
    /// Connections refused past `max_connections` (answered `ServerBusy`).
    pub rejected: u64,
    /// Requests answered (with a body or with a handler's error).
    pub frames: u64,
    /// Bytes read from connections while serving them (what a closing
    /// connection reads and discards is not counted).
    pub bytes_received: u64,
    /// Errors by kind; kinds that did not occur are absent.
    pub errors: BTreeMap<FailureKind, u64>,
    /// Connections (served or refused) each accept loop took: one entry per worker.
    pub accepted_per_worker: Vec<u64>,
    /// Time since the server was bound.
    pub elapsed: Duration,
    /// The connections still open at the shutdown deadline and cut off, as one
    /// MultiError with a child per connection; `None` when every connection
    /// finished in time (and in live snapshots).
    pub shutdown_error: Option<VError>,
}

impl Summary {
    /// The number of errors of every kind.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// The number of errors of one kind.
    pub fn errors_of(&self, kind: FailureKind) -> u64 {
        self.errors.get(&kind).copied().unwrap_or(0)
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", Count(self.connections, "connection"))?;
        if self.rejected > 0 {
            write!(f, " ({} refused)", self.rejected)?;
        }
        write!(
            f,
            ", {}, {}",
            Count(self.frames, "frame"),
            Count(self.error_count(), "error")
        )?;
        let mut sep = " (";
        for (kind, n) in &self.errors {
            write!(f, "{sep}{kind} {n}")?;
            sep = ", ";
        }
        if !self.errors.is_empty() {
            f.write_str(")")?;
        }
        write!(f, " in {}", HumanDuration(self.elapsed))
    }
}

//! A load generator for echo servers of the frame protocol: N connections × M
//! requests of B bytes, pipelined, each response checked; throughput, latency
//! percentiles, errors by kind; and faults a misbehaving client commits.
//!
//! It drives [`Client`]s, so it speaks the protocol of [`Response`](super::Response):
//! the server answers each request with a status byte then the body. It runs
//! against this crate's [`Server`](super::Server) with an echo handler (such as
//! the `verror` program's), or any server that echoes in that format.
//!
//! # What a run does
//!
//! 1. Opens every connection (a failure to connect ends the run with that error).
//! 2. On each connection at once: writes the requests, at most `window` of them
//!    unanswered at a time (batched into one write while the window has room), and
//!    reads the responses as they come. Request *i* of a connection is the same
//!    pattern of `size` bytes, with *i* in the 8 bytes (or fewer) after the first,
//!    so each response is checked for being the exact echo of its own request
//!    (the first byte is never `!`, so the `verror` program's handler echoes
//!    it rather than run a command). Latency is
//!    the time from writing a request to reading its response; throughput is the
//!    responses per second, from the first request to the last response.
//! 3. After its last response, each connection commits the [`Fault`], if any,
//!    and reads what the server answers.
//!
//! Errors are counted by [`error_key`]: the server's [`FailureKind`](super::FailureKind)
//! when the chain names one, else the client's own error name. A transport
//! failure ends its connection, and its requests left count as unanswered. Every
//! wait is bounded by the client's [`timeout`](Load::timeout), so a run always
//! ends.
//!
//! ```
//! use verror::server::load::{Fault, Load};
//! use verror::server::ServerBuilder;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), verror::VError> {
//! let echo = |request: bytes::Bytes| async move { Ok::<_, verror::VError>(request) };
//! let server = ServerBuilder::new().addr("127.0.0.1:0".parse().unwrap()).bind(echo).await?;
//! let addr = server.local_addr();
//! tokio::spawn(server.serve());
//!
//! let report = Load::new(addr).connections(4).frames(100).size(64).run().await?;
//! assert_eq!((report.requests, report.ok, report.error_count()), (400, 400, 0));
//! assert!(report.is_clean());
//! println!("{report}"); // frames/s, latency p50/p99/max
//!
//! let report = Load::new(addr).connections(2).frames(10).fault(Fault::Oversized).run().await?;
//! assert_eq!(report.ok, 20);
//! assert_eq!(report.fault_responses["oversized"], 2);
//! assert!(report.is_clean());
//! # Ok(())
//! # }
//! ```

mod connection;
mod fault;
mod latency;
mod report;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::VError;
use crate::frame::DEFAULT_MAX_FRAME_LEN;

use super::Client;
use super::config::out_of_range;
use connection::Plan;
use latency::LatencyHistogram;
use report::Tally;

pub use fault::Fault;
pub use latency::LatencySummary;
pub use report::{LoadReport, error_key};

/// The most connections one run opens.
pub const MAX_CONNECTIONS: usize = 10_000;
/// The most requests one connection keeps in flight.
pub const MAX_WINDOW: usize = 4096;
/// The most echo requests of one run, all connections together.
pub const MAX_REQUESTS: u64 = 1_000_000_000;

/// A load run's settings; [`run`](Load::run) runs it. See the [module
/// documentation](self).
///
/// | setting | default |
/// |---|---|
/// | [`connections`](Load::connections) | 1 |
/// | [`frames`](Load::frames) (per connection) | 1000 |
/// | [`size`](Load::size) | 16 bytes |
/// | [`window`](Load::window) | 32 requests in flight per connection |
/// | [`fault`](Load::fault) | none |
/// | [`timeout`](Load::timeout) | 10 s for connecting, each write, and each response |
/// | [`max_frame_len`](Load::max_frame_len) | 1 MiB, the server's default limit |
#[derive(Debug, Clone)]
#[must_use = "a load does nothing until `run` is called"]
pub struct Load {
    addr: SocketAddr,
    connections: usize,
    frames: u64,
    size: usize,
    window: usize,
    fault: Option<Fault>,
    timeout: Duration,
    max_frame_len: usize,
    progress: LoadProgress,
}

impl Load {
    /// A load on the server at `addr`, with the defaults above.
    pub fn new(addr: SocketAddr) -> Load {
        Load {
            addr,
            connections: 1,
            frames: 1000,
            size: 16,
            window: 32,
            fault: None,
            timeout: Duration::from_secs(10),
            max_frame_len: DEFAULT_MAX_FRAME_LEN,
            progress: LoadProgress::default(),
        }
    }

    /// Connections, all at once (1 to [`MAX_CONNECTIONS`]).
    pub fn connections(mut self, connections: usize) -> Load {
        self.connections = connections;
        self
    }

    /// Echo requests per connection (the run's total at most [`MAX_REQUESTS`]).
    pub fn frames(mut self, frames: u64) -> Load {
        self.frames = frames;
        self
    }

    /// The payload size of each request, in bytes (at most `max_frame_len`).
    pub fn size(mut self, size: usize) -> Load {
        self.size = size;
        self
    }

    /// Requests in flight per connection, at most (1 to [`MAX_WINDOW`]; 1 is no
    /// pipelining).
    pub fn window(mut self, window: usize) -> Load {
        self.window = window;
        self
    }

    /// A fault for every connection to commit after its requests.
    pub fn fault(mut self, fault: impl Into<Option<Fault>>) -> Load {
        self.fault = fault.into();
        self
    }

    /// The bound of every wait: connecting, each write, each response. The slow
    /// faults need it longer than the server's frame timeout.
    pub fn timeout(mut self, timeout: Duration) -> Load {
        self.timeout = timeout;
        self
    }

    /// The server's `max_frame_len` (responses may be one byte longer).
    pub fn max_frame_len(mut self, max: usize) -> Load {
        self.max_frame_len = max;
        self
    }

    /// A handle that counts responses as they arrive, to show progress while the
    /// run goes on.
    pub fn progress(&self) -> LoadProgress {
        self.progress.clone()
    }

    /// Echo requests of the whole run: connections × frames.
    pub fn requests(&self) -> u64 {
        self.frames.saturating_mul(self.connections as u64)
    }

    fn check(&self) -> Result<(), VError> {
        let invalid = |setting, value: u64, allowed| Err(out_of_range(setting, value, allowed));
        if !(1..=MAX_CONNECTIONS).contains(&self.connections) {
            return invalid(
                "connections",
                self.connections as u64,
                format!("1 to {MAX_CONNECTIONS}"),
            );
        }
        if !(1..=MAX_WINDOW).contains(&self.window) {
            return invalid("window", self.window as u64, format!("1 to {MAX_WINDOW}"));
        }
        if self.requests() > MAX_REQUESTS {
            return invalid(
                "requests",
                self.requests(),
                format!("connections x frames at most {MAX_REQUESTS}"),
            );
        }
        if self.size > self.max_frame_len {
            return invalid(
                "size",
                self.size as u64,
                format!("at most max_frame_len, {}", self.max_frame_len),
            );
        }
        Ok(())
    }

    /// Runs the load and reports what it found. Fails only on settings out of
    /// range, or when a connection cannot be opened; everything that goes wrong
    /// afterwards is counted in the report.
    pub async fn run(self) -> Result<LoadReport, VError> {
        self.check()?;
        self.progress.start(self.requests());
        let clients = self.connect_all().await?;
        let plan = Arc::new(Plan {
            frames: self.frames,
            window: self.window,
            fault: self.fault,
            pattern: connection::pattern(self.size),
        });

        let started = Instant::now();
        let mut tasks = JoinSet::new();
        for client in clients {
            let plan = Arc::clone(&plan);
            let progress = self.progress.clone();
            tasks.spawn(async move { connection::run(client, &plan, &progress.0.done).await });
        }
        let mut totals = Totals::default();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok(outcome) => totals.add(outcome),
                // A connection task panicked: its requests count as unanswered.
                Err(err) => totals.errors.add(
                    &VError::builder()
                        .name("LoadTaskFailed")
                        .cause(err)
                        .message("a load connection task failed")
                        .backtrace(false)
                        .build(),
                ),
            }
        }
        Ok(self.report(started, totals))
    }

    /// Opens every connection at once; the first failure ends the run.
    async fn connect_all(&self) -> Result<Vec<Client>, VError> {
        let builder = Client::builder()
            .connect_timeout(self.timeout)
            .timeout(self.timeout)
            .max_frame_len(self.max_frame_len);
        let mut connecting = JoinSet::new();
        for _ in 0..self.connections {
            connecting.spawn(builder.clone().connect(self.addr));
        }
        let mut clients = Vec::with_capacity(self.connections);
        while let Some(joined) = connecting.join_next().await {
            let client = joined.map_err(|err| VError::wrap(err, "a connect task failed"))??;
            clients.push(client);
        }
        Ok(clients)
    }

    fn report(&self, started: Instant, totals: Totals) -> LoadReport {
        let elapsed = totals
            .finished
            .map_or(Duration::ZERO, |finished| finished - started);
        let frames_per_sec = match elapsed.as_secs_f64() {
            secs if secs > 0.0 => totals.answered as f64 / secs,
            _ => 0.0,
        };
        let requests = self.requests();
        LoadReport {
            addr: self.addr,
            connections: self.connections,
            frames_per_connection: self.frames,
            size: self.size,
            window: self.window,
            fault: self.fault,
            requests,
            sent: totals.sent,
            ok: totals.ok,
            answered: totals.answered,
            errors: totals.errors.counts,
            first_errors: totals.errors.first,
            unanswered: requests.saturating_sub(totals.answered),
            faults_sent: totals.faults_sent,
            fault_responses: totals.fault_responses.counts,
            elapsed,
            run_elapsed: started.elapsed(),
            frames_per_sec,
            latency: totals.latency.summary(),
        }
    }
}

/// The outcomes of every connection, added up.
#[derive(Default)]
struct Totals {
    sent: u64,
    ok: u64,
    answered: u64,
    errors: Tally,
    latency: LatencyHistogram,
    finished: Option<Instant>,
    faults_sent: u64,
    fault_responses: Tally,
}

impl Totals {
    fn add(&mut self, outcome: connection::ConnectionOutcome) {
        self.sent += outcome.sent;
        self.ok += outcome.ok;
        self.answered += outcome.answered;
        self.errors.merge(outcome.errors);
        self.latency.merge(&outcome.latency);
        self.finished = self.finished.max(outcome.finished);
        self.faults_sent += u64::from(outcome.fault_sent);
        self.fault_responses.merge(outcome.fault_responses);
    }
}

/// Responses counted so far by a running [`Load`] (cheap to clone; read it from
/// another task, say to draw a progress bar).
#[derive(Debug, Clone, Default)]
pub struct LoadProgress(Arc<ProgressCounters>);

#[derive(Debug, Default)]
struct ProgressCounters {
    done: AtomicU64,
    total: AtomicU64,
}

impl LoadProgress {
    fn start(&self, total: u64) {
        self.0.done.store(0, Ordering::Relaxed);
        self.0.total.store(total, Ordering::Relaxed);
    }

    /// Echo responses received so far (updated every few dozen responses).
    pub fn done(&self) -> u64 {
        self.0.done.load(Ordering::Relaxed)
    }

    /// Echo requests planned (0 until the run starts).
    pub fn total(&self) -> u64 {
        self.0.total.load(Ordering::Relaxed)
    }
}

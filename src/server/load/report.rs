//! What a load run found: counts, throughput, latency, and errors by kind.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use serde::Serialize;

use crate::VError;
use crate::human::{Count, HumanDuration};

use super::super::FailureKind;
use super::fault::Fault;
use super::latency::LatencySummary;

/// The key a load run counts an error under: the server's
/// [`FailureKind`] (`oversized`, `handler_error`, ...) when
/// [`FailureKind::classify`] finds one in the chain, else the error's own name
/// in the same snake case (`connection_closed`, `client_timeout`, ...), so that
/// a report's keys read alike.
///
/// ```
/// use verror::server::load::error_key;
/// use verror::VError;
///
/// let busy = VError::builder().name("ServerBusy").info("kind", "server_busy").message("busy").build();
/// assert_eq!(error_key(&busy), "server_busy");
/// let timeout = VError::builder().name("ClientTimeout").message("no response").build();
/// assert_eq!(error_key(&timeout), "client_timeout");
/// ```
pub fn error_key(err: &VError) -> String {
    match FailureKind::classify(err) {
        Some(kind) => kind.as_str().to_owned(),
        None => snake_case(err.name()),
    }
}

/// `ConnectionClosed` as `connection_closed`.
fn snake_case(name: &str) -> String {
    let mut key = String::with_capacity(name.len() + 4);
    for (i, c) in name.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            key.push('_');
        }
        key.extend(c.to_lowercase());
    }
    key
}

/// The key of a response whose body is not the request echoed back.
pub(crate) const MISMATCH: &str = "mismatch";

/// Errors counted by key, with the first one of each key (its one-line message).
#[derive(Debug, Clone, Default)]
pub(crate) struct Tally {
    pub(crate) counts: BTreeMap<String, u64>,
    pub(crate) first: BTreeMap<String, String>,
}

impl Tally {
    /// Counts `err` under its [`error_key`].
    pub(crate) fn add(&mut self, err: &VError) {
        self.add_keyed(error_key(err), || format!("{err:#}"));
    }

    /// Counts one error under `key`, keeping `message()` if it is the first.
    pub(crate) fn add_keyed(&mut self, key: String, message: impl FnOnce() -> String) {
        if !self.first.contains_key(&key) {
            self.first.insert(key.clone(), message());
        }
        *self.counts.entry(key).or_default() += 1;
    }

    pub(crate) fn merge(&mut self, other: Tally) {
        for (key, n) in other.counts {
            *self.counts.entry(key).or_default() += n;
        }
        for (key, message) in other.first {
            self.first.entry(key).or_insert(message);
        }
    }
}

/// The outcome of a [`Load`](super::Load) run. `{}` prints a short human
/// report; it serializes (for `verror load --json`) with durations in seconds
/// (`elapsed_s`) and microseconds (`latency.p50_us`, ...).
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct LoadReport {
    /// The server.
    pub addr: SocketAddr,
    /// Connections opened.
    pub connections: usize,
    /// Echo requests per connection.
    pub frames_per_connection: u64,
    /// The payload size of each request, in bytes.
    pub size: usize,
    /// Requests in flight per connection, at most.
    pub window: usize,
    /// The fault each connection committed after its requests, if any.
    pub fault: Option<Fault>,
    /// Echo requests planned: `connections × frames_per_connection`.
    pub requests: u64,
    /// Echo requests written.
    pub sent: u64,
    /// Responses that echoed their request exactly.
    pub ok: u64,
    /// Responses to echo requests: `ok` plus error responses and mismatches.
    pub answered: u64,
    /// Failed echo requests by [`error_key`]: error responses, bodies that are not
    /// the request (`mismatch`), and transport failures (which end their
    /// connection).
    pub errors: BTreeMap<String, u64>,
    /// The first error of each key, as one line (`{:#}`).
    pub first_errors: BTreeMap<String, String>,
    /// Echo requests planned but never answered: `requests - answered`.
    pub unanswered: u64,
    /// Faults committed.
    pub faults_sent: u64,
    /// What came back for the faults, by [`error_key`] (a fault answered with a
    /// body counts as `ok`). A `reset` expects nothing back.
    pub fault_responses: BTreeMap<String, u64>,
    /// From the start of the requests to the last response of the echo traffic
    /// (the faults' time excluded).
    #[serde(rename = "elapsed_s", serialize_with = "seconds")]
    pub elapsed: Duration,
    /// The whole run, from the start of the requests to the end of the last
    /// fault.
    #[serde(rename = "run_elapsed_s", serialize_with = "seconds")]
    pub run_elapsed: Duration,
    /// Responses to echo requests per second of `elapsed`.
    pub frames_per_sec: f64,
    /// From writing a request to reading its response.
    pub latency: LatencySummary,
}

fn seconds<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64())
}

impl LoadReport {
    /// Failed echo requests, every key.
    pub fn error_count(&self) -> u64 {
        self.errors.values().sum()
    }

    /// Whether the run went as planned: every echo request answered with its own
    /// bytes, and every fault committed and, unless it was a reset, answered
    /// with the error kind it should earn ([`Fault::expected_kind`]).
    pub fn is_clean(&self) -> bool {
        let echoes_clean = self.errors.is_empty() && self.unanswered == 0;
        let faults_clean = match self.fault {
            None => self.faults_sent == 0,
            Some(fault) => {
                let expected = self.connections as u64;
                let answered_as_expected = if fault.is_answered() {
                    self.fault_responses.len() == 1
                        && self.fault_responses.get(fault.expected_kind().as_str())
                            == Some(&expected)
                } else {
                    self.fault_responses.is_empty()
                };
                self.faults_sent == expected && answered_as_expected
            }
        };
        echoes_clean && faults_clean
    }

    /// Why the run was not clean, as an error (`None` when it was).
    pub fn failure(&self) -> Option<VError> {
        if self.is_clean() {
            return None;
        }
        let mut builder = VError::builder()
            .name("LoadFailed")
            .info("addr", self.addr.to_string())
            .info("requests", self.requests)
            .info("ok", self.ok)
            .info("unanswered", self.unanswered)
            .info("errors", &self.errors)
            .backtrace(false);
        if let Some(fault) = self.fault {
            builder = builder
                .info("fault", fault.as_str())
                .info("faults_sent", self.faults_sent)
                .info("fault_responses", &self.fault_responses);
        }
        Some(
            builder
                .message(format_args!(
                    "load on {}: {} of {} echo requests answered correctly",
                    self.addr, self.ok, self.requests
                ))
                .build(),
        )
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "load on {}: {} x {} of {} B (window {})",
            self.addr,
            Count(self.connections as u64, "connection"),
            Count(self.frames_per_connection, "frame"),
            self.size,
            self.window
        )?;
        writeln!(
            f,
            "  {} ok, {}, {} unanswered in {}: {:.0} frames/s",
            self.ok,
            Count(self.error_count(), "error"),
            self.unanswered,
            HumanDuration(self.run_elapsed),
            self.frames_per_sec
        )?;
        let latency = &self.latency;
        write!(
            f,
            "  latency: p50 {}, p99 {}, max {}, mean {}",
            Human(latency.p50),
            Human(latency.p99),
            Human(latency.max),
            Human(latency.mean)
        )?;
        if !self.errors.is_empty() {
            write!(f, "\n  errors by kind:")?;
            for (key, n) in &self.errors {
                let first = self.first_errors.get(key).map_or("", String::as_str);
                write!(f, "\n    {key} {n}: {first}")?;
            }
        }
        if let Some(fault) = self.fault {
            write!(
                f,
                "\n  fault {fault}: {} sent (the server reports {}), answered:",
                self.faults_sent,
                fault.expected_kind()
            )?;
            if self.fault_responses.is_empty() {
                f.write_str(" nothing")?;
            }
            let mut sep = " ";
            for (key, n) in &self.fault_responses {
                write!(f, "{sep}{key} {n}")?;
                sep = ", ";
            }
        }
        Ok(())
    }
}

/// A latency in the unit that suits it: `850 ns`, `42.1 µs`, `3.20 ms`, `1.50 s`.
struct Human(Duration);

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0.as_nanos() as f64;
        if ns < 1e3 {
            write!(f, "{ns:.0} ns")
        } else if ns < 1e6 {
            write!(f, "{:.1} µs", ns / 1e3)
        } else if ns < 1e9 {
            write!(f, "{:.2} ms", ns / 1e6)
        } else {
            write!(f, "{:.2} s", ns / 1e9)
        }
    }
}

//! The helpers of the server, reliability and heap tests: a server on an
//! ephemeral loopback port with short timeouts, clients, good traffic checked by
//! content, captured JSON log lines (per test, or per thread), and one bound on
//! every wait. By concern, in the files beside this one: each [`Fault`]
//! committed and checked (`faults.rs`), runtimes and heap readings
//! (`runtime.rs`), the test binary re-run as a child process (`child.rs`), and a
//! bounded wait for any child (`process.rs`).
#![allow(dead_code)]

mod child;
mod faults;
mod process;
mod runtime;

// Each test binary uses some of the helpers, none uses all.
#[allow(unused_imports)]
pub use {child::*, faults::*, process::*, runtime::*};

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Once};
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::layer::SubscriberExt;
use verror::VError;
use verror::layer::{LogBuffer, LogLayer};
use verror::records::LogFormat;
use verror::server::{
    Client, FailureKind, Handler, RequestSender, ResponseReceiver, ServerBuilder, Stats, Summary,
};

/// The `verror` program's handler (echo, and `!` commands that fail), for the
/// tests that drive it: it is the program's, not the library's.
#[cfg(feature = "cli")]
#[path = "../../src/bin/verror/demo_handler.rs"]
pub mod demo_handler;
#[cfg(feature = "cli")]
#[allow(unused_imports)] // only some test binaries drive it
pub use demo_handler::DemoHandler;

/// The request limit of the test servers.
pub const LIMIT: usize = 4096;

/// Every wait of these tests (a test step, a child process, a heap reading, the
/// server's counts) is bounded by this: a hang guard only.
pub const BOUND: Duration = Duration::from_secs(60);

/// Runs `future`, failing the test (and naming the step) if it takes longer
/// than [`BOUND`].
#[track_caller]
pub fn within<F: Future>(future: F) -> impl Future<Output = F::Output> {
    let step = std::panic::Location::caller();
    async move {
        tokio::time::timeout(BOUND, future)
            .await
            .unwrap_or_else(|_| panic!("the test step at {step} timed out"))
    }
}

/// A server builder for tests: loopback, ephemeral port, short timeouts.
pub fn builder() -> ServerBuilder {
    ServerBuilder::new()
        .addr("127.0.0.1:0".parse().unwrap())
        .max_frame_len(LIMIT)
        .idle_timeout(Duration::from_secs(5))
        .frame_timeout(Duration::from_secs(5))
        .write_timeout(Duration::from_secs(5))
        .handler_timeout(Duration::from_secs(5))
        .linger(Duration::from_millis(200))
        .shutdown_deadline(Duration::from_secs(5))
        // Every test client comes from 127.0.0.1: only the fairness tests limit
        // connections per address.
        .max_connections_per_address(usize::MAX)
}

/// A server running in its own task.
pub struct Running {
    pub addr: SocketAddr,
    pub stop: CancellationToken,
    pub stats: Stats,
    pub task: JoinHandle<Summary>,
}

impl Running {
    /// Waits until the server's live counters satisfy `reached` (a state the
    /// test can observe, instead of a pause), and returns them.
    #[track_caller]
    pub fn wait_for_stats<'a>(
        &'a self,
        reached: impl Fn(&Summary) -> bool + 'a,
    ) -> impl Future<Output = Summary> + 'a {
        within(async move {
            loop {
                let now = self.stats.snapshot();
                if reached(&now) {
                    return now;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    }

    /// Waits until the server has read `bytes` bytes from its peers in all.
    #[track_caller]
    pub fn wait_for_received(&self, bytes: usize) -> impl Future<Output = Summary> + '_ {
        self.wait_for_stats(move |now| now.bytes_received >= bytes as u64)
    }

    /// Shuts the server down gracefully and returns its summary.
    pub async fn stop(self) -> Summary {
        self.stop.cancel();
        within(self.task).await.expect("the server task failed")
    }
}

/// A handler's answer, boxed: see [`Erased`].
type Answer = Pin<Box<dyn Future<Output = Result<Bytes, VError>> + Send>>;

/// Any test's handler behind one type ([`erase`]), so that the server's code is
/// compiled once for a test binary rather than once for every test's handler.
pub struct Erased(Box<dyn Fn(Bytes) -> Answer + Send + Sync>);

/// `handler` as an [`Erased`]: its answers boxed, one allocation a request.
pub fn erase(handler: impl Handler) -> Erased {
    let handler = Arc::new(handler);
    Erased(Box::new(move |request| {
        let handler = Arc::clone(&handler);
        Box::pin(async move { handler.call(request).await })
    }))
}

impl Handler for Erased {
    fn call(&self, request: Bytes) -> impl Future<Output = Result<Bytes, VError>> + Send {
        (self.0)(request)
    }
}

/// Binds `builder` with `handler` (as an [`Erased`]) and serves in a spawned task.
pub async fn start<H: Handler>(builder: ServerBuilder, handler: H) -> Running {
    let server = builder.bind(erase(handler)).await.expect("bind failed");
    let addr = server.local_addr();
    let stop = server.shutdown_token();
    let stats = server.stats();
    let task = tokio::spawn(server.serve());
    Running {
        addr,
        stop,
        stats,
        task,
    }
}

/// An echo handler.
pub fn echo() -> Erased {
    erase(|request: Bytes| async move { Ok::<_, VError>(request) })
}

/// A client for a test server: its limit, and [`BOUND`] on every step.
pub async fn connect(addr: SocketAddr) -> Client {
    Client::builder()
        .max_frame_len(LIMIT)
        .timeout(BOUND)
        .connect_timeout(BOUND)
        .connect(addr)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {addr}: {e:#}"))
}

/// A client's two halves.
pub async fn connect_split(addr: SocketAddr) -> (RequestSender, ResponseReceiver) {
    connect(addr).await.split()
}

/// A frame holding `payload`.
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = (payload.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(payload);
    out
}

/// A payload of `len` bytes that differs from request to request (by `seed`).
pub fn payload(seed: usize, len: usize) -> Vec<u8> {
    labelled(format!("{seed}:"), len)
}

/// The payload of frame `index` on good connection `conn`: it names both, so a
/// response delivered to the wrong connection or out of order cannot pass for the
/// right one, and its length varies from 20-odd to 530-odd bytes.
pub fn good_payload(conn: usize, index: usize) -> Vec<u8> {
    let label = format!("conn {conn} frame {index}:");
    let len = label.len() + (conn * 7919 + index * 104_729) % 512;
    labelled(label, len)
}

/// `len` bytes: `label` (as far as it fits), then letters that depend on it.
fn labelled(label: String, len: usize) -> Vec<u8> {
    let shift = label.bytes().map(usize::from).sum::<usize>();
    let mut bytes = label.into_bytes();
    bytes.extend((bytes.len()..len).map(|i| b'a' + ((shift + i) % 26) as u8));
    bytes.truncate(len);
    bytes
}

/// One good connection: `frames` pipelined echo requests, each answered once,
/// in order, with its own bytes; then, once the requests end, the server has
/// nothing more to send (no duplicate, no stray response) and closes. Returns
/// the number of frames answered.
pub async fn good_connection(addr: SocketAddr, conn: usize, frames: usize) -> u64 {
    let mut client = connect(addr).await;
    let payloads: Vec<Vec<u8>> = (0..frames).map(|i| good_payload(conn, i)).collect();
    let answers = client
        .pipeline(&payloads)
        .await
        .unwrap_or_else(|e| panic!("good connection {conn} failed: {e:#}"));
    assert_eq!(answers.len(), frames, "good connection {conn}");
    for (index, (answer, sent)) in answers.into_iter().zip(&payloads).enumerate() {
        let body = answer.unwrap_or_else(|e| {
            panic!("good connection {conn}, frame {index}: answered with an error: {e:#}")
        });
        assert!(
            body == sent[..],
            "good connection {conn}, frame {index}: wrong bytes: {:?}",
            String::from_utf8_lossy(&body[..body.len().min(40)])
        );
    }
    let (mut sender, mut receiver) = client.split();
    sender
        .shutdown()
        .await
        .unwrap_or_else(|e| panic!("good connection {conn}: {e:#}"));
    let end = receiver
        .recv()
        .await
        .expect_err("a response beyond the requests");
    assert_eq!(
        end.name(),
        "ConnectionClosed",
        "good connection {conn}: {end:?}"
    );
    frames as u64
}

/// Good traffic next to a fault: three good connections one after another,
/// each [`good_connection`]. Await it to show the fault disturbed nobody else.
pub fn good_neighbour(addr: SocketAddr, frames: usize) -> JoinHandle<()> {
    tokio::spawn(async move {
        for conn in 0..3 {
            good_connection(addr, conn, frames).await;
        }
    })
}

/// The server's chain inside a client's `RemoteError`.
pub fn remote_cause(err: &VError) -> &VError {
    assert_eq!(
        err.name(),
        "RemoteError",
        "expected a RemoteError, got {err:?}"
    );
    std::error::Error::source(err)
        .and_then(|e| e.downcast_ref::<VError>())
        .expect("a RemoteError has the server's chain as its cause")
}

/// An info field of one level, as JSON.
pub fn field(err: &VError, key: &str) -> Value {
    err.own_info().get(key).cloned().unwrap_or(Value::Null)
}

/// Where the log lines of events emitted on a thread go.
#[derive(Clone)]
pub enum LogTarget {
    /// A test's buffer.
    Buffer(LogBuffer),
    /// This process's stderr (a child's, for its parent to read).
    Stderr,
}

thread_local! {
    /// The log target of the test that owns this thread, if any.
    static LOG_TARGET: RefCell<Option<LogTarget>> = const { RefCell::new(None) };
}

/// The writer of the global layer: the line goes to the target of the thread that
/// emitted the event, or nowhere.
struct ToThreadTarget;

impl io::Write for ToThreadTarget {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        LOG_TARGET.with(|target| match &*target.borrow() {
            Some(LogTarget::Buffer(buffer)) => buffer.clone().write_all(bytes),
            Some(LogTarget::Stderr) => io::stderr().write_all(bytes),
            None => Ok(()),
        })?;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Sends the log lines of the events this thread emits to `target` (`None`: nowhere).
///
/// One global subscriber per test binary (a `LogLayer`: native JSON, no rate
/// limit) writes each line to the target of the emitting thread. (A subscriber
/// per test, set as the thread's default, can lose events: tracing caches a
/// callsite's interest globally, and a callsite first hit while another test's
/// subscriber comes and goes may be cached as disabled.)
pub fn log_to(target: Option<LogTarget>) {
    static GLOBAL: Once = Once::new();
    GLOBAL.call_once(|| {
        let layer = LogLayer::builder()
            .format(LogFormat::Native)
            .writer(|| ToThreadTarget)
            .rate_limit(None)
            .build();
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
            .expect("no other global subscriber in the server tests");
        // Callsites hit by tests that ran before this may have cached "disabled".
        tracing::callsite::rebuild_interest_cache();
    });
    LOG_TARGET.with(|current| *current.borrow_mut() = target);
}

/// JSON log lines written by the `verror::layer` layer while this lives (on this
/// thread, see [`log_to`]: use a current-thread runtime, or have the runtime's
/// threads log to [`target`](Logs::target) too).
pub struct Logs {
    buffer: LogBuffer,
}

impl Logs {
    pub fn capture() -> Logs {
        let buffer = LogBuffer::new();
        log_to(Some(LogTarget::Buffer(buffer.clone())));
        Logs { buffer }
    }

    /// Where other threads log to be captured here.
    pub fn target(&self) -> LogTarget {
        LogTarget::Buffer(self.buffer.clone())
    }

    /// Every line so far, parsed.
    pub fn lines(&self) -> Vec<Value> {
        self.buffer
            .lines()
            .iter()
            .map(|line| {
                serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("a log line is not JSON ({e}): {line}"))
            })
            .collect()
    }

    /// The lines with this `kind`.
    pub fn of_kind(&self, kind: &str) -> Vec<Value> {
        self.lines()
            .into_iter()
            .filter(|line| line["kind"] == kind)
            .collect()
    }

    /// The error lines written, by kind, for the kinds of [`FailureKind::ALL`]
    /// that occurred.
    pub fn by_kind(&self) -> BTreeMap<FailureKind, u64> {
        let mut counts = BTreeMap::new();
        for line in self.lines() {
            if line.get("error").is_none() {
                continue;
            }
            if let Some(&kind) = FailureKind::ALL.iter().find(|k| line["kind"] == k.as_str()) {
                *counts.entry(kind).or_insert(0) += 1;
            }
        }
        counts
    }

    /// Waits for the first line of this `kind`.
    #[track_caller]
    pub fn wait_for<'a>(&'a self, kind: &'a str) -> impl Future<Output = Value> + 'a {
        self.wait_for_line(move |line| line["kind"] == kind)
    }

    /// Waits for the first line whose message starts with `prefix`.
    #[track_caller]
    pub fn wait_for_message<'a>(&'a self, prefix: &'a str) -> impl Future<Output = Value> + 'a {
        self.wait_for_line(move |line| {
            line["message"]
                .as_str()
                .is_some_and(|message| message.starts_with(prefix))
        })
    }

    /// Waits for the first line that satisfies `wanted`.
    #[track_caller]
    fn wait_for_line<'a>(
        &'a self,
        wanted: impl Fn(&Value) -> bool + 'a,
    ) -> impl Future<Output = Value> + 'a {
        within(async move {
            loop {
                if let Some(line) = self.lines().into_iter().find(|line| wanted(line)) {
                    return line;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    }
}

impl Drop for Logs {
    fn drop(&mut self) {
        LOG_TARGET.with(|current| *current.borrow_mut() = None);
    }
}

/// The end of a connection the server stops reading at a shutdown: `err` (the
/// response after the last answer) is the `ShuttingDown` error; once this
/// client closes its side, the server closes too, with nothing lost on the way.
pub async fn expect_shutdown_end(
    err: VError,
    sender: &mut RequestSender,
    receiver: &mut ResponseReceiver,
) {
    assert_eq!(
        FailureKind::classify(&err),
        Some(FailureKind::ShuttingDown),
        "{err:?}"
    );
    // The server drains what this client still sends until it closes.
    let _ = within(sender.shutdown()).await;
    let closed = within(receiver.recv()).await.unwrap_err();
    assert_eq!(closed.name(), "ConnectionClosed", "{closed:?}");
}

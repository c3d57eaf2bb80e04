//! Shared helpers of the `reliability_*` tests: good traffic checked by content,
//! one faulty connection of each kind (each checked against the error it must
//! earn), the test binary re-run as a child process (the other side of a
//! measurement, or a server under a low file-descriptor limit), and runtimes
//! whose threads log through a `LogLayer` that counts error lines by kind.
//!
//! Used together with `tests/server_support` (the test server's settings).
#![allow(dead_code)]

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{mpsc, Once};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tracing_subscriber::layer::SubscriberExt;
use verror::log::LogFormat;
use verror::server::{Client, ErrorKind, RequestSender, ResponseReceiver, STATUS_OK};
use verror::tracing::{LogBuffer, LogLayer};
use verror::VError;

/// The request limit of the servers these helpers talk to (that of
/// `server_support`).
pub const LIMIT: usize = 4096;

/// How long a client waits for any one write or response: a hang guard only.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------
// Good traffic

/// The payload of frame `index` on good connection `conn`: it names both, so a
/// response delivered to the wrong connection or out of order cannot pass for the
/// right one, and its length varies from 20-odd to 530-odd bytes.
pub fn good_payload(conn: usize, index: usize) -> Vec<u8> {
    let mut payload = format!("conn {conn} frame {index}:").into_bytes();
    let filler = (conn * 7919 + index * 104_729) % 512;
    payload.extend((0..filler).map(|i| b'a' + ((conn + index + i) % 26) as u8));
    payload
}

/// A client with the test server's limit and a generous hang guard.
pub async fn client(addr: SocketAddr) -> Client {
    Client::builder()
        .max_frame_len(LIMIT)
        .timeout(CLIENT_TIMEOUT)
        .connect_timeout(CLIENT_TIMEOUT)
        .connect(addr)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {addr}: {e:#}"))
}

/// One good connection: `frames` pipelined echo requests, each answered once,
/// in order, with its own bytes; then, once the requests end, the server has
/// nothing more to send (no duplicate, no stray response) and closes. Returns
/// the number of frames answered.
pub async fn good_connection(addr: SocketAddr, conn: usize, frames: usize) -> u64 {
    let mut client = client(addr).await;
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

// ---------------------------------------------------------------------------------------
// Faults

/// A misbehaving connection: the load generator's fault modes (`verror load
/// --fault`), each committed here on its own connection and checked against
/// the error it must earn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// A good frame, then a header declaring more than the limit, and 256
    /// bytes of its payload.
    Oversized,
    /// 64 bytes of noise whose first byte is at least 0x80, so that they cannot
    /// parse as a frame: read as a header, they declare at least 2 GiB.
    Garbage,
    /// A good frame, then 2 of the next header's 4 bytes, then the end of the
    /// stream (the writing side shut down).
    TruncatedHeader,
    /// A good frame, then a header declaring 100 bytes and 30 of them, then the
    /// end of the stream.
    TruncatedPayload,
    /// A good frame, then 2 header bytes, then silence past the frame timeout.
    SlowHeader,
    /// A good frame, then a slowloris frame: a header declaring 4000 bytes whose
    /// payload trickles in, a byte every 50 ms: bytes keep coming, the frame
    /// never completes within the frame timeout.
    SlowPayload,
    /// A good frame, then 10 of a frame's 100 payload bytes, then a TCP reset
    /// (`SO_LINGER` 0) once the good frame is answered.
    Reset,
}

impl Fault {
    /// Every fault, in the order reports list them.
    pub const ALL: [Fault; 7] = [
        Fault::Oversized,
        Fault::Garbage,
        Fault::TruncatedHeader,
        Fault::TruncatedPayload,
        Fault::SlowHeader,
        Fault::SlowPayload,
        Fault::Reset,
    ];

    /// The fault's name, as `verror load --fault` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Fault::Oversized => "oversized",
            Fault::Garbage => "garbage",
            Fault::TruncatedHeader => "truncated-header",
            Fault::TruncatedPayload => "truncated-payload",
            Fault::SlowHeader => "slow-header",
            Fault::SlowPayload => "slow-payload",
            Fault::Reset => "reset",
        }
    }

    /// The kind of the one error the server logs for this fault.
    pub fn kind(self) -> ErrorKind {
        match self {
            Fault::Oversized | Fault::Garbage => ErrorKind::Oversized,
            Fault::TruncatedHeader => ErrorKind::TruncatedHeader,
            Fault::TruncatedPayload => ErrorKind::TruncatedPayload,
            Fault::SlowHeader | Fault::SlowPayload => ErrorKind::FrameTimeout,
            Fault::Reset => ErrorKind::Reset,
        }
    }

    /// Whether the connection sends a good frame (answered) before its fault.
    pub fn sends_a_good_frame_first(self) -> bool {
        self != Fault::Garbage
    }
}

/// The error counts by kind that `faults` (how many of each) must produce.
pub fn expected_errors(faults: &BTreeMap<Fault, u64>) -> BTreeMap<ErrorKind, u64> {
    let mut errors = BTreeMap::new();
    for (fault, &n) in faults {
        if n > 0 {
            *errors.entry(fault.kind()).or_insert(0) += n;
        }
    }
    errors
}

/// A frame holding `payload`.
pub fn frame(payload: &[u8]) -> Vec<u8> {
    let mut out = u32::try_from(payload.len())
        .expect("a test payload fits a header")
        .to_be_bytes()
        .to_vec();
    out.extend_from_slice(payload);
    out
}

/// `len` bytes of noise that differ with `seed`; the first is at least 0x80.
pub fn garbage(seed: usize, len: usize) -> Vec<u8> {
    let mut state = (seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut bytes: Vec<u8> = (0..len)
        .map(|_| {
            // xorshift64
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    if let Some(first) = bytes.first_mut() {
        *first |= 0x80;
    }
    bytes
}

/// Opens one connection and commits `fault` on it, checking that the server
/// answers the good frame before it, answers the fault with the error of
/// [`Fault::kind`] (except a reset, which leaves no one to answer), and then
/// closes the connection. `seed` varies the bytes.
pub async fn inject(addr: SocketAddr, fault: Fault, seed: usize) {
    let before = format!("before {} fault {seed}", fault.name());
    if fault == Fault::Reset {
        return reset(addr, before.as_bytes()).await;
    }
    let (mut sender, mut receiver) = client(addr).await.split();
    if fault.sends_a_good_frame_first() {
        sender.feed(before.as_bytes()).unwrap();
    }
    let err = match fault {
        Fault::Oversized => {
            let declared = u32::try_from(LIMIT + 1 + seed % 1_000_000).unwrap();
            sender.feed_raw(&declared.to_be_bytes());
            sender.feed_raw(&[0x5a; 256]);
            flush(&mut sender, fault).await;
            expect_answer(&mut receiver, before.as_bytes(), fault).await;
            expect_error(&mut receiver, fault).await
        }
        Fault::Garbage => {
            sender.feed_raw(&garbage(seed, 64));
            flush(&mut sender, fault).await;
            expect_error(&mut receiver, fault).await
        }
        Fault::TruncatedHeader | Fault::TruncatedPayload => {
            if fault == Fault::TruncatedHeader {
                sender.feed_raw(&[0, 0]);
            } else {
                sender.feed_raw(&frame(&[0x33; 100])[..4 + 30]);
            }
            sender
                .shutdown()
                .await
                .unwrap_or_else(|e| panic!("{}: {e:#}", fault.name()));
            expect_answer(&mut receiver, before.as_bytes(), fault).await;
            expect_error(&mut receiver, fault).await
        }
        Fault::SlowHeader => {
            sender.feed_raw(&[0, 0]);
            flush(&mut sender, fault).await;
            expect_answer(&mut receiver, before.as_bytes(), fault).await;
            expect_error(&mut receiver, fault).await
        }
        Fault::SlowPayload => {
            sender.feed_raw(&4000u32.to_be_bytes());
            flush(&mut sender, fault).await;
            expect_answer(&mut receiver, before.as_bytes(), fault).await;
            let trickle = async {
                for _ in 0..4000 {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    sender.feed_raw(b"s");
                    if sender.flush().await.is_err() {
                        break;
                    }
                }
                std::future::pending::<()>().await;
            };
            tokio::select! {
                () = trickle => unreachable!(),
                err = expect_error(&mut receiver, fault) => err,
            }
        }
        Fault::Reset => unreachable!(),
    };
    let remote = std::error::Error::source(&err)
        .and_then(|e| e.downcast_ref::<VError>())
        .expect("a RemoteError holds the server's chain");
    assert_eq!(remote.name(), "FrameDecodeError", "{err:?}");
    let closed = receiver
        .recv()
        .await
        .expect_err("the connection closes after the fault");
    assert_eq!(
        closed.name(),
        "ConnectionClosed",
        "{}: {closed:?}",
        fault.name()
    );
}

async fn flush(sender: &mut RequestSender, fault: Fault) {
    sender
        .flush()
        .await
        .unwrap_or_else(|e| panic!("{}: {e:#}", fault.name()));
}

async fn expect_answer(receiver: &mut ResponseReceiver, sent: &[u8], fault: Fault) {
    let body = receiver
        .recv()
        .await
        .unwrap_or_else(|e| panic!("{}: the good frame before the fault: {e:#}", fault.name()));
    assert!(body == sent, "{}: the good frame's answer", fault.name());
}

async fn expect_error(receiver: &mut ResponseReceiver, fault: Fault) -> VError {
    let err = receiver
        .recv()
        .await
        .expect_err("a fault is answered with an error");
    assert_eq!(
        ErrorKind::classify(&err),
        Some(fault.kind()),
        "{}: {err:?}",
        fault.name()
    );
    err
}

/// The reset fault, on a raw socket (the client does not expose `SO_LINGER`).
async fn reset(addr: SocketAddr, before: &[u8]) {
    let mut stream = TcpStream::connect(addr)
        .await
        .unwrap_or_else(|e| panic!("reset: cannot connect: {e}"));
    let mut wire = frame(before);
    wire.extend_from_slice(&frame(&[0x44; 100])[..4 + 10]);
    stream.write_all(&wire).await.expect("reset: write");
    // The good frame's answer: the server has read this far and written all it owes.
    let mut header = [0u8; 4];
    stream.read_exact(&mut header).await.expect("reset: read");
    let mut payload = vec![0u8; u32::from_be_bytes(header) as usize];
    stream.read_exact(&mut payload).await.expect("reset: read");
    assert_eq!(payload.first(), Some(&STATUS_OK), "reset: the good frame");
    assert!(payload[1..] == *before, "reset: the good frame's answer");
    stream.set_zero_linger().expect("reset: SO_LINGER");
    drop(stream);
}

// ---------------------------------------------------------------------------------------
// Logs

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

impl Write for ToThreadTarget {
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

/// One global subscriber per test binary: a [`LogLayer`] (native JSON, no rate
/// limit) writing each line to the target of the emitting thread. (A subscriber
/// per test set as a thread's default can lose events: tracing caches a
/// callsite's interest globally, from the default of whichever thread hits it
/// first.)
fn install_global_log_layer() {
    static GLOBAL: Once = Once::new();
    GLOBAL.call_once(|| {
        let layer = LogLayer::builder()
            .format(LogFormat::Native)
            .writer(|| ToThreadTarget)
            .rate_limit(None)
            .build();
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
            .expect("no other global subscriber in the reliability tests");
        tracing::callsite::rebuild_interest_cache();
    });
}

/// A multi-thread runtime whose threads (and the calling thread) log to `target`.
pub fn runtime_logging_to(workers: usize, target: LogTarget) -> tokio::runtime::Runtime {
    install_global_log_layer();
    LOG_TARGET.with(|slot| *slot.borrow_mut() = Some(target.clone()));
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .on_thread_start(move || {
            LOG_TARGET.with(|slot| *slot.borrow_mut() = Some(target.clone()));
        })
        .build()
        .expect("a runtime")
}

/// A multi-thread runtime whose threads log to a buffer of their own, and the
/// buffer's lines: tests running in parallel do not see each other's lines.
pub fn logged_runtime(workers: usize) -> (tokio::runtime::Runtime, TestLogs) {
    let buffer = LogBuffer::new();
    let runtime = runtime_logging_to(workers, LogTarget::Buffer(buffer.clone()));
    (runtime, TestLogs { buffer })
}

/// The JSON log lines of one test's runtime.
pub struct TestLogs {
    buffer: LogBuffer,
}

impl TestLogs {
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

    /// The error lines written, by kind, for the kinds of [`ErrorKind::ALL`]
    /// that occurred.
    pub fn by_kind(&self) -> BTreeMap<ErrorKind, u64> {
        let mut counts = BTreeMap::new();
        for line in self.lines() {
            if line.get("error").is_none() {
                continue;
            }
            if let Some(&kind) = ErrorKind::ALL.iter().find(|k| line["kind"] == k.as_str()) {
                *counts.entry(kind).or_insert(0) += 1;
            }
        }
        counts
    }

    /// The lines of one kind.
    pub fn of_kind(&self, kind: ErrorKind) -> Vec<Value> {
        self.lines()
            .into_iter()
            .filter(|line| line["kind"] == kind.as_str())
            .collect()
    }
}

// ---------------------------------------------------------------------------------------
// Heap readings (for the tests that install `dhat::Alloc`)

/// The live heap (`dhat`) once it has stopped changing: the same reading ten
/// times in a row, 20 ms apart, each pause spent as a timer in `runtime`. The
/// timer makes the runtime's I/O driver turn, and a turn frees the
/// registrations of the sockets closed since the last one (tokio defers that);
/// without it, up to 15 of them (~150 bytes each) could be counted, or not,
/// depending on the last thread to close a socket. Panics after `bound`.
pub fn settled_heap(runtime: &tokio::runtime::Handle, bound: Duration) -> dhat::HeapStats {
    let deadline = Instant::now() + bound;
    let mut last = dhat::HeapStats::get();
    let mut same = 0;
    while same < 10 {
        assert!(Instant::now() < deadline, "the heap never settled");
        runtime.block_on(async { tokio::time::sleep(Duration::from_millis(20)).await });
        let now = dhat::HeapStats::get();
        if (now.curr_bytes, now.curr_blocks) == (last.curr_bytes, last.curr_blocks) {
            same += 1;
        } else {
            same = 0;
        }
        last = now;
    }
    last
}

// ---------------------------------------------------------------------------------------
// Child processes

/// The environment variable that tells a re-run test binary which role to play.
pub const ROLE_VAR: &str = "VERROR_RELIABILITY_ROLE";

/// The role this process was started for, if it is a child.
pub fn role() -> Option<String> {
    std::env::var(ROLE_VAR).ok()
}

/// An environment variable a parent passed to its child, parsed.
pub fn child_env<T: std::str::FromStr>(name: &str) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("the child needs {name}"))
}

/// Tells the parent `key value`, on a line of its own (the test harness may
/// have begun one), for [`ChildProcess::line`].
pub fn tell_parent(key: &str, value: impl std::fmt::Display) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "\n@@{key} {value}");
    let _ = stdout.flush();
}

/// Blocks until the parent closes our stdin (or dies): a child's way to hold
/// its state until told to stop.
pub fn wait_for_stdin_eof() {
    let mut sink = Vec::new();
    let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
}

/// This test binary, re-run as a child process that runs only `test` (with
/// [`ROLE_VAR`] set to `role`), its stdout read line by line. Killed if dropped
/// while running.
pub struct ChildProcess {
    child: std::process::Child,
    stdin: Option<std::process::ChildStdin>,
    stdout: mpsc::Receiver<String>,
    stderr: Option<mpsc::Receiver<String>>,
}

impl ChildProcess {
    /// Starts the child. `shell` (say `ulimit -n 64`) runs first in `sh`, which
    /// then `exec`s the test binary; `capture_stderr` keeps its stderr lines
    /// (else they go to ours).
    pub fn spawn(
        test: &str,
        role: &str,
        env: &[(&str, String)],
        shell: Option<&str>,
        capture_stderr: bool,
    ) -> ChildProcess {
        let exe = std::env::current_exe().expect("the test binary's path");
        let args = [test, "--exact", "--nocapture", "--test-threads=1"];
        let mut command = match shell {
            Some(prelude) => {
                let mut command = Command::new("sh");
                command
                    .arg("-c")
                    .arg(format!("{prelude} && exec \"$0\" \"$@\""))
                    .arg(&exe)
                    .args(args);
                command
            }
            None => {
                let mut command = Command::new(&exe);
                command.args(args);
                command
            }
        };
        command
            .env(ROLE_VAR, role)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(if capture_stderr {
                Stdio::piped()
            } else {
                Stdio::inherit()
            });
        let mut child = command.spawn().expect("cannot start the child process");
        let stdout = lines_of(child.stdout.take().expect("piped"));
        let stderr = child.stderr.take().map(lines_of);
        ChildProcess {
            stdin: child.stdin.take(),
            child,
            stdout,
            stderr,
        }
    }

    /// Waits (at most `bound`) for the child to [`tell_parent`] `key`, and
    /// returns the value; other lines (the test harness's) are skipped.
    pub fn line(&self, key: &str, bound: Duration) -> String {
        let marker = format!("@@{key} ");
        let deadline = Instant::now() + bound;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stdout.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix(&marker) {
                        return rest.trim().to_owned();
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("the child told no {key} within {bound:?}")
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    panic!("the child ended without telling {key}")
                }
            }
        }
    }

    /// The stderr lines that came since the last call (with `capture_stderr`).
    pub fn stderr_lines(&self) -> Vec<String> {
        self.stderr
            .as_ref()
            .map(|lines| lines.try_iter().collect())
            .unwrap_or_default()
    }

    /// Closes the child's stdin (its signal to stop) and waits, at most `bound`,
    /// for it to exit.
    pub fn finish(&mut self, bound: Duration) -> ExitStatus {
        drop(self.stdin.take());
        let deadline = Instant::now() + bound;
        loop {
            if let Some(status) = self.child.try_wait().expect("waiting for the child") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the child did not exit within {bound:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for ChildProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The lines of a pipe, read on their own thread.
fn lines_of(pipe: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

//! Shared helpers of the `reliability_*` tests: good traffic checked by content,
//! one faulty connection of each of the library's [`Fault`]s (each checked
//! against the error it must earn), the test binary re-run as a child process
//! (the other side of a measurement, or a server under a low file-descriptor
//! limit), runtimes whose threads log through `server_support`'s `LogLayer`
//! (which counts error lines by kind), and heap readings for the tests that
//! install `dhat`.
//!
//! Needs `mod server_support;` beside it in the test crate: its log capture and
//! the test server's settings are shared, not copied.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub use crate::server_support::{log_to, LogTarget, Logs, LIMIT};
use verror::server::load::{PARTIAL_DECLARED, PARTIAL_SENT};
pub use verror::server::Fault;
use verror::server::{Client, ErrorKind, ResponseReceiver};
use verror::VError;

/// Every wait of these tests on a child process, a heap reading or the
/// server's counts is bounded by this.
pub const BOUND: Duration = Duration::from_secs(60);

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

/// Whether a faulty connection sends a good frame (answered) before its fault:
/// all but garbage, which stands for a stray client of another protocol (an
/// HTTP request) and comes first.
pub fn good_frame_first(fault: Fault) -> bool {
    fault != Fault::Garbage
}

/// The error counts by kind that `faults` (how many of each) must produce.
pub fn expected_errors(faults: &BTreeMap<Fault, u64>) -> BTreeMap<ErrorKind, u64> {
    let mut errors = BTreeMap::new();
    for (fault, &n) in faults {
        if n > 0 {
            *errors.entry(fault.expected_kind()).or_insert(0) += n;
        }
    }
    errors
}

/// How often the slow-payload fault trickles a byte.
pub const TRICKLE_EVERY: Duration = Duration::from_millis(50);

/// Opens one connection and commits `fault` on it (the library's bytes, see
/// [`Fault::send`]), checking that the server answers the good frame pipelined
/// before it (see [`good_frame_first`]), answers the fault with the error of
/// [`Fault::expected_kind`] (except a reset, which leaves no one to answer), and
/// then closes the connection. `seed` varies the good frame.
///
/// Two faults are composed here: the reset comes (`SO_LINGER` 0) once the good
/// frame is answered, so the server has read the partial frame; and the slow
/// payload is a slowloris: after its partial frame, one more byte every
/// [`TRICKLE_EVERY`], stopping one byte short of a whole frame (4.45 s of bytes
/// that keep coming, past the frame timeouts of these tests), so that the frame
/// timeout, not an idle one, must end it.
pub async fn inject(addr: SocketAddr, fault: Fault, seed: usize) {
    let before = format!("before {fault} fault {seed}");
    let (mut sender, mut receiver) = client(addr).await.split();
    if good_frame_first(fault) {
        sender.feed(before.as_bytes()).unwrap();
    }
    fault
        .send(&mut sender)
        .await
        .unwrap_or_else(|e| panic!("{fault}: {e:#}"));
    if good_frame_first(fault) {
        let body = receiver
            .recv()
            .await
            .unwrap_or_else(|e| panic!("{fault}: the good frame before the fault: {e:#}"));
        assert!(
            body == before.as_bytes(),
            "{fault}: the good frame's answer"
        );
    }
    let err = match fault {
        Fault::Reset => {
            // The good frame is answered: the server has read this far.
            return Client::reunite(sender, receiver)
                .and_then(Client::reset)
                .unwrap_or_else(|e| panic!("{fault}: {e:#}"));
        }
        Fault::SlowPayload => {
            let trickle = async {
                for _ in PARTIAL_SENT + 1..PARTIAL_DECLARED {
                    tokio::time::sleep(TRICKLE_EVERY).await;
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
        _ => expect_error(&mut receiver, fault).await,
    };
    let remote = std::error::Error::source(&err)
        .and_then(|e| e.downcast_ref::<VError>())
        .expect("a RemoteError holds the server's chain");
    assert_eq!(remote.name(), "FrameDecodeError", "{err:?}");
    let closed = receiver
        .recv()
        .await
        .expect_err("the connection closes after the fault");
    assert_eq!(closed.name(), "ConnectionClosed", "{fault}: {closed:?}");
}

async fn expect_error(receiver: &mut ResponseReceiver, fault: Fault) -> VError {
    let err = receiver
        .recv()
        .await
        .expect_err("a fault is answered with an error");
    assert_eq!(
        ErrorKind::classify(&err),
        Some(fault.expected_kind()),
        "{fault}: {err:?}"
    );
    err
}

// ---------------------------------------------------------------------------------------
// Runtimes and their logs

/// A multi-thread runtime (with time and I/O) of `workers` threads.
pub fn runtime(workers: usize) -> tokio::runtime::Runtime {
    runtime_builder(workers).build().expect("a runtime")
}

fn runtime_builder(workers: usize) -> tokio::runtime::Builder {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.worker_threads(workers).enable_all();
    builder
}

/// A multi-thread runtime whose threads (and the calling thread) log to `target`
/// (through `server_support`'s one global layer).
pub fn runtime_logging_to(workers: usize, target: LogTarget) -> tokio::runtime::Runtime {
    log_to(Some(target.clone()));
    runtime_builder(workers)
        .on_thread_start(move || log_to(Some(target.clone())))
        .build()
        .expect("a runtime")
}

/// A multi-thread runtime whose threads log to a buffer of their own, and the
/// buffer's lines: tests running in parallel do not see each other's lines.
pub fn logged_runtime(workers: usize) -> (tokio::runtime::Runtime, Logs) {
    let logs = Logs::capture();
    let runtime = runtime_logging_to(workers, logs.target());
    (runtime, logs)
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

/// For the tests of `tests/heap` (which installs `dhat::Alloc`): the heap profiler, in testing mode, and
/// a 2-worker runtime for the server it measures. Keep the profiler alive to
/// the end of the test (`let (_profiler, runtime) = ...`).
pub fn profiled_runtime() -> (dhat::Profiler, tokio::runtime::Runtime) {
    let profiler = dhat::Profiler::builder().testing().build();
    (profiler, runtime(2))
}

/// Polls `check` every 5 ms until it returns `Ok`, and returns that; panics with
/// its last `Err` after [`BOUND`].
pub fn wait_until<T>(mut check: impl FnMut() -> Result<T, String>) -> T {
    let deadline = Instant::now() + BOUND;
    loop {
        match check() {
            Ok(done) => return done,
            Err(why) => assert!(Instant::now() < deadline, "{why}"),
        }
        std::thread::sleep(Duration::from_millis(5));
    }
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

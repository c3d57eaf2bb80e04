//! The test binary re-run as a child process: the other side of a
//! measurement, or a server under a low file-descriptor limit.

use std::io::{BufRead, BufReader};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::process::wait_bounded;

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
        wait_bounded(&mut self.child, bound, "the child")
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

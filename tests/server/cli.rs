//! The `verror` program, run as a user runs it: `demo`, and `serve` on an
//! ephemeral loopback port with `send` and `load` against it, then SIGTERM.
//! Every child process is bounded in time and killed if it overruns.
#![cfg(feature = "cli")]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStderr, Command, ExitStatus, Output, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::wait_bounded;
use serde_json::Value;

const VERROR: &str = env!("CARGO_BIN_EXE_verror");
/// The bound on every command but the demo.
const BOUND: Duration = Duration::from_secs(30);

fn verror(args: &[&str]) -> Command {
    let mut command = Command::new(VERROR);
    command.args(args);
    command
}

/// Runs `command` to its end with `stdin` as input, killing it after `bound`.
fn run(mut command: Command, stdin: &[u8], bound: Duration) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start verror");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin).unwrap();
    drop(input);
    // Drain both pipes while waiting, so a chatty child never blocks on them.
    let stdout = drain(child.stdout.take().unwrap());
    let stderr = drain(child.stderr.take().unwrap());
    let status = wait_bounded(&mut child, bound, &format!("{command:?}"));
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        bytes
    })
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A `verror serve` child, killed if the test ends without stopping it.
struct Serve {
    child: Child,
    addr: String,
    lines: Receiver<String>,
    seen: Vec<String>,
}

/// `verror` with `args` (a `serve`), its log (stderr) piped for the test to read.
fn spawn_serve(args: &[&str]) -> (Child, BufReader<ChildStderr>) {
    let mut child = verror(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start verror serve");
    let stderr = BufReader::new(child.stderr.take().unwrap());
    (child, stderr)
}

impl Serve {
    fn start(extra: &[&str]) -> Serve {
        let mut args = vec!["serve", "--listen", "127.0.0.1:0", "--log-format", "json"];
        args.extend_from_slice(extra);
        let (child, stderr) = spawn_serve(&args);
        let (send, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let mut serve = Serve {
            child,
            addr: String::new(),
            lines,
            seen: Vec::new(),
        };
        let listening = serve.wait_for_line(|line| line["message"] == "server listening");
        serve.addr = listening["addr"].as_str().unwrap().to_owned();
        assert!(serve.addr.starts_with("127.0.0.1:"), "{listening}");
        assert_ne!(serve.addr, "127.0.0.1:0");
        serve
    }

    /// The first log line (from now on, or seen before) that `matches`.
    fn wait_for_line(&mut self, matches: impl Fn(&Value) -> bool) -> Value {
        let parse = |line: &str| -> Value {
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"))
        };
        if let Some(line) = self.seen.iter().map(|l| parse(l)).find(&matches) {
            return line;
        }
        let deadline = Instant::now() + BOUND;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = self.lines.recv_timeout(left).unwrap_or_else(|_| {
                panic!("no such log line within {BOUND:?}; seen: {:#?}", self.seen)
            });
            self.seen.push(line.clone());
            let value = parse(&line);
            if matches(&value) {
                return value;
            }
        }
    }

    /// Sends SIGTERM (with the shell's `kill`: no unsafe code here) and waits
    /// for the exit.
    fn terminate(&mut self) -> ExitStatus {
        let pid = self.child.id();
        let sent = Command::new("sh")
            .args(["-c", &format!("kill -TERM {pid}")])
            .status()
            .unwrap();
        assert!(sent.success(), "kill -TERM {pid} failed");
        wait_bounded(&mut self.child, BOUND, "verror serve after SIGTERM")
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `verror demo --one-line` (one line per log record, as a server writes them) with
/// `RUST_BACKTRACE=1`, and `RUST_LIB_BACKTRACE` set to `lib_backtrace` or unset. The
/// demo stops by itself: `run` kills it and fails the test past its bound.
fn demo(lib_backtrace: Option<&str>) -> Output {
    let mut command = verror(&["demo", "--one-line"]);
    command.env("RUST_BACKTRACE", "1");
    match lib_backtrace {
        Some(value) => command.env("RUST_LIB_BACKTRACE", value),
        None => command.env_remove("RUST_LIB_BACKTRACE"),
    };
    run(command, b"", Duration::from_secs(60))
}

/// The demo as a user runs it, `RUST_LIB_BACKTRACE` unset: run once for the tests
/// that read it (a run takes a second), by whichever asks first.
fn plain_demo() -> &'static Output {
    static PLAIN: OnceLock<Output> = OnceLock::new();
    PLAIN.get_or_init(|| demo(None))
}

/// The demo keeps the errors' backtraces out of its log unless `RUST_LIB_BACKTRACE`
/// asks for them: `RUST_BACKTRACE=1` (panics' backtraces) alone does not.
#[test]
fn the_demo_logs_backtraces_only_when_rust_lib_backtrace_asks() {
    // The two runs are independent: side by side, the test waits for one demo, not two.
    let (plain, traced) = thread::scope(|s| {
        let traced = s.spawn(|| demo(Some("1")));
        (plain_demo(), traced.join().unwrap())
    });
    for output in [plain, &traced] {
        assert!(output.status.success(), "{}", text(&output.stderr));
    }
    let (plain, traced) = (text(&plain.stdout), text(&traced.stdout));
    assert!(!plain.contains("\"backtrace\""), "{plain}");
    assert!(traced.contains("\"backtrace\""), "{traced}");
}

#[test]
fn demo_shows_every_error_kind_from_both_sides_and_exits_0() {
    let output = plain_demo();
    let (stdout, stderr) = (text(&output.stdout), text(&output.stderr));
    assert!(output.status.success(), "{stdout}\n{stderr}");
    for kind in [
        "oversized",
        "truncated_header",
        "truncated_payload",
        "frame_timeout",
        "reset",
        "handler_error",
        "handler_panic",
        "handler_timeout",
    ] {
        assert!(
            stdout.contains(&format!("\"kind\":\"{kind}\"")),
            "no log line of kind {kind}:\n{stdout}"
        );
    }
    // The client's side: reports of the remote errors.
    assert!(
        stdout.contains("RemoteError: server 127.0.0.1:"),
        "{stdout}"
    );
    assert!(
        stdout.contains("FrameError: declared length 4294967295 exceeds the limit of 65536"),
        "{stdout}"
    );
    // Both sides of the exposure: the client sees the public view only, the log
    // has the storage failure below it, with its secret redacted.
    assert!(
        stdout.contains("0: RequestedFailure: disk on fire"),
        "{stdout}"
    );
    assert!(!stdout.contains("1: StorageError"), "{stdout}");
    assert!(stdout.contains(r#""name":"StorageError""#), "{stdout}");
    assert!(stdout.contains(r#""dsn":"[redacted]""#), "{stdout}");
    assert!(!stdout.contains("s3cret"), "{stdout}");
    assert!(stdout.contains("server stopped: "), "{stdout}");
    // The panic is a log line (`layer::log_panic`), not the default hook's text and
    // stack trace.
    let panic_line = stdout
        .lines()
        .find(|line| line.contains(r#""kind":"panic""#))
        .unwrap_or_else(|| panic!("no panic line:\n{stdout}"));
    let panic_line: Value = serde_json::from_str(panic_line).unwrap();
    assert_eq!(panic_line["level"], "error", "{panic_line}");
    assert!(
        panic_line["message"]
            .as_str()
            .unwrap()
            .starts_with("panicked: "),
        "{panic_line}"
    );
    assert!(
        panic_line["location"].as_str().unwrap().contains(".rs:"),
        "{panic_line}"
    );
    assert!(!stderr.contains("panicked at"), "{stderr}");
    assert!(!stdout.contains("stack backtrace"), "{stdout}");
}

#[test]
fn serve_answers_send_and_load_then_stops_on_sigterm() {
    let mut serve = Serve::start(&["--frame-timeout", "300ms", "--handler-timeout", "1s"]);
    let addr = serve.addr.clone();

    // send: the body on stdout.
    let output = run(verror(&["send", &addr, "hello"]), b"", BOUND);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "hello");

    // send: the payload from stdin.
    let output = run(verror(&["send", &addr]), b"from stdin\n", BOUND);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert_eq!(text(&output.stdout), "from stdin\n");

    // send: the server's error, as a report on stderr and a non-zero exit.
    let output = run(verror(&["send", &addr, "!lookup 42"]), b"", BOUND);
    let report = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(output.stdout.is_empty());
    assert!(
        report.starts_with("RemoteError: server 127.0.0.1:"),
        "{report}"
    );
    assert!(report.contains("NotFound: no user with id 42"), "{report}");

    // send --json: the same error as JSON on stdout.
    let output = run(verror(&["send", &addr, "!lookup x1", "--json"]), b"", BOUND);
    assert_eq!(output.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&output.stdout).expect("send --json prints JSON");
    assert_eq!(json["name"], "RemoteError", "{json}");
    assert_eq!(json["cause"]["name"], "LookupError", "{json}");
    assert_eq!(json["cause"]["cause"]["name"], "InvalidKey", "{json}");
    // The public view: the ParseIntError below InvalidKey stays on the server.
    assert!(json["cause"]["cause"].get("cause").is_none(), "{json}");

    // load: every echo checked, no errors.
    let output = run(
        verror(&[
            "load",
            &addr,
            "--connections",
            "4",
            "--frames",
            "300",
            "--size",
            "100",
            "--json",
        ]),
        b"",
        BOUND,
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["requests"], 1200, "{report}");
    assert_eq!(report["ok"], 1200, "{report}");
    assert_eq!(report["unanswered"], 0, "{report}");
    assert_eq!(report["errors"], serde_json::json!({}), "{report}");
    assert!(report["frames_per_sec"].as_f64().unwrap() > 0.0, "{report}");
    assert!(
        report["latency"]["p99_us"].as_f64().unwrap() > 0.0,
        "{report}"
    );

    // load --fault oversized: each connection's fault answered as oversized.
    let output = run(
        verror(&[
            "load",
            &addr,
            "--connections",
            "3",
            "--frames",
            "20",
            "--fault",
            "oversized",
            "--json",
        ]),
        b"",
        BOUND,
    );
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["ok"], 60, "{report}");
    assert_eq!(report["faults_sent"], 3, "{report}");
    assert_eq!(
        report["fault_responses"],
        serde_json::json!({"oversized": 3}),
        "{report}"
    );

    // load --fault slow-payload, in the human format: timed out by the server.
    let output = run(
        verror(&[
            "load",
            &addr,
            "--connections",
            "2",
            "--frames",
            "5",
            "--fault",
            "slow-payload",
        ]),
        b"",
        BOUND,
    );
    let human = text(&output.stdout);
    assert!(output.status.success(), "{human}\n{}", text(&output.stderr));
    assert!(human.contains("10 ok, 0 errors, 0 unanswered"), "{human}");
    assert!(human.contains("answered: frame_timeout 2"), "{human}");
    assert!(human.contains("latency: p50 "), "{human}");

    // The server logged the faults with their kinds.
    let line = serve.wait_for_line(|line| line["kind"] == "frame_timeout");
    assert_eq!(line["error"]["info"]["declared_len"], 100, "{line}");
    assert_eq!(line["error"]["info"]["received"], 10, "{line}");

    // A second server cannot take the same port: a BindError report, exit 1.
    let output = run(verror(&["serve", "--listen", &addr]), b"", BOUND);
    let report = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.starts_with("BindError: cannot listen on 127.0.0.1:"),
        "{report}"
    );

    // SIGTERM: a graceful shutdown, the summary as the last line, exit 0.
    let status = serve.terminate();
    assert!(status.success(), "{status:?}; log: {:#?}", serve.seen);
    let summary = serve.wait_for_line(|line| {
        line["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("server stopped: "))
    });
    assert_eq!(summary["frames"], 4 + 1200 + 60 + 10, "{summary}");
    assert!(
        summary["errors"].as_u64().unwrap() >= 2 + 3 + 2,
        "{summary}"
    );
}

#[test]
fn send_reports_a_server_that_is_not_there() {
    // Bind a port, then free it: nothing listens there any more.
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().to_string()
    };
    let output = run(
        verror(&["send", &addr, "hello", "--timeout", "2s"]),
        b"",
        BOUND,
    );
    let report = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.starts_with("ConnectError: cannot connect to 127.0.0.1:"),
        "{report}"
    );
    assert!(report.contains("refused"), "{report}");

    let output = run(verror(&["load", &addr, "--timeout", "2s"]), b"", BOUND);
    let report = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(report.starts_with("ConnectError"), "{report}");
}

#[test]
fn bad_options_are_refused_with_their_reason() {
    let output = run(
        verror(&["serve", "--idle-timeout", "10 parsecs"]),
        b"",
        BOUND,
    );
    let message = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(message.contains("is not a duration"), "{message}");

    let output = run(
        verror(&["load", "127.0.0.1:9", "--fault", "smoke"]),
        b"",
        BOUND,
    );
    let message = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(message.contains("unknown fault \"smoke\""), "{message}");

    let output = run(verror(&["serve", "--log-format", "xml"]), b"", BOUND);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("invalid value 'xml'"));
}

#[test]
fn every_invalid_value_lists_the_valid_ones() {
    let cases: [(&[&str], &str); 5] = [
        (
            &["serve", "--log-format", "xml"],
            "json, ecs, otel, bunyan, text, compact",
        ),
        (&["serve", "--expose", "secret"], "public, full"),
        (&["serve", "--oversized", "ignore"], "close, discard"),
        (
            &["load", "127.0.0.1:9", "--fault", "smoke"],
            "oversized, garbage, truncated-header, truncated-payload, slow-header, slow-payload, reset",
        ),
        (
            &["send", "127.0.0.1:9", "x", "--color", "rainbow"],
            "auto, always, never",
        ),
    ];
    for (args, listed) in cases {
        let output = run(verror(args), b"", BOUND);
        let message = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {message}");
        assert!(message.contains(listed), "{args:?}: {message}");
    }
    let output = run(verror(&["serve", "--max-frame-len", "0"]), b"", BOUND);
    let message = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert!(message.contains("1 to 4294967294"), "{message}");
}

#[test]
fn a_closed_pipe_ends_the_program_quietly_with_status_0() {
    // `verror demo | head -3`: the reader takes three lines and goes.
    let mut child = verror(&["demo"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("cannot start verror demo");
    let stderr = drain(child.stderr.take().unwrap());
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    for _ in 0..3 {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
    }
    drop(stdout);
    let status = wait_bounded(&mut child, Duration::from_secs(60), "verror demo | head -3");
    let stderr = text(&stderr.join().unwrap());
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn reports_show_locations_and_colour_only_when_asked() {
    let addr = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().to_string()
    };
    let send = |extra: &[&str]| {
        let mut args = vec!["send", addr.as_str(), "hello", "--timeout", "2s"];
        args.extend_from_slice(extra);
        let output = run(verror(&args), b"", BOUND);
        assert_eq!(output.status.code(), Some(1));
        text(&output.stderr)
    };
    let plain = send(&[]);
    assert!(plain.starts_with("ConnectError: "), "{plain}");
    assert!(
        !plain.contains("    at src/"),
        "no locations by default: {plain}"
    );
    assert!(!plain.contains('\u{1b}'), "no colour into a pipe: {plain}");
    let verbose = send(&["-v"]);
    assert!(
        verbose.contains("    at src/server/client.rs:"),
        "{verbose}"
    );
    let colored = send(&["--color", "always"]);
    assert!(colored.contains("\u{1b}["), "{colored:?}");
    let mut never = verror(&["send", &addr, "x", "--timeout", "2s", "--color", "never"]);
    never.env("NO_COLOR", "1");
    let never = run(never, b"", BOUND);
    assert!(!text(&never.stderr).contains('\u{1b}'));
}

#[test]
fn serve_listens_on_a_host_name_and_answers_tiny_limits_whole() {
    let (mut child, mut stderr) = spawn_serve(&[
        "serve",
        "--listen",
        "localhost:0",
        "--log-format",
        "json",
        "--max-frame-len",
        "50",
    ]);
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    let listening: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(listening["message"], "server listening", "{listening}");
    let addr = listening["addr"].as_str().unwrap().to_owned();
    let ip: std::net::SocketAddr = addr.parse().unwrap();
    assert!(ip.ip().is_loopback(), "{addr}");

    // A 60-byte frame past the limit of 50: the decode error, whole.
    let output = run(
        verror(&["send", &addr, &"x".repeat(60), "--json"]),
        b"",
        BOUND,
    );
    let json: Value = serde_json::from_slice(&output.stdout).expect("send --json prints JSON");
    assert_eq!(json["cause"]["name"], "FrameDecodeError", "{json}");
    assert_eq!(json["cause"]["info"]["declared_len"], 60, "{json}");
    assert_eq!(json["cause"]["info"]["max_frame_len"], 50, "{json}");

    // One connection, one frame: no "1 connections", no "1 frames".
    let output = run(
        verror(&[
            "load",
            &addr,
            "--connections",
            "1",
            "--frames",
            "1",
            "--size",
            "8",
        ]),
        b"",
        BOUND,
    );
    let human = text(&output.stdout);
    assert!(output.status.success(), "{human}");
    assert!(human.contains(": 1 connection x 1 frame of 8 B"), "{human}");
    drop(stderr);
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn the_text_log_format_is_coloured_only_when_asked() {
    for (color, coloured) in [("always", true), ("never", false)] {
        let (mut child, mut stderr) = spawn_serve(&[
            "--color",
            color,
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "text",
        ]);
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        let _ = child.kill();
        let _ = child.wait();
        assert!(line.contains("server listening"), "{line:?}");
        assert_eq!(
            line.contains("\u{1b}[32m INFO\u{1b}[0m"),
            coloured,
            "{color}: {line:?}"
        );
        assert_eq!(line.contains('\u{1b}'), coloured, "{color}: {line:?}");
    }
}

//! `verror demo`: a server on an ephemeral loopback port, in this process; good
//! traffic, then every kind of bad frame and every handler failure, each shown
//! as the client's report next to the server's log line(s).

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use bytes::Bytes;
use clap::Args;
use tokio::time::Instant;
use tracing_subscriber::filter::LevelFilter;
use verror::VError;
use verror::layer::{Format, LogBuffer, LogLayer};
use verror::server::load::{Fault, Load};
use verror::server::{Client, Exposure, FailureKind, ServerBuilder};

use crate::demo_handler::DemoHandler;
use crate::logging;
use crate::output::{report, stdout_colored};

/// The demo server's request limit.
const MAX_FRAME_LEN: usize = 64 * 1024;
/// Short enough for the slow faults to be cut off quickly.
const FRAME_TIMEOUT: Duration = Duration::from_millis(300);
/// Short enough for `!sleep 1000` to time out.
const HANDLER_TIMEOUT: Duration = Duration::from_millis(200);
/// The client's bound on every wait.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);
/// How long to wait for the log line a step should produce.
const LOG_WAIT: Duration = Duration::from_secs(3);

/// The handler commands that fail, and the kind each is logged as.
const FAILING_COMMANDS: [(&str, FailureKind); 5] = [
    ("!lookup x1", FailureKind::HandlerError),
    ("!lookup 42", FailureKind::HandlerError),
    ("!fail disk on fire", FailureKind::HandlerError),
    ("!panic", FailureKind::HandlerPanic),
    ("!sleep 1000", FailureKind::HandlerTimeout),
];

/// The variable that turns the errors' backtraces on or off, before
/// `RUST_BACKTRACE` (see `verror::Backtrace`).
const LIB_BACKTRACE: &str = "RUST_LIB_BACKTRACE";

/// Turns the handler errors' backtraces off for the demo, unless
/// `RUST_LIB_BACKTRACE` says otherwise: with `RUST_BACKTRACE=1`, each log line
/// would carry a backtrace of dozens of frames and bury what the demo shows.
pub fn quiet_backtraces() {
    if std::env::var_os(LIB_BACKTRACE).is_none() {
        verror::Backtrace::set_enabled(false);
    }
}

/// `verror demo`'s options.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The format of the server's log lines: json (verror's native record), ecs,
    /// otel, bunyan, text or compact.
    #[arg(long, default_value = "json", value_parser = crate::serve::log_format())]
    log_format: Format,
    /// Print each JSON log line on one line, as a server writes it (indented
    /// otherwise, to be read).
    #[arg(long)]
    one_line: bool,
}

/// Runs the tour; exits 0 when every step got the answer and the log line it
/// should, else prints what went wrong and exits 1.
pub async fn run(args: DemoArgs) -> Result<ExitCode, VError> {
    let logs = LogBuffer::new();
    let layer = LogLayer::builder()
        .format(args.log_format)
        .writer(logs.clone())
        .rate_limit(None)
        .service("verror-demo");
    let handle = logging::init(layer, LevelFilter::INFO)?;

    let server = ServerBuilder::new()
        .addr(SocketAddr::from(([127, 0, 0, 1], 0)))
        .max_frame_len(MAX_FRAME_LEN)
        .frame_timeout(FRAME_TIMEOUT)
        .handler_timeout(HANDLER_TIMEOUT)
        .idle_timeout(Duration::from_secs(10))
        .linger(Duration::from_millis(100))
        .shutdown_deadline(Duration::from_secs(2))
        .expose(Exposure::Public)
        .bind(DemoHandler::new())
        .await?;
    let mut demo = Demo {
        addr: server.local_addr(),
        logs,
        pretty: !args.one_line,
        problems: Vec::new(),
    };
    let stop = server.shutdown_token();
    let running = tokio::spawn(server.serve());

    say!(
        "verror demo: a server on {} (max frame {} bytes, frame timeout {:?}, handler timeout {:?}), \
         logging {} lines.\nEach client report below is what `verror send` would print; \
         errors capture backtraces only when {LIB_BACKTRACE}=1.",
        demo.addr,
        MAX_FRAME_LEN,
        FRAME_TIMEOUT,
        HANDLER_TIMEOUT,
        args.log_format
    );
    demo.server_logged(None).await;

    demo.good_traffic().await?;
    demo.bad_frames().await;
    demo.handler_errors().await?;

    section("4. Graceful shutdown");
    stop.cancel();
    let summary = running
        .await
        .map_err(|e| VError::wrap(e, "the server task failed"))?;
    say!("summary: {summary}");
    demo.server_logged(None).await;
    handle.flush();

    if demo.problems.is_empty() {
        say!("\nEvery request was answered, every fault and failure logged with its numbers.");
        Ok(ExitCode::SUCCESS)
    } else {
        Err(VError::builder()
            .name("DemoFailed")
            .errors(demo.problems)
            .message("the demo did not go as it should")
            .backtrace(false)
            .build())
    }
}

struct Demo {
    addr: SocketAddr,
    logs: LogBuffer,
    pretty: bool,
    /// Steps that did not get the answer or log line they should.
    problems: Vec<VError>,
}

impl Demo {
    async fn client(&self) -> Result<Client, VError> {
        Client::builder()
            .timeout(CLIENT_TIMEOUT)
            .connect_timeout(CLIENT_TIMEOUT)
            .max_frame_len(MAX_FRAME_LEN)
            .connect(self.addr)
            .await
    }

    async fn good_traffic(&mut self) -> Result<(), VError> {
        section("1. Good traffic: echo, a lookup, a pipeline, a burst");
        let mut client = self.client().await?;
        for request in ["hello, verror", "!lookup 1"] {
            step(&format!("request {request:?}"));
            let answer = client.request(request).await;
            self.expect_body(request, answer);
        }

        step("a pipeline of 4 requests in one write");
        let requests = ["one", "two", "!lookup 2", "three"];
        for (request, answer) in requests.iter().zip(client.pipeline(requests).await?) {
            self.expect_body(request, answer);
        }

        step("a burst: 4 connections x 250 pipelined requests of 64 bytes, each echo checked");
        let report = Load::new(self.addr)
            .connections(4)
            .frames(250)
            .size(64)
            .timeout(CLIENT_TIMEOUT)
            .max_frame_len(MAX_FRAME_LEN)
            .run()
            .await?;
        say!("{}", indent(&report.to_string()));
        if let Some(failure) = report.failure() {
            self.problems.push(failure);
        }
        self.server_logged(None).await;
        Ok(())
    }

    async fn bad_frames(&mut self) {
        section("2. Bad frames: the client gets the error with its numbers; the server logs it");
        for fault in Fault::ALL {
            step(&format!("{fault}: {}", fault.description()));
            let outcome = match self.client().await {
                Ok(client) => fault.inject(client).await,
                Err(err) => Some(Err(err)),
            };
            match outcome {
                Some(Err(err)) if FailureKind::classify(&err) == Some(fault.expected_kind()) => {
                    say!("client got:\n{}", indent(&report(&err, stdout_colored())));
                }
                None => say!(
                    "client: sent the reset; no connection is left to answer on, so only the server's log tells"
                ),
                other => self.unexpected(fault.as_str(), other),
            }
            self.server_logged(Some(fault.expected_kind())).await;
        }
    }

    async fn handler_errors(&mut self) -> Result<(), VError> {
        section("3. Handler errors: the client gets the public view, the log the whole chain");
        say!(
            "(`--expose public`, the default: a level built with skip_cause_message hides what lies\n\
             below it from the client; the log keeps every level, sensitive fields redacted)"
        );
        let mut client = self.client().await?;
        for (command, kind) in FAILING_COMMANDS {
            step(&format!("request {command:?}"));
            match client.request(command).await {
                Err(err) if FailureKind::classify(&err) == Some(kind) => {
                    say!("client got:\n{}", indent(&report(&err, stdout_colored())));
                }
                other => self.unexpected(command, Some(other)),
            }
            self.server_logged(Some(kind)).await;
        }
        step("after all that, the same connection still answers");
        let answer = client.request("still here").await;
        self.expect_body("still here", answer);
        Ok(())
    }

    fn expect_body(&mut self, request: &str, answer: Result<Bytes, VError>) {
        match answer {
            Ok(body) => say!("{request:?} -> {:?}", String::from_utf8_lossy(&body)),
            Err(err) => {
                say!(
                    "{request:?} -> unexpected error:\n{}",
                    indent(&report(&err, stdout_colored()))
                );
                self.problems.push(err);
            }
        }
    }

    fn unexpected(&mut self, what: &str, outcome: Option<Result<Bytes, VError>>) {
        let problem = match outcome {
            Some(Err(err)) => {
                say!(
                    "client got an unexpected error:\n{}",
                    indent(&report(&err, stdout_colored()))
                );
                VError::builder()
                    .name("UnexpectedAnswer")
                    .info("step", what)
                    .cause(err)
                    .message(format_args!("{what}: not the error it should earn"))
                    .backtrace(false)
                    .build()
            }
            Some(Ok(body)) => {
                say!("client got a body: {:?}", String::from_utf8_lossy(&body));
                VError::builder()
                    .name("UnexpectedAnswer")
                    .info("step", what)
                    .info("body_len", body.len())
                    .message(format_args!("{what}: answered with a body, not an error"))
                    .backtrace(false)
                    .build()
            }
            None => VError::builder()
                .name("UnexpectedAnswer")
                .info("step", what)
                .message(format_args!("{what}: no answer"))
                .backtrace(false)
                .build(),
        };
        self.problems.push(problem);
    }

    /// Prints the server's log lines since the last call; with `kind`, first waits
    /// (a bounded while) for a line of that kind.
    async fn server_logged(&mut self, kind: Option<FailureKind>) {
        let mut lines: Vec<String> = Vec::new();
        let deadline = Instant::now() + LOG_WAIT;
        let has_kind = |lines: &[String], kind: FailureKind| {
            let (json, text) = (format!("\"kind\":\"{kind}\""), format!("kind={kind}"));
            lines
                .iter()
                .any(|line| line.contains(&json) || line.contains(&text))
        };
        loop {
            lines.extend(self.logs.take().lines().map(str::to_owned));
            match kind {
                Some(kind) if !has_kind(&lines, kind) && Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                _ => break,
            }
        }
        // Lines that follow closely (a panic's line, the end of a connection).
        tokio::time::sleep(Duration::from_millis(20)).await;
        lines.extend(self.logs.take().lines().map(str::to_owned));

        if lines.is_empty() {
            say!("server log: nothing (no errors)");
        } else {
            say!("server log:");
            for line in &lines {
                say!("{}", indent(&self.show_line(line)));
            }
        }
        if let Some(kind) = kind
            && !has_kind(&lines, kind)
        {
            self.problems.push(
                VError::builder()
                    .name("MissingLogLine")
                    .info("kind", kind.as_str())
                    .info("wait_ms", LOG_WAIT.as_millis() as u64)
                    .message(format_args!("the server logged no line of kind {kind}"))
                    .backtrace(false)
                    .build(),
            );
        }
    }

    fn show_line(&self, line: &str) -> String {
        if !self.pretty {
            return line.to_owned();
        }
        indent_json(line).unwrap_or_else(|| line.to_owned())
    }
}

/// A JSON line indented as `serde_json::to_string_pretty` writes it, keys in the order
/// the line has them (a `serde_json::Value` would sort them); `None` if not JSON.
fn indent_json(line: &str) -> Option<String> {
    serde_json::from_str::<serde::de::IgnoredAny>(line).ok()?;
    fn newline(out: &mut String, depth: usize) {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    }
    let mut out = String::with_capacity(line.len() * 2);
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                match chars.peek() {
                    Some(&end @ ('}' | ']')) => {
                        out.push(end);
                        chars.next();
                    }
                    _ => {
                        depth += 1;
                        newline(&mut out, depth);
                    }
                }
            }
            '}' | ']' => {
                depth = depth.saturating_sub(1);
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    Some(out)
}

fn section(title: &str) {
    say!("\n=== {title} ===");
}

fn step(title: &str) {
    say!("\n--- {title}");
}

/// Every line of `text`, indented by four spaces.
fn indent(text: &str) -> String {
    text.lines()
        .map(|line| format!("    {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    #[test]
    fn indented_json_keeps_its_key_order() {
        let line = r#"{"zeta":1,"alpha":{"b":[1,{}],"a":"x,\"{"},"e":[]}"#;
        let pretty = super::indent_json(line).unwrap();
        let value: serde_json::Value = serde_json::from_str(line).unwrap();
        let reparsed: serde_json::Value = serde_json::from_str(&pretty).unwrap();
        assert_eq!(reparsed, value);
        assert!(
            pretty.find("zeta").unwrap() < pretty.find("alpha").unwrap(),
            "{pretty}"
        );
        assert!(
            pretty.starts_with(
                "{\n  \"zeta\": 1,\n  \"alpha\": {\n    \"b\": [\n      1,\n      {}\n    ],"
            ),
            "{pretty}"
        );
        assert!(super::indent_json("not json").is_none());
    }
}

//! `verror send`: one request, from an argument or stdin; the body to stdout,
//! or the error as a report (or JSON) and a non-zero exit.

use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use verror::VError;
use verror::frame::DEFAULT_MAX_FRAME_LEN;
use verror::server::{Client, DEFAULT_MAX_ERROR_LEN};

use crate::{duration, output};

/// `verror send`'s options.
#[derive(Debug, Args)]
pub struct SendArgs {
    /// The server, `host:port`.
    addr: String,
    /// The request payload; without it, stdin is read to its end.
    payload: Option<String>,
    /// On failure, print the error's JSON on stdout instead of a report on stderr.
    #[arg(long)]
    json: bool,
    /// Time allowed to connect, to write, and for the response.
    #[arg(long, default_value = "10s", value_parser = duration::parse)]
    timeout: Duration,
    /// The server's request limit, in bytes.
    #[arg(long, default_value_t = DEFAULT_MAX_FRAME_LEN)]
    max_frame_len: usize,
    /// The longest error response accepted (the server's --max-error-len).
    #[arg(long, default_value_t = DEFAULT_MAX_ERROR_LEN)]
    max_error_len: usize,
}

/// Sends the request. The body goes to stdout as it is; a failure (the server's
/// error, as a `RemoteError`, or the client's own) goes to stderr as a report,
/// or to stdout as JSON with `--json`, and the exit code is 1.
pub async fn run(args: SendArgs) -> Result<ExitCode, VError> {
    match request(&args).await {
        Ok(body) => {
            write_body(&body)?;
            Ok(ExitCode::SUCCESS)
        }
        Err(err) if args.json => {
            let json = serde_json::to_string(&err)
                .map_err(|e| VError::wrap(e, "cannot write the error as JSON"))?;
            say!("{json}");
            Ok(ExitCode::FAILURE)
        }
        Err(err) => {
            output::to_stderr(&output::report(&err, output::stderr_colored()));
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn request(args: &SendArgs) -> Result<bytes::Bytes, VError> {
    let payload = match &args.payload {
        Some(text) => text.clone().into_bytes(),
        None => read_stdin(args.max_frame_len)?,
    };
    let mut client = Client::builder()
        .connect_timeout(args.timeout)
        .timeout(args.timeout)
        .max_frame_len(args.max_frame_len)
        .max_error_len(args.max_error_len)
        .connect(args.addr.as_str())
        .await?;
    client.request(&payload).await
}

/// Stdin, up to the frame limit (one byte more is an error).
fn read_stdin(max_frame_len: usize) -> Result<Vec<u8>, VError> {
    let mut payload = Vec::new();
    let limit = u64::try_from(max_frame_len)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    std::io::stdin()
        .lock()
        .take(limit)
        .read_to_end(&mut payload)
        .map_err(|e| {
            VError::builder()
                .name("StdinError")
                .cause(e)
                .message("cannot read the payload from stdin")
                .backtrace(false)
                .build()
        })?;
    if payload.len() > max_frame_len {
        return Err(VError::builder()
            .name("RequestTooLarge")
            .info("max_frame_len", max_frame_len)
            .message(format_args!(
                "stdin holds more than the limit of {max_frame_len} bytes"
            ))
            .backtrace(false)
            .build());
    }
    Ok(payload)
}

/// The body as it is into a pipe or a file. On a terminal, what a peer sent cannot
/// drive it: control characters (other than line breaks and tabs) and bidi overrides
/// are escaped, bytes that are not UTF-8 shown as U+FFFD, and a missing final newline
/// is added.
fn write_body(body: &[u8]) -> Result<(), VError> {
    let mut stdout = std::io::stdout().lock();
    let terminal = stdout.is_terminal();
    let shown;
    let body = if terminal {
        shown = for_terminal(body);
        shown.as_bytes()
    } else {
        body
    };
    let newline = terminal && !body.ends_with(b"\n");
    stdout
        .write_all(body)
        .and_then(|()| {
            if newline {
                stdout.write_all(b"\n")
            } else {
                Ok(())
            }
        })
        .and_then(|()| stdout.flush())
        .or_else(|e| match e.kind() {
            // The reader went away (`| head -c 10`): nothing left to tell.
            std::io::ErrorKind::BrokenPipe => Ok(()),
            _ => Err(VError::wrap(e, "cannot write the response to stdout")),
        })
}

/// A peer's bytes as a terminal may show them.
fn for_terminal(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut shown = String::with_capacity(text.len());
    for c in text.chars() {
        let unsafe_char = (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        if unsafe_char {
            shown.extend(c.escape_debug());
        } else {
            shown.push(c);
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_body_for_a_terminal_cannot_drive_it() {
        let shown = super::for_terminal(b"ok\x1b[2J\r\n\xffnext\xe2\x80\xae\tend");
        assert_eq!(shown, "ok\\u{1b}[2J\\r\n\u{fffd}next\\u{202e}\tend");
    }
}

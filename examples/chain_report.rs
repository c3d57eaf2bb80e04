//! Builds a chain of errors the way a service would, then prints every view of it:
//! the one-line story, the report, the full stack, the JSON, and a log record.
//!
//! Run with `cargo run --example chain_report`.

use std::io;

use verror::records::{LogFormat, LogRecord, Severity};
use verror::{ResultExt, VError};

fn read_config(path: &str) -> Result<String, VError> {
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        "No such file or directory",
    ))
    .with_context(|| format!("failed to stat {path:?}"))
}

fn handle_request() -> Result<String, VError> {
    read_config("/junk").map_err(|cause| {
        VError::builder()
            .name("RequestError")
            .info("method", "GET")
            .info("path", "/config")
            .cause(cause)
            .message("request failed")
            .build()
    })
}

fn main() {
    let err = handle_request().unwrap_err();
    let batch = VError::multi(vec![err, VError::new("second failure")]);

    println!("== {{}}\n{batch}\n");
    println!("== {{:#}}\n{batch:#}\n");
    println!("== {{:?}}\n{batch:?}\n");
    println!("== full_stack\n{}\n", verror::full_stack(&batch));
    println!(
        "== JSON\n{}\n",
        serde_json::to_string_pretty(&batch).expect("serializable")
    );
    let record = LogRecord::new(Severity::Error, "batch failed");
    for format in LogFormat::ALL {
        println!(
            "== log line ({format})\n{}\n",
            record.with_error(format, Some(&batch)).to_json_line()
        );
    }
}

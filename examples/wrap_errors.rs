//! Wrapping errors in an application: each layer adds what it knows — a message, a
//! name, info fields — and the caller at the top decides what to print and what to
//! look up.
//!
//! Run with `cargo run --example wrap_errors`.

use std::collections::HashMap;
use std::fs;

use verror::{OptionExt, ResultExt, VError, bail};

/// The lowest layer: std errors become causes with `context`.
fn read_settings(path: &str) -> verror::Result<HashMap<String, String>> {
    let text = fs::read_to_string(path).with_context(|| format!("cannot read {path:?}"))?;
    let mut settings = HashMap::new();
    for (number, line) in text.lines().enumerate() {
        let Some((key, value)) = line.split_once('=') else {
            bail!("line {} of {path:?} is not `key=value`", number + 1);
        };
        settings.insert(key.trim().to_owned(), value.trim().to_owned());
    }
    Ok(settings)
}

/// A middle layer: a typed failure gets a name and the data that explains it, in one
/// lazy call (the parse error is filled in as the cause).
fn listen_port(path: &str) -> verror::Result<u16> {
    let settings = read_settings(path)?;
    let text = settings.get("port").context("no `port` setting")?;
    text.parse::<u16>().with_context(|| {
        VError::builder()
            .name("ConfigError")
            .info("path", path)
            .info("key", "port")
            .info("value", text)
            .message(format_args!("invalid port {text:?}"))
    })
}

/// The top: one more level, then every way of looking at the result.
fn main() {
    let dir = std::env::temp_dir().join(format!("verror-example-{}", std::process::id()));
    fs::create_dir_all(&dir).expect("a temporary directory");
    let path = dir.join("server.conf");
    fs::write(&path, "host = 127.0.0.1\nport = 80000\n").expect("a settings file");
    let path = path.to_string_lossy().into_owned();

    let err = listen_port(&path)
        .context("the server cannot start")
        .expect_err("80000 is not a port");

    println!("{err:#}\n");
    println!("{err:?}\n");
    if let Some(config) = verror::find_cause_by_name(&err, "ConfigError") {
        println!("the configuration is at fault: {config}");
    }
    if let Some(parse) = verror::find_cause::<std::num::ParseIntError>(&err) {
        println!("the parser said: {parse}");
    }
    println!("merged info: {:?}", verror::info(&err));

    let missing = listen_port("/no/such/verror.conf").expect_err("no such file");
    println!("\n{missing:#}");
    if let Some(io) = verror::find_cause::<std::io::Error>(&missing) {
        println!("io error kind: {:?}", io.kind());
    }
    let _ = fs::remove_dir_all(&dir);
}

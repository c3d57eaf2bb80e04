//! The README's quick start: `cargo run --example quick_start`. The README shows
//! this file and what it prints, and a test keeps both in step with it.

use verror::{ResultExt, VError};

fn read_config(path: &str) -> verror::Result<String> {
    // `?` alone would pass the io::Error up as it is; `context` says what was done.
    std::fs::read_to_string(path).with_context(|| format!("failed to read config {path:?}"))
}

fn start(path: &str) -> verror::Result<()> {
    // A name, info fields and a message in one lazy call; the error becomes the cause.
    let text = read_config(path).with_context(|| {
        VError::builder()
            .name("StartupError")
            .info("path", path)
            .info("attempt", 1)
            .message("service failed to start")
    })?;
    verror::ensure!(!text.is_empty(), "config {path:?} is empty");
    Ok(())
}

pub fn main() {
    let err = start("/etc/nope.toml").unwrap_err();
    println!("{err}"); // its own message
    println!("{err:#}"); // the whole story on one line
    println!("{err:?}"); // the report: names, info, locations, causes
    println!("{}", serde_json::to_string_pretty(&err).unwrap()); // the JSON of the chain
}

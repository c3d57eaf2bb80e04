//! A library's typed errors arriving in JSON logs as structured data: `VError::typed`
//! turns a thiserror enum that also derives `Serialize` into a `VError` named after the
//! variant, with the variant's fields as info.
//!
//! Run with `cargo run --example typed_errors`.

use serde::Serialize;
use verror::{ResultExt, VError};

/// A storage library's errors, as libraries write them.
#[derive(Debug, thiserror::Error, Serialize)]
enum StoreError {
    #[error("key {key:?} not found in shard {shard}")]
    #[serde(rename = "KeyNotFound")]
    Missing { key: String, shard: u32 },
    #[error("shard {shard} is read-only until {until}")]
    ReadOnly { shard: u32, until: String },
}

fn get(key: &str) -> Result<Vec<u8>, StoreError> {
    Err(StoreError::Missing {
        key: key.to_owned(),
        shard: 3,
    })
}

/// The application: the typed error keeps its fields, and the request adds its own.
fn handle(request_id: u64, key: &str) -> verror::Result<Vec<u8>> {
    get(key).map_err(|e| VError::typed(e)).with_context(|| {
        VError::builder()
            .name("RequestError")
            .info("request_id", request_id)
            .message(format_args!("request {request_id} failed"))
    })
}

fn main() {
    let err = handle(42, "user:7").unwrap_err();
    println!("{err:#}\n");
    println!("{err:?}\n");
    // The log line: the variant is the name, its fields are data.
    println!("{}", serde_json::to_string_pretty(&err).unwrap());
    assert_eq!(verror::info(&err).get("shard"), Some(&serde_json::json!(3)));

    let read_only = VError::typed(StoreError::ReadOnly {
        shard: 1,
        until: "02:00".into(),
    });
    println!("\n{} {:?}", read_only.name(), read_only.own_info());
}

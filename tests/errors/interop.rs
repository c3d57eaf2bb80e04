//! `VError` among other error crates: anyhow, eyre and thiserror.

use std::error::Error;
use std::io;

use verror::{ResultExt, VError};

fn chain() -> VError {
    Err::<(), _>(io::Error::other("root"))
        .context("middle")
        .context("outer")
        .unwrap_err()
}

#[test]
fn anyhow_prints_each_message_once() {
    let err = anyhow::Error::from(chain());
    assert_eq!(format!("{err:#}"), "outer: middle: root");
    assert_eq!(err.chain().count(), 3);
    assert!(err.downcast_ref::<VError>().is_some());
}

#[test]
fn anyhow_over_an_empty_level_shows_no_empty_segment() {
    let err = anyhow::Error::from(VError::wrap(
        VError::wrap(io::Error::other("root"), ""),
        "outer",
    ));
    let text = format!("{err:#}");
    assert_eq!(text, "outer: VError: root");
    assert!(!text.contains(": :"));
}

#[test]
fn anyhow_context_over_verror() {
    let err = anyhow::Error::from(chain()).context("top");
    assert_eq!(format!("{err:#}"), "top: outer: middle: root");
}

#[test]
fn eyre_prints_each_message_once() {
    let report = eyre::Report::from(chain());
    assert_eq!(format!("{report:#}"), "outer: middle: root");
    assert_eq!(report.chain().count(), 3);
}

#[test]
fn anyhow_into_verror_keeps_the_chain() {
    let err = anyhow::anyhow!("low level").context("high level");
    let boxed: Box<dyn Error + Send + Sync> = err.into();
    let verror = VError::builder()
        .cause_boxed(boxed)
        .message("wrapped")
        .build();
    assert_eq!(format!("{verror:#}"), "wrapped: high level: low level");
}

#[derive(Debug, thiserror::Error)]
enum ServiceError {
    #[error("request failed")]
    Request(#[source] VError),
    #[error("storage failed")]
    Storage(#[from] io::Error),
}

#[test]
fn thiserror_holds_a_verror_as_source() {
    let err = ServiceError::Request(chain());
    let texts: Vec<String> = verror::chain(&err).map(|e| e.to_string()).collect();
    assert_eq!(texts, ["request failed", "outer", "middle", "root"]);
    // The VError inside keeps its names and info for lookups through the enum.
    assert!(verror::find_cause::<VError>(&err).is_some());
    assert!(verror::find_cause::<io::Error>(&err).is_some());
    // Serializing the enum's chain keeps the VError levels structured.
    let json = serde_json::to_value(verror::ErrorJson::new(&err)).unwrap();
    assert_eq!(json["name"], "Error");
    assert_eq!(json["message"], "request failed: outer: middle: root");
    assert_eq!(json["cause"]["name"], "VError");
    assert!(json["cause"]["location"].is_string());
}

#[test]
fn thiserror_enum_is_a_cause_found_by_find_cause() {
    let storage = ServiceError::from(io::Error::other("disk full"));
    let err = VError::wrap(storage, "save failed");
    let found = verror::find_cause::<ServiceError>(&err).unwrap();
    assert!(matches!(found, ServiceError::Storage(_)));
    assert!(verror::has_cause_with_name(&err, "ServiceError"));
    assert_eq!(format!("{err:#}"), "save failed: storage failed: disk full");
}

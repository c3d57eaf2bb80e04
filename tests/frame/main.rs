//! The wire protocol's codec: decoding, encoding, the errors it reports, tokio-util's
//! `Framed` around it, and properties over random streams. One test binary for the
//! area, one module per concern.

mod decode;
mod encode;
mod error;
mod framed;
#[path = "../support/property.rs"]
mod property;
mod props;
mod snapshots;

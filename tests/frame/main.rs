//! The wire protocol's codec: decoding, encoding, the errors it reports, tokio-util's
//! `Framed` around it, and properties over random streams. One test binary for the
//! area, one module per concern.

mod decode;
mod encode;
mod error;
mod framed;
mod props;
mod snapshots;

use verror::frame::FrameContext;

/// The context of the frame errors these tests build: connection 7 from
/// 127.0.0.1:50412, frame 3 at offset 1032.
fn ctx() -> FrameContext {
    FrameContext {
        conn_id: 7,
        peer: "127.0.0.1:50412".parse().unwrap(),
        frame_index: 3,
        offset: 1032,
    }
}

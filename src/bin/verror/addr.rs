//! `host:port` on the command line: an address, or a name to resolve.

use std::net::SocketAddr;

use verror::VError;

/// The first address `addr` (`127.0.0.1:7878`, `localhost:7878`, `[::1]:7878`)
/// resolves to.
pub async fn resolve(addr: &str) -> Result<SocketAddr, VError> {
    let error = || {
        VError::builder()
            .name("AddressError")
            .info("addr", addr)
            .message(format_args!("cannot resolve {addr:?} (expected host:port)"))
            .backtrace(false)
    };
    let mut found = tokio::net::lookup_host(addr)
        .await
        .map_err(|e| error().cause(e).build())?;
    found.next().ok_or_else(|| error().build())
}

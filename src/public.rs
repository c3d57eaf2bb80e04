//! The public view of an error: what a client may see of a chain.

use std::borrow::Cow;
use std::error::Error;

use crate::chain::{Level, levels};
use crate::error::{Extra, Inner, Sources, VError};
use crate::info::Info;

/// What a client may see of `err`: the chain down to, and including, the first level
/// that hides its cause ([`Builder::skip_cause_message`](crate::Builder::skip_cause_message),
/// node-verror's `WError`), with names, messages and non-sensitive info fields, and
/// nothing below it. Where no level hides its cause, the outermost level alone. A
/// MultiError keeps its message but not its children. Never a location or a backtrace.
///
/// The full chain still belongs in the server's own log; the public view is for the
/// answer to the client.
///
/// ```
/// use verror::VError;
///
/// let db = VError::builder()
///     .name("DbError")
///     .info("query", "SELECT * FROM users")
///     .message("connection refused")
///     .build();
/// let service = VError::builder()
///     .name("ServiceUnavailable")
///     .info("retry_after_s", 30)
///     .sensitive_info("tenant_token", "t0k3n-t0k3n-t0k3n")
///     .cause(db)
///     .skip_cause_message()
///     .message("user service unavailable")
///     .build();
/// let err = VError::wrap(service, "GET /users failed");
///
/// let public = verror::public_view(&err);
/// assert_eq!(format!("{public:#}"), "GET /users failed: user service unavailable");
/// assert_eq!(verror::chain(&public).count(), 2);
/// assert!(!verror::has_cause_with_name(&public, "DbError"));
/// let json = serde_json::to_string(&public).unwrap();
/// assert!(json.contains("retry_after_s") && !json.contains("t0k3n") && !json.contains("location"));
///
/// // No level hides its cause: the top level alone.
/// let plain = VError::wrap(std::io::Error::other("disk /dev/sda1 failed"), "save failed");
/// assert_eq!(format!("{:#}", verror::public_view(&plain)), "save failed");
/// ```
pub fn public_view(err: &(dyn Error + 'static)) -> VError {
    let chain: Vec<Level<'_>> = levels(err).collect();
    let shown = chain
        .iter()
        .position(|level| level.verror().is_some_and(VError::skips_cause_message))
        .map_or(1, |hiding| hiding + 1);
    chain[..shown]
        .iter()
        .rev()
        .fold(None, |below: Option<VError>, level| {
            Some(public_level(*level, below))
        })
        .unwrap_or_else(|| VError::from_inner(empty()))
}

/// One level as a client may see it, above `below`.
fn public_level(level: Level<'_>, below: Option<VError>) -> VError {
    let mut inner = empty();
    inner.short = Cow::Owned(level.text().into_owned());
    let mut info = Info::new();
    if let Some(verror) = level.verror() {
        info = verror.own_info().without_sensitive();
        inner.skip_cause_message = verror.skips_cause_message();
    }
    if let Some(below) = below {
        inner.sources = Sources::VError(below);
        inner.drop_depth = inner.sources.below().drop_depth;
    }
    let name = inner.sources.name_to_keep(level.name.to_owned());
    inner.extra = Extra::new(name, info, None, None);
    VError::from_inner(inner)
}

fn empty() -> Inner {
    Inner {
        short: Cow::Borrowed(""),
        skip_cause_message: false,
        sources: Sources::None,
        location: None,
        extra: None,
        transparent: false,
        backtrace_below: false,
        drop_depth: 0,
    }
}

//! Reading one value out of a fixed set of names (a log format, a policy, a fault
//! mode): one error for every such option, listing what is valid.

use crate::VError;

/// The error for `given` where one of `expected` was wanted: `unknown log format
/// "xml" (expected one of: json, ecs, otel, bunyan)`, with both in its info.
pub(crate) fn unknown_value(what: &str, given: &str, expected: &[&str]) -> VError {
    VError::builder()
        .name("InvalidValue")
        .info("given", given)
        .info("expected", expected)
        .message(format!(
            "unknown {what} {given:?} (expected one of: {})",
            expected.join(", ")
        ))
        .backtrace(false)
        .build()
}

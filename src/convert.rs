//! `From` the common standard errors, so `?` works in functions returning `VError`.
//!
//! The `?` path is transparent, as anyhow's conversion is: the `VError` made by `From`
//! stands for the error it holds. `{}` is that error's text, [`VError::name`] its
//! type's name (`io::Error`, `ParseIntError`), `source()` continues with that error's
//! own source, and [`find_cause`](crate::find_cause) finds it; chain printers (anyhow,
//! eyre, tracing, our report and JSON) show its message once and never a bare
//! `VError` segment. The location of the `?` is recorded.
//!
//! A blanket `From<E: Error>` cannot exist while `VError` itself implements `Error`
//! (which it must, to be a cause, a thiserror `#[source]`, or go into anyhow with its
//! chain). For other error types, [`context`](crate::ResultExt::context) is the way
//! (it adds what a bare `?` cannot: what was being done), or [`impl_from!`] writes the
//! same transparent `From` for your own types.

use crate::VError;

/// Writes the transparent `From` impl (the one the standard errors have) for your own
/// error types, so `?` converts them into a `VError` that stands for them.
///
/// ```
/// #[derive(Debug, thiserror::Error)]
/// #[error("quota of {limit} requests exceeded")]
/// struct QuotaError { limit: u32 }
///
/// verror::impl_from!(QuotaError);
///
/// fn call() -> verror::Result<()> {
///     Err(QuotaError { limit: 100 })?
/// }
///
/// let err = call().unwrap_err();
/// assert_eq!(err.to_string(), "quota of 100 requests exceeded");
/// assert_eq!(err.name(), "QuotaError");
/// assert_eq!(verror::find_cause::<QuotaError>(&err).unwrap().limit, 100);
/// ```
#[macro_export]
macro_rules! impl_from {
    ($($ty:ty),+ $(,)?) => {$(
        impl ::core::convert::From<$ty> for $crate::VError {
            #[track_caller]
            fn from(error: $ty) -> $crate::VError {
                $crate::__private::transparent(error)
            }
        }
    )+};
}

impl_from!(
    std::io::Error,
    std::fmt::Error,
    std::num::ParseIntError,
    std::num::ParseFloatError,
    std::num::TryFromIntError,
    std::str::ParseBoolError,
    std::char::ParseCharError,
    std::str::Utf8Error,
    std::string::FromUtf8Error,
    std::net::AddrParseError,
    std::time::SystemTimeError,
    serde_json::Error,
);

impl From<Box<dyn std::error::Error + Send + Sync + 'static>> for VError {
    /// A boxed error: a `VError` inside comes back as it is; any other error is stood
    /// for as by the other `From` impls (typed lookup sees through the box), with the
    /// name `Error` unless it is an `io::Error`.
    #[track_caller]
    fn from(error: Box<dyn std::error::Error + Send + Sync + 'static>) -> VError {
        let location = std::panic::Location::caller();
        match crate::error::Sources::boxed(error) {
            crate::error::Sources::VError(verror) => verror,
            cause => VError::from_transparent_cause(cause, location),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::VError;

    fn parse(text: &str) -> Result<u8, VError> {
        Ok(text.parse::<u8>()?)
    }

    #[test]
    fn boxed_errors_stay_typed() {
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(std::fmt::Error);
        let err = VError::from(boxed);
        assert!(crate::find_cause::<std::fmt::Error>(&err).is_some());
        assert_eq!(err.name(), "Error");
        assert_eq!(err.to_string(), std::fmt::Error.to_string());

        let inner = VError::new("inner");
        let boxed: Box<dyn std::error::Error + Send + Sync> = Box::new(inner);
        assert_eq!(VError::from(boxed).to_string(), "inner");
    }

    #[test]
    fn question_mark_stands_for_the_error() {
        let err = parse("300").unwrap_err();
        assert_eq!(err.to_string(), "number too large to fit in target type");
        assert_eq!(err.name(), "ParseIntError");
        assert_eq!(format!("{err:#}"), "number too large to fit in target type");
        assert!(crate::find_cause::<std::num::ParseIntError>(&err).is_some());
        assert_eq!(err.location().unwrap().file(), file!());
    }
}

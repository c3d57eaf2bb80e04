//! `From` the common standard errors, so `?` works in functions returning `VError`.
//!
//! Each becomes the cause of a `VError` with an empty short message: the story
//! (`{:#}`) reads as the original error's text, typed lookup still finds it, and the
//! location of the `?` is recorded. (A blanket `From<E: Error>` cannot exist while
//! `VError` itself implements `Error`.)

use crate::VError;

macro_rules! from_std_errors {
    ($($ty:ty),* $(,)?) => {$(
        impl From<$ty> for VError {
            #[track_caller]
            fn from(error: $ty) -> VError {
                VError::wrap(error, "")
            }
        }
    )*};
}

from_std_errors!(
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
    /// A boxed error becomes the cause as it is (typed lookup still sees through the
    /// box); it answers to the name `Error`.
    #[track_caller]
    fn from(error: Box<dyn std::error::Error + Send + Sync + 'static>) -> VError {
        VError::builder().cause_boxed(error).build()
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
        let boxed: Box<dyn std::error::Error + Send + Sync> =
            Box::new(std::io::Error::other("disk"));
        let err = VError::from(boxed);
        assert!(err.downcast_ref::<std::io::Error>().is_some());
        assert_eq!(format!("{err:#}"), "disk");
        assert!(crate::has_cause_with_name(&err, "Error"));
    }

    #[test]
    fn question_mark_wraps_std_errors() {
        let err = parse("300").unwrap_err();
        assert_eq!(format!("{err:#}"), "number too large to fit in target type");
        assert!(err.downcast_ref::<std::num::ParseIntError>().is_some());
        assert_eq!(err.location().unwrap().file(), file!());
    }
}

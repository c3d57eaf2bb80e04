//! `verror!`, `bail!` and `ensure!`.

/// A new [`VError`](crate::VError): from a format string, checked at compile time, as
/// `format!` takes it (a plain literal allocates no string), or from an error value,
/// which it stands for (as `?` converts it: `{}` is the error's text, the name its
/// type's), or from any other `Display` value, as its message.
///
/// ```
/// let port = 7878;
/// let err = verror::verror!("cannot bind port {port}");
/// assert_eq!(err.to_string(), "cannot bind port 7878");
///
/// let io = std::io::Error::new(std::io::ErrorKind::AddrInUse, "address in use");
/// let err = verror::verror!(io);
/// assert_eq!((err.name(), err.to_string().as_str()), ("io::Error", "address in use"));
/// assert!(verror::find_cause::<std::io::Error>(&err).is_some());
///
/// let text = String::from("not an error type");
/// assert_eq!(verror::verror!(text).to_string(), "not an error type");
/// ```
#[macro_export]
macro_rules! verror {
    ($msg:literal $(,)?) => {
        $crate::VError::new(::core::format_args!($msg))
    };
    ($err:expr $(,)?) => {
        match $err {
            error => {
                #[allow(unused_imports)]
                use $crate::__private::{AdhocKind as _, BoxedKind as _, ErrorKind as _};
                (&error).verror_kind().build(error)
            }
        }
    };
    ($fmt:expr, $($arg:tt)+) => {
        $crate::VError::new(::core::format_args!($fmt, $($arg)+))
    };
}

/// Returns early with an error made by [`verror!`](crate::verror!), converted with
/// `Into` into the function's error type.
///
/// ```
/// fn check(len: usize) -> Result<(), verror::VError> {
///     if len > 1024 {
///         verror::bail!("length {len} exceeds 1024");
///     }
///     Ok(())
/// }
/// assert_eq!(check(2000).unwrap_err().to_string(), "length 2000 exceeds 1024");
/// ```
#[macro_export]
macro_rules! bail {
    ($($arg:tt)+) => {
        return ::core::result::Result::Err(::core::convert::Into::into($crate::verror!($($arg)+)))
    };
}

/// Returns early with an error unless a condition holds. Without a message, the
/// message names the condition.
///
/// ```
/// fn check(len: usize, max: usize) -> Result<(), verror::VError> {
///     verror::ensure!(len <= max, "length {len} exceeds {max}");
///     verror::ensure!(len > 0);
///     Ok(())
/// }
/// assert_eq!(check(5, 4).unwrap_err().to_string(), "length 5 exceeds 4");
/// assert_eq!(check(0, 4).unwrap_err().to_string(), "condition failed: `len > 0`");
/// ```
#[macro_export]
macro_rules! ensure {
    ($cond:expr $(,)?) => {
        if !$cond {
            $crate::bail!("condition failed: `{}`", ::core::stringify!($cond));
        }
    };
    ($cond:expr, $($arg:tt)+) => {
        if !$cond {
            $crate::bail!($($arg)+);
        }
    };
}

/// What `verror!` and `impl_from!` expand to; not a public API.
#[doc(hidden)]
pub mod private {
    use std::error::Error;
    use std::fmt::{Debug, Display};

    use crate::VError;

    /// A `VError` standing for `error`, as `From` makes it.
    #[track_caller]
    pub fn transparent<E: Error + Send + Sync + 'static>(error: E) -> VError {
        VError::transparent(error)
    }

    // `verror!(expr)` picks what to do by the type of `expr`, through method
    // resolution on `&expr`: an error type (checked first), a boxed error, else any
    // `Display` value, whose text becomes the message.

    pub struct Error_;
    pub trait ErrorKind {
        #[inline]
        fn verror_kind(&self) -> Error_ {
            Error_
        }
    }
    impl<E: Error + Send + Sync + 'static> ErrorKind for E {}
    impl Error_ {
        #[track_caller]
        pub fn build<E: Error + Send + Sync + 'static>(self, error: E) -> VError {
            VError::transparent(error)
        }
    }

    pub struct Boxed;
    pub trait BoxedKind {
        #[inline]
        fn verror_kind(&self) -> Boxed {
            Boxed
        }
    }
    impl BoxedKind for Box<dyn Error + Send + Sync> {}
    impl Boxed {
        #[track_caller]
        pub fn build(self, error: Box<dyn Error + Send + Sync>) -> VError {
            VError::from(error)
        }
    }

    pub struct Adhoc;
    pub trait AdhocKind {
        #[inline]
        fn verror_kind(&self) -> Adhoc {
            Adhoc
        }
    }
    impl<T: ?Sized + Display + Debug + Send + Sync + 'static> AdhocKind for &T {}
    impl Adhoc {
        #[track_caller]
        pub fn build<M: Display>(self, message: M) -> VError {
            VError::new(message.to_string())
        }
    }
}

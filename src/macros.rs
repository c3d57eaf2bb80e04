//! `verror!`, `bail!` and `ensure!`.

/// A new [`VError`](crate::VError) with a formatted message, checked at compile time.
/// A plain literal allocates no string.
///
/// ```
/// let port = 7878;
/// let err = verror::verror!("cannot bind port {port}");
/// assert_eq!(err.to_string(), "cannot bind port 7878");
/// ```
#[macro_export]
macro_rules! verror {
    ($($arg:tt)+) => {
        $crate::VError::new(::core::format_args!($($arg)+))
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

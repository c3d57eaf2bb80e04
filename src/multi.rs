//! Many errors as one, and back: node-verror's `errorFromList` and `errorForEach`.

use std::error::Error;

use crate::VError;

/// Turns a list of errors into one: `None` for no error, the error itself (unchanged)
/// for one, and a MultiError ([`VError::multi`]) for several.
///
/// ```
/// use verror::VError;
/// assert!(verror::error_from_list(Vec::<VError>::new()).is_none());
///
/// let one = verror::error_from_list(vec![VError::new("only")]).unwrap();
/// assert_eq!(one.name(), "VError");
///
/// let many = verror::error_from_list(vec![VError::new("a"), VError::new("b")]).unwrap();
/// assert_eq!(format!("{many:#}"), "first of 2 errors: a");
/// ```
#[track_caller]
pub fn error_from_list(errors: impl IntoIterator<Item = VError>) -> Option<VError> {
    let mut errors: Vec<VError> = errors.into_iter().collect();
    match errors.len() {
        0 => None,
        1 => errors.pop(),
        _ => Some(VError::multi(errors)),
    }
}

/// Calls `f` on each child of a MultiError, or once on any other error (node-verror's
/// `errorForEach`). It does not descend into causes or nested MultiErrors.
///
/// ```
/// use verror::VError;
/// let multi = VError::multi(vec![VError::new("a"), VError::new("b")]);
/// let mut seen = Vec::new();
/// verror::error_for_each(&multi, |e| seen.push(e.to_string()));
/// assert_eq!(seen, ["a", "b"]);
///
/// let mut count = 0;
/// verror::error_for_each(&VError::new("alone"), |_| count += 1);
/// assert_eq!(count, 1);
/// ```
pub fn error_for_each<'a>(
    err: &'a (dyn Error + 'static),
    mut f: impl FnMut(&'a (dyn Error + 'static)),
) {
    match err.downcast_ref::<VError>() {
        Some(verror) if verror.is_multi() => verror.errors().iter().for_each(|e| f(e)),
        _ => f(err),
    }
}

//! Locks that a panic does not poison for good: a thread that panics while holding
//! one of the server's or the log layer's mutexes must not make every later user
//! panic too. What they guard (counts, buffers, lists of errors) is taken as the
//! panicking thread left it.

use std::sync::{Mutex, MutexGuard};

/// The value behind `mutex`, poisoned or not.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

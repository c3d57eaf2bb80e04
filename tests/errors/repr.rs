//! The representation: one machine word, thread-safe.

use std::mem::size_of;

use verror::VError;

#[test]
fn one_word() {
    assert_eq!(size_of::<VError>(), size_of::<usize>());
    assert_eq!(size_of::<Result<(), VError>>(), size_of::<usize>());
    assert_eq!(size_of::<Option<VError>>(), size_of::<usize>());
}

#[test]
fn send_sync_static() {
    fn assert_traits<T: Send + Sync + 'static + std::error::Error>() {}
    assert_traits::<VError>();
}

#[test]
fn crosses_threads() {
    let err = VError::builder()
        .info("thread", "main")
        .message("made here")
        .build();
    let text = std::thread::spawn(move || format!("{err:#}"))
        .join()
        .unwrap();
    assert_eq!(text, "made here");
}

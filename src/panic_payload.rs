//! The text a panic was raised with, for the server's `handler_panic` errors and the
//! log layer's panic lines.

use std::any::Any;

/// The message of `panic!("...")` (a `&'static str` or a formatted `String`), or a
/// fixed text for a payload of any other type (`std::panic::panic_any`).
pub(crate) fn text(payload: &(dyn Any + Send)) -> &str {
    if let Some(text) = payload.downcast_ref::<&'static str>() {
        text
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text
    } else {
        "a panic without a message"
    }
}

#[cfg(test)]
mod tests {
    use super::text;
    use std::panic::catch_unwind;

    #[test]
    fn static_formatted_and_other_payloads() {
        // (The harness captures what the panics print.)
        let payload = |f: fn()| catch_unwind(f).unwrap_err();
        let fixed = payload(|| panic!("fixed"));
        let formatted = payload(|| panic!("frame {}", 7));
        let other = payload(|| std::panic::panic_any(7_u32));
        assert_eq!(text(&*fixed), "fixed");
        assert_eq!(text(&*formatted), "frame 7");
        assert_eq!(text(&*other), "a panic without a message");
    }
}

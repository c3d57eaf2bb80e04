//! The per-thread scratch space events are rendered in, so that a line costs few
//! allocations.

use std::cell::RefCell;

use crate::records::{LogRecord, Severity};

/// Buffers larger than this are dropped after use rather than kept.
const MAX_KEPT_CAPACITY: usize = 64 * 1024;

/// Buffers reused from one event to the next on a thread.
pub(super) struct Scratch {
    pub(super) record: LogRecord,
    /// The event's `kind` field.
    pub(super) kind: String,
    /// The name of the event's error.
    pub(super) error_name: String,
    /// The line being written.
    pub(super) buf: Vec<u8>,
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            record: LogRecord::new(Severity::Info, String::new()),
            kind: String::new(),
            error_name: String::new(),
            buf: Vec::new(),
        }
    }

    fn reset(&mut self) {
        self.kind.clear();
        self.error_name.clear();
        // Let an unusually large line go rather than keep its memory forever.
        if self.buf.capacity() > MAX_KEPT_CAPACITY {
            self.buf = Vec::new();
        }
        if self.record.message.capacity() > MAX_KEPT_CAPACITY {
            self.record.message = String::new();
        }
    }
}

thread_local! {
    static SCRATCH: RefCell<Option<Scratch>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's scratch space, or fresh space when that is in use (an
/// event logged from inside a writer) or gone (thread exit).
pub(super) fn with_scratch(f: impl FnOnce(&mut Scratch)) {
    let mut f = Some(f);
    let _ = SCRATCH.try_with(|cell| {
        if let Ok(mut slot) = cell.try_borrow_mut() {
            let scratch = slot.get_or_insert_with(Scratch::new);
            scratch.reset();
            if let Some(f) = f.take() {
                f(scratch);
            }
        }
    });
    if let Some(f) = f.take() {
        f(&mut Scratch::new());
    }
}

//! What construction costs in heap allocations: one box per level, plus the message
//! string only when it is formatted. Counted by dhat's heap profiler (a safe global
//! allocator, installed by `main.rs`): the count is process-wide.

use verror::{ResultExt, VError, verror};

fn allocations<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = dhat::HeapStats::get().total_blocks;
    let value = f();
    (value, dhat::HeapStats::get().total_blocks - before)
}

pub fn allocations_per_construction() {
    let _profiler = dhat::Profiler::builder().testing().build();
    // Backtraces off: this machine's environment may enable them.
    let (_, plain) = allocations(|| {
        VError::builder()
            .message("plain literal")
            .backtrace(false)
            .build()
    });
    assert_eq!(plain, 1, "a literal message is stored without a string");

    let n = 7;
    let (_, formatted) = allocations(|| {
        VError::builder()
            .message(format_args!("{n} issues"))
            .backtrace(false)
            .build()
    });
    assert_eq!(formatted, 2, "the box and the formatted string");

    // Wrapping a VError moves it in: one new box, no box around the cause.
    let inner = VError::builder().message("inner").backtrace(false).build();
    let (_, wrapped) = allocations(|| {
        VError::builder()
            .cause(inner)
            .message("outer")
            .backtrace(false)
            .build()
    });
    assert_eq!(wrapped, 1);

    // An `io::Error` cause is held inline: no box around it.
    let io = std::io::Error::from(std::io::ErrorKind::NotFound);
    let (_, io_cause) = allocations(|| {
        VError::builder()
            .cause(io)
            .message("read")
            .backtrace(false)
            .build()
    });
    assert_eq!(io_cause, 1);

    // Any other foreign cause is boxed once.
    let parse = "x".parse::<u8>().unwrap_err();
    let (_, foreign) = allocations(|| {
        VError::builder()
            .cause(parse)
            .message("parse")
            .backtrace(false)
            .build()
    });
    assert_eq!(foreign, 2);

    // What a plain level never has (a name of its own, info, a backtrace) lives in
    // one side box, made only when needed: a name costs it, fields cost it and their
    // list (a number's value, a static key: nothing more).
    let (_, named) = allocations(|| {
        VError::builder()
            .name("ConfigError")
            .message("bad config")
            .backtrace(false)
            .build()
    });
    assert_eq!(named, 2, "the box and the side box");
    let (_, with_field) = allocations(|| {
        VError::builder()
            .name("ConfigError")
            .info("line", 7)
            .message("bad config")
            .backtrace(false)
            .build()
    });
    assert_eq!(with_field, 3, "the box, the side box and the fields' list");

    // `verror!` with a literal (backtraces follow the environment here, so only
    // compare against a builder made the same way, once the environment was read).
    drop(VError::new("reads the environment once"));
    let (_, by_macro) = allocations(|| verror!("plain"));
    let (_, by_new) = allocations(|| VError::new("plain"));
    assert_eq!(by_macro, by_new);

    // The `?` path: a level that stands for an `io::Error` costs what a plain level
    // does (it answers to its type's name without storing it).
    let (err, converted) =
        allocations(|| VError::from(std::io::Error::from(std::io::ErrorKind::NotFound)));
    assert_eq!(converted, by_new);
    assert_eq!(err.name(), "io::Error");

    // `context` on Ok allocates nothing.
    let (_, ok) = allocations(|| Ok::<u8, std::io::Error>(1).context("never"));
    assert_eq!(ok, 0);
}

/// The JSON text of a chain is written into one allocation, sized ahead from the
/// budget's measure: no growth on the way, whatever the chain holds.
pub fn json_text_in_one_allocation() {
    use verror::ErrorJson;

    let _profiler = dhat::Profiler::builder().testing().build();
    let io = std::io::Error::new(std::io::ErrorKind::NotFound, "/etc/app.toml: not found");
    let contexts = Err::<(), _>(io)
        .context("failed to read config /etc/app.toml")
        .with_context(|| format!("failed to load shard {}", 3))
        .with_context(|| format!("worker {} failed to start", 12))
        .unwrap_err();
    let fields = VError::builder()
        .name("ConnectionError")
        .info("peer", "127.0.0.1:50412")
        .info("conn_id", 7)
        .info("ratio", 0.25)
        .info("tags", ["a", "b"])
        .info(
            "limits",
            serde_json::json!({"max_frame_len": 1_048_576, "strict": true}),
        )
        .sensitive_info("token", "hunter2")
        .cause(contexts)
        .message(format_args!("connection {} lost", 7))
        .build();
    let hidden = VError::builder()
        .name("ServiceUnavailable")
        .cause(fields)
        .skip_cause_message()
        .message("try again later")
        .build();
    let read_back: VError = serde_json::from_str(&ErrorJson::new(&hidden).to_json()).unwrap();
    for (what, err) in [("chain", &hidden), ("read back", &read_back)] {
        for json in [ErrorJson::new(err), ErrorJson::new(err).reveal_sensitive()] {
            let (text, blocks) = allocations(|| json.to_json());
            assert_eq!(blocks, 1, "{what}: {text}");
        }
    }
}

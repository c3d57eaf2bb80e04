//! Every output format of representative chains, as insta snapshots: `{}`, `{:#}`,
//! `{:?}`, `{:#?}`, `full_stack`, the JSON, and each log rendering. Backtraces are
//! forced off and locations filtered, so the snapshots do not depend on the
//! environment or on line numbers.

use std::fmt::Write as _;
use std::io;
use std::time::{Duration, UNIX_EPOCH};

use serde_json::json;
use verror::records::{LogFormat, LogRecord, Severity};
use verror::{Info, VError};

fn build() -> verror::Builder {
    VError::builder().backtrace(false)
}

fn io_root() -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, "No such file or directory")
}

fn single() -> VError {
    build()
        .name("ConfigError")
        .info("path", "/etc/app.toml")
        .info("line", 3)
        .message("invalid config")
        .build()
}

fn three_levels() -> VError {
    let stat = build()
        .cause(io_root())
        .message("failed to stat \"/junk\"")
        .build();
    let read = build()
        .name("ReadError")
        .info("attempt", 2)
        .cause(stat)
        .message("failed to read config")
        .build();
    build()
        .name("RequestError")
        .info("method", "GET")
        .cause(read)
        .message("request failed")
        .build()
}

fn skip_cause() -> VError {
    let internal = build()
        .name("DbError")
        .info("query", "SELECT 1")
        .cause(io_root())
        .message("query failed")
        .build();
    let public = build()
        .name("ServiceError")
        .cause(internal)
        .skip_cause_message()
        .message("service unavailable")
        .build();
    build().cause(public).message("GET /users").build()
}

fn multi_in_chain() -> VError {
    let a = build()
        .name("ShardError")
        .info("shard", 1)
        .cause(io_root())
        .message("shard 1 failed")
        .build();
    let b = build()
        .name("ShardError")
        .info("shard", 2)
        .message("shard 2 failed")
        .build();
    let multi = build().errors(vec![a, b]).build();
    build()
        .name("QueryError")
        .cause(multi)
        .message("query failed")
        .build()
}

fn empty_short() -> VError {
    let root = build().cause(io_root()).message("").build();
    build().cause(root).message("open failed").build()
}

fn multi_line_unicode() -> VError {
    let root = build()
        .name("ParseError")
        .info("ligne", "première\nseconde")
        .message("ligne 2 : « valeur » invalide ✗\nattendu: nombre")
        .build();
    build()
        .name("ConfigError")
        .cause(root)
        .message("配置无效")
        .build()
}

fn nested_info() -> VError {
    build()
        .name("FrameDecodeError")
        .info(
            "conn",
            json!({"id": 7, "peer": "127.0.0.1:50412", "tags": ["tls", null, 1.5]}),
        )
        .info(
            "limits",
            json!({"max_frame_len": 1_048_576, "nested": {"deep": [true, false]}}),
        )
        .info("empty", json!({}))
        .message("frame rejected")
        .build()
}

fn sensitive() -> VError {
    let auth = build()
        .name("AuthError")
        .sensitive_info("token", "tok-0123456789abcdef")
        .info("user", "ann")
        .message("token rejected")
        .build();
    build().cause(auth).message("login failed").build()
}

fn fixtures() -> Vec<(&'static str, VError)> {
    vec![
        ("single", single()),
        ("three_levels", three_levels()),
        ("skip_cause", skip_cause()),
        ("multi_in_chain", multi_in_chain()),
        ("empty_short", empty_short()),
        ("multi_line_unicode", multi_line_unicode()),
        ("nested_info", nested_info()),
        ("sensitive", sensitive()),
    ]
}

fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    settings
}

#[test]
fn text_views() {
    for (name, err) in fixtures() {
        let mut out = String::new();
        writeln!(out, "== {{}}\n{err}\n").unwrap();
        writeln!(out, "== {{:#}}\n{err:#}\n").unwrap();
        writeln!(out, "== {{:?}}\n{err:?}\n").unwrap();
        writeln!(out, "== {{:#?}}\n{err:#?}\n").unwrap();
        writeln!(out, "== full_stack\n{}", verror::full_stack(&err)).unwrap();
        let out = crate::redact::locations(&out, "tests/errors/snapshots.rs");
        settings().bind(|| insta::assert_snapshot!(format!("text_{name}"), out));
    }
}

fn record() -> LogRecord {
    LogRecord {
        time: UNIX_EPOCH + Duration::from_millis(1_714_564_800_123),
        level: Severity::Error,
        message: "request failed".to_owned(),
        fields: {
            let mut fields = Info::new();
            fields.insert("conn_id", json!(7));
            fields
        },
        service: "myapp".to_owned(),
        hostname: "host1".to_owned(),
        pid: 4242,
        target: None,
        spans: Vec::new(),
    }
}

#[test]
fn json_views() {
    let record = record();
    for (name, err) in fixtures() {
        let mut out = String::new();
        writeln!(
            out,
            "== serde_json::to_string_pretty\n{}\n",
            serde_json::to_string_pretty(&err).unwrap()
        )
        .unwrap();
        for format in LogFormat::ALL {
            let line = record.with_error(format, Some(&err)).to_json_line();
            // Each line is one line of JSON that parses back.
            assert!(!line.contains('\n'));
            let value: serde_json::Value = serde_json::from_str(&line).unwrap();
            assert!(value.is_object());
            writeln!(out, "== {format}\n{line}\n").unwrap();
        }
        let out = crate::redact::locations(&out, "tests/errors/snapshots.rs");
        settings().bind(|| insta::assert_snapshot!(format!("json_{name}"), out));
    }
}

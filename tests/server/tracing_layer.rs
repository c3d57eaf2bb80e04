//! The `tracing` layer: every format's line parses and carries its format's fields, the
//! error stays a nested object, extra fields keep their types, error lines are rate
//! limited per kind with a count of what was suppressed, and text mode reads well.
#![cfg(feature = "tracing")]

use std::error::Error;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};
use tracing_subscriber::layer::SubscriberExt;
use verror::log::LogFormat;
use verror::tracing::{as_error, Format, KindCount, LogBuffer, LogHandle, LogLayer, RateLimit};
use verror::VError;

/// A two-level chain, as the server would log it. Backtraces off.
fn frame_error() -> VError {
    let limit = VError::builder()
        .name("FrameError")
        .info("declared_len", 5_000_000)
        .info("max_frame_len", 1_048_576)
        .message("declared length 5000000 exceeds the limit of 1048576")
        .backtrace(false)
        .build();
    VError::builder()
        .name("FrameDecodeError")
        .info("conn_id", 7)
        .info("peer", "127.0.0.1:50412")
        .info("frame_index", 3)
        .cause(limit)
        .message("connection 7 from 127.0.0.1:50412, frame 3")
        .backtrace(false)
        .build()
}

fn peer() -> std::net::SocketAddr {
    "127.0.0.1:50412".parse().unwrap()
}

const STORY: &str =
    "connection 7 from 127.0.0.1:50412, frame 3: declared length 5000000 exceeds the limit of 1048576";

/// Runs `f` under a subscriber with a layer of `format` writing to a buffer; returns
/// the lines (the layer dropped, so flushed) and the layer's handle.
fn capture(
    format: impl Into<Format>,
    limit: Option<RateLimit>,
    f: impl FnOnce(),
) -> (Vec<String>, LogHandle) {
    let logs = LogBuffer::new();
    let layer = LogLayer::builder()
        .format(format)
        .writer(logs.clone())
        .rate_limit(limit)
        .service("demo")
        .build();
    let handle = layer.handle();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), f);
    (logs.lines(), handle)
}

/// One error event with extra fields of every type. Its target is fixed (the
/// default, the module path, would name the test binary).
fn log_frame_rejected() {
    let err = frame_error();
    tracing::error!(
        target: "tracing_layer",
        error = as_error(&err),
        conn_id = 7u64,
        delta = -3i64,
        closing = true,
        ratio = 0.5,
        kind = "oversized",
        peer = ?peer(),
        "frame rejected"
    );
}

/// The line of [`log_frame_rejected`]'s event in `format`.
fn one_error_line(format: impl Into<Format>) -> String {
    let (lines, _) = capture(format, None, log_frame_rejected);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    lines.into_iter().next().unwrap()
}

fn parse(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

/// The OTLP attributes of a record as a `key -> AnyValue` map.
fn attributes(record: &Value) -> serde_json::Map<String, Value> {
    record["attributes"]
        .as_array()
        .expect("attributes")
        .iter()
        .map(|kv| (kv["key"].as_str().unwrap().to_owned(), kv["value"].clone()))
        .collect()
}

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({
            filters => vec![
                (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", "[time]"),
                (r#""timeUnixNano":"\d+""#, r#""timeUnixNano":"[nanos]""#),
                (r#""(pid|process\.pid)":\d+"#, r#""$1":"[pid]""#),
                (r#""(hostname|host\.hostname)":"[^"]*""#, r#""$1":"[hostname]""#),
                (r"tests/server/tracing_layer\.rs:\d+:\d+", "[location]"),
            ],
        }, {
            insta::assert_snapshot!($name, $value);
        });
    };
}

#[test]
fn native_record_nests_the_error_and_types_the_fields() {
    let line = one_error_line(LogFormat::Native);
    assert!(line.starts_with(r#"{"timestamp":""#), "{line}");
    let record = parse(&line);
    assert_eq!(record["level"], "error");
    assert_eq!(record["message"], "frame rejected");
    assert_eq!(record["target"], "tracing_layer");
    // Typed fields.
    assert_eq!(record["conn_id"], json!(7));
    assert_eq!(record["delta"], json!(-3));
    assert_eq!(record["closing"], json!(true));
    assert_eq!(record["ratio"], json!(0.5));
    assert_eq!(record["kind"], json!("oversized"));
    assert_eq!(
        record["peer"],
        json!("127.0.0.1:50412"),
        "?value is its Debug text"
    );
    // The error: an object, its cause nested, each level's own info.
    let error = &record["error"];
    assert!(error.is_object(), "{error}");
    assert_eq!(error["name"], "FrameDecodeError");
    assert_eq!(error["message"], STORY);
    assert_eq!(
        error["short_message"],
        "connection 7 from 127.0.0.1:50412, frame 3"
    );
    assert_eq!(error["info"]["conn_id"], 7);
    assert_eq!(error["cause"]["name"], "FrameError");
    assert_eq!(error["cause"]["info"]["declared_len"], 5_000_000);
    assert!(error.get("backtrace").is_none());
    // And the merged info.
    assert_eq!(record["info"]["max_frame_len"], 1_048_576);
    assert_eq!(record["info"]["peer"], "127.0.0.1:50412");
    snapshot!("native", line);
}

#[test]
fn ecs_record() {
    let line = one_error_line(LogFormat::Ecs);
    assert!(line.starts_with(r#"{"@timestamp":""#), "{line}");
    let record = parse(&line);
    assert_eq!(record["log.level"], "error");
    assert_eq!(record["message"], "frame rejected");
    assert_eq!(record["ecs.version"], verror::log::ECS_VERSION);
    assert_eq!(record["service.name"], "demo");
    assert_eq!(record["log.logger"], "tracing_layer");
    assert!(record.get("target").is_none());
    assert_eq!(record["conn_id"], 7);
    assert_eq!(record["closing"], true);
    assert_eq!(record["error"]["type"], "FrameDecodeError");
    assert_eq!(record["error"]["message"], STORY);
    let stack = record["error"]["stack_trace"].as_str().unwrap();
    assert!(
        stack.starts_with(&format!(
            "FrameDecodeError: {STORY}\n    at tests/server/tracing_layer.rs:"
        )),
        "{stack}"
    );
    assert!(
        stack.contains("\ncaused by: FrameError: declared length"),
        "{stack}"
    );
    assert_eq!(record["verror"]["error"]["cause"]["name"], "FrameError");
    assert_eq!(record["verror"]["info"]["declared_len"], 5_000_000);
    snapshot!("ecs", line);
}

#[test]
fn opentelemetry_record() {
    let line = one_error_line(LogFormat::OpenTelemetry);
    let record = parse(&line);
    assert!(record["timeUnixNano"]
        .as_str()
        .unwrap()
        .parse::<u128>()
        .is_ok());
    assert_eq!(record["severityNumber"], 17);
    assert_eq!(record["severityText"], "ERROR");
    assert_eq!(record["body"], json!({"stringValue": "frame rejected"}));
    let attributes = attributes(&record);
    // Keys are unique: the `conn_id` field and the error's `conn_id` info give one
    // attribute.
    assert_eq!(
        attributes.len(),
        record["attributes"].as_array().unwrap().len(),
        "{line}"
    );
    assert_eq!(
        attributes["exception.type"],
        json!({"stringValue": "FrameDecodeError"})
    );
    assert_eq!(
        attributes["exception.message"],
        json!({"stringValue": STORY})
    );
    let stack = attributes["exception.stacktrace"]["stringValue"]
        .as_str()
        .unwrap();
    assert!(stack.contains("\ncaused by: FrameError: "), "{stack}");
    assert_eq!(
        attributes["target"],
        json!({"stringValue": "tracing_layer"})
    );
    assert_eq!(attributes["conn_id"], json!({"intValue": "7"}));
    assert_eq!(attributes["closing"], json!({"boolValue": true}));
    assert_eq!(attributes["ratio"], json!({"doubleValue": 0.5}));
    assert_eq!(attributes["declared_len"], json!({"intValue": "5000000"}));
    // The whole chain, as an OTLP key-value list.
    let chain = &attributes["verror.error"]["kvlistValue"]["values"];
    assert!(
        chain
            .as_array()
            .unwrap()
            .iter()
            .any(|kv| kv["key"] == "cause"),
        "{chain}"
    );
    snapshot!("otel", line);
}

#[test]
fn bunyan_record() {
    let line = one_error_line(LogFormat::Bunyan);
    assert!(line.starts_with(r#"{"name":"demo","hostname":""#), "{line}");
    assert!(line.ends_with(r#","v":0}"#), "{line}");
    let record = parse(&line);
    assert_eq!(record["v"], 0);
    assert_eq!(record["level"], 50);
    assert_eq!(record["pid"], std::process::id());
    assert_eq!(record["msg"], "frame rejected");
    assert_eq!(record["conn_id"], 7);
    assert_eq!(record["err"]["name"], "FrameDecodeError");
    assert_eq!(record["err"]["message"], STORY);
    let stack = record["err"]["stack"].as_str().unwrap();
    assert!(
        stack.contains("\nCaused by: FrameError: declared length"),
        "{stack}"
    );
    assert!(!stack.contains("caused by"), "{stack}");
    assert_eq!(record["err"]["info"]["frame_index"], 3);
    assert_eq!(record["err"]["verror"]["cause"]["name"], "FrameError");
    snapshot!("bunyan", line);
}

#[test]
fn text_mode_is_readable() {
    let text = one_error_line_text(Format::Text);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].ends_with(
            " ERROR tracing_layer: frame rejected conn_id=7 delta=-3 closing=true ratio=0.5 \
             kind=oversized peer=127.0.0.1:50412"
        ),
        "{text}"
    );
    assert_eq!(lines[1], format!("  error: {STORY}"));
    assert_eq!(
        lines[2],
        "  │ FrameDecodeError: connection 7 from 127.0.0.1:50412, frame 3"
    );
    assert!(lines.contains(&"  │     conn_id: 7"), "{text}");
    assert!(lines.contains(&"  │ Caused by:"), "{text}");
    assert!(
        lines.contains(
            &"  │     0: FrameError: declared length 5000000 exceeds the limit of 1048576"
        ),
        "{text}"
    );
    assert!(lines[1..].iter().all(|l| l.starts_with("  ")), "{text}");
    snapshot!("text", text);
}

#[test]
fn compact_mode_is_one_line() {
    let text = one_error_line_text(Format::Compact);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.ends_with(&format!(
            " kind=oversized peer=127.0.0.1:50412 error=\"FrameDecodeError: {STORY}\"\n"
        )),
        "{text}"
    );
    snapshot!("compact", text);
}

/// The whole output of [`log_frame_rejected`]'s event in a text format.
fn one_error_line_text(format: Format) -> String {
    let logs = LogBuffer::new();
    let layer = LogLayer::builder()
        .format(format)
        .writer(logs.clone())
        .build();
    tracing::subscriber::with_default(
        tracing_subscriber::registry().with(layer),
        log_frame_rejected,
    );
    logs.contents()
}

#[test]
fn rate_limit_suppresses_per_kind_and_reports_on_flush() {
    let err = frame_error();
    let timeout = VError::builder()
        .name("TimeoutError")
        .message("peer too slow")
        .backtrace(false)
        .build();
    let limit = RateLimit::new(3, Duration::from_secs(600));
    let (lines, handle) = capture(LogFormat::Native, Some(limit), || {
        for i in 0..10 {
            tracing::error!(
                error = as_error(&err),
                kind = "oversized",
                i,
                "frame rejected"
            );
        }
        // No `kind` field: the error's name is the kind.
        for _ in 0..4 {
            tracing::warn!(error = as_error(&timeout), "giving up");
        }
        // Events without an error are never limited.
        for _ in 0..5 {
            tracing::info!(conn_id = 1, "connection closed");
        }
    });
    let records: Vec<Value> = lines.iter().map(|l| parse(l)).collect();
    let with = |pred: &dyn Fn(&Value) -> bool| records.iter().filter(|r| pred(r)).count();
    assert_eq!(
        with(&|r| r["kind"] == "oversized" && r.get("error").is_some()),
        3
    );
    assert_eq!(with(&|r| r["error"]["name"] == "TimeoutError"), 3);
    assert_eq!(with(&|r| r["message"] == "connection closed"), 5);
    // The first three of a kind got through.
    let indices: Vec<&Value> = records
        .iter()
        .filter(|r| r["kind"] == "oversized")
        .filter_map(|r| r.get("i"))
        .collect();
    assert_eq!(indices, [&json!(0), &json!(1), &json!(2)]);

    // Dropping the layer flushed one report per kind, sorted by kind, at the level of
    // what was dropped.
    let reports: Vec<&Value> = records
        .iter()
        .filter(|r| r.get("suppressed").is_some())
        .collect();
    assert_eq!(reports.len(), 2, "{lines:#?}");
    assert_eq!(reports[0]["kind"], "TimeoutError");
    assert_eq!(reports[0]["suppressed"], 1);
    assert_eq!(reports[0]["level"], "warn");
    assert_eq!(
        reports[0]["message"],
        "suppressed 1 error line of kind TimeoutError"
    );
    assert_eq!(reports[1]["kind"], "oversized");
    assert_eq!(reports[1]["suppressed"], 7);
    assert_eq!(reports[1]["level"], "error");
    assert_eq!(reports[1]["target"], "verror::tracing");
    assert_eq!(
        reports[1]["message"],
        "suppressed 7 error lines of kind oversized"
    );
    assert!(reports.iter().all(|r| r.get("error").is_none()));
    assert!(lines.last().unwrap().contains("\"suppressed\":7"));

    assert_eq!(
        handle.counts(),
        [
            KindCount {
                kind: "TimeoutError".into(),
                logged: 3,
                suppressed: 1
            },
            KindCount {
                kind: "oversized".into(),
                logged: 3,
                suppressed: 7
            },
        ]
    );
    assert_eq!(handle.logged("oversized"), 3);
    assert_eq!(handle.suppressed("oversized"), 7);
    assert_eq!(handle.suppressed("nothing"), 0);
    assert_eq!(handle.total_logged(), 6);
    assert_eq!(handle.total_suppressed(), 8);
    assert_eq!(handle.write_errors(), 0);
    // The counts serialize for a summary line.
    assert_eq!(
        serde_json::to_value(&handle.counts()[1]).unwrap(),
        json!({"kind": "oversized", "logged": 3, "suppressed": 7})
    );
}

#[test]
fn rate_limit_reports_when_the_window_rolls_over() {
    let err = frame_error();
    let window = Duration::from_millis(300);
    let logs = LogBuffer::new();
    let layer = LogLayer::builder()
        .writer(logs.clone())
        .rate_limit(Some(RateLimit::new(1, window)))
        .build();
    let handle = layer.handle();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::with_default(&dispatch, || {
        for _ in 0..3 {
            tracing::error!(error = as_error(&err), "frame rejected");
        }
    });
    assert_eq!(logs.lines().len(), 1);
    std::thread::sleep(window + Duration::from_millis(50));
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::error!(error = as_error(&err), n = 4, "frame rejected");
    });
    let lines = logs.take();
    let records: Vec<Value> = lines.lines().map(parse).collect();
    assert_eq!(records.len(), 3, "{lines}");
    // The report of the window that ended comes first, then the new window's line.
    assert_eq!(records[1]["kind"], "FrameDecodeError");
    assert_eq!(records[1]["suppressed"], 2);
    assert_eq!(records[2]["n"], 4);
    assert_eq!(records[2]["error"]["name"], "FrameDecodeError");
    // Nothing left to report.
    handle.flush();
    assert_eq!(logs.contents(), "");
    drop(dispatch);
    assert_eq!(logs.contents(), "");
    assert_eq!(handle.logged("FrameDecodeError"), 2);
    assert_eq!(handle.suppressed("FrameDecodeError"), 2);
}

#[test]
fn no_rate_limit_writes_everything() {
    let err = frame_error();
    let (lines, handle) = capture(LogFormat::Native, None, || {
        for _ in 0..50 {
            tracing::error!(error = as_error(&err), kind = "oversized", "frame rejected");
        }
    });
    assert_eq!(lines.len(), 50);
    assert_eq!(handle.logged("oversized"), 50);
    assert_eq!(handle.total_suppressed(), 0);
}

#[test]
fn foreign_errors_extra_error_fields_and_a_missing_message() {
    let io = io::Error::new(io::ErrorKind::ConnectionReset, "connection reset by peer");
    let err = frame_error();
    let (lines, handle) = capture(LogFormat::Native, None, || {
        // No message: the record takes the error's whole message.
        tracing::error!(error = &io as &(dyn Error + 'static));
        // A second error field is a field holding the error's JSON object.
        tracing::error!(
            error = as_error(&err),
            previous = &io as &(dyn Error + 'static),
            "retry failed"
        );
        // The error need not be called `error`.
        tracing::error!(err = as_error(&err), "named err");
    });
    let records: Vec<Value> = lines.iter().map(|l| parse(l)).collect();
    assert_eq!(records.len(), 3);
    assert_eq!(records[0]["message"], "connection reset by peer");
    assert_eq!(records[0]["error"]["name"], "Error");
    assert_eq!(
        records[0]["error"]["short_message"],
        "connection reset by peer"
    );
    assert_eq!(records[1]["error"]["name"], "FrameDecodeError");
    assert_eq!(
        records[1]["previous"]["short_message"],
        "connection reset by peer"
    );
    assert_eq!(
        records[1]["previous"]["message"],
        "connection reset by peer"
    );
    assert_eq!(records[2]["error"]["cause"]["name"], "FrameError");
    assert!(records[2].get("err").is_none());
    assert_eq!(handle.logged("Error"), 1);
    assert_eq!(handle.logged("FrameDecodeError"), 2);
}

#[test]
fn events_without_an_error_and_renamed_fields() {
    let (lines, handle) = capture(LogFormat::Bunyan, None, || {
        tracing::info!(
            conn_id = 3,
            msg = "shadowed",
            level = 9,
            big = u128::MAX,
            "listening"
        );
        tracing::debug!(x = f64::NAN, "odd float");
    });
    let first = parse(&lines[0]);
    assert_eq!(first["level"], 30);
    assert_eq!(first["msg"], "listening");
    assert_eq!(first["fields.msg"], "shadowed");
    assert_eq!(first["fields.level"], 9);
    assert_eq!(first["big"], u128::MAX.to_string());
    assert!(first.get("err").is_none());
    let second = parse(&lines[1]);
    assert_eq!(second["level"], 20);
    assert_eq!(second["x"], "NaN");
    assert_eq!(handle.counts(), []);
}

#[test]
fn target_can_be_left_out() {
    let logs = LogBuffer::new();
    let layer = LogLayer::builder()
        .writer(logs.clone())
        .target(false)
        .build();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::info!("hello");
    });
    let record = parse(&logs.contents());
    assert!(record.get("target").is_none());
    assert_eq!(record["message"], "hello");
}

#[test]
fn a_failing_writer_is_counted_not_fatal() {
    struct Broken;
    impl io::Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::other("disk on fire"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::Error::other("disk on fire"))
        }
    }
    let layer = LogLayer::builder().writer(|| Broken).build();
    let handle = layer.handle();
    let err = frame_error();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::error!(error = as_error(&err), "one");
        tracing::info!("two");
    });
    // Two lines, and the flush when the layer was dropped.
    assert_eq!(handle.write_errors(), 3);
    assert_eq!(handle.logged("FrameDecodeError"), 1);
}

#[test]
fn lines_from_many_threads_never_interleave() {
    let logs = LogBuffer::new();
    let layer = LogLayer::builder()
        .writer(logs.clone())
        .rate_limit(None)
        .build();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let done = Arc::new(AtomicUsize::new(0));
    std::thread::scope(|scope| {
        for t in 0..4 {
            let dispatch = dispatch.clone();
            let done = Arc::clone(&done);
            scope.spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    let err = frame_error();
                    for i in 0..200 {
                        tracing::error!(error = as_error(&err), t, i, "frame rejected");
                    }
                });
                done.fetch_add(1, Ordering::Relaxed);
            });
        }
    });
    assert_eq!(done.load(Ordering::Relaxed), 4);
    let lines = logs.lines();
    assert_eq!(lines.len(), 800);
    for line in &lines {
        assert_eq!(parse(line)["error"]["cause"]["name"], "FrameError");
    }
}

#[test]
fn formats_parse_from_their_names() {
    for format in Format::ALL {
        assert_eq!(format.as_str().parse::<Format>().unwrap(), format);
    }
    assert_eq!(
        "native".parse::<Format>().unwrap(),
        Format::Json(LogFormat::Native)
    );
    assert_eq!(
        "opentelemetry".parse::<Format>().unwrap(),
        Format::Json(LogFormat::OpenTelemetry)
    );
    let err = "xml".parse::<Format>().unwrap_err();
    assert_eq!(err.name(), "LogFormatError");
    assert_eq!(
        verror::info(&err).get("expected"),
        Some(&json!(["json", "ecs", "otel", "bunyan", "text", "compact"]))
    );
}

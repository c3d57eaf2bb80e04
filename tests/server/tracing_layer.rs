//! The `tracing` layer: every format's line parses and carries its format's fields, the
//! error stays a nested object, extra fields keep their types, error lines are rate
//! limited per kind with a count of what was suppressed, and text mode reads well.
#![cfg(feature = "tracing")]

use std::error::Error;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use tracing_subscriber::layer::SubscriberExt;
use verror::VError;
use verror::layer::{Format, KindCount, LogBuffer, LogHandle, LogLayer, RateLimit, as_error};
use verror::records::LogFormat;

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

const STORY: &str = "connection 7 from 127.0.0.1:50412, frame 3: declared length 5000000 exceeds the limit of 1048576";

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

/// The one OTLP `LogRecord` of a `LogsData` line.
fn otel_record(data: &Value) -> &Value {
    let resource_logs = data["resourceLogs"].as_array().expect("resourceLogs");
    assert_eq!(resource_logs.len(), 1, "{data}");
    let scope_logs = &resource_logs[0]["scopeLogs"];
    assert_eq!(scope_logs[0]["scope"]["name"], "verror");
    let records = scope_logs[0]["logRecords"].as_array().expect("logRecords");
    assert_eq!(records.len(), 1, "{data}");
    &records[0]
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

/// A record with what changes from run to run as placeholders: times, pids,
/// hostnames, and this file's lines.
fn redacted(text: &str) -> String {
    let digits = |c: char| c.is_ascii_digit();
    let unquoted = |c: char| c != '"';
    let mut text = crate::redact::times(text);
    for marker in [r#""timeUnixNano":""#, r#""observedTimeUnixNano":""#] {
        text = crate::redact::after(&text, marker, digits, "[nanos]");
    }
    let pid = r#""key":"process.pid","value":{"intValue":""#;
    text = crate::redact::after(&text, pid, digits, "[pid]");
    for marker in [r#""pid":"#, r#""process.pid":"#] {
        text = crate::redact::after(&text, marker, digits, r#""[pid]""#);
    }
    for marker in [
        r#""hostname":""#,
        r#""host.hostname":""#,
        r#""key":"host.name","value":{"stringValue":""#,
    ] {
        text = crate::redact::after(&text, marker, unquoted, "[hostname]");
    }
    crate::redact::locations(&text, "tests/server/tracing_layer.rs")
}

macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::assert_snapshot!($name, redacted(&$value));
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
    assert_eq!(record["ecs.version"], verror::records::ECS_VERSION);
    assert_eq!(record["service.name"], "demo");
    assert_eq!(record["log.logger"], "tracing_layer");
    assert!(record.get("target").is_none());
    // Our own fields live under the namespace, ECS's at the top.
    assert!(record.get("conn_id").is_none());
    assert_eq!(record["verror"]["conn_id"], 7);
    assert_eq!(record["verror"]["closing"], true);
    assert_eq!(record["error"]["type"], "FrameDecodeError");
    assert_eq!(record["error"]["message"], STORY);
    let stack = record["error"]["stack_trace"].as_str().unwrap();
    assert!(
        stack.starts_with(
            "FrameDecodeError: connection 7 from 127.0.0.1:50412, frame 3\n    at tests/server/tracing_layer.rs:"
        ),
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
    let data = parse(&line);
    let resource = attributes(&data["resourceLogs"][0]["resource"]);
    assert_eq!(resource["service.name"], json!({"stringValue": "demo"}));
    assert_eq!(
        data["resourceLogs"][0]["scopeLogs"][0]["scope"]["version"],
        env!("CARGO_PKG_VERSION")
    );
    let record = otel_record(&data);
    assert_eq!(record["observedTimeUnixNano"], record["timeUnixNano"]);
    assert!(
        record["timeUnixNano"]
            .as_str()
            .unwrap()
            .parse::<u128>()
            .is_ok()
    );
    assert_eq!(record["severityNumber"], 17);
    assert_eq!(record["severityText"], "ERROR");
    assert_eq!(record["body"], json!({"stringValue": "frame rejected"}));
    let attributes = attributes(record);
    // Keys are unique.
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
        attributes["code.namespace"],
        json!({"stringValue": "tracing_layer"})
    );
    assert_eq!(attributes["conn_id"], json!({"intValue": "7"}));
    assert_eq!(attributes["closing"], json!({"boolValue": true}));
    assert_eq!(attributes["ratio"], json!({"doubleValue": 0.5}));
    // The merged info is one attribute, never spread among the others.
    assert!(attributes.get("declared_len").is_none());
    let info = attributes["verror.info"]["kvlistValue"]["values"]
        .as_array()
        .unwrap();
    assert!(
        info.iter()
            .any(|kv| kv["key"] == "declared_len" && kv["value"]["intValue"] == "5000000"),
        "{line}"
    );
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

/// The keys of an OTLP `kvlistValue`, in the order written.
fn kvlist_keys(any_value: &Value) -> Vec<&str> {
    any_value["kvlistValue"]["values"]
        .as_array()
        .unwrap_or_else(|| panic!("not a kvlist: {any_value}"))
        .iter()
        .map(|kv| kv["key"].as_str().unwrap())
        .collect()
}

/// The value under `key` in an OTLP `kvlistValue`.
fn kvlist_get<'a>(any_value: &'a Value, key: &str) -> &'a Value {
    let values = any_value["kvlistValue"]["values"].as_array().unwrap();
    let kv = values.iter().find(|kv| kv["key"] == key);
    &kv.unwrap_or_else(|| panic!("no {key:?} in {any_value}"))["value"]
}

#[test]
fn opentelemetry_kvlists_keep_insertion_order() {
    let root = VError::builder()
        .name("StoreError")
        .info("yankee", 1)
        .info("alpha", "shadowed")
        .info("bravo", true)
        .message("disk full")
        .backtrace(false)
        .build();
    let err = VError::builder()
        .name("SaveError")
        .info("zeta", 26)
        .info("alpha", "a")
        .info("mike", json!({"z": 1, "a": 2}))
        .cause(root)
        .message("save failed")
        .backtrace(false)
        .build();
    // The other records and `verror::info` agree on the order.
    let expected = ["zeta", "alpha", "mike", "yankee", "bravo"];
    assert_eq!(verror::info(&err).keys().collect::<Vec<_>>(), expected);
    let (lines, _) = capture(LogFormat::OpenTelemetry, None, || {
        tracing::error!(error = as_error(&err), "not saved")
    });
    assert_eq!(lines.len(), 1, "{lines:#?}");
    let data = parse(&lines[0]);
    let attributes = attributes(otel_record(&data));

    // The merged info: the outer level's keys first, then the deeper level's new ones.
    let info = &attributes["verror.info"];
    assert_eq!(kvlist_keys(info), expected, "{info}");
    assert_eq!(kvlist_get(info, "alpha"), &json!({"stringValue": "a"}));

    // The chain: each level's keys as its JSON writes them.
    let top = &attributes["verror.error"];
    assert_eq!(
        kvlist_keys(top),
        [
            "name",
            "message",
            "short_message",
            "info",
            "location",
            "cause"
        ],
        "{top}"
    );
    assert_eq!(
        kvlist_keys(kvlist_get(top, "info")),
        ["zeta", "alpha", "mike"]
    );
    let cause = kvlist_get(top, "cause");
    assert_eq!(
        kvlist_keys(cause),
        ["name", "short_message", "info", "location"],
        "{cause}"
    );
    assert_eq!(
        kvlist_keys(kvlist_get(cause, "info")),
        ["yankee", "alpha", "bravo"]
    );
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
    // The merged info is flat; the nested chain stays in the other formats.
    assert_eq!(record["frame_index"], 3);
    assert_eq!(record["declared_len"], 5_000_000);
    let err_keys: Vec<&str> = record["err"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(err_keys, ["message", "name", "stack"]);
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
        "suppressed 1 line of kind TimeoutError"
    );
    assert_eq!(reports[1]["kind"], "oversized");
    assert_eq!(reports[1]["suppressed"], 7);
    assert_eq!(reports[1]["level"], "error");
    assert_eq!(reports[1]["target"], "verror::layer");
    assert_eq!(
        reports[1]["message"],
        "suppressed 7 lines of kind oversized"
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

/// A clock that tests move by hand.
#[derive(Clone)]
struct FrozenClock(Arc<std::sync::Mutex<std::time::Instant>>);

impl FrozenClock {
    fn new() -> FrozenClock {
        FrozenClock(Arc::new(std::sync::Mutex::new(std::time::Instant::now())))
    }

    fn now(&self) -> std::time::Instant {
        *self.0.lock().unwrap()
    }

    fn advance(&self, by: Duration) {
        *self.0.lock().unwrap() += by;
    }
}

/// A layer writing native records to `logs` under `limit`, on `clock`.
fn limited_layer(logs: &LogBuffer, limit: RateLimit, clock: &FrozenClock) -> LogLayer {
    let clock = clock.clone();
    LogLayer::builder()
        .writer(logs.clone())
        .rate_limit(Some(limit))
        .clock(move || clock.now())
        .build()
}

#[test]
fn rate_limit_reports_when_the_window_rolls_over() {
    let err = frame_error();
    let window = Duration::from_secs(1);
    let clock = FrozenClock::new();
    let logs = LogBuffer::new();
    let layer = limited_layer(&logs, RateLimit::new(1, window), &clock);
    let handle = layer.handle();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::with_default(&dispatch, || {
        for _ in 0..3 {
            tracing::error!(error = as_error(&err), "frame rejected");
        }
    });
    assert_eq!(logs.lines().len(), 1);
    clock.advance(window);
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
fn the_summary_arrives_after_the_window_before_any_later_event() {
    let err = frame_error();
    let window = Duration::from_secs(1);
    let clock = FrozenClock::new();
    let logs = LogBuffer::new();
    let layer = limited_layer(&logs, RateLimit::new(2, window), &clock);
    let handle = layer.handle();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    let burst = || {
        tracing::dispatcher::with_default(&dispatch, || {
            for _ in 0..5 {
                tracing::error!(error = as_error(&err), kind = "oversized", "frame rejected");
            }
        })
    };
    burst();
    assert_eq!(logs.take().lines().count(), 2);
    // Within the window, nothing is due: neither a tick nor another event reports.
    clock.advance(window / 2);
    handle.tick();
    tracing::dispatcher::with_default(&dispatch, || tracing::info!("still serving"));
    let lines = logs.take();
    assert_eq!(lines.lines().count(), 1, "{lines}");
    // The window closed: the next event of any kind comes after the report.
    clock.advance(window / 2);
    tracing::dispatcher::with_default(&dispatch, || tracing::info!(n = 1, "an unrelated event"));
    let records: Vec<Value> = logs.take().lines().map(parse).collect();
    assert_eq!(records.len(), 2, "{records:#?}");
    assert_eq!(records[0]["suppressed"], 3);
    assert_eq!(records[0]["kind"], "oversized");
    assert_eq!(records[1]["n"], 1);
    // With no event at all, the periodic tick writes it.
    burst();
    logs.clear();
    clock.advance(window);
    handle.tick();
    let records: Vec<Value> = logs.take().lines().map(parse).collect();
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0]["suppressed"], 3);
    handle.tick();
    assert_eq!(logs.contents(), "");
    // At shutdown, reports come before the last line, window closed or not.
    burst();
    logs.clear();
    handle.report_eagerly();
    tracing::dispatcher::with_default(&dispatch, || tracing::info!("server stopped"));
    let records: Vec<Value> = logs.take().lines().map(parse).collect();
    assert_eq!(records.len(), 2, "{records:#?}");
    assert_eq!(records[0]["suppressed"], 3);
    assert_eq!(records[1]["message"], "server stopped");
}

#[test]
fn every_event_at_warn_and_above_is_limited_by_lines_and_bytes() {
    let clock = FrozenClock::new();
    let logs = LogBuffer::new();
    // Lines are plenty; 100 KB payloads meet the byte budget first.
    let limit = RateLimit::new(1000, Duration::from_secs(1))
        .bytes(256 * 1024)
        .total_bytes(1 << 20);
    let layer = limited_layer(&logs, limit, &clock);
    let handle = layer.handle();
    let payload = "p".repeat(100_000);
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for _ in 0..50 {
            // No error field: the panic hook's kind of event.
            tracing::error!(kind = "panic", "panicked: {payload}");
        }
        for _ in 0..50 {
            // Neither kind nor error: the target is the kind.
            tracing::warn!("slow: {payload}");
        }
        for _ in 0..5 {
            tracing::info!("info lines are not limited");
        }
    });
    let contents = logs.contents();
    let lines: Vec<&str> = contents.lines().collect();
    // Each kind: within its 256 KiB, every line counted as written or suppressed.
    for (needle, kind) in [("panicked: ", "panic"), ("slow: ", "server::tracing_layer")] {
        let written: Vec<&&str> = lines.iter().filter(|l| l.contains(needle)).collect();
        let bytes: usize = written.iter().map(|l| l.len() + 1).sum();
        assert!(bytes <= 256 * 1024, "{kind}: {bytes} bytes");
        assert!(written.len() < 50, "{kind}: nothing suppressed");
        assert_eq!(handle.logged(kind), written.len() as u64);
        assert_eq!(handle.suppressed(kind), 50 - written.len() as u64);
    }
    assert_eq!(
        lines.iter().filter(|l| l.contains("not limited")).count(),
        5
    );
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
    assert_eq!(err.name(), "InvalidValue");
    assert_eq!(
        err.to_string(),
        r#"unknown log format "xml" (expected one of: json, ecs, otel, bunyan, text, compact)"#
    );
    assert_eq!(
        verror::info(&err).get("expected"),
        Some(&json!(["json", "ecs", "otel", "bunyan", "text", "compact"]))
    );
}

/// A MultiError holding a MultiError and a chain.
fn nested_multi() -> VError {
    let leaf = |name: &str| {
        VError::builder()
            .name(name.to_owned())
            .message(format!("{name} failed"))
            .backtrace(false)
            .build()
    };
    let inner = VError::builder()
        .errors([leaf("ShardA"), leaf("ShardB")])
        .backtrace(false)
        .build();
    VError::builder()
        .errors([
            inner,
            VError::builder()
                .cause(leaf("Disk"))
                .message("replica")
                .backtrace(false)
                .build(),
        ])
        .backtrace(false)
        .build()
}

/// A chain `depth` levels deep, deeper than OTLP's nesting limit allows as values.
fn deep_chain(depth: usize) -> VError {
    let mut err = VError::builder()
        .name("Root")
        .message("bottom")
        .backtrace(false)
        .build();
    for i in 0..depth {
        err = VError::builder()
            .cause(err)
            .info("level", i)
            .message(format!("level {i}"))
            .backtrace(false)
            .build();
    }
    err
}

/// An error whose info holds a value nested 100 deep and a 1 MiB string.
fn huge_info() -> VError {
    let mut nested = json!(1);
    for _ in 0..100 {
        nested = json!([nested]);
    }
    VError::builder()
        .name("LookupError")
        .info("nested", nested)
        .info("key", "k".repeat(1 << 20))
        .message(format!("no entry for {}", "k".repeat(1 << 20)))
        .backtrace(false)
        .build()
}

/// Every shape of record the layer writes in `format`, inside two spans that carry a
/// trace context: an event without an error, the frame error, nested MultiErrors, a
/// chain deeper than OTLP's nesting limit, huge and deeply nested info, a foreign
/// error, and fields named like the keys each format writes itself.
fn record_shapes(format: LogFormat) -> Vec<String> {
    let (lines, _) = capture(format, None, || {
        let conn = tracing::info_span!(
            "conn",
            conn_id = 7u64,
            trace_id = "4bf92f3577b34da6a3ce929d0e0e4736",
            span_id = "00f067aa0ba902b7"
        );
        let _conn = conn.enter();
        let request = tracing::info_span!("req", request_id = 42u64, name = "lookup");
        let _request = request.enter();
        tracing::info!(answered = 3u64, "served");
        log_frame_rejected();
        tracing::error!(error = as_error(&nested_multi()), "batch failed");
        tracing::error!(error = as_error(&deep_chain(60)), "deep");
        tracing::error!(error = as_error(&huge_info()), "huge");
        tracing::warn!(
            error = as_error(&io::Error::other("disk on fire")),
            "foreign"
        );
        tracing::warn!(
            level = "mine",
            msg = "mine",
            time = 1u64,
            v = 1u64,
            exception.r#type = "spoof",
            verror.info = "spoof",
            spans = "mine",
            error = "a string, not an error",
            "reserved names"
        );
    });
    assert_eq!(lines.len(), 7, "{lines:#?}");
    lines
}

/// Fails under CI (where every tool must be installed), else prints why the test is
/// skipped.
fn skip_or_fail(reason: &str) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{reason}");
    }
    eprintln!("skipped: {reason}");
}

/// Writes `lines` to a fresh file in the temporary directory.
fn lines_file(name: &str, lines: &[String]) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("verror-{name}-{}.jsonl", std::process::id()));
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    path
}

fn fixture(name: &str) -> String {
    format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_record_shape_stays_within_its_cap_and_has_unique_keys() {
    for format in LogFormat::ALL {
        for line in record_shapes(format) {
            assert!(
                line.len() <= verror::records::DEFAULT_MAX_RECORD_BYTES,
                "{format}: {} bytes",
                line.len()
            );
            // serde_json's `Value` keeps the last of duplicate keys: check the raw line.
            assert_no_duplicate_keys(&line);
        }
    }
}

/// Fails if any JSON object in `line` has a key twice.
fn assert_no_duplicate_keys(line: &str) {
    struct Unique;
    impl<'de> serde::de::Visitor<'de> for Unique {
        type Value = Unique;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("JSON")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Unique, A::Error> {
            let mut seen = std::collections::HashSet::new();
            while let Some(key) = map.next_key::<String>()? {
                if !seen.insert(key.clone()) {
                    return Err(serde::de::Error::custom(format!("duplicate key {key:?}")));
                }
                map.next_value::<Unique>()?;
            }
            Ok(Unique)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Unique, A::Error> {
            while seq.next_element::<Unique>()?.is_some() {}
            Ok(Unique)
        }
        fn visit_str<E>(self, _: &str) -> Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_bool<E>(self, _: bool) -> Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Unique, E> {
            Ok(Unique)
        }
        fn visit_unit<E>(self) -> Result<Unique, E> {
            Ok(Unique)
        }
    }
    impl<'de> serde::Deserialize<'de> for Unique {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Unique, D::Error> {
            d.deserialize_any(Unique)
        }
    }
    let mut de = serde_json::Deserializer::from_str(line);
    if let Err(err) = <Unique as serde::Deserialize>::deserialize(&mut de) {
        panic!("{err}: {line}");
    }
}

#[test]
fn otel_lines_decode_as_logs_data_and_export_requests() {
    let lines = record_shapes(LogFormat::OpenTelemetry);
    let path = lines_file("otlp", &lines);
    let output = std::process::Command::new("python3")
        .arg(fixture("otlp_decode.py"))
        .arg(&path)
        .output();
    let _ = std::fs::remove_file(&path);
    let output = match output {
        Ok(output) => output,
        Err(err) => return skip_or_fail(&format!("cannot run python3: {err}")),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    if output.status.code() == Some(3) {
        return skip_or_fail(&format!("{stdout} (pip install opentelemetry-proto)"));
    }
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // What the protobuf parser read is what we wrote.
    let decoded: Vec<Value> = stdout.lines().map(parse).collect();
    assert_eq!(decoded.len(), lines.len(), "{stdout}");
    for (line, decoded) in lines.iter().zip(&decoded) {
        let data = parse(line);
        let record = otel_record(&data);
        assert_eq!(
            decoded["attributes"],
            record["attributes"].as_array().unwrap().len(),
            "{line}"
        );
        assert_eq!(decoded["body"], record["body"]["stringValue"]);
        assert_eq!(decoded["severity"], record["severityNumber"]);
        assert_eq!(decoded["scope"], "verror");
        assert!(decoded["trace_id"].as_u64().unwrap() > 0, "{line}");
    }
}

/// The ECS fields and types of the vendored definitions.
fn ecs_fields() -> std::collections::BTreeMap<String, String> {
    std::fs::read_to_string(fixture("ecs_fields.tsv"))
        .unwrap()
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (name, kind) = line.split_once('\t').unwrap();
            (name.to_owned(), kind.to_owned())
        })
        .collect()
}

/// Whether a JSON value fits an ECS type.
fn fits_ecs_type(value: &Value, kind: &str) -> bool {
    match kind {
        "keyword" | "match_only_text" | "wildcard" => value.is_string(),
        "date" => value
            .as_str()
            .is_some_and(|t| t.ends_with('Z') && t.contains('T')),
        "long" => value.is_i64() || value.is_u64(),
        "object" => value
            .as_object()
            .is_some_and(|o| o.values().all(Value::is_string)),
        _ => false,
    }
}

#[test]
fn ecs_records_write_ecs_fields_with_their_types_and_the_rest_under_verror() {
    let ecs = ecs_fields();
    for line in record_shapes(LogFormat::Ecs) {
        let record: serde_json::Map<String, Value> = serde_json::from_str(&line).unwrap();
        assert!(record["verror"].is_object(), "{line:.300}");
        for (key, value) in &record {
            if key == "verror" {
                continue;
            }
            // ECS objects written nested (`error`) are checked field by field.
            let fields: Vec<(String, &Value)> = match value {
                Value::Object(object) if !ecs.contains_key(key.as_str()) => object
                    .iter()
                    .map(|(k, v)| (format!("{key}.{k}"), v))
                    .collect(),
                _ => vec![(key.clone(), value)],
            };
            for (name, value) in fields {
                let kind = ecs
                    .get(&name)
                    .unwrap_or_else(|| panic!("{name} is not an ECS field: {line:.300}"));
                assert!(fits_ecs_type(value, kind), "{name}: {value} is not {kind}");
            }
        }
        for required in ["@timestamp", "ecs.version", "message", "log.level"] {
            assert!(record.contains_key(required), "{required}: {line:.300}");
        }
    }
}

#[test]
fn the_bunyan_cli_shows_an_error_as_its_header_and_its_stack() {
    let lines = record_shapes(LogFormat::Bunyan);
    let path = lines_file("bunyan", &lines);
    let output = std::process::Command::new("bunyan")
        .args(["--no-color", "-o", "long"])
        .arg(&path)
        .output();
    let _ = std::fs::remove_file(&path);
    let output = match output {
        Ok(output) => output,
        Err(err) => {
            return skip_or_fail(&format!("cannot run bunyan ({err}): npm install -g bunyan"));
        }
    };
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let shown = String::from_utf8_lossy(&output.stdout);
    // One block per record, each a header line (`[time] LEVEL: name/pid on host: msg
    // (extras)`) and its details: every record is valid Bunyan, none is echoed raw.
    let mut blocks: Vec<Vec<&str>> = Vec::new();
    for line in shown.lines() {
        if line.starts_with('[') {
            blocks.push(vec![line]);
        } else {
            blocks
                .last_mut()
                .expect("a detail line before any header")
                .push(line);
        }
    }
    assert_eq!(blocks.len(), lines.len(), "{shown}");
    for (line, block) in lines.iter().zip(&blocks) {
        let record = parse(line);
        // The nested chain and the info object are gone from the error: the CLI
        // prints each key of `err` besides name, message and stack.
        assert!(!block.iter().any(|l| l.contains("err.")), "{block:#?}");
        if let Some(stack) = record["err"]["stack"].as_str() {
            let details: Vec<String> = stack.lines().map(|l| format!("    {l}")).collect();
            // Short flat fields sit in the header; long ones (the 1 MiB key, cut)
            // come below it, after the stack.
            assert_eq!(block[1..=details.len()], details, "{block:#?}");
        }
    }
    // The frame error: its header and its stack, nothing else.
    let frame = &blocks[1];
    assert!(frame[0].contains("ERROR: demo/"), "{frame:#?}");
    assert!(
        frame[0].contains(": frame rejected (target=tracing_layer, conn_id=7,"),
        "{frame:#?}"
    );
    assert!(frame[0].contains("declared_len=5000000"), "{frame:#?}");
    assert_eq!(frame.len(), 5, "{frame:#?}");
}

/// An info event inside two spans, in `format`.
fn line_in_spans(format: Format) -> String {
    let (lines, _) = capture(format, None, || {
        let conn = tracing::info_span!(
            "conn",
            conn_id = 7u64,
            peer = "127.0.0.1:50412",
            trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
        );
        let _conn = conn.enter();
        let request = tracing::info_span!(
            "req",
            request_id = 42u64,
            span_id = 0x00f0_67aa_0ba9_02b7u64
        );
        let _request = request.enter();
        tracing::warn!(answered = 3u64, "slow request");
    });
    assert_eq!(lines.len(), 1, "{lines:#?}");
    lines.into_iter().next().unwrap()
}

#[test]
fn records_carry_the_current_span_and_its_parents_in_each_format() {
    let native = parse(&line_in_spans(LogFormat::Native.into()));
    assert_eq!(
        native["span"],
        json!({"name": "req", "request_id": 42, "span_id": 0x00f0_67aa_0ba9_02b7u64})
    );
    assert_eq!(native["spans"][0]["name"], "conn");
    assert_eq!(native["spans"][0]["conn_id"], 7);
    assert_eq!(native["spans"][1]["name"], "req");

    let ecs = parse(&line_in_spans(LogFormat::Ecs.into()));
    assert_eq!(ecs["verror"]["spans"], native["spans"]);
    assert_eq!(ecs["trace.id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(ecs["span.id"], "00f067aa0ba902b7");

    let data = parse(&line_in_spans(LogFormat::OpenTelemetry.into()));
    let record = otel_record(&data);
    let attributes = attributes(record);
    assert_eq!(attributes["request_id"], json!({"intValue": "42"}));
    assert_eq!(attributes["conn_id"], json!({"intValue": "7"}));
    assert_eq!(
        attributes["verror.spans"],
        json!({"arrayValue": {"values": [{"stringValue": "conn"}, {"stringValue": "req"}]}})
    );
    assert_eq!(record["traceId"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(record["spanId"], "00f067aa0ba902b7");

    let bunyan = parse(&line_in_spans(LogFormat::Bunyan.into()));
    assert_eq!(bunyan["request_id"], 42);
    assert_eq!(bunyan["peer"], "127.0.0.1:50412");

    let text = line_in_spans(Format::Text);
    let expected = format!(
        " WARN conn{{conn_id=7 peer=127.0.0.1:50412 trace_id=4bf92f3577b34da6a3ce929d0e0e4736}}: \
         req{{request_id=42 span_id={}}}: server::tracing_layer: slow request answered=3",
        0x00f0_67aa_0ba9_02b7u64
    );
    assert!(text.contains(&expected), "{text}");

    let all: Vec<String> = Format::ALL
        .iter()
        .map(|format| format!("== {format}\n{}", line_in_spans(*format)))
        .collect();
    snapshot!("spans", all.join("\n"));
}

#[test]
fn errors_made_inside_spans_record_them_when_asked() {
    let make = |spans_in_errors: bool| {
        let layer = LogLayer::builder()
            .writer(LogBuffer::new())
            .spans_in_errors(spans_in_errors)
            .build();
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            let _conn = tracing::info_span!("conn", conn_id = 7u64, name = "x").entered();
            let _request = tracing::info_span!("req", request_id = 42u64).entered();
            let root: Result<u8, _> = "x".parse::<u8>();
            let root = verror::ResultExt::context(root, "bad port").unwrap_err();
            VError::builder()
                .name("ConfigError")
                .cause(root)
                .message("invalid config")
                .backtrace(false)
                .build()
        })
    };
    let err = make(true);
    // The level made first (wrapping a foreign error) records the spans; the level
    // wrapping it does not repeat them.
    let spans = json!([
        {"name": "conn", "conn_id": 7, "fields.name": "x"},
        {"name": "req", "request_id": 42}
    ]);
    let root = verror::chain(&err)
        .nth(1)
        .unwrap()
        .downcast_ref::<VError>()
        .unwrap();
    assert_eq!(root.own_info().get("spans"), Some(&spans));
    assert!(err.own_info().get("spans").is_none());
    // Shown in the report and in the JSON.
    assert!(format!("{err:?}").contains(r#""request_id":42"#), "{err:?}");
    let json = serde_json::to_value(&err).unwrap();
    assert_eq!(json["cause"]["info"]["spans"], spans);
    // Off by default.
    let err = make(false);
    assert!(verror::info(&err).get("spans").is_none());
    // Outside any span, nothing either.
    let layer = LogLayer::builder()
        .writer(LogBuffer::new())
        .spans_in_errors(true)
        .build();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        assert!(VError::new("plain").own_info().is_empty());
    });
}

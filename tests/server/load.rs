//! The load generator against a real server: counts, echo checks, every fault
//! answered with its kind, and failures counted rather than hidden.
#![cfg(all(feature = "server", feature = "tracing"))]

use std::time::Duration;

use crate::support::*;
use bytes::Bytes;
use verror::VError;
use verror::server::load::{Fault, Load};
use verror::server::{Client, FailureKind};

fn load(addr: std::net::SocketAddr) -> Load {
    Load::new(addr).max_frame_len(LIMIT).timeout(BOUND)
}

#[tokio::test]
async fn a_pipelined_load_is_echoed_and_counted() {
    let server = start(builder(), echo()).await;
    let run = load(server.addr)
        .connections(8)
        .frames(500)
        .size(LIMIT)
        .window(16);
    let progress = run.progress();
    let report = within(run.run()).await.unwrap();
    assert_eq!(report.requests, 4000);
    assert_eq!(
        (report.sent, report.ok, report.answered),
        (4000, 4000, 4000)
    );
    assert_eq!(report.error_count(), 0, "{report}");
    assert_eq!(report.unanswered, 0);
    assert_eq!(report.latency.samples, 4000);
    assert!(report.latency.p50 <= report.latency.p99);
    assert!(report.latency.p99 <= report.latency.max);
    assert!(report.frames_per_sec > 0.0);
    assert!(report.is_clean(), "{report}");
    assert!(report.failure().is_none());
    assert_eq!((progress.done(), progress.total()), (4000, 4000));

    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["ok"], 4000);
    assert!(json["elapsed_s"].as_f64().unwrap() > 0.0);
    assert!(json["latency"]["p99_us"].as_f64().unwrap() > 0.0);
    assert_eq!(json["fault"], serde_json::Value::Null);

    let summary = server.stop().await;
    assert_eq!((summary.connections, summary.frames), (8, 4000));
}

#[tokio::test]
async fn empty_and_one_byte_payloads_are_checked_too() {
    let server = start(builder(), echo()).await;
    for size in [0, 1] {
        let report = within(load(server.addr).connections(2).frames(50).size(size).run())
            .await
            .unwrap();
        assert!(report.is_clean(), "{report}");
        assert_eq!(report.ok, 100);
    }
    server.stop().await;
}

#[cfg(feature = "cli")]
#[tokio::test]
async fn the_demo_handler_echoes_every_load_request() {
    // No request of a load starts with `!`, so none runs a command.
    let server = start(builder(), DemoHandler::new()).await;
    let report = within(load(server.addr).connections(2).frames(600).size(40).run())
        .await
        .unwrap();
    assert!(report.is_clean(), "{report}");
    server.stop().await;
}

#[tokio::test]
async fn every_fault_earns_its_error_kind() {
    let server = start(builder().frame_timeout(Duration::from_millis(100)), echo()).await;
    for fault in Fault::ALL {
        let report = within(
            load(server.addr)
                .connections(2)
                .frames(10)
                .fault(fault)
                .run(),
        )
        .await
        .unwrap();
        assert_eq!(report.ok, 20, "{fault}: {report}");
        assert_eq!(report.faults_sent, 2, "{fault}: {report}");
        assert!(report.is_clean(), "{fault}: {report}");
        if fault.is_answered() {
            assert_eq!(
                report.fault_responses.get(fault.expected_kind().as_str()),
                Some(&2),
                "{fault}: {report}"
            );
        }
        let shown = report.to_string();
        assert!(shown.contains(&format!("fault {fault}: 2 sent")), "{shown}");
    }
    let summary = server.stop().await;
    for (kind, n) in [
        (FailureKind::Oversized, 4), // oversized and garbage
        (FailureKind::TruncatedHeader, 2),
        (FailureKind::TruncatedPayload, 2),
        (FailureKind::FrameTimeout, 4),
        (FailureKind::Reset, 2),
    ] {
        assert_eq!(summary.errors_of(kind), n, "{kind}: {summary}");
    }
}

#[tokio::test]
async fn each_fault_sent_after_a_pipelined_request_earns_its_error_kind() {
    let server = start(builder().frame_timeout(Duration::from_millis(100)), echo()).await;
    for fault in Fault::ALL {
        let (mut sender, mut receiver) = connect_split(server.addr).await;
        sender.feed(b"first").unwrap();
        within(fault.send(&mut sender)).await.unwrap();
        // The request queued before the fault went in the same write, and is
        // answered first.
        assert_eq!(within(receiver.recv()).await.unwrap(), "first", "{fault}");
        if fault.is_answered() {
            let err = within(receiver.recv()).await.unwrap_err();
            assert_eq!(
                FailureKind::classify(&err),
                Some(fault.expected_kind()),
                "{fault}"
            );
            let closed = within(receiver.recv()).await.unwrap_err();
            assert_eq!(closed.name(), "ConnectionClosed", "{fault}: {closed:?}");
        } else {
            Client::reunite(sender, receiver)
                .and_then(Client::reset)
                .unwrap();
        }
    }
    let summary = server.stop().await;
    assert_eq!(summary.frames, Fault::ALL.len() as u64, "{summary}");
    for fault in Fault::ALL {
        let n = Fault::ALL
            .iter()
            .filter(|f| f.expected_kind() == fault.expected_kind())
            .count() as u64;
        assert_eq!(
            summary.errors_of(fault.expected_kind()),
            n,
            "{fault}: {summary}"
        );
    }
}

#[tokio::test]
async fn wrong_echoes_and_error_responses_are_counted_by_kind() {
    let server = start(builder(), |request: Bytes| async move {
        match request.len() {
            // Every request of 3 bytes fails; others come back reversed.
            3 => Err(VError::builder().name("Refused").message("no").build()),
            _ => Ok(Bytes::from(
                request.iter().rev().copied().collect::<Vec<u8>>(),
            )),
        }
    })
    .await;
    let report = within(load(server.addr).connections(2).frames(5).size(3).run())
        .await
        .unwrap();
    assert_eq!(report.ok, 0);
    assert_eq!(report.answered, 10);
    assert_eq!(report.errors.get("handler_error"), Some(&10), "{report}");
    assert!(
        report.first_errors["handler_error"].contains("no"),
        "{report}"
    );
    assert!(!report.is_clean());

    let report = within(load(server.addr).connections(1).frames(4).size(32).run())
        .await
        .unwrap();
    assert_eq!(report.errors.get("mismatch"), Some(&4), "{report}");
    let failure = report.failure().expect("a run with mismatches failed");
    assert_eq!(failure.name(), "LoadFailed");
    assert!(format!("{failure:?}").contains("mismatch"), "{failure:?}");
    server.stop().await;
}

#[tokio::test]
async fn a_server_that_closes_mid_run_leaves_the_rest_unanswered() {
    // A slow handler keeps the run going; the server stops under it, cutting
    // the connections off at its shutdown deadline.
    let server = start(
        builder().shutdown_deadline(Duration::from_millis(200)),
        |request: Bytes| async move {
            tokio::time::sleep(Duration::from_millis(2)).await;
            Ok::<_, VError>(request)
        },
    )
    .await;
    let stop = server.stop.clone();
    let run = tokio::spawn(
        load(server.addr)
            .connections(2)
            .frames(100_000)
            .window(4)
            .run(),
    );
    // Stopped mid-run: once some frames are answered.
    server.wait_for_stats(|now| now.frames >= 8).await;
    stop.cancel();
    let report = within(run).await.unwrap().unwrap();
    assert!(report.ok > 0, "{report}");
    assert!(report.unanswered > 0, "{report}");
    assert!(report.error_count() >= 1, "{report}");
    assert!(!report.is_clean());
    server.stop().await;
}

#[tokio::test]
async fn settings_out_of_range_and_a_missing_server_are_errors() {
    let addr = "127.0.0.1:9".parse().unwrap();
    for (load, setting) in [
        (Load::new(addr).connections(0), "connections"),
        (Load::new(addr).window(0), "window"),
        (Load::new(addr).size(2000).max_frame_len(1000), "size"),
        (
            Load::new(addr).connections(10).frames(u64::MAX / 2),
            "requests",
        ),
    ] {
        let err = load.run().await.unwrap_err();
        assert_eq!(err.name(), "ConfigError");
        assert!(err.own_info().contains_key(setting), "{err:?}");
    }

    let free = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let err = within(Load::new(free).timeout(Duration::from_secs(2)).run())
        .await
        .unwrap_err();
    assert_eq!(err.name(), "ConnectError", "{err:?}");
}

#[tokio::test]
async fn halves_reunite_only_with_their_own() {
    let server = start(builder(), echo()).await;
    let (sender_a, receiver_a) = connect_split(server.addr).await;
    let (sender_b, _) = connect_split(server.addr).await;
    let (_, receiver_c) = connect_split(server.addr).await;
    let mut client = Client::reunite(sender_a, receiver_a).unwrap();
    assert_eq!(within(client.request(b"again")).await.unwrap(), "again");
    let err = Client::reunite(sender_b, receiver_c).map(drop).unwrap_err();
    assert_eq!(err.name(), "MismatchedHalves", "{err:?}");
    drop(client);
    server.stop().await;
}

//! Connection limits, and several workers sharing one port.
#![cfg(feature = "server")]

use std::time::Duration;

use crate::support::*;
use serde_json::json;
use tokio::net::TcpListener;
use verror::server::ErrorKind;

#[tokio::test]
async fn the_connection_past_max_connections_is_answered_server_busy_and_closed() {
    let logs = Logs::capture();
    let server = start(builder().max_connections(2), echo()).await;

    let mut first = connect(server.addr).await;
    let mut second = connect(server.addr).await;
    assert_eq!(within(first.request(b"1")).await.unwrap(), "1");
    assert_eq!(within(second.request(b"2")).await.unwrap(), "2");

    // The third is told at once, without having to send anything.
    let (_sender, mut receiver) = connect_split(server.addr).await;
    let err = within(receiver.recv()).await.unwrap_err();
    let remote = remote_cause(&err);
    assert_eq!(remote.name(), "ServerBusy");
    assert_eq!(field(remote, "max_connections"), json!(2));
    assert_eq!(ErrorKind::classify(&err), Some(ErrorKind::ServerBusy));
    let closed = within(receiver.recv()).await.unwrap_err();
    assert_eq!(closed.name(), "ConnectionClosed");

    let line = logs.wait_for("server_busy").await;
    assert_eq!(line["error"]["name"], "ServerBusy", "{line}");
    assert_eq!(line["error"]["info"]["max_connections"], 2, "{line}");

    // The ones admitted are untouched; once one leaves, a newcomer is served.
    assert_eq!(within(first.request(b"still")).await.unwrap(), "still");
    drop(first);
    within(async {
        loop {
            let mut client = connect(server.addr).await;
            match client.request(b"in").await {
                Ok(answer) => break assert_eq!(answer, "in"),
                Err(err) => assert_eq!(remote_cause(&err).name(), "ServerBusy"),
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await;
    assert_eq!(within(second.request(b"2 again")).await.unwrap(), "2 again");

    drop(second);
    let summary = server.stop().await;
    assert!(summary.rejected >= 1, "{summary}");
    assert_eq!(
        summary.errors_of(ErrorKind::ServerBusy),
        summary.rejected,
        "{summary}"
    );
    assert_eq!(summary.connections, 3, "{summary}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn workers_share_one_port_with_so_reuseport() {
    const WORKERS: usize = 4;
    const CLIENTS: usize = 64;
    let server = start(builder().workers(WORKERS), echo()).await;

    let mut clients = Vec::new();
    for i in 0..CLIENTS {
        let addr = server.addr;
        clients.push(tokio::spawn(async move {
            let mut client = connect(addr).await;
            let body = format!("client {i}");
            assert_eq!(within(client.request(&body)).await.unwrap(), body);
        }));
    }
    for client in clients {
        within(client).await.unwrap();
    }

    let summary = server.stop().await;
    assert_eq!(summary.accepted_per_worker.len(), WORKERS);
    assert_eq!(
        summary.accepted_per_worker.iter().sum::<u64>(),
        CLIENTS as u64
    );
    let busy_workers = summary
        .accepted_per_worker
        .iter()
        .filter(|&&n| n > 0)
        .count();
    assert!(
        busy_workers >= 2,
        "the kernel spreads connections: {:?}",
        summary.accepted_per_worker
    );
}

#[tokio::test]
async fn binding_a_taken_port_is_a_bind_error() {
    let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = match builder()
        .addr(taken.local_addr().unwrap())
        .bind(echo())
        .await
    {
        Ok(_) => panic!("the port is taken"),
        Err(err) => err,
    };
    assert_eq!(err.name(), "BindError");
    assert!(verror::find_cause::<std::io::Error>(&err).is_some());

    let err = match builder().workers(0).bind(echo()).await {
        Ok(_) => panic!("no workers"),
        Err(err) => err,
    };
    assert_eq!(err.name(), "ConfigError");
}

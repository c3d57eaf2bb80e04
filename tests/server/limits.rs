//! Connection limits, and several workers sharing one port.
#![cfg(all(feature = "server", feature = "tracing"))]

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use crate::support::*;
use bytes::{Bytes, BytesMut};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use verror::VError;
use verror::frame::FrameCodec;
use verror::server::{FailureKind, Response, ServerBuilder};

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
    assert_eq!(FailureKind::classify(&err), Some(FailureKind::ServerBusy));
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
        summary.errors_of(FailureKind::ServerBusy),
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

/// A connection to `server` from `local`, an address of 127/8 (Linux routes all
/// of it to loopback), as if from another host.
async fn connect_from(local: &str, server: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    let local: IpAddr = local.parse().unwrap();
    socket.bind(SocketAddr::new(local, 0)).unwrap();
    within(socket.connect(server)).await.unwrap()
}

/// Sends `payload` as one frame on `stream` and reads the response, or `None`
/// when the server closes first.
async fn exchange(stream: &mut TcpStream, payload: &[u8]) -> Option<Result<Bytes, VError>> {
    // A write to a server that has closed may fail: the read below says so.
    let _ = stream.write_all(&frame(payload)).await;
    read_response(stream).await
}

/// The next response on `stream`, or `None` at the end of the stream.
async fn read_response(stream: &mut TcpStream) -> Option<Result<Bytes, VError>> {
    let mut codec = FrameCodec::with_max_frame_len(1 << 20);
    let mut buf = BytesMut::new();
    loop {
        if let Some(frame) = codec.decode(&mut buf).unwrap() {
            return Some(Response::decode(frame.freeze()).unwrap().into_result());
        }
        match within(stream.read_buf(&mut buf)).await {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

#[tokio::test]
async fn one_address_cannot_take_the_connections_of_another() {
    let logs = Logs::capture();
    // The default per-address limit: an eighth of max_connections. (A short linger:
    // the refused connection is closed after it, and the test reads the close.)
    let server = start(
        ServerBuilder::new()
            .addr("127.0.0.1:0".parse().unwrap())
            .max_connections(16)
            .linger(Duration::from_millis(100)),
        echo(),
    )
    .await;
    let mut hog = Vec::new();
    for i in 0..2 {
        let mut stream = connect_from("127.0.0.2", server.addr).await;
        let answer = exchange(&mut stream, b"mine").await;
        assert_eq!(answer.unwrap().unwrap(), "mine", "connection {i}");
        hog.push(stream);
    }
    // The third from the same address is refused, told why...
    let mut third = connect_from("127.0.0.2", server.addr).await;
    let err = read_response(&mut third).await.unwrap().unwrap_err();
    assert_eq!(err.name(), "ServerBusy", "{err:?}");
    assert_eq!(FailureKind::classify(&err), Some(FailureKind::ServerBusy));
    assert_eq!(field(&err, "max_connections_per_address"), json!(2));
    assert_eq!(
        field(&err, "peer").as_str().unwrap().split(':').next(),
        Some("127.0.0.2")
    );
    assert!(read_response(&mut third).await.is_none(), "then closed");
    // ...while other addresses are served.
    for other in ["127.0.0.3", "127.0.0.4"] {
        let mut stream = connect_from(other, server.addr).await;
        assert_eq!(
            exchange(&mut stream, b"yours").await.unwrap().unwrap(),
            "yours"
        );
    }
    assert_eq!(logs.of_kind("server_busy").len(), 1);
    drop(hog);
    let summary = server.stop().await;
    assert_eq!(summary.rejected, 1, "{summary}");
}

#[tokio::test]
async fn empty_frames_do_not_keep_a_connection_alive() {
    let idle = Duration::from_millis(300);
    let server = start(builder().idle_timeout(idle), echo()).await;
    let mut stream = connect_from("127.0.0.5", server.addr).await;
    // Keep-alives of nothing, three per idle timeout: each is answered, but
    // the connection closes once the idle timeout has passed since it opened.
    let mut ticks = tokio::time::interval(idle / 3);
    let mut answered = 0;
    // Bounded by `within`: a connection kept alive fails the test.
    within(async {
        while let Some(answer) = exchange(&mut stream, b"").await {
            assert_eq!(answer.unwrap(), Bytes::new());
            answered += 1;
            ticks.tick().await;
        }
    })
    .await;
    assert!(
        answered > 0,
        "the empty frames were answered until the close"
    );
    drop(stream);
    server.stop().await;
}

#[tokio::test]
async fn past_max_refusals_a_refused_connection_is_closed_without_an_answer() {
    let logs = Logs::capture();
    let server = start(builder().max_connections(1).max_refusals(0), echo()).await;
    let mut served = connect(server.addr).await;
    assert_eq!(within(served.request(b"in")).await.unwrap(), "in");
    // No refusal may be answered at once: the cheap close, still counted and logged.
    let (_sender, mut receiver) = connect_split(server.addr).await;
    let closed = within(receiver.recv()).await.unwrap_err();
    assert_eq!(closed.name(), "ConnectionClosed", "{closed:?}");
    assert_eq!(
        logs.wait_for("server_busy").await["error"]["name"],
        "ServerBusy"
    );
    drop(served);
    let summary = server.stop().await;
    assert_eq!(summary.rejected, 1, "{summary}");
}

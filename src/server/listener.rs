//! Listening sockets and accept loops: one per worker, all on one port with
//! `SO_REUSEPORT` when there are several.

use std::error::Error;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::{TcpListener, TcpStream};

use crate::VError;

use tracing::Instrument;

use super::conn::{Connection, answer_refused};
use super::handler::Handler;
use super::millis;
use super::report::{ConnRef, FailureKind, report};
use super::serve::Shared;

/// The first pause after a failed `accept`; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(5);
/// The longest pause between retries of a failing `accept`.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Binds `workers` listening sockets to `addr`. With more than one, every socket
/// sets `SO_REUSEPORT`; when `addr` has port 0, the first socket's port is used
/// for the rest.
pub(crate) fn bind_all(
    addr: SocketAddr,
    workers: usize,
    backlog: u32,
) -> Result<Vec<TcpListener>, VError> {
    let reuse_port = workers > 1;
    let mut listeners = Vec::with_capacity(workers);
    let mut addr = addr;
    for worker in 0..workers {
        let listener = bind_one(addr, reuse_port, backlog).map_err(|e| {
            VError::builder()
                .name("BindError")
                .info("addr", addr.to_string())
                .info("worker", worker)
                .info("workers", workers)
                .cause(e)
                .message(format_args!("cannot listen on {addr}"))
                .backtrace(false)
                .build()
        })?;
        if worker == 0 {
            addr = listener
                .local_addr()
                .map_err(|e| VError::wrap(e, "cannot read the bound address"))?;
        }
        listeners.push(listener);
    }
    Ok(listeners)
}

fn bind_one(addr: SocketAddr, reuse_port: bool, backlog: u32) -> io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    // As std and tokio do on Unix: a restarted server can bind while old
    // connections sit in TIME_WAIT.
    #[cfg(unix)]
    socket.set_reuse_address(true)?;
    if reuse_port {
        set_reuse_port(&socket)?;
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    socket.listen(i32::try_from(backlog).unwrap_or(i32::MAX))?;
    TcpListener::from_std(socket.into())
}

#[cfg(all(
    unix,
    not(any(
        target_os = "solaris",
        target_os = "illumos",
        target_os = "cygwin",
        target_os = "nuttx",
        target_os = "wasi"
    ))
))]
fn set_reuse_port(socket: &Socket) -> io::Result<()> {
    socket.set_reuse_port(true)
}

#[cfg(not(all(
    unix,
    not(any(
        target_os = "solaris",
        target_os = "illumos",
        target_os = "cygwin",
        target_os = "nuttx",
        target_os = "wasi"
    ))
)))]
fn set_reuse_port(_socket: &Socket) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "several workers need SO_REUSEPORT, which this platform does not have",
    ))
}

/// Accepts connections until the shutdown begins, handing each to its own task.
/// A failed `accept` (out of file descriptors, say) is logged and retried after
/// a pause that doubles on each failure in a row; it never stops the loop.
pub(crate) async fn accept_loop<H: Handler>(
    worker: usize,
    listener: TcpListener,
    shared: Arc<Shared<H>>,
) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let accepted = tokio::select! {
            biased;
            () = shared.shutdown.begun() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                backoff = FIRST_BACKOFF;
                admit(worker, stream, peer, &shared);
            }
            Err(err) => {
                shared.stats.count_error(FailureKind::Accept);
                log_accept_error(worker, &err, backoff);
                // A connection that died in the queue says nothing about the listener.
                if is_per_connection(&err) {
                    continue;
                }
                tokio::select! {
                    () = shared.shutdown.begun() => return,
                    () = tokio::time::sleep(backoff) => {}
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

fn log_accept_error(worker: usize, err: &io::Error, retry_in: Duration) {
    let error = err as &(dyn Error + 'static);
    let retry_ms = millis(retry_in);
    tracing::error!(
        kind = FailureKind::Accept.as_str(),
        worker,
        error,
        retry_ms,
        "accept failed"
    );
}

fn is_per_connection(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

/// Starts serving a new connection, in its own task and `tracing` span
/// (`conn_id`, `peer`), or refuses it when its address holds
/// `max_connections_per_address` or the server `max_connections` already.
fn admit<H: Handler>(worker: usize, stream: TcpStream, peer: SocketAddr, shared: &Arc<Shared<H>>) {
    let conn = ConnRef {
        conn_id: shared.next_conn_id(),
        peer,
    };
    let span = tracing::info_span!("connection", conn_id = conn.conn_id, %peer);
    // Requests and responses are small and latency-bound: no Nagle delay.
    let _ = stream.set_nodelay(true);
    let per_address = shared.config.per_address_limit();
    let Some(slot) = shared.per_address.try_take(peer.ip(), per_address) else {
        let err = busy_error(conn, Busy::Address(per_address));
        return span.in_scope(|| refuse(worker, stream, err, shared));
    };
    match Arc::clone(&shared.permits).try_acquire_owned() {
        Ok(permit) => {
            shared.stats.count_connection(worker);
            span.in_scope(|| tracing::debug!(worker, "connection accepted"));
            let connection = Connection::new(stream, conn, Arc::clone(shared));
            shared.shutdown.spawn(
                async move {
                    connection.run().await;
                    drop((permit, slot));
                }
                .instrument(span),
            );
        }
        Err(_) => {
            drop(slot);
            let err = busy_error(conn, Busy::Server(shared.config.max_connections));
            span.in_scope(|| refuse(worker, stream, err, shared));
        }
    }
}

/// Which limit refused a connection.
#[derive(Debug, Clone, Copy)]
enum Busy {
    /// `max_connections` are served.
    Server(usize),
    /// `max_connections_per_address` are served for the peer's address.
    Address(usize),
}

/// The error a refused connection is answered with.
fn busy_error(conn: ConnRef, busy: Busy) -> VError {
    let builder = conn.error(FailureKind::ServerBusy);
    match busy {
        Busy::Server(max) => builder
            .info("max_connections", max)
            .message(format_args!(
                "server busy: all {max} connections are in use; connection {} from {} refused",
                conn.conn_id, conn.peer
            ))
            .build(),
        Busy::Address(max) => builder
            .info("max_connections_per_address", max)
            .message(format_args!(
                "server busy: {max} connections from {} are in use, the most one address may hold; connection {} refused",
                conn.peer.ip(),
                conn.conn_id
            ))
            .build(),
    }
}

/// Counts and logs a refused connection, then answers it `ServerBusy` and closes
/// it, in a task; past `max_refusals` being answered at once, closes it at once.
fn refuse<H: Handler>(worker: usize, stream: TcpStream, err: VError, shared: &Arc<Shared<H>>) {
    shared.stats.count_rejected(worker);
    report(&shared.stats, FailureKind::ServerBusy, &err);
    if let Ok(permit) = Arc::clone(&shared.refusal_permits).try_acquire_owned() {
        let task_shared = Arc::clone(shared);
        shared.shutdown.spawn(
            async move {
                answer_refused(stream, err, &task_shared.config).await;
                drop(permit);
            }
            .in_current_span(),
        );
    }
}

#[cfg(all(test, feature = "tracing"))]
mod tests {
    use std::fmt::Write as _;
    use std::sync::{Arc, Mutex};

    use bytes::Bytes;
    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id};
    use tracing::{Event, Subscriber};
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::{Context, SubscriberExt};
    use tracing_subscriber::registry::LookupSpan;

    use crate::VError;
    use crate::server::{Client, ServerBuilder};

    /// `name=value ...` of the fields it visits.
    #[derive(Default)]
    struct Fields(String);

    impl Visit for Fields {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            let _ = write!(self.0, "{}={value:?} ", field.name());
        }
    }

    /// Records, for each event, its fields and those of its `connection` span.
    #[derive(Clone, Default)]
    struct Spans(Arc<Mutex<Vec<(String, String)>>>);

    impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Spans {
        fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
            let mut fields = Fields::default();
            attrs.record(&mut fields);
            if let Some(span) = ctx.span(id) {
                span.extensions_mut().insert(fields);
            }
        }

        fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
            let mut fields = Fields::default();
            event.record(&mut fields);
            let span = ctx
                .event_scope(event)
                .and_then(|mut scope| scope.find(|span| span.name() == "connection"))
                .and_then(|span| span.extensions().get::<Fields>().map(|f| f.0.clone()))
                .unwrap_or_default();
            self.0.lock().unwrap().push((fields.0, span));
        }
    }

    #[test]
    fn a_connection_logs_in_its_span_and_its_events_do_not_repeat_it() {
        let spans = Spans::default();
        let subscriber = tracing_subscriber::registry().with(spans.clone());
        let _default = tracing::subscriber::set_default(subscriber);
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(async {
                let handler = |_request: Bytes| async move {
                    Err::<Bytes, _>(VError::builder().name("Nope").message("no").build())
                };
                let server = ServerBuilder::new()
                    .addr("127.0.0.1:0".parse().unwrap())
                    .bind(handler)
                    .await
                    .unwrap();
                let (addr, stop) = (server.local_addr(), server.shutdown_token());
                let running = tokio::spawn(server.serve());
                let mut client = Client::connect(addr).await.unwrap();
                let local = client.local_addr();
                assert!(client.request(b"x").await.is_err());
                drop(client);
                stop.cancel();
                running.await.unwrap();

                let events = spans.0.lock().unwrap().clone();
                let (fields, span) = events
                    .iter()
                    .find(|(fields, _)| fields.contains("kind=\"handler_error\""))
                    .expect("the handler's error is logged");
                assert_eq!(span, &format!("conn_id=1 peer={local} "), "{fields}");
                assert!(
                    !fields.contains("conn_id=") && !fields.contains("peer="),
                    "{fields}"
                );
            });
    }
}

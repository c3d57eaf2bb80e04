//! The `Server`: bound sockets, accept loops, and the order in which it stops.

use std::error::Error;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::VError;

use super::config::Config;
use super::handler::Handler;
use super::listener;
use super::per_address::PerAddress;
use super::report::FailureKind;
use super::shutdown::Shutdown;
use super::stats::{Stats, Summary};
use super::{deadline_after, millis};

/// A bound server, ready to serve: made by [`ServerBuilder::bind`](super::ServerBuilder::bind).
///
/// ```
/// use bytes::Bytes;
/// use verror::server::{Client, ServerBuilder};
/// use verror::VError;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), VError> {
/// let echo = |request: Bytes| async move { Ok::<_, VError>(request) };
/// let server = ServerBuilder::new().addr("127.0.0.1:0".parse().unwrap()).bind(echo).await?;
/// let addr = server.local_addr();
/// let stop = server.shutdown_token();
/// let running = tokio::spawn(server.serve());
///
/// let mut client = Client::connect(addr).await?;
/// assert_eq!(client.request(b"ping").await?, "ping");
/// drop(client);
///
/// stop.cancel(); // a graceful shutdown
/// let summary = running.await.unwrap();
/// assert_eq!((summary.connections, summary.frames), (1, 1));
/// # Ok(())
/// # }
/// ```
pub struct Server<H> {
    listeners: Vec<TcpListener>,
    local_addr: SocketAddr,
    shared: Arc<Shared<H>>,
}

/// What every task of one server shares.
pub(crate) struct Shared<H> {
    pub(crate) config: Config,
    pub(crate) handler: H,
    pub(crate) stats: Stats,
    pub(crate) shutdown: Shutdown,
    /// One permit per connection served.
    pub(crate) permits: Arc<Semaphore>,
    /// One permit per connection being refused.
    pub(crate) refusal_permits: Arc<Semaphore>,
    /// Connections served per IP address.
    pub(crate) per_address: PerAddress,
    next_conn_id: AtomicU64,
}

impl<H> Shared<H> {
    /// A new connection id: 1, 2, 3, ...
    pub(crate) fn next_conn_id(&self) -> u64 {
        self.next_conn_id.fetch_add(1, Ordering::Relaxed)
    }
}

impl<H> std::fmt::Debug for Server<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr)
            .field("workers", &self.listeners.len())
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl<H: Handler> Server<H> {
    pub(crate) fn bind(config: Config, handler: H) -> Result<Server<H>, VError> {
        config.check()?;
        let listeners = listener::bind_all(config.addr, config.workers, config.backlog)?;
        let local_addr = listeners[0]
            .local_addr()
            .map_err(|e| VError::wrap(e, "cannot read the bound address"))?;
        let shared = Shared {
            stats: Stats::new(config.workers),
            shutdown: Shutdown::new(CancellationToken::new()),
            permits: Arc::new(Semaphore::new(
                config.max_connections.min(Semaphore::MAX_PERMITS),
            )),
            refusal_permits: Arc::new(Semaphore::new(
                config.max_refusals.min(Semaphore::MAX_PERMITS),
            )),
            per_address: PerAddress::default(),
            next_conn_id: AtomicU64::new(1),
            config,
            handler,
        };
        Ok(Server {
            listeners,
            local_addr,
            shared: Arc::new(shared),
        })
    }

    /// The address the server listens on (with the port picked, if port 0 was
    /// asked for). Every worker listens on this same address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The token that shuts the server down gracefully when cancelled (from any
    /// task or thread): [`serve`](Server::serve) then returns its [`Summary`].
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shared.shutdown.trigger().clone()
    }

    /// The server's live counters.
    pub fn stats(&self) -> Stats {
        self.shared.stats.clone()
    }

    /// Serves until the [`shutdown_token`](Server::shutdown_token) is cancelled,
    /// then shuts down gracefully and returns the summary; see
    /// [`serve_until`](Server::serve_until).
    pub async fn serve(self) -> Summary {
        self.serve_until(std::future::pending()).await
    }

    /// Serves until `trigger` resolves (for example [`shutdown_signal`](super::shutdown_signal))
    /// or the [`shutdown_token`](Server::shutdown_token) is cancelled, then shuts
    /// down gracefully:
    ///
    /// 1. the accept loops stop and the listening sockets close;
    /// 2. every connection answers the frames it has received (finishing a frame
    ///    that is partly in), flushes the responses and closes;
    /// 3. at the shutdown deadline, connections still open are cut off, and their
    ///    errors gathered into one MultiError, [`Summary::shutdown_error`].
    ///
    /// The summary is logged (an `info` event, and an `error` event with the
    /// MultiError if there is one) and returned. Dropping this future also begins
    /// a shutdown, without waiting for it.
    pub async fn serve_until<F: Future<Output = ()>>(self, trigger: F) -> Summary {
        let shared = self.shared;
        let _stop_if_dropped = shared.shutdown.trigger().clone().drop_guard();
        tracing::info!(addr = %self.local_addr, workers = self.listeners.len(), "server listening");

        let mut accept_loops = JoinSet::new();
        for (worker, listener) in self.listeners.into_iter().enumerate() {
            accept_loops.spawn(listener::accept_loop(worker, listener, Arc::clone(&shared)));
        }
        tokio::select! {
            () = trigger => {}
            () = shared.shutdown.begun() => {}
        }
        shared.shutdown.trigger().cancel();
        let deadline = deadline_after(Instant::now(), shared.config.shutdown_deadline);
        tracing::info!(
            deadline_ms = millis(shared.config.shutdown_deadline),
            "shutdown begun"
        );

        while let Some(ended) = accept_loops.join_next().await {
            if let Err(err) = ended {
                let error = &err as &(dyn Error + 'static);
                let kind = FailureKind::Accept;
                tracing::error!(kind = kind.as_str(), error, "an accept loop failed");
            }
        }
        let cut_off = shared.shutdown.finish(deadline).await;

        let mut summary = shared.stats.snapshot();
        summary.shutdown_error = cut_off;
        log_summary(&summary);
        summary
    }
}

fn log_summary(summary: &Summary) {
    tracing::info!(
        connections = summary.connections,
        rejected = summary.rejected,
        frames = summary.frames,
        errors = summary.error_count(),
        elapsed_ms = millis(summary.elapsed),
        "server stopped: {summary}"
    );
    if let Some(err) = &summary.shutdown_error {
        let error = err as &(dyn Error + 'static);
        tracing::error!(
            kind = FailureKind::ShutdownDeadline.as_str(),
            open_connections = err.errors().len(),
            error,
            "connections still open at the shutdown deadline were cut off"
        );
    }
}

//! Graceful shutdown: the trigger, the tasks it waits for, the deadline, and
//! the report of what was cut off.

use std::error::Error;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

use crate::VError;
use crate::lock::lock;

use super::report::FailureKind;

/// How long tasks cut off at the deadline get to notice and report it.
const CUT_OFF_GRACE: Duration = Duration::from_millis(250);

/// The shutdown state shared by the accept loops and the connections.
///
/// Two stages, each a cancellation token: `begun` (stop accepting; connections
/// answer what they have received, flush, and close) and `deadline_passed` (what
/// is still running stops where it is and reports itself cut off).
///
/// The connection tasks are counted as mini-redis counts them: each holds a clone
/// of one channel's sender, which it drops when it ends (returned, panicked or
/// aborted alike), and the channel reads as closed once the last is gone.
pub(crate) struct Shutdown {
    begun: CancellationToken,
    deadline_passed: CancellationToken,
    /// The sender every task holds a clone of; taken by [`Shutdown::finish`].
    running: Mutex<Option<mpsc::Sender<()>>>,
    /// Closed when every task has ended (nothing is ever sent on it).
    all_ended: Mutex<Option<mpsc::Receiver<()>>>,
    cut_off: Mutex<Vec<VError>>,
}

impl Shutdown {
    /// A shutdown that begins when `trigger` is cancelled.
    pub(crate) fn new(trigger: CancellationToken) -> Shutdown {
        let (running, all_ended) = mpsc::channel(1);
        Shutdown {
            begun: trigger,
            deadline_passed: CancellationToken::new(),
            running: Mutex::new(Some(running)),
            all_ended: Mutex::new(Some(all_ended)),
            cut_off: Mutex::new(Vec::new()),
        }
    }

    /// The token that begins the shutdown when cancelled.
    pub(crate) fn trigger(&self) -> &CancellationToken {
        &self.begun
    }

    /// Resolves once the shutdown has begun.
    pub(crate) fn begun(&self) -> WaitForCancellationFuture<'_> {
        self.begun.cancelled()
    }

    /// Whether the shutdown has begun.
    pub(crate) fn has_begun(&self) -> bool {
        self.begun.is_cancelled()
    }

    /// Resolves once the deadline has passed.
    pub(crate) fn deadline_passed(&self) -> WaitForCancellationFuture<'_> {
        self.deadline_passed.cancelled()
    }

    /// Runs a connection's task; the shutdown waits for it (if it started before
    /// [`Shutdown::finish`]).
    pub(crate) fn spawn<F: Future<Output = ()> + Send + 'static>(&self, task: F) {
        let running = lock(&self.running).clone();
        tokio::spawn(async move {
            // Dropped with the task, however it ends.
            let _running = running;
            task.await;
        });
    }

    /// Records the error of a connection cut off at the deadline.
    pub(crate) fn cut_off(&self, err: VError) {
        lock(&self.cut_off).push(err);
    }

    /// Waits for every task until `deadline`; then tells the rest to stop and
    /// gathers their errors into one MultiError (`None` if all finished in time).
    /// Call it once the accept loops have stopped, so no task starts after it.
    pub(crate) async fn finish(&self, deadline: Instant) -> Option<VError> {
        drop(lock(&self.running).take());
        let all_ended = lock(&self.all_ended).take();
        if let Some(mut all_ended) = all_ended
            && tokio::time::timeout_at(deadline, all_ended.recv())
                .await
                .is_err()
        {
            self.deadline_passed.cancel();
            // A task stuck in blocking code is left behind; its error is lost.
            let _ = tokio::time::timeout(CUT_OFF_GRACE, all_ended.recv()).await;
        }
        let errors = std::mem::take(&mut *lock(&self.cut_off));
        // The children say what was cut off; a backtrace of this task would not.
        (!errors.is_empty()).then(|| VError::builder().errors(errors).backtrace(false).build())
    }
}

/// Resolves when the process receives SIGINT (Ctrl-C) or SIGTERM (Ctrl-C only,
/// off Unix): the usual trigger for [`Server::serve_until`](super::Server::serve_until).
///
/// If the signal handlers cannot be installed, the failure is logged and the
/// future never resolves (the server then stops only when its
/// [`shutdown_token`](super::Server::shutdown_token) is cancelled).
///
/// ```no_run
/// # async fn run() -> Result<(), verror::VError> {
/// use verror::server::{shutdown_signal, ServerBuilder};
///
/// let echo = |request: bytes::Bytes| async move { Ok::<_, verror::VError>(request) };
/// let server = ServerBuilder::new().bind(echo).await?;
/// let summary = server.serve_until(shutdown_signal()).await;
/// println!("{summary}");
/// # Ok(())
/// # }
/// ```
pub async fn shutdown_signal() {
    match wait_for_signal().await {
        Ok(name) => tracing::info!(signal = name, "shutting down"),
        Err(err) => {
            let error = &err as &(dyn Error + 'static);
            let kind = FailureKind::Signal;
            tracing::error!(kind = kind.as_str(), error, "{}", kind.log_message());
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(unix)]
async fn wait_for_signal() -> std::io::Result<&'static str> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(tokio::select! {
        _ = interrupt.recv() => "SIGINT",
        _ = terminate.recv() => "SIGTERM",
    })
}

#[cfg(not(unix))]
async fn wait_for_signal() -> std::io::Result<&'static str> {
    tokio::signal::ctrl_c().await?;
    Ok("Ctrl-C")
}

//! The `Handler` abstraction, and running one so that its panics and delays stay
//! its own.

use std::any::Any;
use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;

use crate::VError;
use crate::human::HumanDuration;

use super::millis;
use super::report::{ConnRef, FailureKind};

/// What the server does with each request: an async function from the request's
/// payload to the response body, or to an error that goes back to the client as
/// its whole chain.
///
/// Any `Fn(Bytes) -> impl Future<Output = Result<Bytes, VError>>` closure is a
/// handler, and so is any type that implements this trait (with an `async fn`).
/// The server guards every call: a handler that panics answers with a
/// `HandlerPanic` error, one that runs past the handler timeout with a
/// `HandlerTimeout` error, and in both cases the connection and the server carry
/// on. Requests on one connection are handled one at a time, in order; different
/// connections run concurrently.
///
/// ```
/// use bytes::Bytes;
/// use verror::server::Handler;
/// use verror::{ResultExt, VError};
///
/// // A closure...
/// let upper = |request: Bytes| async move { Ok::<_, VError>(Bytes::from(request.to_ascii_uppercase())) };
///
/// // ...or a type.
/// struct Add;
/// impl Handler for Add {
///     async fn call(&self, request: Bytes) -> Result<Bytes, VError> {
///         let text = std::str::from_utf8(&request).context("the request is not UTF-8")?;
///         let sum = text
///             .split('+')
///             .map(|n| n.trim().parse::<i64>().with_context(|| format!("bad number {n:?}")))
///             .sum::<Result<i64, VError>>()?;
///         Ok(Bytes::from(sum.to_string()))
///     }
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// assert_eq!(upper.call(Bytes::from("hi")).await?, "HI");
/// assert_eq!(Add.call(Bytes::from("1 + 2")).await?, "3");
/// let err = Add.call(Bytes::from("1 + x")).await.unwrap_err();
/// assert_eq!(format!("{err:#}"), r#"bad number " x": invalid digit found in string"#);
/// # Ok::<(), VError>(())
/// # }).unwrap();
/// ```
pub trait Handler: Send + Sync + 'static {
    /// Answers one request.
    fn call(&self, request: Bytes) -> impl Future<Output = Result<Bytes, VError>> + Send;
}

impl<F, Fut> Handler for F
where
    F: Fn(Bytes) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Bytes, VError>> + Send,
{
    fn call(&self, request: Bytes) -> impl Future<Output = Result<Bytes, VError>> + Send {
        self(request)
    }
}

/// How one guarded handler call ended.
pub(crate) enum CallOutcome {
    /// The handler answered, with a body or with its error.
    Answered(Result<Bytes, VError>),
    /// The handler panicked, with this message.
    Panicked(String),
    /// The handler did not answer in time.
    TimedOut,
}

impl CallOutcome {
    /// The response body, or the error to answer with and its kind. Panics and
    /// timeouts become `HandlerPanic` and `HandlerTimeout` errors that say which
    /// request of which connection.
    pub(crate) fn into_result(
        self,
        conn: ConnRef,
        frame_index: u64,
        timeout: Duration,
    ) -> Result<Bytes, (FailureKind, VError)> {
        let error = |kind| conn.error(kind).info("frame_index", frame_index);
        match self {
            CallOutcome::Answered(Ok(body)) => Ok(body),
            CallOutcome::Answered(Err(err)) => Err((FailureKind::HandlerError, err)),
            // The panic's text is a cause the message hides: internals stay in the
            // log, out of the public view a client gets.
            CallOutcome::Panicked(message) => Err((
                FailureKind::HandlerPanic,
                error(FailureKind::HandlerPanic)
                    .cause(
                        VError::builder()
                            .name("Panic")
                            .message(message)
                            .backtrace(false)
                            .build(),
                    )
                    .skip_cause_message()
                    .message(format_args!(
                        "the handler panicked on frame {frame_index} of connection {}",
                        conn.conn_id
                    ))
                    .build(),
            )),
            CallOutcome::TimedOut => Err((
                FailureKind::HandlerTimeout,
                error(FailureKind::HandlerTimeout)
                    .info("timeout_ms", millis(timeout))
                    .message(format_args!(
                        "the handler did not answer frame {frame_index} of connection {} within {}",
                        conn.conn_id,
                        HumanDuration(timeout)
                    ))
                    .build(),
            )),
        }
    }
}

/// Calls `handler` on `request`, catching a panic (when the future is made or
/// while it is polled) and giving up after `timeout`. The handler runs on the
/// caller's task: no spawn, no allocation. A handler that answers on its first
/// poll (most do) costs no timer, not even the clock read that would set one:
/// the timeout starts when the handler first has to wait.
pub(crate) async fn call_guarded<H: Handler>(
    handler: &H,
    request: Bytes,
    timeout: Duration,
) -> CallOutcome {
    let future = match catch_unwind(AssertUnwindSafe(|| handler.call(request))) {
        Ok(future) => future,
        Err(payload) => return CallOutcome::Panicked(panic_message(&*payload)),
    };
    let mut future = pin!(future);
    // `tokio::time::timeout` reads the clock and looks up the runtime's timer
    // as soon as it is made, which showed in profiles of small echoes
    // (BENCHMARKS.md). The timer is made here only once the handler has to wait.
    let mut timer = pin!(None::<tokio::time::Sleep>);
    poll_fn(|cx| {
        match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Ready(result)) => return Poll::Ready(CallOutcome::Answered(result)),
            Ok(Poll::Pending) => {}
            Err(payload) => return Poll::Ready(CallOutcome::Panicked(panic_message(&*payload))),
        }
        if timer.is_none() {
            timer.set(Some(tokio::time::sleep(timeout)));
        }
        match timer.as_mut().as_pin_mut().map(|sleep| sleep.poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(CallOutcome::TimedOut),
            _ => Poll::Pending,
        }
    })
    .await
}

/// The text a panic was raised with, owned by the error that reports it.
fn panic_message(payload: &(dyn Any + Send)) -> String {
    crate::panic_payload::text(payload).to_owned()
}

#[cfg(test)]
mod tests {
    use std::future::Future;
    use std::pin::Pin;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Context;

    use super::*;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    /// Waits once (waking itself), then answers; counts its polls.
    struct WaitOnce(Arc<AtomicUsize>);

    impl Future for WaitOnce {
        type Output = Result<Bytes, VError>;

        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
            if self.0.fetch_add(1, Ordering::Relaxed) == 0 {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            Poll::Ready(Ok(Bytes::from_static(b"done")))
        }
    }

    #[test]
    fn a_handler_that_waits_is_polled_again_only_once_woken() {
        runtime().block_on(async {
            let polls = Arc::new(AtomicUsize::new(0));
            let counted = Arc::clone(&polls);
            let handler = move |_request: Bytes| WaitOnce(Arc::clone(&counted));
            let mut call = pin!(call_guarded(&handler, Bytes::new(), Duration::from_secs(5)));
            // The first poll of the call polls the handler once, and waits.
            let first = poll_fn(|cx| Poll::Ready(call.as_mut().poll(cx))).await;
            assert!(first.is_pending());
            assert_eq!(polls.load(Ordering::Relaxed), 1);
            assert!(matches!(call.await, CallOutcome::Answered(Ok(body)) if body == "done"));
            assert_eq!(polls.load(Ordering::Relaxed), 2);
        });
    }

    #[test]
    fn a_handler_past_its_timeout_is_given_up() {
        runtime().block_on(async {
            let handler = |_request: Bytes| async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                Ok::<_, VError>(Bytes::new())
            };
            let outcome = call_guarded(&handler, Bytes::new(), Duration::from_millis(20)).await;
            assert!(matches!(outcome, CallOutcome::TimedOut));
        });
    }

    #[test]
    fn a_handler_that_answers_at_once_answers_even_with_no_time() {
        runtime().block_on(async {
            let handler = |request: Bytes| async move { Ok::<_, VError>(request) };
            let outcome = call_guarded(&handler, Bytes::from("now"), Duration::ZERO).await;
            assert!(matches!(outcome, CallOutcome::Answered(Ok(body)) if body == "now"));
        });
    }
}

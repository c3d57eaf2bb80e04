//! One connection of a load run: its echo requests, pipelined within a window
//! and checked byte for byte, then its fault.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::VError;

use super::super::report::REMOTE_ERROR;
use super::super::{Client, WRITE_BATCH};
use super::fault::Fault;
use super::latency::LatencyHistogram;
use super::report::{MISMATCH, Tally};

/// Responses counted locally before the shared progress counter is updated.
const PROGRESS_STEP: u64 = 64;

/// What every connection of a run does.
#[derive(Debug)]
pub(super) struct Plan {
    pub(super) frames: u64,
    pub(super) window: usize,
    pub(super) fault: Option<Fault>,
    /// The payload of every request, before its index is written in front.
    pub(super) pattern: Bytes,
}

/// Where the request index is written in a payload: after the first byte, which
/// stays the pattern's (never `!`, so that a server with the `verror` program's
/// handler echoes rather than runs a command).
const STAMP_AT: usize = 1;

/// The payload every request of a run starts from: `size` bytes, `0, 1, 2, ...`
/// modulo 251 (a prime, so that shifted bytes do not line up).
pub(super) fn pattern(size: usize) -> Bytes {
    (0..size).map(|i| (i % 251) as u8).collect()
}

/// Where the index of a request goes in a payload of `len` bytes.
fn stamp_range(len: usize) -> std::ops::Range<usize> {
    let start = STAMP_AT.min(len);
    start..(start + 8).min(len)
}

/// Request `index` of a connection: the pattern, with the index in (up to) 8
/// bytes after the first, so that each response can be checked for being the
/// echo of its own request, without keeping the requests.
fn write_request(index: u64, payload: &mut [u8]) {
    let range = stamp_range(payload.len());
    let n = range.len();
    payload[range].copy_from_slice(&index.to_le_bytes()[..n]);
}

/// Whether `body` is the echo of request `index`.
fn is_echo(pattern: &[u8], index: u64, body: &[u8]) -> bool {
    if body.len() != pattern.len() {
        return false;
    }
    let range = stamp_range(pattern.len());
    let stamp = index.to_le_bytes();
    body[range.clone()] == stamp[..range.len()]
        && body[..range.start] == pattern[..range.start]
        && body[range.end..] == pattern[range.end..]
}

/// What one connection saw.
#[derive(Default)]
pub(super) struct ConnectionOutcome {
    pub(super) sent: u64,
    pub(super) ok: u64,
    pub(super) answered: u64,
    pub(super) errors: Tally,
    pub(super) latency: LatencyHistogram,
    /// When the last echo response arrived.
    pub(super) finished: Option<Instant>,
    pub(super) fault_sent: bool,
    pub(super) fault_responses: Tally,
}

/// Runs one connection: `plan.frames` echo requests, at most `plan.window` in
/// flight, then the fault, if any, on the same connection. Every wait is bounded
/// by the client's timeout.
pub(super) async fn run(client: Client, plan: &Plan, progress: &AtomicU64) -> ConnectionOutcome {
    let (mut sender, mut receiver) = client.split();
    let mut outcome = ConnectionOutcome::default();
    // One timestamp per request in flight: the channel's capacity is the window.
    let (in_flight, mut sent_at) = mpsc::channel::<Instant>(plan.window.max(1));

    let mut next = 0;
    let send_all = async {
        let mut payload = plan.pattern.to_vec();
        while next < plan.frames {
            // Wait for room in the window, then fill it while it has room.
            let Ok(slot) = in_flight.reserve().await else {
                break; // the receiving side gave up
            };
            let now = Instant::now();
            write_request(next, &mut payload);
            sender.feed(&payload)?;
            slot.send(now);
            next += 1;
            while next < plan.frames && sender.buffered() < WRITE_BATCH {
                let Ok(slot) = in_flight.try_reserve() else {
                    break;
                };
                write_request(next, &mut payload);
                sender.feed(&payload)?;
                slot.send(now);
                next += 1;
            }
            sender.flush().await?;
        }
        drop(in_flight);
        Ok::<(), VError>(())
    };

    let outcome_ref = &mut outcome;
    let receive_all = async move {
        let mut unreported = 0;
        let mut broken = false;
        for index in 0..plan.frames {
            let Some(started) = sent_at.recv().await else {
                break; // the sending side stopped
            };
            let response = receiver.recv().await;
            let now = Instant::now();
            match response {
                Ok(body) => {
                    outcome_ref.latency.record(now - started);
                    outcome_ref.answered += 1;
                    if is_echo(&plan.pattern, index, &body) {
                        outcome_ref.ok += 1;
                    } else {
                        outcome_ref.errors.add_keyed(MISMATCH.to_owned(), || {
                            format!(
                                "response {index} is not the echo of its request ({} bytes back for {} sent)",
                                body.len(),
                                plan.pattern.len()
                            )
                        });
                    }
                }
                Err(err) if err.name() == REMOTE_ERROR => {
                    outcome_ref.latency.record(now - started);
                    outcome_ref.answered += 1;
                    outcome_ref.errors.add(&err);
                }
                Err(err) => {
                    // The transport failed: this connection is over.
                    outcome_ref.errors.add(&err);
                    broken = true;
                    break;
                }
            }
            outcome_ref.finished = Some(now);
            unreported += 1;
            if unreported == PROGRESS_STEP {
                progress.fetch_add(unreported, Ordering::Relaxed);
                unreported = 0;
            }
        }
        progress.fetch_add(unreported, Ordering::Relaxed);
        // Dropping the timestamps' receiver frees a sender waiting for room.
        drop(sent_at);
        (receiver, broken)
    };

    let (sent, (receiver, receive_broken)) = tokio::join!(send_all, receive_all);
    outcome.sent = next;
    let send_broken = match sent {
        Ok(()) => false,
        Err(err) => {
            // When both sides failed, the receiving side's error says it already.
            if !receive_broken {
                outcome.errors.add(&err);
            }
            true
        }
    };

    if let Some(fault) = plan.fault
        && !(send_broken || receive_broken)
        && let Ok(client) = Client::reunite(sender, receiver)
    {
        outcome.fault_sent = true;
        match fault.inject(client).await {
            Some(Ok(_body)) => outcome
                .fault_responses
                .add_keyed("ok".to_owned(), String::new),
            Some(Err(err)) => outcome.fault_responses.add(&err),
            None => {}
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_request_carries_its_index_and_is_checked_by_it() {
        for size in [0usize, 1, 3, 9, 100] {
            let pattern = pattern(size);
            let mut payload = pattern.to_vec();
            write_request(7, &mut payload);
            assert_ne!(payload.first(), Some(&b'!'));
            assert!(is_echo(&pattern, 7, &payload), "size {size}");
            if size > 1 {
                assert!(!is_echo(&pattern, 8, &payload), "size {size}");
                let mut wrong = payload.clone();
                *wrong.last_mut().unwrap() ^= 1;
                assert!(!is_echo(&pattern, 7, &wrong), "size {size}");
            }
            if size > 0 {
                assert!(!is_echo(&pattern, 7, &payload[..size - 1]), "size {size}");
            }
        }
    }
}

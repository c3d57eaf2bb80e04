//! The response format: one status byte, then the body or the error chain's JSON.

use bytes::{BufMut, Bytes, BytesMut};

use crate::frame::HEADER_LEN;
use crate::{ErrorJson, VError};

use super::report::{FailureKind, KIND_FIELD};

/// The status byte of a successful response; the body follows.
pub const STATUS_OK: u8 = 0x00;
/// The status byte of an error response; the UTF-8 JSON of the error chain
/// ([`ErrorJson`](crate::ErrorJson)) follows.
pub const STATUS_ERROR: u8 = 0x01;

/// The default cap of an error response's JSON: 64 KiB. See
/// [`ServerBuilder::max_error_len`](super::ServerBuilder::max_error_len).
pub const DEFAULT_MAX_ERROR_LEN: usize = 64 * 1024;

/// The least an error response's cap may be: room for the longest decode
/// failure (an IPv6 peer, every number at its widest), so that a peer always
/// learns why its frame was refused, whatever the request limit.
pub const MIN_ERROR_LEN: usize = 1024;

/// One response, as the server sends it and the client reads it: the payload of a
/// response frame is a status byte, [`STATUS_OK`] then the body, or
/// [`STATUS_ERROR`] then the JSON of an error chain. An ok response is at most
/// one byte longer than the request limit; an error response has its own cap
/// (`max_error_len`), independent of the request limit.
///
/// ```
/// use bytes::{Bytes, BytesMut};
/// use verror::server::Response;
/// use verror::VError;
///
/// let mut wire = BytesMut::new();
/// Response::Ok(Bytes::from_static(b"hello")).encode(1024, 4096, &mut wire)?;
/// assert_eq!(&wire[..], b"\x00\x00\x00\x06\x00hello");
///
/// let err = VError::builder().name("NotFound").info("key", 42).message("no such key").build();
/// let mut wire = BytesMut::new();
/// Response::Error(err).encode(1024, 4096, &mut wire)?;
/// let payload = wire.split_off(4).freeze(); // what the frame decoder hands out
/// match Response::decode(payload)? {
///     Response::Error(back) => {
///         assert_eq!(back.name(), "NotFound");
///         assert_eq!(back.own_info().get("key"), Some(&serde_json::json!(42)));
///         assert!(back.backtrace().is_none()); // backtraces never leave the server
///     }
///     Response::Ok(_) => unreachable!(),
/// }
/// # Ok::<(), VError>(())
/// ```
#[derive(Debug)]
pub enum Response {
    /// Success, with the body.
    Ok(Bytes),
    /// Failure, with the error chain.
    Error(VError),
}

impl Response {
    /// Appends this response as one frame to `dst`: a body of at most
    /// `max_body_len` bytes (the server's request limit: the payload, status byte
    /// included, may be one byte longer), or an error whose JSON is cut to fit
    /// `max_error_len` bytes (at least [`MIN_ERROR_LEN`]) by the size budget of
    /// [`ErrorJson::max_bytes`].
    ///
    /// An error goes out without any backtrace. A body over `max_body_len`, or an
    /// error the budget could not bring under its cap, is replaced by a short
    /// `ResponseTooLarge` error response, which is also returned as `Err` so the
    /// caller can report it.
    pub fn encode(
        self,
        max_body_len: usize,
        max_error_len: usize,
        dst: &mut BytesMut,
    ) -> Result<(), VError> {
        // The header counts the status byte too, and must fit in a u32.
        let max_body_len = max_body_len.min(MAX_PAYLOAD_LEN - 1);
        let max_error_len = max_error_len.clamp(MIN_ERROR_LEN, MAX_PAYLOAD_LEN - 1);
        let err = match self {
            Response::Ok(body) if body.len() <= max_body_len => {
                put_frame(dst, STATUS_OK, &body);
                return Ok(());
            }
            Response::Ok(body) => {
                return Err(encode_too_large(
                    "body",
                    "",
                    body.len(),
                    max_body_len,
                    max_error_len,
                    dst,
                ));
            }
            Response::Error(err) => err,
        };
        let start = dst.len();
        put_error_frame(&err, max_error_len, dst);
        let json_len = dst.len() - start - HEADER_LEN - 1;
        if json_len <= max_error_len {
            return Ok(());
        }
        dst.truncate(start);
        Err(encode_too_large(
            "error",
            err.name(),
            json_len,
            max_error_len,
            max_error_len,
            dst,
        ))
    }

    /// Reads a response payload (a frame without its header). A payload that is
    /// empty, has an unknown status byte, or an error that is not valid JSON of an
    /// error chain is an `InvalidResponse` error.
    pub fn decode(payload: Bytes) -> Result<Response, VError> {
        let protocol_error = |message: &'static str| {
            VError::builder()
                .name("InvalidResponse")
                .info("payload_len", payload.len())
                .message(message)
                .backtrace(false)
        };
        match payload.first() {
            Some(&STATUS_OK) => Ok(Response::Ok(payload.slice(1..))),
            Some(&STATUS_ERROR) => match serde_json::from_slice::<VError>(&payload[1..]) {
                Ok(err) => Ok(Response::Error(err)),
                Err(e) => Err(protocol_error(
                    "the error response is not the JSON of an error chain",
                )
                .cause(e)
                .build()),
            },
            Some(&status) => Err(protocol_error("unknown response status")
                .info("status", status)
                .build()),
            None => Err(protocol_error("empty response: no status byte").build()),
        }
    }

    /// `Ok(body)` or `Err(error)`.
    pub fn into_result(self) -> Result<Bytes, VError> {
        match self {
            Response::Ok(body) => Ok(body),
            Response::Error(err) => Err(err),
        }
    }
}

/// Writes a frame holding `status` then `body`.
fn put_frame(dst: &mut BytesMut, status: u8, body: &[u8]) {
    dst.reserve(HEADER_LEN + 1 + body.len());
    // The caller checked `body.len() < u32::MAX`: the cast is exact.
    dst.put_u32(1 + body.len() as u32);
    dst.put_u8(status);
    dst.put_slice(body);
}

/// The longest payload a 4-byte header can declare.
const MAX_PAYLOAD_LEN: usize = u32::MAX as usize;

/// Writes an error frame: the JSON, within `max_len` bytes, is written in place,
/// then its length is patched into the header.
fn put_error_frame(err: &VError, max_len: usize, dst: &mut BytesMut) {
    let start = dst.len();
    dst.put_u32(0);
    dst.put_u8(STATUS_ERROR);
    // Backtraces never leave the server, and are never resolved to be sent.
    ErrorJson::new(err)
        .without_backtraces()
        .max_bytes(max_len)
        .write_into(dst);
    let len = u32::try_from(dst.len() - start - HEADER_LEN).unwrap_or(u32::MAX);
    dst[start..start + HEADER_LEN].copy_from_slice(&len.to_be_bytes());
}

/// Writes the short error that stands in for a response too large to send, and
/// returns it.
fn encode_too_large(
    what: &'static str,
    error_name: &str,
    len: usize,
    limit: usize,
    max_error_len: usize,
    dst: &mut BytesMut,
) -> VError {
    let kind = FailureKind::ResponseTooLarge;
    let mut builder = VError::builder()
        .name(kind.error_name().unwrap_or_default())
        .info(KIND_FIELD, kind.as_str())
        .message(format_args!(
            "the response {what} of {len} bytes exceeds the limit of {limit}"
        ))
        .info("len", len)
        .info("limit", limit);
    if !error_name.is_empty() {
        builder = builder.info("error_name", error_name);
    }
    let err = builder.backtrace(false).build();
    put_error_frame(&err, max_error_len, dst);
    err
}

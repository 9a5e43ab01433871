//! The error type of the transport seam shared by the blocking and async adapters.

use std::fmt;

pub use crate::checkout::TransportFailure;

/// The largest response body a transport reads (Klarna's bodies are small; an order with 1000
/// lines is under 1 MiB). A longer body is a transport failure with an unknown outcome, not a
/// truncated answer.
pub const MAX_RESPONSE_BODY: u64 = 10 * 1024 * 1024;

/// At most this much of a response buffer is reserved on the strength of its
/// `Content-Length` (the peer's word); a longer body grows the buffer as it arrives.
pub const PREALLOCATE_RESPONSE_BODY: u64 = 64 * 1024;

/// An empty buffer for a response body of `content_length` bytes (when announced), so it is
/// read without growing: sized to the announced length, at most
/// [`PREALLOCATE_RESPONSE_BODY`].
pub fn response_buffer(content_length: Option<u64>) -> Vec<u8> {
    let reserve = content_length.unwrap_or(0).min(PREALLOCATE_RESPONSE_BODY);
    Vec::with_capacity(usize::try_from(reserve).unwrap_or(0))
}

/// A request produced no response.
///
/// `Display` and `Debug` show the message through the crate's message sanitizer: a transport's
/// error may name the URL (whose path holds the authorization token on place-order).
pub struct TransportError {
    /// Whether the request may have reached Klarna.
    pub failure: TransportFailure,
    /// What happened (never request content).
    pub message: String,
}

impl fmt::Debug for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransportError")
            .field("failure", &self.failure)
            .field("message", &crate::wire::sanitize(&self.message))
            .finish()
    }
}

impl TransportError {
    /// The request surely never left.
    pub fn not_sent(message: impl Into<String>) -> Self {
        Self {
            failure: TransportFailure::NotSent,
            message: message.into(),
        }
    }

    /// The request may have been processed.
    pub fn outcome_unknown(message: impl Into<String>) -> Self {
        Self {
            failure: TransportFailure::OutcomeUnknown,
            message: message.into(),
        }
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.failure {
            TransportFailure::NotSent => {
                write!(
                    f,
                    "request not sent: {}",
                    crate::wire::sanitize(&self.message)
                )
            }
            TransportFailure::OutcomeUnknown => write!(
                f,
                "request outcome unknown: {}",
                crate::wire::sanitize(&self.message)
            ),
        }
    }
}

impl std::error::Error for TransportError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_buffers_reserve_the_announced_length_up_to_the_bound() {
        assert!(response_buffer(Some(1_000)).capacity() >= 1_000);
        let huge = response_buffer(Some(MAX_RESPONSE_BODY));
        assert!(huge.capacity() >= 1_000 && huge.capacity() < 2 * 64 * 1024);
        assert!(response_buffer(Some(u64::MAX)).capacity() < 2 * 64 * 1024);
        assert!(response_buffer(None).is_empty());
    }
}

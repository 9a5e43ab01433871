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

/// A request produced no response.
#[derive(Debug)]
pub struct TransportError {
    /// Whether the request may have reached Klarna.
    pub failure: TransportFailure,
    /// What happened (never request content).
    pub message: String,
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
            TransportFailure::NotSent => write!(f, "request not sent: {}", self.message),
            TransportFailure::OutcomeUnknown => {
                write!(f, "request outcome unknown: {}", self.message)
            }
        }
    }
}

impl std::error::Error for TransportError {}

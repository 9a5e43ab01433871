//! The error type of the transport seam shared by the blocking and async adapters.

use std::fmt;

pub use crate::checkout::TransportFailure;

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

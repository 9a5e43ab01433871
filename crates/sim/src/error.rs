//! Errors of the emulator's Rust API.

use std::io;

/// Starting or controlling the emulator failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// Why.
        #[source]
        source: io::Error,
    },
    /// The background runtime or its thread could not be started.
    #[error("cannot start the emulator's runtime: {0}")]
    Runtime(#[source] io::Error),
    /// The configuration is not usable (e.g. an unknown payment method category).
    #[error("invalid emulator configuration: {0}")]
    Config(String),
    /// A fault names an operation the emulator does not have, or asks for nothing.
    #[error("invalid fault: {0}")]
    Fault(String),
}

/// A consumer action on the hosted page could not be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConsumerError {
    /// No such HPP session, or it has expired (the page shows "not found").
    #[error("HPP session not found or expired")]
    NotFound,
    /// The session is in a final status (COMPLETED, CANCELLED, DISABLED); nothing more can happen.
    #[error("HPP session is {status}; no further consumer action is possible")]
    Final {
        /// The final status.
        status: String,
    },
    /// The chosen payment method category is not offered on this session.
    #[error("payment method category {category} is not offered on this session")]
    CategoryNotOffered {
        /// The category asked for.
        category: String,
    },
    /// The KP session behind the page is gone (expired) or already completed.
    #[error("the payment session behind this page is {0}")]
    PaymentSession(&'static str),
}

impl ConsumerError {
    pub(crate) fn http_status(&self) -> u16 {
        match self {
            ConsumerError::NotFound => 404,
            ConsumerError::CategoryNotOffered { .. } => 400,
            ConsumerError::Final { .. } | ConsumerError::PaymentSession(_) => 409,
        }
    }
}

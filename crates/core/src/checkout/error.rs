//! Errors of the checkout's inputs and commands: misuse, never Klarna's answers (those are events).

use super::{Deadline, RequestId, State};
use crate::error::{Error, ValidationError};

/// A command was refused; nothing was emitted and nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The checkout is in a terminal state.
    #[error("the checkout is {state:?}: it takes no more commands")]
    Terminal {
        /// The terminal state.
        state: State,
    },
    /// The command does not apply in this state.
    #[error("`{command}` is not possible while the checkout is {state:?}")]
    NotAllowed {
        /// The command.
        command: &'static str,
        /// The current state.
        state: State,
    },
    /// The same command is already under way (place-order is single-flight).
    #[error("`{command}` is already in progress")]
    InProgress {
        /// The command.
        command: &'static str,
    },
    /// The object the command needs has expired.
    #[error("the {deadline:?} deadline has passed")]
    Expired {
        /// Which deadline.
        deadline: Deadline,
    },
    /// The amount exceeds what remains (authorized for captures, captured for refunds).
    #[error("amount {requested} exceeds the remaining {remaining}")]
    ExceedsRemaining {
        /// Asked for.
        requested: i64,
        /// What remains.
        remaining: i64,
    },
    /// The capture is not one the checkout knows of (from a capture's answer or an order read).
    #[error("no capture {capture_id:?} is known on this order")]
    UnknownCapture {
        /// The capture id asked for.
        capture_id: String,
    },
    /// An argument breaks one of Klarna's rules.
    #[error(transparent)]
    Invalid(#[from] ValidationError),
}

/// An input (response, callback, redirect) was refused; the checkout is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// The response or transport error is for a request this checkout is not waiting for
    /// (stale, duplicated, or from another checkout).
    #[error("no request {0:?} is in flight")]
    UnknownRequest(RequestId),
    /// The callback URL carries no secret, or the wrong one.
    #[error("status callback without the right secret")]
    BadCallbackSecret,
    /// The callback body is not `{event_id, session}`.
    #[error("malformed status callback: {0}")]
    MalformedCallback(String),
    /// The callback or redirect names another HPP session than this checkout's.
    #[error("the session id does not match this checkout's HPP session")]
    WrongSession,
    /// The redirect URL matches none of the merchant URL templates.
    #[error("the redirect URL matches none of this checkout's merchant URLs")]
    UnknownRedirect,
    /// The checkout has no HPP session yet.
    #[error("the checkout has no HPP session yet")]
    NoSession,
}

impl From<Error> for CommandError {
    fn from(e: Error) -> Self {
        match e {
            Error::Validation(v) => CommandError::Invalid(v),
            other => CommandError::Invalid(ValidationError::new(
                "request",
                crate::error::ValidationProblem::Pattern {
                    expected: static_reason(&other),
                },
            )),
        }
    }
}

fn static_reason(e: &Error) -> &'static str {
    match e {
        Error::Config(_) => "a valid configuration",
        Error::Template(_) => "valid merchant URL templates",
        _ => "a buildable request",
    }
}

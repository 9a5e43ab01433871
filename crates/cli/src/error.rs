//! What a command can fail with, and the exit code of each class (docs/cli.md lists them).
//!
//! No variant carries a password, a token, a callback secret or a body value: Klarna's errors are
//! shown through the core's [`ApiError`] `Display`, which sanitizes every text from the body.

use klarna_hpp_blocking::TransportError;
use klarna_hpp_core::checkout::TransportFailure;
use klarna_hpp_core::{ApiError, Error as CoreError};

/// Exit codes. `2` is also what clap uses for a command line it cannot parse.
pub(crate) mod code {
    /// Anything else: a file that cannot be written, the terminal gone.
    pub(crate) const OTHER: u8 = 1;
    /// The command line or the configuration (credentials, profile, base URL) is unusable.
    pub(crate) const USAGE: u8 = 2;
    /// The input breaks a rule and nothing was sent: a bad cart file, an invalid amount or key.
    pub(crate) const VALIDATION: u8 = 3;
    /// Klarna refused the request (a 4xx answer): nothing happened.
    pub(crate) const REFUSED: u8 = 4;
    /// No usable answer: not sent (connection refused), or the outcome is unknown (5xx, timeout,
    /// connection dropped, an undecodable 2xx body). A write may have happened.
    pub(crate) const UNKNOWN: u8 = 5;
    /// The operator answered no at the confirmation prompt; nothing was sent.
    pub(crate) const DECLINED: u8 = 6;
    /// `session watch`: the consumer cancelled (CANCELLED).
    pub(crate) const WATCH_CANCELLED: u8 = 10;
    /// `session watch`: the payment was refused (FAILED; the consumer may still retry).
    pub(crate) const WATCH_FAILED: u8 = 11;
    /// `session watch`: the merchant disabled the session (DISABLED).
    pub(crate) const WATCH_DISABLED: u8 = 12;
    /// `session watch`: the session expired before it completed.
    pub(crate) const WATCH_EXPIRED: u8 = 13;
    /// `session watch`: interrupted (Ctrl-C or SIGTERM), as shells report SIGINT.
    pub(crate) const INTERRUPTED: u8 = 130;
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum CliError {
    /// Unusable command line or configuration.
    #[error("{0}")]
    Usage(String),
    /// Input refused before anything was sent.
    #[error("{0}")]
    Validation(String),
    /// Klarna answered 4xx.
    #[error("Klarna refused the request: {0}")]
    Refused(Box<ApiError>),
    /// Klarna answered with a status that is not a refusal (5xx, …): the outcome is unknown.
    #[error("no usable answer, the outcome is unknown: {0}{1}")]
    UnknownAnswer(Box<ApiError>, String),
    /// A 2xx answer whose body does not decode.
    #[error("Klarna's answer could not be read: {0}")]
    Undecodable(String),
    /// No answer at all.
    #[error("{0}{1}")]
    Transport(TransportError, String),
    /// No such checkout in the database (`checkouts show`).
    #[error("{0}")]
    NotFound(String),
    /// The operator said no.
    #[error("not confirmed; nothing was sent")]
    Declined,
    /// `session watch` ended without COMPLETED (the message was already shown).
    #[error("{0}")]
    WatchEnded(&'static str, u8),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

impl CliError {
    /// Maps a core error. `unknown_hint` is added when the outcome of a write is unknown.
    pub(crate) fn from_core(error: CoreError, unknown_hint: &str) -> Self {
        match error {
            CoreError::Config(e) => CliError::Usage(e.to_string()),
            CoreError::Validation(e) => CliError::Validation(e.to_string()),
            CoreError::Template(e) => CliError::Validation(e.to_string()),
            CoreError::Decode(e) => CliError::Undecodable(e.to_string()),
            CoreError::Api(e) if e.status.is_client_error() => CliError::Refused(Box::new(e)),
            CoreError::Api(e) => CliError::UnknownAnswer(Box::new(e), unknown_hint.to_owned()),
            other => CliError::Other(other.to_string()),
        }
    }

    /// Maps a transport failure; the hint is added only when the request may have arrived.
    pub(crate) fn from_transport(error: TransportError, unknown_hint: &str) -> Self {
        let hint = match error.failure {
            TransportFailure::NotSent => String::new(),
            _ => unknown_hint.to_owned(),
        };
        CliError::Transport(error, hint)
    }

    /// The process exit code of this class of failure.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => code::USAGE,
            CliError::Validation(_) => code::VALIDATION,
            CliError::Refused(_) | CliError::NotFound(_) => code::REFUSED,
            CliError::UnknownAnswer(..) | CliError::Undecodable(_) | CliError::Transport(..) => {
                code::UNKNOWN
            }
            CliError::Declined => code::DECLINED,
            CliError::WatchEnded(_, code) => *code,
            CliError::Other(_) => code::OTHER,
        }
    }

    /// Prints the error on stderr.
    pub(crate) fn report(&self) {
        eprintln!("klarna-hpp: {self}");
    }
}

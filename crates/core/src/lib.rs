//! # klarna-hpp-core
//!
//! The sans-IO core of klarna-hpp: everything a merchant's backend needs to take Klarna Payments
//! through Klarna's Hosted Payment Page (HPP), as pure data and pure functions.
//!
//! (Crate documentation is being written.)

pub mod config;
pub mod error;
pub mod hpp;
pub mod kp;
pub mod model;
pub mod om;
mod open_enum;
pub mod operation;
pub mod secret;
pub mod template;
pub mod time;
pub mod validate;
mod wire;

pub use http;

pub use crate::config::{Api, BaseUrl, ConfigError, Credentials, Environment, Region, UserAgent};
pub use crate::error::{ApiError, DecodeError, Error, ValidationError, ValidationProblem};
pub use crate::operation::Operation;
pub use crate::secret::AuthorizationToken;
pub use crate::time::Timestamp;
pub use crate::wire::IDEMPOTENCY_KEY_HEADER;

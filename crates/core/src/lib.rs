//! # klarna-hpp-core
//!
//! The sans-IO core of klarna-hpp: everything a merchant's backend needs to take Klarna Payments
//! through Klarna's Hosted Payment Page (HPP), as pure data and pure functions. It builds
//! `http::Request`s and decodes `http::Response`s; it never opens a socket, reads a clock, an
//! environment variable or a random number generator.
//!
//! **In scope**
//! - Every operation of the three APIs an HPP integration touches, as data ([`Operation`]):
//!   [`kp`] (Klarna Payments v1 sessions, orders, authorizations, customer tokens), [`hpp`]
//!   (sessions, distribution, disable, the status callback body) and [`om`] (Order Management:
//!   orders, captures, refunds, authorization changes).
//! - Typed request bodies with Klarna's rules checked before sending ([`validate`]; what is
//!   absent is missing, never a zero), decoding of what Klarna really sends (unknown fields
//!   ignored, unknown enum values kept, fields the schema does not require optional, an
//!   unreadable list item kept raw as [`om::Item::Raw`], while amounts stay strict and required),
//!   typed errors ([`Error`]).
//! - Merchant URL templates: parse, check, render and match `{{placeholder}}` URLs ([`template`]).
//! - The purchase lifecycle as a state machine ([`checkout::Checkout`]): KP session → HPP session
//!   → consumer → order → capture, with deadlines, polling, retries, exactly-once money movement
//!   and snapshots.
//!
//! **Out of scope**: sending requests (use `klarna-hpp-blocking` or `klarna-hpp-async`, or any
//! HTTP client), web frameworks, persistence (a checkout serializes; where it goes is yours),
//! Klarna Checkout (KCO) and the in-store APIs.
//!
//! ## Building requests
//!
//! ```
//! use klarna_hpp_core::hpp::{self, MerchantUrls, Options, PlaceOrderMode};
//! use klarna_hpp_core::kp::{self, SessionCreate};
//! use klarna_hpp_core::model::OrderLine;
//! use klarna_hpp_core::template::UrlKind;
//! use klarna_hpp_core::{Api, BaseUrl, Credentials, Environment, Operation, Region};
//!
//! let api = Api::new(
//!     BaseUrl::klarna(Region::Eu, Environment::Playground),
//!     Credentials::new("PK_user", "password"),
//! );
//!
//! // The KP session: order lines are the truth, the totals are computed from them.
//! let lines = vec![OrderLine::new("Running shoes", 1, 12_500).tax_rate(2500)];
//! let session = SessionCreate::new("SE", "SEK", lines);
//! let request = kp::CreateSession::new(session).to_request(&api)?;
//! assert_eq!(request.method(), "POST");
//! assert_eq!(request.uri(), "https://api.playground.klarna.com/payments/v1/sessions");
//!
//! // The HPP session hosting it, once Klarna answered with the KP session id.
//! let mut body = hpp::SessionCreationRequest::new(
//!     "https://api.playground.klarna.com/payments/v1/sessions/0b1d9815-165e-42e2-8867-35bc03789e00",
//! );
//! body.merchant_urls = Some(MerchantUrls::default().with(
//!     UrlKind::Success,
//!     "https://shop.example/ok?sid={{session_id}}&token={{authorization_token}}",
//! ));
//! body.options = Some(Options::default().with_place_order_mode(PlaceOrderMode::None));
//! let request = hpp::CreateSession::new(body).to_request(&api)?;
//! assert_eq!(request.uri(), "https://api.playground.klarna.com/hpp/v1/sessions");
//! assert_eq!(request.headers()["content-type"], "application/json");
//! # Ok::<(), klarna_hpp_core::Error>(())
//! ```
//!
//! ## A whole checkout, with canned responses
//!
//! ```
//! use klarna_hpp_core::checkout::{Checkout, CheckoutConfig, Event, State};
//! use klarna_hpp_core::kp::SessionCreate;
//! use klarna_hpp_core::model::OrderLine;
//! use klarna_hpp_core::http::Response;
//! use klarna_hpp_core::{Api, BaseUrl, Credentials, Timestamp};
//!
//! fn reply(status: u16, body: &str) -> Response<Vec<u8>> {
//!     let mut r = Response::new(body.as_bytes().to_vec());
//!     *r.status_mut() = status.try_into().unwrap();
//!     r
//! }
//!
//! let api = Api::new(BaseUrl::custom("http://127.0.0.1:8080")?, Credentials::new("user", "pass"));
//! let session = SessionCreate::new("SE", "SEK", vec![OrderLine::new("Book", 1, 10_000).tax_rate(600)]);
//! let config = CheckoutConfig::new("order-1", "seed-from-your-rng-32-bytes.....", session);
//! let t0 = Timestamp::parse("2026-11-26T12:00:00Z").unwrap();
//! let mut checkout = Checkout::new(api, config, t0)?;
//!
//! // 1. The KP session.
//! let (id, req) = checkout.poll_request().unwrap();
//! assert_eq!(req.uri().path(), "/payments/v1/sessions");
//! checkout.handle_response(id, reply(200, r#"{"session_id":"kp-1","client_token":"x"}"#), t0)?;
//!
//! // 2. The HPP session: the consumer link is ready.
//! let (id, req) = checkout.poll_request().unwrap();
//! assert_eq!(req.uri().path(), "/hpp/v1/sessions");
//! checkout.handle_response(id, reply(201, r#"{"session_id":"hpp-1",
//!     "redirect_url":"https://pay.example/hpp-1","expires_at":"2026-11-28T11:00:00Z"}"#), t0)?;
//! assert!(matches!(checkout.poll_event(), Some(Event::KpSessionCreated { .. })));
//! let Some(Event::ConsumerLinkReady(link)) = checkout.poll_event() else { panic!() };
//! assert_eq!(link.redirect_url.as_deref(), Some("https://pay.example/hpp-1"));
//!
//! // 3. The consumer pays; a poll reads COMPLETED with an authorization token.
//! let t1 = checkout.poll_timeout().unwrap();
//! checkout.handle_timeout(t1);
//! let (id, req) = checkout.poll_request().unwrap();
//! assert_eq!(req.uri().path(), "/hpp/v1/sessions/hpp-1");
//! checkout.handle_response(id, reply(200, r#"{"session_id":"hpp-1","status":"COMPLETED",
//!     "authorization_token":"tok-1","updated_at":"2026-11-26T12:00:01Z"}"#), t1)?;
//! assert!(matches!(checkout.poll_event(), Some(Event::StatusChanged { .. })));
//! assert!(matches!(checkout.poll_event(), Some(Event::Authorized { .. })));
//!
//! // 4. Place the order (exactly once), then Klarna's OM order is read.
//! checkout.place_order(None, t1)?;
//! let (id, req) = checkout.poll_request().unwrap();
//! assert_eq!(req.uri().path(), "/payments/v1/authorizations/tok-1/order");
//! checkout.handle_response(id, reply(200, r#"{"order_id":"om-1","fraud_status":"ACCEPTED"}"#), t1)?;
//! assert!(matches!(checkout.poll_event(), Some(Event::OrderPlaced { .. })));
//! let (id, _) = checkout.poll_request().unwrap();
//! checkout.handle_response(id, reply(200, r#"{"order_id":"om-1","status":"AUTHORIZED",
//!     "order_amount":10000,"captured_amount":0,"refunded_amount":0,
//!     "remaining_authorized_amount":10000,"expires_at":"2026-12-24T12:00:00Z"}"#), t1)?;
//! assert!(matches!(checkout.poll_event(), Some(Event::OrderUpdated { .. })));
//!
//! // 5. Capture everything, with an idempotency key.
//! checkout.capture(None, t1)?;
//! let (id, req) = checkout.poll_request().unwrap();
//! assert!(req.headers().contains_key("klarna-idempotency-key"));
//! let mut created = reply(201, "");
//! created.headers_mut().insert("capture-id", "cap-1".parse().unwrap());
//! checkout.handle_response(id, created, t1)?;
//! assert!(matches!(checkout.poll_event(), Some(Event::Captured { amount: 10_000, .. })));
//! assert_eq!(checkout.state(), State::Captured);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Secrets and personal data
//!
//! Credentials, tokens, callback secrets, idempotency namespaces and customer data (names,
//! e-mail, phone, addresses, national ids) never appear in `Debug` or `Display`: types holding
//! them redact by hand, URLs and templates print only their origin and plain path, requests
//! print only their method and path with ids named, and texts from Klarna's answers are
//! sanitized (`tests/redaction.rs` walks every public type with planted secrets). Snapshots are
//! the exception: they hold all of it in clear, see
//! [`Checkout::snapshot`](checkout::Checkout::snapshot) and
//! [`Checkout::snapshot_sealed`](checkout::Checkout::snapshot_sealed).
//!
//! ## Panic policy
//!
//! Errors are bad input; panics are our bugs. No function of this crate panics on any input:
//! every `unwrap`-like call in library code carries a comment saying why it holds, and the fuzz
//! targets in `fuzz/` (whose corpora `cargo test` replays) hunt for counterexamples.

pub mod checkout;
pub mod config;
pub mod error;
pub mod hpp;
pub mod kp;
mod lenient;
pub mod model;
pub mod om;
mod open_enum;
pub mod operation;
mod redact;
pub mod secret;
pub mod template;
pub mod time;
pub mod transport;
pub mod validate;
mod wire;

pub use http;

pub use crate::config::{Api, BaseUrl, ConfigError, Credentials, Environment, Region, UserAgent};
pub use crate::error::{ApiError, DecodeError, Error, ValidationError, ValidationProblem};
pub use crate::operation::Operation;
pub use crate::secret::AuthorizationToken;
pub use crate::time::Timestamp;
pub use crate::wire::IDEMPOTENCY_KEY_HEADER;

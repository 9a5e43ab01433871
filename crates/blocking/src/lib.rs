//! # klarna-hpp-blocking
//!
//! Runs the sans-IO [`klarna_hpp_core`] over a blocking HTTP transport.
//!
//! In scope:
//! - [`Transport`]: one method from `http::Request<Vec<u8>>` to `http::Response<Vec<u8>>`,
//!   implemented for closures and (feature `ureq`, on by default) for a [`UreqTransport`] with
//!   connect and read timeouts.
//! - [`Driver`]: runs a [`Checkout`] to the next [`Event`] the merchant must act on, sleeping
//!   per `poll_timeout` through an injectable [`Clock`].
//! - [`Client`]: one-off operations (read a session, capture, refund) for any
//!   [`Operation`].
//!
//! Out of scope: async runtimes (see `klarna-hpp-async`), web frameworks (see the examples),
//! and any protocol logic: it all lives in the core. This crate is a plain loop.
//!
//! ```no_run
//! use klarna_hpp_blocking::{Driver, SystemClock, UreqTransport};
//! use klarna_hpp_core::checkout::{Checkout, CheckoutConfig, Event};
//! # fn run(api: klarna_hpp_core::Api, config: CheckoutConfig) -> Result<(), Box<dyn std::error::Error>> {
//! let driver = Driver::new(UreqTransport::default(), SystemClock);
//! let mut checkout = Checkout::new(api, config, driver.now())?;
//! while let Some(event) = driver.next_event(&mut checkout) {
//!     if let Event::ConsumerLinkReady(link) = &event {
//!         // send the consumer to link.redirect_url
//!     }
//! }
//! # Ok(()) }
//! ```

use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use klarna_hpp_core;
use klarna_hpp_core::checkout::{Checkout, Event, Output};
use klarna_hpp_core::http::{Request, Response};
pub use klarna_hpp_core::transport::TransportError;
use klarna_hpp_core::{Api, Error, Operation, Timestamp};

#[cfg(feature = "ureq")]
mod ureq_transport;
#[cfg(feature = "ureq")]
pub use ureq_transport::UreqTransport;

/// Sends one HTTP request and returns its response, blocking.
pub trait Transport {
    /// Sends `request`. Any HTTP status is a response (`Ok`); only a missing response is an error.
    fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError>;
}

impl<F> Transport for F
where
    F: Fn(Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError>,
{
    fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        self(request)
    }
}

/// The wall clock and a way to wait, injectable for tests.
pub trait Clock {
    /// The current time.
    fn now(&self) -> Timestamp;
    /// Blocks until `deadline` (returns at once when it has passed).
    fn sleep_until(&self, deadline: Timestamp);
}

/// The system clock and `std::thread::sleep`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Timestamp::from_unix_millis(millis).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    fn sleep_until(&self, deadline: Timestamp) {
        let wait = deadline.duration_since(self.now());
        if wait > Duration::ZERO {
            std::thread::sleep(wait);
        }
    }
}

/// Runs checkouts over a [`Transport`], waiting with a [`Clock`].
#[derive(Debug, Clone)]
pub struct Driver<T, C = SystemClock> {
    transport: T,
    clock: C,
}

impl<T: Transport, C: Clock> Driver<T, C> {
    /// A driver.
    pub fn new(transport: T, clock: C) -> Self {
        Self { transport, clock }
    }

    /// The clock's current time.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The clock.
    pub fn clock(&self) -> &C {
        &self.clock
    }

    /// Sends requests, feeds responses and sleeps until the checkout has an event for the
    /// merchant; `None` when the checkout has nothing more to do (terminal, or idle with no
    /// deadline).
    pub fn next_event(&self, checkout: &mut Checkout) -> Option<Event> {
        self.next_event_until(checkout, Timestamp::MAX)
    }

    /// Like [`next_event`](Self::next_event), but returns `None` instead of sleeping past
    /// `until` (for web handlers that must answer promptly).
    pub fn next_event_until(&self, checkout: &mut Checkout, until: Timestamp) -> Option<Event> {
        loop {
            match checkout.poll_output() {
                Output::Event(event) => return Some(event),
                Output::Request(id, request) => {
                    let result = self.transport.send(request);
                    let now = self.clock.now();
                    let _ = match result {
                        Ok(response) => checkout.handle_response(id, response, now),
                        Err(e) => checkout.handle_transport_error(id, e.failure, now),
                    };
                }
                Output::Timeout(at) if at <= until => {
                    self.clock.sleep_until(at);
                    checkout.handle_timeout(self.clock.now());
                }
                _ => return None,
            }
        }
    }
}

/// Why a one-off call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// No response.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// Refused before sending, Klarna's error answer, or an undecodable body.
    #[error(transparent)]
    Klarna(#[from] Error),
}

/// One-off operations: any [`Operation`] of the core, sent once.
#[derive(Debug, Clone)]
pub struct Client<T> {
    api: Api,
    transport: T,
}

impl<T: Transport> Client<T> {
    /// A client for `api` over `transport`.
    pub fn new(api: Api, transport: T) -> Self {
        Self { api, transport }
    }

    /// Builds, sends and decodes one operation. Not retried: retrying writes safely is the
    /// checkout's job (or pass an idempotency key to OM operations).
    pub fn call<O: Operation>(&self, operation: &O) -> Result<O::Output, ClientError> {
        let request = operation.to_request(&self.api)?;
        let response = self.transport.send(request)?;
        Ok(O::decode_response(&response)?)
    }
}

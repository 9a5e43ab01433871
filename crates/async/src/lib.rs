//! # klarna-hpp-async
//!
//! Runs the sans-IO [`klarna_hpp_core`] over an async HTTP transport.
//!
//! In scope:
//! - [`AsyncTransport`]: one async method from `http::Request<Vec<u8>>` to
//!   `http::Response<Vec<u8>>`, implemented for closures returning futures and (feature
//!   `reqwest`, on by default) for a [`ReqwestTransport`].
//! - [`AsyncClock`]: `now` and `sleep_until`, with a tokio implementation (feature `tokio`).
//! - [`Driver`] and [`Client`]: the same loop and one-off calls as `klarna-hpp-blocking`; the
//!   two differ by `.await` and nothing else (both loop on `Checkout::poll_output`).
//! - [`web`]: framework-neutral helpers turning the merchant's incoming redirects and status
//!   callbacks (`http` types) into the checkout's inputs.
//!
//! Out of scope: spawning, executors, web frameworks (the `web_shop` example shows axum),
//! protocol logic.

use std::future::Future;

pub use klarna_hpp_core;
use klarna_hpp_core::checkout::{Checkout, Event, Output};
use klarna_hpp_core::http::{Request, Response};
pub use klarna_hpp_core::transport::TransportError;
use klarna_hpp_core::{Api, Error, Operation, Timestamp};

#[cfg(feature = "reqwest")]
mod reqwest_transport;
pub mod web;
#[cfg(feature = "reqwest")]
pub use reqwest_transport::ReqwestTransport;

/// Sends one HTTP request and returns its response.
pub trait AsyncTransport {
    /// Sends `request`. Any HTTP status is a response (`Ok`); only a missing response is an error.
    fn send(
        &self,
        request: Request<Vec<u8>>,
    ) -> impl Future<Output = Result<Response<Vec<u8>>, TransportError>> + Send;
}

impl<F, Fut> AsyncTransport for F
where
    F: Fn(Request<Vec<u8>>) -> Fut,
    Fut: Future<Output = Result<Response<Vec<u8>>, TransportError>> + Send,
{
    fn send(
        &self,
        request: Request<Vec<u8>>,
    ) -> impl Future<Output = Result<Response<Vec<u8>>, TransportError>> + Send {
        self(request)
    }
}

/// The wall clock and a way to wait, injectable for tests.
pub trait AsyncClock {
    /// The current time.
    fn now(&self) -> Timestamp;
    /// Waits until `deadline` (at once when it has passed).
    fn sleep_until(&self, deadline: Timestamp) -> impl Future<Output = ()> + Send;
}

/// The system clock with `tokio::time::sleep`.
#[cfg(feature = "tokio")]
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioClock;

#[cfg(feature = "tokio")]
impl AsyncClock for TokioClock {
    fn now(&self) -> Timestamp {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Timestamp::from_unix_millis(millis).unwrap_or(Timestamp::UNIX_EPOCH)
    }

    fn sleep_until(&self, deadline: Timestamp) -> impl Future<Output = ()> + Send {
        let wait = deadline.duration_since(self.now());
        tokio::time::sleep(wait)
    }
}

/// Runs checkouts over an [`AsyncTransport`], waiting with an [`AsyncClock`].
#[derive(Debug, Clone)]
pub struct Driver<T, C> {
    transport: T,
    clock: C,
}

impl<T: AsyncTransport, C: AsyncClock> Driver<T, C> {
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
    /// merchant; `None` when the checkout has nothing more to do.
    pub async fn next_event(&self, checkout: &mut Checkout) -> Option<Event> {
        self.next_event_until(checkout, Timestamp::MAX).await
    }
}

impl<T: AsyncTransport, C: AsyncClock> Driver<T, C> {
    /// Like [`next_event`](Self::next_event), but returns `None` instead of sleeping past
    /// `until` (for web handlers that must answer promptly).
    pub async fn next_event_until(
        &self,
        checkout: &mut Checkout,
        until: Timestamp,
    ) -> Option<Event> {
        loop {
            match checkout.poll_output() {
                Output::Event(event) => return Some(event),
                Output::Request(id, request) => {
                    let result = self.transport.send(request).await;
                    let now = self.clock.now();
                    let _ = match result {
                        Ok(response) => checkout.handle_response(id, response, now),
                        Err(e) => checkout.handle_transport_error(id, e.failure, now),
                    };
                }
                Output::Timeout(at) if at <= until => {
                    self.clock.sleep_until(at).await;
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

impl<T: AsyncTransport> Client<T> {
    /// A client for `api` over `transport`.
    pub fn new(api: Api, transport: T) -> Self {
        Self { api, transport }
    }

    /// Builds, sends and decodes one operation (not retried).
    pub async fn call<O: Operation>(&self, operation: &O) -> Result<O::Output, ClientError> {
        let request = operation.to_request(&self.api)?;
        let response = self.transport.send(request).await?;
        Ok(O::decode_response(&response)?)
    }
}

//! # klarna-hpp-sim
//!
//! A stateful emulator of Klarna's side of a Hosted Payment Page checkout: Klarna Payments v1
//! (sessions, orders, authorizations, customer tokens), HPP v1 (sessions, disable,
//! distribution), Order Management v1 (orders, captures, refunds and the rest), the hosted
//! payment page the consumer sees, status callbacks, a controllable clock ([`ClockMode`]: frozen
//! by default in the library, real in the `klarna-hpp-sim` program) and fault injection.
//! It runs in-process on `127.0.0.1:0` for tests, or as the `klarna-hpp-sim` binary.
//!
//! It implements Klarna's behaviour from the protocol reference and Klarna's OpenAPI documents
//! independently of the client crates: request bodies are validated against Klarna's schemas
//! and rules, and answered with Klarna's status codes, headers and error bodies. Bodies are read
//! with Klarna's leniency (`null` members as absent, enum case, scalar coercions), idempotency
//! keys are scoped to operation, resource and body, money arithmetic is checked, and the server
//! bounds what a client can hold (log bytes, header-read time, connections).
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use klarna_hpp_sim::{Sim, SimConfig};
//!
//! let sim = Sim::start(SimConfig::default().with_seed(42)).await?;
//! let base = sim.base_url().to_owned();
//! // Point the Klarna client at `base` with `sim.username()` / `sim.password()`, create a KP
//! // session and an HPP session, then let the consumer pay without a browser:
//! //     let outcome = sim.consumer(&hpp_session_id).pay()?;
//! // and move time: sim.advance(std::time::Duration::from_secs(61 * 60));
//! assert!(base.starts_with("http://127.0.0.1:"));
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! ## What is served
//!
//! | path | what |
//! |---|---|
//! | `/payments/v1/…`, `/hpp/v1/…`, `/ordermanagement/v1/…` | Klarna's API (HTTP Basic) |
//! | `/hpp/pay/{id}` | the hosted payment page (`redirect_url`) |
//! | `/hpp/pay/{id}/qr` | its QR code, SVG (`qr_code_url`) |
//! | `/hpp/pay/{id}/status` | the generic page shown when the merchant gave no URL |
//! | `/_sim/…` | the control API (clock, consumer, faults, logs, reset) |
//!
//! `docs/emulator.md` in the repository describes every rule, the control API and what is not
//! emulated.
//!
//! ## HPP session statuses
//!
//! ```text
//!   WAITING ──open──▶ IN_PROGRESS ──pay──▶ COMPLETED (final)
//!                      │  ▲   ▲  ╲──decline──▶ FAILED ──open──┐
//!                      │  │   │   ╲─back/cancel▶ BACK ──open──┤
//!                      │  │   │    ╲─error──▶ ERROR ──open────┤
//!                      │  │   └───────────────────────────────┘
//!                      │  └ decline with payment_fallback (other categories offered)
//!                      └─cancel (IN_STORE/TELESALES)──▶ CANCELLED (final)
//!   any non-final ──DELETE──▶ DISABLED (final)      past expires_at: 404
//! ```

mod api;
mod callbacks;
mod clock;
mod config;
mod consumer;
mod control;
mod error;
mod faults;
mod hpp;
mod ids;
mod kp;
mod om;
mod page;
mod records;
mod rules;
mod schema;
mod server;
mod shared;
mod sim;
mod state;

use std::sync::Arc;

pub use crate::clock::ClockMode;
pub use crate::config::{SimConfig, DEFAULT_PASSWORD, DEFAULT_USERNAME};
pub use crate::consumer::ConsumerOutcome;
pub use crate::error::{ConsumerError, Error};
pub use crate::faults::Fault;
pub use crate::records::{
    CallbackAttempt, CallbackDelivery, DeliveryOutcome, RequestRecord, SentMessage,
};
pub use crate::sim::{Consumer, Sim, SimHandle};
pub use time;

/// The names of every emulated API operation (for [`Fault`]s and the request log), e.g.
/// `kp.create_order`, `hpp.read_session`, `om.create_capture`.
pub const OPERATIONS: &[&str] = api::NAMES;

/// The whole application: hosted page, control API, and Klarna's API as the fallback.
fn router(shared: Arc<shared::Shared>) -> axum::Router {
    axum::Router::new()
        .merge(page::routes())
        .nest("/_sim", control::routes())
        .route("/_sim/", axum::routing::get(control::info))
        .fallback(server::api)
        .with_state(shared)
}

/// Benchmark support: a bare hello-world served by the same accept loop, as a baseline.
#[doc(hidden)]
pub mod bench {
    use std::future::Future;

    /// Serves `GET /` → `hello` on `listener` until `stop` completes.
    pub async fn serve_hello(
        listener: tokio::net::TcpListener,
        stop: impl Future<Output = ()> + Send + 'static,
    ) {
        let (tx, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            stop.await;
            let _ = tx.send(true);
        });
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "hello" }));
        crate::server::serve(listener, app, rx, crate::server::Limits::default()).await;
    }
}

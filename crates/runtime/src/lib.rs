//! # klarna-hpp-runtime
//!
//! Durable checkouts for shops that run: the sans-IO [`klarna_hpp_core`] checkout, persisted
//! in a database after every step, woken by a worker when it is due, and driven over the
//! [`klarna_hpp_async`] transport, so that a restart, a crash or a second instance never loses a
//! checkout and never moves money twice.
//!
//! In scope:
//! - [`CheckoutStore`]: one row per checkout (state, snapshot, due instant, fenced lease,
//!   version), an event outbox and a hint inbox, on **SQLite** (an embedded file in WAL mode,
//!   the default) or **PostgreSQL** (several instances or machines). The schema ships with the
//!   crate and is migrated on start; a database from a newer schema is refused with
//!   [`StoreError::NewerSchema`].
//! - [`Runtime`]: the merchant's API (start, redirect, callback, place order, capture, refund,
//!   cancel, disable, distribute, and Order Management's other writes: release the remaining
//!   authorization, extend the authorization time, update merchant references, add shipping
//!   info), each call load → apply → drive → persist under a lease, with
//!   policies to place the order on authorization and to capture on placement.
//! - [`Worker`]: the reconciler that claims due checkouts (`FOR UPDATE SKIP LOCKED` on
//!   PostgreSQL, one writer on SQLite), resumes what a dead process left in flight, applies
//!   queued hints, and backs off while the database is away. The `klarna-hpp-runtime-worker`
//!   binary runs one.
//! - `tracing` spans per checkout and per Klarna call, `metrics` counters and gauges
//!   ([`telemetry`]).
//!
//! Not in scope: the protocol (the core decides everything), web frameworks, delivering
//! outbox events to the shop's systems (the shop polls [`CheckoutStore::pending_events`] and
//! acknowledges each), and Order Management's other post-purchase writes (release the
//! remaining authorization, extend the authorization, update merchant references, add shipping
//! information): the core's `Checkout` has no commands for them yet, so the runtime cannot
//! offer them durably; use the core's one-off operations until it does.
//!
//! ## The rules that make it crash-safe
//!
//! - **Recovery points.** The runtime drives the core step by step: after every input it
//!   drains the events into the outbox and takes the next request (which marks it in flight in
//!   the checkout). A request that is not safe to repeat (place order, capture, refund, cancel,
//!   disable, distribute) leaves only after the snapshot showing it in flight, the events and a
//!   lease renewal are committed in one transaction, and its answer is committed before any
//!   other request leaves; reads and session creations ride on the next commit and are simply
//!   repeated after a crash. After a crash the stored snapshot therefore shows every
//!   money-moving request that may have left; [`Checkout::resume_after_restart`] treats it as an
//!   unknown outcome, which the core resolves exactly once (same idempotency key,
//!   byte-identical place-order body, or a verifying read).
//! - **Fencing.** Every write is `UPDATE … WHERE id = ? AND lease_owner = ? AND version = ?`;
//!   a claim bumps the version. A holder whose lease was taken over gets
//!   [`StoreError::LeaseLost`] and its write is dropped.
//! - **Leases outlive requests by construction.** The lease is
//!   [`RuntimeConfig::lease_duration`] = request timeout + margin; no request leaves with less
//!   than the request timeout + 1 s of lease left (a save renews it first), and the runtime
//!   abandons a call after the request timeout.
//!
//! `docs/runtime.md` describes each crash case, running several instances, and outgrowing one
//! machine.
//!
//! ## Why sqlx
//!
//! One async driver family for both databases, with migrations and pooling, maintained and
//! widely used; built here without its compile-time-checked macros (no database at build time)
//! and without TLS (a local socket or a TLS-terminating proxy; add the feature when needed).
//! The alternative, tokio-postgres plus rusqlite, means two APIs, a blocking SQLite driver to
//! wrap in `spawn_blocking`, and hand-rolled migrations.
//!
//! [`Checkout::resume_after_restart`]: klarna_hpp_core::checkout::Checkout::resume_after_restart

mod runtime;
pub mod store;
pub mod telemetry;
mod worker;

pub use crate::runtime::{
    inspect, CheckoutView, Runtime, RuntimeConfig, RuntimeError, Started, Verified,
};
pub use crate::store::{
    Backend, CheckoutRow, CheckoutStore, Hint, HintKind, Lease, OutboxEvent, StoreError,
    SCHEMA_VERSION,
};
pub use crate::worker::{connect_when_up, shutdown_signal, Worker, WorkerConfig, WorkerStats};
pub use klarna_hpp_async;
pub use klarna_hpp_core;

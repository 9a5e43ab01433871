//! The recovery-point rule, checked at the instant it matters: when a money-moving request
//! (place order, capture, refund) reaches the transport, the store already holds a snapshot
//! that shows it in flight, and a process restoring that snapshot after a crash would replay
//! exactly that request (same method and path, same idempotency key, same body for the order).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::{Arc, Mutex};

use klarna_hpp_async::{AsyncTransport, ReqwestTransport, TransportError};
use klarna_hpp_core::checkout::{Checkout, State};
use klarna_hpp_core::http::{Request, Response};
use klarna_hpp_core::{Api, IDEMPOTENCY_KEY_HEADER};
use klarna_hpp_runtime::{telemetry, CheckoutStore, Runtime, RuntimeConfig, Verified};
use support::Db;

/// Sends through reqwest; before a money-moving request leaves, checks what the store holds.
#[derive(Clone)]
struct Checking {
    inner: ReqwestTransport,
    store: CheckoutStore,
    api: Api,
    checkout_id: String,
    checked: Arc<Mutex<Vec<String>>>,
}

impl Checking {
    async fn check(&self, request: &Request<Vec<u8>>) {
        let operation = telemetry::operation(request.method(), request.uri().path());
        if telemetry::is_repeatable(operation) {
            return;
        }
        let snapshot = self.store.snapshot(&self.checkout_id).await.unwrap();
        let mut stored = Checkout::restore(self.api.clone(), &snapshot).unwrap();
        assert!(
            stored.poll_request().is_none(),
            "{operation}: the stored snapshot must show the request in flight (taken), not unsent"
        );
        // A new process resuming from it replays this very request.
        stored.resume_after_restart(klarna_hpp_async::AsyncClock::now(
            &klarna_hpp_async::TokioClock,
        ));
        let (_, replay) = loop {
            // Only events and the replay (retries of unknown outcomes may wait a moment).
            if let Some(r) = stored.poll_request() {
                break r;
            }
            let at = stored.poll_timeout().expect("a replay is scheduled");
            stored.handle_timeout(at);
        };
        assert_eq!(replay.method(), request.method(), "{operation}");
        assert_eq!(replay.uri().path(), request.uri().path(), "{operation}");
        assert_eq!(
            replay.headers().get(IDEMPOTENCY_KEY_HEADER),
            request.headers().get(IDEMPOTENCY_KEY_HEADER),
            "{operation}: the same idempotency key"
        );
        if operation == "kp.create_order" {
            assert_eq!(
                replay.body(),
                request.body(),
                "place-order replays the identical body"
            );
        }
        self.checked.lock().unwrap().push(operation.to_owned());
    }
}

impl AsyncTransport for Checking {
    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        self.check(&request).await;
        self.inner.send(request).await
    }
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Db::Sqlite).await; })*
        }
        mod postgres {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() { super::$name(super::Db::Postgres).await; })*
        }
    };
}

both!(money_leaves_only_after_its_in_flight_snapshot_is_committed);

async fn money_leaves_only_after_its_in_flight_snapshot_is_committed(db: Db) {
    let sim = support::sim().await;
    let (store, _) = support::fresh_store(db).await;
    let checked = Arc::new(Mutex::new(Vec::new()));
    let transport = Checking {
        inner: ReqwestTransport::default(),
        store: store.clone(),
        api: support::api(&sim),
        checkout_id: "rp-1".to_owned(),
        checked: checked.clone(),
    };
    let rt = Runtime::new(
        store,
        support::api(&sim),
        transport,
        RuntimeConfig::default().capture_on_order(true),
    );
    let started = rt.start(support::config("rp-1", 2)).await.unwrap();
    let paid = sim
        .consumer(&started.link.unwrap().session_id)
        .pay()
        .unwrap();
    let verified = rt
        .handle_redirect("rp-1", &paid.redirect_url)
        .await
        .unwrap();
    assert!(
        matches!(
            verified,
            Verified::Applied {
                state: State::Captured,
                ..
            }
        ),
        "{verified:?}"
    );
    let view = rt.refund("rp-1", 5_000).await.unwrap();
    assert_eq!(view.refunded, 5_000);
    assert_eq!(
        *checked.lock().unwrap(),
        ["kp.create_order", "om.create_capture", "om.create_refund"]
    );
    sim.shutdown().await;
}

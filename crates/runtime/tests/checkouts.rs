//! Whole checkouts through the runtime against the emulator over real HTTP, on SQLite files and
//! PostgreSQL: the merchant API, the worker finding consumers who never come back, hints
//! queued while another instance holds the checkout, and unusable rows quarantined.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use klarna_hpp_async::ReqwestTransport;
use klarna_hpp_core::checkout::State;
use klarna_hpp_runtime::store::Save;
use klarna_hpp_runtime::{
    Runtime, RuntimeConfig, RuntimeError, Verified, Worker, WorkerConfig, WorkerStats,
};
use klarna_hpp_sim::SimHandle;
use support::Db;

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

both!(
    a_checkout_from_link_to_refund_through_the_merchant_api,
    the_worker_finds_a_consumer_who_never_returns,
    a_redirect_to_another_instance_is_queued_and_applied_once,
    hints_that_can_never_apply_are_refused_not_queued,
    unusable_rows_are_quarantined_and_the_worker_goes_on,
    order_management_writes_through_the_merchant_api,
);

fn config() -> RuntimeConfig {
    RuntimeConfig::default()
        .request_timeout(Duration::from_secs(5))
        .lease_margin(Duration::from_secs(2))
        .handler_wait(Duration::from_secs(5))
}

async fn runtime(db: Db, sim: &SimHandle, config: RuntimeConfig) -> Runtime<ReqwestTransport> {
    let (store, _) = support::fresh_store(db).await;
    Runtime::new(
        store,
        support::api(sim),
        ReqwestTransport::default(),
        config,
    )
}

/// Runs worker rounds until `done` holds for the checkout (at most `rounds` rounds, each
/// after the next due instant).
async fn work_until(
    runtime: &Runtime<ReqwestTransport>,
    id: &str,
    rounds: usize,
    done: impl Fn(State) -> bool,
) -> State {
    let worker = Worker::new(runtime.clone(), WorkerConfig::default());
    let mut stats = WorkerStats::default();
    for _ in 0..rounds {
        worker.round(&mut stats).await.unwrap();
        let state = runtime.show(id).await.unwrap().state;
        if done(state) {
            return state;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    runtime.show(id).await.unwrap().state
}

async fn a_checkout_from_link_to_refund_through_the_merchant_api(db: Db) {
    let sim = support::sim().await;
    let rt = runtime(db, &sim, config()).await;
    let started = rt.start(support::config("api-1", 2)).await.unwrap();
    assert_eq!(started.state, State::AwaitingConsumer);
    let link = started.link.expect("the consumer link");
    let paid = sim.consumer(&link.session_id).pay().unwrap();
    // The redirect is verified by reading Klarna; the order is placed on authorization.
    let verified = rt
        .handle_redirect("api-1", &paid.redirect_url)
        .await
        .unwrap();
    let Verified::Applied {
        state, order_id, ..
    } = verified
    else {
        panic!("applied here: nobody else holds it")
    };
    assert_eq!(state, State::OrderPlaced);
    let order_id = order_id.unwrap();
    let view = rt.capture("api-1", None).await.unwrap();
    assert_eq!(view.state, State::Captured);
    assert_eq!(view.captured, support::amount(2));
    let view = rt.refund("api-1", 10_000).await.unwrap();
    assert_eq!(view.refunded, 10_000);
    // A command that does not fit is a typed error and changes nothing.
    assert!(matches!(
        rt.cancel("api-1").await,
        Err(RuntimeError::Command(_))
    ));
    // Klarna's ledger agrees.
    let order = support::om_order(&sim, &order_id).await;
    assert_eq!(order["captured_amount"], support::amount(2));
    assert_eq!(order["refunded_amount"], 10_000);
    assert_eq!(order["captures"].as_array().unwrap().len(), 1);
    // Every event reached the outbox once, in order.
    let kinds: Vec<String> = rt
        .store()
        .events_of("api-1")
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    for expected in [
        "KpSessionCreated",
        "ConsumerLinkReady",
        "Authorized",
        "OrderPlaced",
        "Captured",
        "Refunded",
    ] {
        assert_eq!(
            kinds.iter().filter(|k| *k == expected).count(),
            1,
            "{expected} once in {kinds:?}"
        );
    }
    // `checkouts show` without credentials sees the same, and no secret.
    let shown = klarna_hpp_runtime::inspect(rt.store(), "api-1")
        .await
        .unwrap();
    assert_eq!(
        (shown.state, shown.captured, shown.refunded),
        (State::Captured, support::amount(2), 10_000)
    );
    assert_eq!(shown.order_id.as_deref(), Some(order_id.as_str()));
    assert!(!format!("{shown:?}").contains(sim.password()));
    let row = rt.store().get("api-1").await.unwrap().unwrap();
    assert_eq!(row.lease_owner, None, "released");
    assert_eq!(row.order_id.as_deref(), Some(order_id.as_str()));
    sim.shutdown().await;
}

async fn the_worker_finds_a_consumer_who_never_returns(db: Db) {
    let sim = support::sim().await;
    let rt = runtime(db, &sim, config().capture_on_order(true)).await;
    let started = rt.start(support::config("poll-1", 1)).await.unwrap();
    let link = started.link.unwrap();
    // The consumer pays and closes the browser: no redirect, no callback URL configured.
    sim.consumer(&link.session_id).pay().unwrap();
    let state = work_until(&rt, "poll-1", 200, |s| s == State::Captured).await;
    assert_eq!(state, State::Captured);
    let view = rt.show("poll-1").await.unwrap();
    let order = support::om_order(&sim, view.order_id.as_deref().unwrap()).await;
    assert_eq!(order["captured_amount"], support::amount(1));
    assert_eq!(support::sim_stats(&sim).await["orders"], 1);
    sim.shutdown().await;
}

async fn a_redirect_to_another_instance_is_queued_and_applied_once(db: Db) {
    let sim = support::sim().await;
    let (store, url) = support::fresh_store(db).await;
    let a = Runtime::new(
        store,
        support::api(&sim),
        ReqwestTransport::default(),
        config().handler_wait(Duration::from_millis(300)),
    );
    // Instance B: another store handle on the same database, as another process would have.
    let b_store = klarna_hpp_runtime::CheckoutStore::connect(&url)
        .await
        .unwrap();
    let started = a.start(support::config("hint-1", 1)).await.unwrap();
    let paid = sim
        .consumer(&started.link.unwrap().session_id)
        .pay()
        .unwrap();
    // B holds the checkout while the consumer's browser reaches A.
    let now = klarna_hpp_runtime::klarna_hpp_core::Timestamp::parse("2100-01-01T00:00:00Z")
        .unwrap()
        .unix_millis();
    let held = b_store
        .acquire("hint-1", "instance-b", 0, now)
        .await
        .unwrap()
        .expect("B takes the lease");
    let verified = a
        .handle_redirect("hint-1", &paid.redirect_url)
        .await
        .unwrap();
    assert_eq!(verified, Verified::Queued);
    assert!(a.store().has_hints("hint-1").await.unwrap());
    // B lets go without applying it (as a holder that was busy elsewhere would).
    let mut lease = held.lease;
    let snapshot = held.snapshot;
    b_store
        .save(
            &mut lease,
            &Save {
                state: "AwaitingConsumer",
                snapshot: &snapshot,
                due_at: Some(now),
                order_id: None,
                unresolved: false,
                events: &[],
                hints_applied: 0,
                release: true,
                lease_until: 0,
                now: 0,
            },
        )
        .await
        .unwrap();
    // The queued redirect made the row due now; a worker applies it.
    let state = work_until(&a, "hint-1", 50, |s| s == State::OrderPlaced).await;
    assert_eq!(state, State::OrderPlaced);
    assert!(!a.store().has_hints("hint-1").await.unwrap());
    // Once applied, the hint no longer keeps the row due: a later holder (here a command)
    // releases it to the checkout's own due instant.
    assert_eq!(
        a.capture("hint-1", None).await.unwrap().state,
        State::Captured
    );
    let row = a.store().get("hint-1").await.unwrap().unwrap();
    let now = klarna_hpp_async::AsyncClock::now(&klarna_hpp_async::TokioClock).unix_millis();
    assert!(
        row.due_at.is_none_or(|d| d > now),
        "due again at once: {:?}",
        row.due_at
    );
    // Applied once: one order, one read per hint at most.
    assert_eq!(support::sim_stats(&sim).await["orders"], 1);
    // The same redirect again is harmless (a verifying read, no second order).
    let again = a
        .handle_redirect("hint-1", &paid.redirect_url)
        .await
        .unwrap();
    assert!(
        matches!(
            again,
            Verified::Applied {
                state: State::Captured,
                ..
            }
        ),
        "{again:?}"
    );
    assert_eq!(support::sim_stats(&sim).await["orders"], 1);
    sim.shutdown().await;
}

/// A forged callback or a redirect naming another session is refused to the caller (the web
/// handler answers 401 or 400), even while another instance holds the checkout, and leaves
/// nothing queued.
async fn hints_that_can_never_apply_are_refused_not_queued(db: Db) {
    let sim = support::sim().await;
    let (store, url) = support::fresh_store(db).await;
    let a = Runtime::new(
        store,
        support::api(&sim),
        ReqwestTransport::default(),
        config().handler_wait(Duration::from_millis(300)),
    );
    let started = a.start(support::config("forged-1", 1)).await.unwrap();
    let session = started.link.unwrap().session_id;
    let b_store = klarna_hpp_runtime::CheckoutStore::connect(&url)
        .await
        .unwrap();
    let forever = klarna_hpp_runtime::klarna_hpp_core::Timestamp::parse("2100-01-01T00:00:00Z")
        .unwrap()
        .unix_millis();
    b_store
        .acquire("forged-1", "instance-b", 0, forever)
        .await
        .unwrap()
        .expect("B takes the lease");
    let body = serde_json::to_vec(&serde_json::json!({
        "event_id": "forged-1",
        "session": {"session_id": session, "status": "COMPLETED"}
    }))
    .unwrap();
    let forged = a
        .handle_callback("forged-1", "/klarna/callback?kh_secret=guessed", &body)
        .await;
    assert!(
        matches!(
            forged,
            Err(RuntimeError::Input(
                klarna_hpp_core::checkout::InputError::BadCallbackSecret
            ))
        ),
        "{forged:?}"
    );
    let other = a
        .handle_redirect("forged-1", "https://shop.example/klarna/success?sid=other")
        .await;
    assert!(
        matches!(
            other,
            Err(RuntimeError::Input(
                klarna_hpp_core::checkout::InputError::WrongSession
            ))
        ),
        "{other:?}"
    );
    let nobody = a
        .handle_redirect("nobody", "https://shop.example/klarna/success?sid=x")
        .await;
    assert!(
        matches!(
            nobody,
            Err(RuntimeError::Store(
                klarna_hpp_runtime::StoreError::NotFound(_)
            ))
        ),
        "{nobody:?}"
    );
    assert!(!a.store().has_hints("forged-1").await.unwrap());
    // The genuine redirect is still queued for the holder.
    let genuine = a
        .handle_redirect(
            "forged-1",
            &format!("https://shop.example/klarna/success?sid={session}"),
        )
        .await
        .unwrap();
    assert_eq!(genuine, Verified::Queued);
    assert!(a.store().has_hints("forged-1").await.unwrap());
    sim.shutdown().await;
}

async fn unusable_rows_are_quarantined_and_the_worker_goes_on(db: Db) {
    let sim = support::sim().await;
    let rt = runtime(db, &sim, config().capture_on_order(true)).await;
    let store = rt.store().clone();
    // A corrupt row and a row holding another checkout's snapshot, both due.
    let started = rt.start(support::config("good", 1)).await.unwrap();
    let good_snapshot = store.snapshot("good").await.unwrap();
    for (id, bytes) in [
        ("corrupt", b"{not json".to_vec()),
        ("foreign", good_snapshot),
    ] {
        let mut lease = store
            .insert(id, "New", &bytes, "setup", 0, 0)
            .await
            .unwrap();
        let save = Save {
            state: "AwaitingConsumer",
            snapshot: &bytes,
            due_at: Some(0),
            order_id: None,
            unresolved: false,
            events: &[],
            hints_applied: 0,
            release: true,
            lease_until: 0,
            now: 0,
        };
        store.save(&mut lease, &save).await.unwrap();
    }
    sim.consumer(&started.link.unwrap().session_id)
        .pay()
        .unwrap();
    let worker = Worker::new(rt.clone(), WorkerConfig::default());
    let mut stats = WorkerStats::default();
    worker.round(&mut stats).await.unwrap();
    assert_eq!(stats.quarantined, 2, "{stats:?}");
    let quarantined = store.list_quarantined(10).await.unwrap();
    let ids: Vec<_> = quarantined.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["corrupt", "foreign"]);
    assert!(quarantined[1]
        .quarantined
        .as_deref()
        .unwrap()
        .contains("another checkout"));
    assert!(matches!(
        rt.show("corrupt").await,
        Err(RuntimeError::Store(
            klarna_hpp_runtime::StoreError::Quarantined { .. }
        ))
    ));
    // The good checkout goes on to its capture.
    let state = work_until(&rt, "good", 200, |s| s == State::Captured).await;
    assert_eq!(state, State::Captured);
    sim.shutdown().await;
}

async fn order_management_writes_through_the_merchant_api(db: Db) {
    use klarna_hpp_core::om::{MerchantReferences, ShippingInfo};
    let sim = support::sim().await;
    let rt = runtime(db, &sim, config().capture_on_order(false)).await;
    let started = rt.start(support::config("om-1", 2)).await.unwrap();
    let link = started.link.expect("the consumer link");
    let paid = sim.consumer(&link.session_id).pay().unwrap();
    rt.handle_redirect("om-1", &paid.redirect_url)
        .await
        .unwrap();
    let view = rt.show("om-1").await.unwrap();
    assert_eq!(view.state, State::OrderPlaced);
    let order_id = view.order_id.clone().unwrap();
    let before = view.deadlines.order_authorization.expect("read");
    let view = rt.capture("om-1", Some(10_000)).await.unwrap();
    assert_eq!(view.captured, 10_000);
    // Each write is sent with its own idempotency key, then the order is read again.
    let view = rt
        .update_merchant_references(
            "om-1",
            MerchantReferences::new().merchant_reference1("shop-order-77"),
        )
        .await
        .unwrap();
    assert_eq!(view.state, State::OrderPlaced);
    let view = rt.extend_authorization_time("om-1").await.unwrap();
    assert!(view.deadlines.order_authorization.expect("read") >= before);
    let order = support::om_order(&sim, &order_id).await;
    let capture_id = order["captures"][0]["capture_id"]
        .as_str()
        .unwrap()
        .to_owned();
    rt.add_shipping_info(
        "om-1",
        &capture_id,
        vec![ShippingInfo::new()
            .shipping_company("DHL")
            .tracking_number("TRACK-1")],
    )
    .await
    .unwrap();
    // A capture the checkout does not know of is a typed error, and nothing is sent.
    assert!(matches!(
        rt.add_shipping_info("om-1", "no-such-capture", vec![ShippingInfo::new()])
            .await,
        Err(RuntimeError::Command(_))
    ));
    let view = rt.release_remaining_authorization("om-1").await.unwrap();
    assert_eq!(view.state, State::Captured, "the rest is released");
    assert_eq!(view.capturable, 0);
    assert!(matches!(
        rt.capture("om-1", Some(1)).await,
        Err(RuntimeError::Command(_))
    ));
    // Klarna's ledger agrees.
    let order = support::om_order(&sim, &order_id).await;
    assert_eq!(order["merchant_reference1"], "shop-order-77");
    assert_eq!(order["order_amount"], 10_000);
    assert_eq!(order["captured_amount"], 10_000);
    assert_eq!(order["status"], "CAPTURED");
    assert_eq!(
        order["captures"][0]["shipping_info"][0]["tracking_number"],
        "TRACK-1"
    );
    let kinds: Vec<String> = rt
        .store()
        .events_of("om-1")
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| *k == "OrderWritten").count(),
        4,
        "one per write in {kinds:?}"
    );
    sim.shutdown().await;
}

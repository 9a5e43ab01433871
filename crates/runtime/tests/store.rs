//! The store on real SQLite files and a real PostgreSQL (a database per test): claiming due
//! work, lease fencing, version conflicts, the outbox, the hint inbox, a newer schema.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use klarna_hpp_runtime::store::Save;
use klarna_hpp_runtime::{CheckoutStore, HintKind, Lease, StoreError, SCHEMA_VERSION};
use support::Db;

/// Each test body runs on both backends.
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
    claims_only_due_unleased_rows,
    fencing_drops_the_write_of_a_taken_over_lease,
    outbox_events_have_stable_ids_and_are_acked_once,
    hints_queued_while_held_keep_the_row_due,
    a_newer_schema_is_a_typed_error,
    unresolved_rows_are_listed,
);

const T0: i64 = 1_700_000_000_000;

fn save<'a>(state: &'a str, due_at: Option<i64>, release: bool, now: i64) -> Save<'a> {
    Save {
        state,
        snapshot: b"{}",
        due_at,
        order_id: None,
        unresolved: false,
        events: &[],
        hints_applied: 0,
        release,
        lease_until: now + 10_000,
        now,
    }
}

/// Inserts `id`, then releases it due at `due_at`.
async fn parked(store: &CheckoutStore, id: &str, due_at: Option<i64>) {
    let mut lease = store
        .insert(id, "New", b"{}", "setup", T0 + 10_000, T0)
        .await
        .unwrap();
    store
        .save(&mut lease, &save("AwaitingConsumer", due_at, true, T0))
        .await
        .unwrap();
}

async fn claims_only_due_unleased_rows(db: Db) {
    let (store, _) = support::fresh_store(db).await;
    parked(&store, "due-1", Some(T0 + 100)).await;
    parked(&store, "due-2", Some(T0 + 200)).await;
    parked(&store, "later", Some(T0 + 60_000)).await;
    parked(&store, "done", None).await;
    let now = T0 + 1_000;
    let a = store.claim_due("A", now, 10, now + 5_000).await.unwrap();
    let mut ids: Vec<_> = a.iter().map(|c| c.lease.checkout_id.clone()).collect();
    ids.sort();
    assert_eq!(ids, ["due-1", "due-2"]);
    // Leased rows are not claimed again until the lease expires.
    assert!(store
        .claim_due("B", now + 10, 10, now + 5_000)
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .acquire("due-1", "B", now + 10, now + 5_000)
        .await
        .unwrap()
        .is_none());
    let b = store
        .claim_due("B", now + 5_000, 1, now + 10_000)
        .await
        .unwrap();
    assert_eq!(b.len(), 1, "one expired lease claimed (limit 1)");
    assert_eq!(b[0].lease.checkout_id, "due-1", "oldest due first");
    // Unknown and quarantined ids.
    assert!(matches!(
        store.acquire("nope", "B", now, now + 1).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(matches!(
        store.insert("done", "New", b"{}", "X", now, now).await,
        Err(StoreError::AlreadyExists(_))
    ));
}

async fn fencing_drops_the_write_of_a_taken_over_lease(db: Db) {
    let (store, _) = support::fresh_store(db).await;
    parked(&store, "c", Some(T0)).await;
    let mut a: Lease = store
        .acquire("c", "A", T0, T0 + 1_000)
        .await
        .unwrap()
        .unwrap()
        .lease;
    // A writes while it holds the lease.
    store
        .save(&mut a, &save("AwaitingConsumer", Some(T0), false, T0 + 10))
        .await
        .unwrap();
    // A's lease runs out (it paused); B takes over.
    let mut b = store
        .acquire("c", "B", T0 + 20_000, T0 + 30_000)
        .await
        .unwrap()
        .unwrap()
        .lease;
    let lost = store
        .save(&mut a, &save("Captured", None, true, T0 + 20_001))
        .await;
    assert!(
        matches!(lost, Err(StoreError::LeaseLost { .. })),
        "{lost:?}"
    );
    assert_eq!(
        store.get("c").await.unwrap().unwrap().state,
        "AwaitingConsumer"
    );
    // A stale version of the same owner is fenced too.
    let mut stale = b.clone();
    store
        .save(&mut b, &save("OrderPlaced", Some(T0), false, T0 + 20_002))
        .await
        .unwrap();
    let conflict = store
        .save(&mut stale, &save("Failed", None, true, T0 + 20_003))
        .await;
    assert!(
        matches!(conflict, Err(StoreError::LeaseLost { .. })),
        "{conflict:?}"
    );
    store
        .save(
            &mut b,
            &save("OrderPlaced", Some(T0 + 50), true, T0 + 20_004),
        )
        .await
        .unwrap();
    let row = store.get("c").await.unwrap().unwrap();
    assert_eq!(row.state, "OrderPlaced");
    assert_eq!(row.lease_owner, None);
    assert_eq!(row.due_at, Some(T0 + 50));
    assert_eq!(row.version, b.version);
}

async fn outbox_events_have_stable_ids_and_are_acked_once(db: Db) {
    let (store, _) = support::fresh_store(db).await;
    let mut lease = store
        .insert("e", "New", b"{}", "A", T0 + 10_000, T0)
        .await
        .unwrap();
    let events = [
        ("KpSessionCreated".to_owned(), "{\"a\":1}".to_owned()),
        ("ConsumerLinkReady".to_owned(), "{\"b\":2}".to_owned()),
    ];
    let mut s = save("AwaitingConsumer", Some(T0), false, T0);
    s.events = &events;
    store.save(&mut lease, &s).await.unwrap();
    let more = [("StatusChanged".to_owned(), "{}".to_owned())];
    let mut s = save("AwaitingConsumer", Some(T0), true, T0 + 1);
    s.events = &more;
    store.save(&mut lease, &s).await.unwrap();
    let pending = store.pending_events(100).await.unwrap();
    let ids: Vec<_> = pending.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["e:1", "e:2", "e:3"]);
    assert_eq!(pending[1].kind, "ConsumerLinkReady");
    assert!(store.ack_event("e:2", T0 + 2).await.unwrap());
    assert!(!store.ack_event("e:2", T0 + 3).await.unwrap(), "acked once");
    let pending: Vec<_> = store
        .pending_events(100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(pending, ["e:1", "e:3"]);
    assert_eq!(store.events_of("e").await.unwrap().len(), 3);
}

async fn hints_queued_while_held_keep_the_row_due(db: Db) {
    let (store, _) = support::fresh_store(db).await;
    parked(&store, "h", Some(T0 + 1_000_000)).await;
    let claimed = store
        .acquire("h", "A", T0, T0 + 10_000)
        .await
        .unwrap()
        .unwrap();
    let mut a = claimed.lease;
    // A redirect reaches another instance while A holds the checkout.
    let seq = store
        .enqueue_hint(
            "h",
            HintKind::Redirect,
            "/klarna/success?sid=x",
            b"",
            T0 + 5,
        )
        .await
        .unwrap();
    assert_eq!(seq, 1);
    // A releases without having seen it: the row stays due now, not at its own due instant.
    store
        .save(
            &mut a,
            &save("AwaitingConsumer", Some(T0 + 1_000_000), true, T0 + 10),
        )
        .await
        .unwrap();
    assert_eq!(store.get("h").await.unwrap().unwrap().due_at, Some(T0 + 10));
    let next = store
        .claim_due("B", T0 + 20, 10, T0 + 10_000)
        .await
        .unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].hint_seq, 1);
    let mut b = next.into_iter().next().unwrap().lease;
    let hints = store.hints("h", 0).await.unwrap();
    assert_eq!(hints.len(), 1);
    assert_eq!(hints[0].kind, HintKind::Redirect);
    assert_eq!(hints[0].uri, "/klarna/success?sid=x");
    b.hints_applied = 1;
    let mut s = save("OrderPlaced", Some(T0 + 1_000_000), true, T0 + 30);
    s.hints_applied = 1;
    store.save(&mut b, &s).await.unwrap();
    assert!(
        !store.has_hints("h").await.unwrap(),
        "applied hints are deleted"
    );
    assert_eq!(
        store.get("h").await.unwrap().unwrap().due_at,
        Some(T0 + 1_000_000)
    );
    assert!(matches!(
        store
            .enqueue_hint("missing", HintKind::Callback, "/cb", b"{}", T0)
            .await,
        Err(StoreError::NotFound(_))
    ));
}

async fn a_newer_schema_is_a_typed_error(db: Db) {
    let (store, url) = support::fresh_store(db).await;
    assert_eq!(store.schema_version().await.unwrap(), SCHEMA_VERSION);
    // Reopening an up-to-date database is fine.
    drop(CheckoutStore::connect(&url).await.unwrap());
    let future = SCHEMA_VERSION + 1;
    let bytes = match db {
        Db::Sqlite => "X'00'",
        Db::Postgres => "'\\x00'::bytea",
    };
    store
        .execute_raw(&format!(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
             VALUES ({future}, 'from the future', TRUE, {bytes}, 0)"
        ))
        .await
        .unwrap();
    store.close().await;
    match CheckoutStore::connect(&url).await {
        Err(StoreError::NewerSchema { found, supported }) => {
            assert_eq!((found, supported), (future, SCHEMA_VERSION));
        }
        other => panic!("expected NewerSchema, got {other:?}"),
    }
}

async fn unresolved_rows_are_listed(db: Db) {
    let (store, _) = support::fresh_store(db).await;
    parked(&store, "fine", None).await;
    let mut lease = store
        .insert("lost-order", "New", b"{}", "A", T0 + 10_000, T0)
        .await
        .unwrap();
    let mut s = save("Failed", None, true, T0);
    s.unresolved = true;
    store.save(&mut lease, &s).await.unwrap();
    let rows = store.list_unresolved(10).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].id, "lost-order");
    assert!(rows[0].unresolved);
    let counts = store.counts(T0).await.unwrap();
    let failed = counts.iter().find(|c| c.state == "Failed").unwrap();
    assert_eq!((failed.total, failed.due, failed.leased), (1, 0, 0));
}

//! The durable store: one row per checkout, an event outbox and a hint inbox, on SQLite or
//! PostgreSQL behind one API ([`CheckoutStore`]).
//!
//! Every write that changes a checkout is *fenced*: `UPDATE … WHERE id = ? AND lease_owner = ?
//! AND version = ?`. Zero rows means another holder took the checkout over (or the lease was
//! lost otherwise); the write is dropped and [`StoreError::LeaseLost`] returned.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::Row;

/// The schema version this crate writes (the highest migration it ships).
pub const SCHEMA_VERSION: i64 = 1;

const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    "checkouts",
    include_str!("../migrations/sqlite/0001_checkouts.sql"),
)];
const POSTGRES_MIGRATIONS: &[(i64, &str, &str)] = &[(
    1,
    "checkouts",
    include_str!("../migrations/postgres/0001_checkouts.sql"),
)];

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database URL is not one this crate understands.
    #[error("unsupported database URL (expected sqlite:PATH, a file path, or postgres://…): {0}")]
    UnsupportedUrl(String),
    /// The database could not be reached or answered with an error. Transient: back off and
    /// retry.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The database holds a schema newer than this build understands.
    #[error("the database schema is version {found}, newer than this build's {supported}: upgrade klarna-hpp-runtime")]
    NewerSchema {
        /// The version found.
        found: i64,
        /// The newest this build knows.
        supported: i64,
    },
    /// Running the shipped migrations failed.
    #[error("migrating the database failed: {0}")]
    Migration(String),
    /// The fenced write matched no row: the lease was taken over or expired. The write was
    /// dropped.
    #[error("lease on checkout {checkout_id} lost: the write was dropped")]
    LeaseLost {
        /// The checkout.
        checkout_id: String,
    },
    /// No checkout with this id.
    #[error("no checkout {0}")]
    NotFound(String),
    /// A checkout with this id exists already.
    #[error("checkout {0} exists already")]
    AlreadyExists(String),
    /// The checkout's row is quarantined (its snapshot could not be restored).
    #[error("checkout {checkout_id} is quarantined: {reason}")]
    Quarantined {
        /// The checkout.
        checkout_id: String,
        /// Why.
        reason: String,
    },
    /// A row the store reads does not have the shape it wrote.
    #[error("malformed row: {0}")]
    MalformedRow(String),
}

impl StoreError {
    /// Whether retrying later may succeed (the database is away or busy).
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Unavailable(_))
    }
}

fn db(e: sqlx::Error) -> StoreError {
    match e {
        sqlx::Error::ColumnDecode { .. }
        | sqlx::Error::ColumnNotFound(_)
        | sqlx::Error::Decode(_)
        | sqlx::Error::TypeNotFound { .. } => StoreError::MalformedRow(e.to_string()),
        other => StoreError::Unavailable(other.to_string()),
    }
}

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Backend {
    /// An SQLite file (WAL mode), one writer at a time.
    Sqlite,
    /// A PostgreSQL server; any number of instances.
    Postgres,
}

#[derive(Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$p` bound to the concrete pool, and `$sql!(…)` turning `$1` placeholders
/// into SQLite's `?1` when needed.
macro_rules! with_pool {
    ($store:expr, |$p:ident, $q:ident| $body:expr) => {
        match &$store.pool {
            Pool::Sqlite($p) => {
                let $q = |sql: &'static str| -> Cow<'static, str> { Cow::Owned(sqlite_sql(sql)) };
                $body
            }
            Pool::Postgres($p) => {
                let $q = |sql: &'static str| -> Cow<'static, str> { Cow::Borrowed(sql) };
                $body
            }
        }
    };
}

/// `$1` → `?1` (SQLite's numbered parameters bind by index, as PostgreSQL's do).
fn sqlite_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

/// Decodes a [`CheckoutRow`] from either backend's row.
macro_rules! checkout_row {
    ($r:expr) => {{
        let r = $r;
        Ok::<CheckoutRow, StoreError>(CheckoutRow {
            id: r.try_get("id").map_err(db)?,
            state: r.try_get("state").map_err(db)?,
            due_at: r.try_get("due_at").map_err(db)?,
            lease_owner: r.try_get("lease_owner").map_err(db)?,
            lease_expires_at: r.try_get("lease_expires_at").map_err(db)?,
            version: r.try_get("version").map_err(db)?,
            order_id: r.try_get("order_id").map_err(db)?,
            unresolved: r.try_get::<i64, _>("unresolved").map_err(db)? != 0,
            quarantined: r.try_get("quarantined").map_err(db)?,
            created_at: r.try_get("created_at").map_err(db)?,
            updated_at: r.try_get("updated_at").map_err(db)?,
        })
    }};
}

/// The checkout store: SQLite (embedded default) or PostgreSQL behind one API. Cheap to clone.
#[derive(Clone)]
pub struct CheckoutStore {
    pool: Pool,
    /// SQLite: one writer at a time in this process (SQLite allows one anyway; waiting here is
    /// cheaper than waiting on the file lock).
    write_lock: Arc<tokio::sync::Mutex<()>>,
}

impl fmt::Debug for CheckoutStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckoutStore")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

/// A lease on one checkout: who holds it, and the row version the next fenced write expects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The checkout.
    pub checkout_id: String,
    /// The holder.
    pub owner: String,
    /// The row version the holder last wrote or read.
    pub version: i64,
    /// The row's event counter (ids of the next outbox events continue from it).
    pub event_seq: i64,
    /// The highest hint sequence number this holder has applied.
    pub hints_applied: i64,
    /// Unix milliseconds at which the lease expires.
    pub expires_at: i64,
}

/// A checkout claimed or acquired with a lease.
#[derive(Debug)]
pub struct Claimed {
    /// The lease.
    pub lease: Lease,
    /// The stored snapshot.
    pub snapshot: Vec<u8>,
    /// The highest hint sequence number queued for it.
    pub hint_seq: i64,
}

/// A callback or redirect queued for a checkout while another instance held it.
#[derive(Clone, PartialEq, Eq)]
pub struct Hint {
    /// Its sequence number within the checkout.
    pub seq: i64,
    /// What it is.
    pub kind: HintKind,
    /// The request URI (may carry the callback secret: never log it).
    pub uri: String,
    /// The request body (callbacks).
    pub body: Vec<u8>,
}

impl fmt::Debug for Hint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hint")
            .field("seq", &self.seq)
            .field("kind", &self.kind)
            .field("uri", &"[redacted]")
            .field("body", &format_args!("[{} bytes]", self.body.len()))
            .finish()
    }
}

/// The kind of a [`Hint`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HintKind {
    /// A status callback.
    Callback,
    /// A consumer's redirect back to the shop.
    Redirect,
}

impl HintKind {
    fn as_str(self) -> &'static str {
        match self {
            HintKind::Callback => "callback",
            HintKind::Redirect => "redirect",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "callback" => Some(HintKind::Callback),
            "redirect" => Some(HintKind::Redirect),
            _ => None,
        }
    }
}

/// One event in the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEvent {
    /// Stable id: `<checkout id>:<sequence number>`.
    pub id: String,
    /// The checkout.
    pub checkout_id: String,
    /// Its position among the checkout's events, from 1.
    pub seq: i64,
    /// The event's kind (e.g. `OrderPlaced`).
    pub kind: String,
    /// The event as JSON (the core's `Event`).
    pub payload: String,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// What a fenced save writes.
#[derive(Debug)]
pub struct Save<'a> {
    /// The checkout's state name.
    pub state: &'a str,
    /// The snapshot.
    pub snapshot: &'a [u8],
    /// When it is due next (Unix milliseconds), `None` when nothing is scheduled.
    pub due_at: Option<i64>,
    /// The OM order id, once known.
    pub order_id: Option<&'a str>,
    /// Whether it ended with an unknown place-order outcome.
    pub unresolved: bool,
    /// New events: (kind, JSON payload).
    pub events: &'a [(String, String)],
    /// Hints with a sequence number up to this one were applied (and are deleted).
    pub hints_applied: i64,
    /// Release the lease with this write (otherwise extend it to `lease_until`).
    pub release: bool,
    /// The new lease expiry when not releasing.
    pub lease_until: i64,
    /// The current time, Unix milliseconds.
    pub now: i64,
}

/// One row, without the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutRow {
    /// The checkout id.
    pub id: String,
    /// The state name.
    pub state: String,
    /// When due (Unix milliseconds).
    pub due_at: Option<i64>,
    /// The lease holder, if any.
    pub lease_owner: Option<String>,
    /// When the lease expires (Unix milliseconds).
    pub lease_expires_at: Option<i64>,
    /// The row version.
    pub version: i64,
    /// The OM order id.
    pub order_id: Option<String>,
    /// Ended with an unknown place-order outcome.
    pub unresolved: bool,
    /// Why the row is quarantined, if it is.
    pub quarantined: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
}

/// Counts by state (for gauges and `checkouts list`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateCount {
    /// The state name.
    pub state: String,
    /// Rows in it.
    pub total: i64,
    /// Of which due now.
    pub due: i64,
    /// Of which leased now.
    pub leased: i64,
}

#[derive(Debug)]
struct Embedded(&'static [(i64, &'static str, &'static str)]);

impl<'s> MigrationSource<'s> for Embedded {
    fn resolve(
        self,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<Migration>, sqlx::error::BoxDynError>> + Send + 's>>
    {
        Box::pin(async move {
            Ok(self
                .0
                .iter()
                .map(|(v, d, sql)| {
                    Migration::new(
                        *v,
                        Cow::Borrowed(*d),
                        MigrationType::Simple,
                        Cow::Borrowed(*sql),
                        false,
                    )
                })
                .collect())
        })
    }
}

const ROW_COLUMNS: &str = "id, state, due_at, lease_owner, lease_expires_at, version, order_id, \
     unresolved, quarantined, created_at, updated_at";

impl CheckoutStore {
    /// Opens the database at `url` and brings its schema up to date.
    ///
    /// `url` is `postgres://…` (or `postgresql://…`), `sqlite:PATH` / `sqlite://PATH`, or a
    /// plain file path (SQLite, created when missing).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = PgConnectOptions::from_str(url)
                .map_err(|_| StoreError::UnsupportedUrl(redact_url(url)))?;
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(5))
                .connect_with(options)
                .await
                .map_err(db)?;
            Self::from_pool(Pool::Postgres(pool)).await
        } else {
            let path = url
                .strip_prefix("sqlite://")
                .or_else(|| url.strip_prefix("sqlite:"))
                .unwrap_or(url);
            if path.is_empty() || path.contains("://") || path.starts_with(":memory:") {
                return Err(StoreError::UnsupportedUrl(redact_url(url)));
            }
            Self::open_sqlite(Path::new(path)).await
        }
    }

    /// Opens (creating when missing) the SQLite file at `path` in WAL mode.
    pub async fn open_sqlite(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit survives a power cut, not only a killed process.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(db)?;
        Self::from_pool(Pool::Sqlite(pool)).await
    }

    async fn from_pool(pool: Pool) -> Result<Self, StoreError> {
        let store = Self {
            pool,
            write_lock: Arc::new(tokio::sync::Mutex::new(())),
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// The schema version recorded in the database (0 before any migration).
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let exists_sql = match self.backend() {
            Backend::Sqlite => {
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'"
            }
            Backend::Postgres => {
                "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE tablename = '_sqlx_migrations' \
                 AND schemaname = ANY (current_schemas(false))"
            }
        };
        let version: Option<i64> = with_pool!(self, |p, _q| {
            let exists: i64 = sqlx::query_scalar(exists_sql)
                .fetch_one(p)
                .await
                .map_err(db)?;
            if exists == 0 {
                None
            } else {
                sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                    .fetch_one(p)
                    .await
                    .map_err(db)?
            }
        });
        Ok(version.unwrap_or(0))
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let found = self.schema_version().await?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::NewerSchema {
                found,
                supported: SCHEMA_VERSION,
            });
        }
        let _guard = self.write_lock.lock().await;
        let migration = |e: sqlx::migrate::MigrateError| match e {
            sqlx::migrate::MigrateError::Execute(e) => db(e),
            other => StoreError::Migration(other.to_string()),
        };
        match &self.pool {
            Pool::Sqlite(p) => {
                let m = Migrator::new(Embedded(SQLITE_MIGRATIONS))
                    .await
                    .map_err(migration)?;
                m.run(p).await.map_err(migration)
            }
            Pool::Postgres(p) => {
                let m = Migrator::new(Embedded(POSTGRES_MIGRATIONS))
                    .await
                    .map_err(migration)?;
                m.run(p).await.map_err(migration)
            }
        }
    }

    async fn write_guard(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.backend() {
            Backend::Sqlite => Some(self.write_lock.lock().await),
            Backend::Postgres => None,
        }
    }

    /// Inserts a new checkout, leased by `owner` until `lease_until`.
    pub async fn insert(
        &self,
        id: &str,
        state: &str,
        snapshot: &[u8],
        owner: &str,
        lease_until: i64,
        now: i64,
    ) -> Result<Lease, StoreError> {
        let _guard = self.write_guard().await;
        let sql = "INSERT INTO hpp_checkouts (id, state, snapshot, due_at, lease_owner, \
                   lease_expires_at, version, created_at, updated_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, 1, $4, $4) ON CONFLICT (id) DO NOTHING";
        let inserted = with_pool!(self, |p, q| {
            sqlx::query(&q(sql))
                .bind(id)
                .bind(state)
                .bind(snapshot)
                .bind(now)
                .bind(owner)
                .bind(lease_until)
                .execute(p)
                .await
                .map_err(db)?
                .rows_affected()
        });
        if inserted == 0 {
            return Err(StoreError::AlreadyExists(id.to_owned()));
        }
        Ok(Lease {
            checkout_id: id.to_owned(),
            owner: owner.to_owned(),
            version: 1,
            event_seq: 0,
            hints_applied: 0,
            expires_at: lease_until,
        })
    }

    /// Claims up to `limit` due checkouts whose lease is free or expired, oldest due first
    /// (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent workers never wait on each
    /// other). Each claim bumps the row version, fencing out any previous holder.
    pub async fn claim_due(
        &self,
        owner: &str,
        now: i64,
        limit: i64,
        lease_until: i64,
    ) -> Result<Vec<Claimed>, StoreError> {
        let _guard = self.write_guard().await;
        let sql_pg = "UPDATE hpp_checkouts SET lease_owner = $1, lease_expires_at = $2, \
                      version = version + 1 WHERE id IN (SELECT id FROM hpp_checkouts \
                      WHERE due_at <= $3 AND (lease_expires_at IS NULL OR lease_expires_at <= $3) \
                      AND quarantined IS NULL ORDER BY due_at LIMIT $4 FOR UPDATE SKIP LOCKED) \
                      RETURNING id, snapshot, version, event_seq, hint_seq";
        let sql_lite = "UPDATE hpp_checkouts SET lease_owner = $1, lease_expires_at = $2, \
                        version = version + 1 WHERE id IN (SELECT id FROM hpp_checkouts \
                        WHERE due_at <= $3 AND (lease_expires_at IS NULL OR lease_expires_at <= $3) \
                        AND quarantined IS NULL ORDER BY due_at LIMIT $4) \
                        RETURNING id, snapshot, version, event_seq, hint_seq";
        let sql = match self.backend() {
            Backend::Sqlite => sql_lite,
            Backend::Postgres => sql_pg,
        };
        let rows = with_pool!(self, |p, q| {
            let rows = sqlx::query(&q(sql))
                .bind(owner)
                .bind(lease_until)
                .bind(now)
                .bind(limit)
                .fetch_all(p)
                .await
                .map_err(db)?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                out.push(claimed(
                    owner,
                    lease_until,
                    r.try_get("id").map_err(db)?,
                    r.try_get("snapshot").map_err(db)?,
                    r.try_get("version").map_err(db)?,
                    r.try_get("event_seq").map_err(db)?,
                    r.try_get("hint_seq").map_err(db)?,
                ));
            }
            out
        });
        Ok(rows)
    }

    /// Takes the lease on one checkout if it is free or expired; `Ok(None)` when another holder
    /// has it.
    pub async fn acquire(
        &self,
        id: &str,
        owner: &str,
        now: i64,
        lease_until: i64,
    ) -> Result<Option<Claimed>, StoreError> {
        let row = {
            let _guard = self.write_guard().await;
            let sql = "UPDATE hpp_checkouts SET lease_owner = $1, lease_expires_at = $2, \
                       version = version + 1 WHERE id = $3 AND quarantined IS NULL AND \
                       (lease_expires_at IS NULL OR lease_expires_at <= $4) \
                       RETURNING id, snapshot, version, event_seq, hint_seq";
            with_pool!(self, |p, q| {
                match sqlx::query(&q(sql))
                    .bind(owner)
                    .bind(lease_until)
                    .bind(id)
                    .bind(now)
                    .fetch_optional(p)
                    .await
                    .map_err(db)?
                {
                    Some(r) => Some(claimed(
                        owner,
                        lease_until,
                        r.try_get("id").map_err(db)?,
                        r.try_get("snapshot").map_err(db)?,
                        r.try_get("version").map_err(db)?,
                        r.try_get("event_seq").map_err(db)?,
                        r.try_get("hint_seq").map_err(db)?,
                    )),
                    None => None,
                }
            })
        };
        if row.is_some() {
            return Ok(row);
        }
        match self.get(id).await? {
            None => Err(StoreError::NotFound(id.to_owned())),
            Some(CheckoutRow {
                quarantined: Some(reason),
                ..
            }) => Err(StoreError::Quarantined {
                checkout_id: id.to_owned(),
                reason,
            }),
            Some(_) => Ok(None),
        }
    }

    /// The fenced write: the snapshot, its due instant, its new events and the applied hints,
    /// in one transaction, only if `lease` still holds. Bumps `lease.version`.
    pub async fn save(&self, lease: &mut Lease, save: &Save<'_>) -> Result<(), StoreError> {
        let _guard = self.write_guard().await;
        let (owner, expires) = if save.release {
            (None, None)
        } else {
            (Some(lease.owner.as_str()), Some(save.lease_until))
        };
        let events = i64::try_from(save.events.len()).unwrap_or(i64::MAX);
        // A hint queued after the holder last looked (hint_seq moved past what it applied)
        // keeps the row due now, so the next holder applies it.
        let update = "UPDATE hpp_checkouts SET state = $1, snapshot = $2, \
                      due_at = CASE WHEN hint_seq > $3 THEN $4 ELSE $5 END, \
                      lease_owner = $6, lease_expires_at = $7, version = version + 1, \
                      event_seq = event_seq + $8, order_id = $9, unresolved = $10, updated_at = $4 \
                      WHERE id = $11 AND lease_owner = $12 AND version = $13";
        let insert_event =
            "INSERT INTO hpp_outbox (id, checkout_id, seq, kind, payload, created_at) \
                            VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING";
        let delete_hints = "DELETE FROM hpp_hints WHERE checkout_id = $1 AND seq <= $2";
        with_pool!(self, |p, q| {
            let mut tx = p.begin().await.map_err(db)?;
            let n = sqlx::query(&q(update))
                .bind(save.state)
                .bind(save.snapshot)
                .bind(save.hints_applied)
                .bind(save.now)
                .bind(save.due_at)
                .bind(owner)
                .bind(expires)
                .bind(events)
                .bind(save.order_id)
                .bind(i64::from(save.unresolved))
                .bind(&lease.checkout_id)
                .bind(&lease.owner)
                .bind(lease.version)
                .execute(&mut *tx)
                .await
                .map_err(db)?
                .rows_affected();
            if n != 1 {
                drop(tx);
                return Err(StoreError::LeaseLost {
                    checkout_id: lease.checkout_id.clone(),
                });
            }
            for (i, (kind, payload)) in save.events.iter().enumerate() {
                let seq = lease.event_seq + 1 + i64::try_from(i).unwrap_or(i64::MAX);
                sqlx::query(&q(insert_event))
                    .bind(format!("{}:{seq}", lease.checkout_id))
                    .bind(&lease.checkout_id)
                    .bind(seq)
                    .bind(kind)
                    .bind(payload)
                    .bind(save.now)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
            }
            if save.hints_applied > 0 {
                sqlx::query(&q(delete_hints))
                    .bind(&lease.checkout_id)
                    .bind(save.hints_applied)
                    .execute(&mut *tx)
                    .await
                    .map_err(db)?;
            }
            tx.commit().await.map_err(db)?;
        });
        lease.version += 1;
        lease.event_seq += events;
        if !save.release {
            lease.expires_at = save.lease_until;
        }
        Ok(())
    }

    /// Marks a row whose snapshot cannot be restored: it leaves the due index (no worker
    /// claims it again) and keeps its bytes for inspection. Fenced like [`save`](Self::save).
    pub async fn quarantine(
        &self,
        lease: &Lease,
        reason: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let _guard = self.write_guard().await;
        let sql = "UPDATE hpp_checkouts SET quarantined = $1, due_at = NULL, lease_owner = NULL, \
                   lease_expires_at = NULL, version = version + 1, updated_at = $2 \
                   WHERE id = $3 AND lease_owner = $4 AND version = $5";
        let n = with_pool!(self, |p, q| {
            sqlx::query(&q(sql))
                .bind(reason)
                .bind(now)
                .bind(&lease.checkout_id)
                .bind(&lease.owner)
                .bind(lease.version)
                .execute(p)
                .await
                .map_err(db)?
                .rows_affected()
        });
        if n == 1 {
            Ok(())
        } else {
            Err(StoreError::LeaseLost {
                checkout_id: lease.checkout_id.clone(),
            })
        }
    }

    /// Queues a callback or redirect for a checkout (held elsewhere, or not): the row becomes
    /// due now, and its holder or next claimer applies it. Returns the hint's sequence number.
    pub async fn enqueue_hint(
        &self,
        id: &str,
        kind: HintKind,
        uri: &str,
        body: &[u8],
        now: i64,
    ) -> Result<i64, StoreError> {
        let _guard = self.write_guard().await;
        let bump = "UPDATE hpp_checkouts SET hint_seq = hint_seq + 1, \
                    due_at = CASE WHEN quarantined IS NULL THEN $1 ELSE NULL END \
                    WHERE id = $2 RETURNING hint_seq";
        let insert = "INSERT INTO hpp_hints (checkout_id, seq, kind, uri, body, received_at) \
                      VALUES ($1, $2, $3, $4, $5, $6)";
        let seq = with_pool!(self, |p, q| {
            let mut tx = p.begin().await.map_err(db)?;
            let seq: Option<i64> = sqlx::query_scalar(&q(bump))
                .bind(now)
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
            let Some(seq) = seq else {
                return Err(StoreError::NotFound(id.to_owned()));
            };
            sqlx::query(&q(insert))
                .bind(id)
                .bind(seq)
                .bind(kind.as_str())
                .bind(uri)
                .bind(body)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(db)?;
            tx.commit().await.map_err(db)?;
            seq
        });
        Ok(seq)
    }

    /// The hints queued for a checkout after sequence number `after`, oldest first.
    pub async fn hints(&self, id: &str, after: i64) -> Result<Vec<Hint>, StoreError> {
        let sql = "SELECT seq, kind, uri, body FROM hpp_hints WHERE checkout_id = $1 AND seq > $2 \
                   ORDER BY seq";
        let rows = with_pool!(self, |p, q| {
            let rows = sqlx::query(&q(sql))
                .bind(id)
                .bind(after)
                .fetch_all(p)
                .await
                .map_err(db)?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let kind: String = r.try_get("kind").map_err(db)?;
                out.push(Hint {
                    seq: r.try_get("seq").map_err(db)?,
                    kind: HintKind::parse(&kind)
                        .ok_or_else(|| StoreError::MalformedRow(format!("hint kind {kind:?}")))?,
                    uri: r.try_get("uri").map_err(db)?,
                    body: r.try_get("body").map_err(db)?,
                });
            }
            out
        });
        Ok(rows)
    }

    /// Whether any hint is still queued for the checkout.
    pub async fn has_hints(&self, id: &str) -> Result<bool, StoreError> {
        let sql = "SELECT COUNT(*) FROM hpp_hints WHERE checkout_id = $1";
        let n: i64 = with_pool!(self, |p, q| {
            sqlx::query_scalar(&q(sql))
                .bind(id)
                .fetch_one(p)
                .await
                .map_err(db)?
        });
        Ok(n > 0)
    }

    /// One row, without its snapshot.
    pub async fn get(&self, id: &str) -> Result<Option<CheckoutRow>, StoreError> {
        let sql = format!("SELECT {ROW_COLUMNS} FROM hpp_checkouts WHERE id = $1");
        let row = with_pool!(self, |p, _q| {
            let sql = match self.backend() {
                Backend::Sqlite => sqlite_sql(&sql),
                Backend::Postgres => sql.clone(),
            };
            match sqlx::query(&sql)
                .bind(id)
                .fetch_optional(p)
                .await
                .map_err(db)?
            {
                Some(r) => Some(checkout_row!(&r)?),
                None => None,
            }
        });
        Ok(row)
    }

    /// The stored snapshot of one checkout.
    pub async fn snapshot(&self, id: &str) -> Result<Vec<u8>, StoreError> {
        let sql = "SELECT snapshot FROM hpp_checkouts WHERE id = $1";
        let snapshot: Option<Vec<u8>> = with_pool!(self, |p, q| {
            sqlx::query_scalar(&q(sql))
                .bind(id)
                .fetch_optional(p)
                .await
                .map_err(db)?
        });
        snapshot.ok_or_else(|| StoreError::NotFound(id.to_owned()))
    }

    /// Rows by id, at most `limit`, after `after` (for paging).
    pub async fn list(&self, after: &str, limit: i64) -> Result<Vec<CheckoutRow>, StoreError> {
        self.rows(
            &format!("SELECT {ROW_COLUMNS} FROM hpp_checkouts WHERE id > $1 ORDER BY id LIMIT $2"),
            Some(after),
            limit,
        )
        .await
    }

    /// Checkouts that ended with an unknown place-order outcome: reconcile each with Klarna.
    pub async fn list_unresolved(&self, limit: i64) -> Result<Vec<CheckoutRow>, StoreError> {
        self.rows(
            &format!(
                "SELECT {ROW_COLUMNS} FROM hpp_checkouts WHERE unresolved <> 0 ORDER BY id LIMIT $1"
            ),
            None,
            limit,
        )
        .await
    }

    /// Quarantined rows (snapshots that could not be restored).
    pub async fn list_quarantined(&self, limit: i64) -> Result<Vec<CheckoutRow>, StoreError> {
        self.rows(
            &format!(
                "SELECT {ROW_COLUMNS} FROM hpp_checkouts WHERE quarantined IS NOT NULL \
                 ORDER BY id LIMIT $1"
            ),
            None,
            limit,
        )
        .await
    }

    async fn rows(
        &self,
        sql: &str,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<CheckoutRow>, StoreError> {
        let rows = with_pool!(self, |p, _q| {
            let sql = match self.backend() {
                Backend::Sqlite => sqlite_sql(sql),
                Backend::Postgres => sql.to_owned(),
            };
            let mut query = sqlx::query(&sql);
            if let Some(after) = after {
                query = query.bind(after);
            }
            let rows = query.bind(limit).fetch_all(p).await.map_err(db)?;
            rows.iter()
                .map(|r| checkout_row!(r))
                .collect::<Result<Vec<_>, _>>()?
        });
        Ok(rows)
    }

    /// Counts per state: total, due at `now`, leased at `now`.
    pub async fn counts(&self, now: i64) -> Result<Vec<StateCount>, StoreError> {
        let sql = "SELECT state, COUNT(*) AS total, \
                   SUM(CASE WHEN due_at <= $1 THEN 1 ELSE 0 END) AS due, \
                   SUM(CASE WHEN lease_expires_at > $1 THEN 1 ELSE 0 END) AS leased \
                   FROM hpp_checkouts GROUP BY state ORDER BY state";
        let rows = with_pool!(self, |p, q| {
            let rows = sqlx::query(&q(sql))
                .bind(now)
                .fetch_all(p)
                .await
                .map_err(db)?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                out.push(StateCount {
                    state: r.try_get("state").map_err(db)?,
                    total: r.try_get("total").map_err(db)?,
                    due: r.try_get::<Option<i64>, _>("due").map_err(db)?.unwrap_or(0),
                    leased: r
                        .try_get::<Option<i64>, _>("leased")
                        .map_err(db)?
                        .unwrap_or(0),
                });
            }
            out
        });
        Ok(rows)
    }

    /// Events not yet acknowledged, oldest first, at most `limit`.
    pub async fn pending_events(&self, limit: i64) -> Result<Vec<OutboxEvent>, StoreError> {
        let sql = "SELECT id, checkout_id, seq, kind, payload, created_at FROM hpp_outbox \
                   WHERE acked_at IS NULL ORDER BY created_at, checkout_id, seq LIMIT $1";
        self.events(sql, None, limit).await
    }

    /// All events of one checkout (acknowledged or not), in order.
    pub async fn events_of(&self, id: &str) -> Result<Vec<OutboxEvent>, StoreError> {
        let sql = "SELECT id, checkout_id, seq, kind, payload, created_at FROM hpp_outbox \
                   WHERE checkout_id = $2 ORDER BY seq LIMIT $1";
        self.events(sql, Some(id), i64::MAX).await
    }

    async fn events(
        &self,
        sql: &'static str,
        id: Option<&str>,
        limit: i64,
    ) -> Result<Vec<OutboxEvent>, StoreError> {
        let rows = with_pool!(self, |p, q| {
            let sql = q(sql);
            let mut query = sqlx::query(&sql).bind(limit);
            if let Some(id) = id {
                query = query.bind(id);
            }
            let rows = query.fetch_all(p).await.map_err(db)?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                out.push(OutboxEvent {
                    id: r.try_get("id").map_err(db)?,
                    checkout_id: r.try_get("checkout_id").map_err(db)?,
                    seq: r.try_get("seq").map_err(db)?,
                    kind: r.try_get("kind").map_err(db)?,
                    payload: r.try_get("payload").map_err(db)?,
                    created_at: r.try_get("created_at").map_err(db)?,
                });
            }
            out
        });
        Ok(rows)
    }

    /// Acknowledges an event: it is not offered again. `false` when it was acknowledged
    /// already or does not exist.
    pub async fn ack_event(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let _guard = self.write_guard().await;
        let sql = "UPDATE hpp_outbox SET acked_at = $1 WHERE id = $2 AND acked_at IS NULL";
        let n = with_pool!(self, |p, q| {
            sqlx::query(&q(sql))
                .bind(now)
                .bind(id)
                .execute(p)
                .await
                .map_err(db)?
                .rows_affected()
        });
        Ok(n == 1)
    }

    /// Runs one raw statement (tests and operators: e.g. to damage a row on purpose).
    #[doc(hidden)]
    pub async fn execute_raw(&self, sql: &str) -> Result<u64, StoreError> {
        let _guard = self.write_guard().await;
        let n = with_pool!(self, |p, _q| {
            sqlx::query(sql)
                .execute(p)
                .await
                .map_err(db)?
                .rows_affected()
        });
        Ok(n)
    }

    /// Closes the pool.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }
}

fn claimed(
    owner: &str,
    lease_until: i64,
    id: String,
    snapshot: Vec<u8>,
    version: i64,
    event_seq: i64,
    hint_seq: i64,
) -> Claimed {
    Claimed {
        lease: Lease {
            checkout_id: id,
            owner: owner.to_owned(),
            version,
            event_seq,
            hints_applied: 0,
            expires_at: lease_until,
        },
        snapshot,
        hint_seq,
    }
}

/// A database URL without its password, for messages.
pub(crate) fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://[redacted]@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_sqlite_numbered_parameters() {
        assert_eq!(
            sqlite_sql("WHERE a = $1 AND b = $12 AND c = '$'"),
            "WHERE a = ?1 AND b = ?12 AND c = '$'"
        );
    }

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(
            redact_url("postgres://u:secret@127.0.0.1:5432/db"),
            "postgres://[redacted]@127.0.0.1:5432/db"
        );
        assert_eq!(redact_url("sqlite:/tmp/x.db"), "sqlite:/tmp/x.db");
    }
}

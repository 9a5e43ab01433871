//! Durable checkouts (`klarna-hpp-runtime`): `worker` runs the reconciling worker against a
//! database and Klarna until Ctrl-C or SIGTERM; `checkouts list|show` read the store (state,
//! deadlines, order, amounts, last events, lease) without credentials and without secrets.

use std::time::Duration;

use klarna_hpp_async::ReqwestTransport;
use klarna_hpp_core::Timestamp;
use klarna_hpp_runtime::{
    inspect, Backend, CheckoutRow, CheckoutStore, CheckoutView, Runtime, RuntimeConfig,
    RuntimeError, StoreError, Worker, WorkerConfig,
};
use serde_json::{json, Value};

use crate::connect::Klarna;
use crate::error::CliError;
use crate::output::{self, Table};
use crate::Global;

/// `klarna-hpp worker`.
#[derive(Debug, clap::Args)]
pub(crate) struct WorkerArgs {
    /// The database: `sqlite://PATH`, `sqlite:PATH`, a file path, or `postgres://…`.
    #[arg(long, env = "KLARNA_HPP_DATABASE", value_name = "URL")]
    database: String,
    /// Capture each order as soon as it is placed (digital goods).
    #[arg(long)]
    capture_on_order: bool,
    /// Leave placing the order to the shop instead of placing it as soon as the consumer
    /// authorizes (mode NONE).
    #[arg(long)]
    no_place_order_on_authorization: bool,
    /// The longest one Klarna call may take, in seconds (the lease is this plus a margin).
    #[arg(long, default_value_t = 30, value_name = "SECONDS")]
    request_timeout: u64,
    /// Checkouts claimed per round.
    #[arg(long, default_value_t = 32)]
    batch: i64,
    /// Wait between rounds that found nothing due, in milliseconds.
    #[arg(long, default_value_t = 200, value_name = "MS")]
    idle_ms: u64,
}

/// `klarna-hpp checkouts …`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum CheckoutsArgs {
    /// The stored checkouts, one per line: state, order, due, lease.
    #[command(
        after_help = "Example:\n  klarna-hpp checkouts list --unresolved --database sqlite:///var/lib/shop/checkouts.db"
    )]
    List {
        /// Only checkouts in this state (as printed, e.g. Captured, AwaitingConsumer).
        #[arg(long, value_name = "STATE")]
        state: Option<String>,
        /// Only checkouts that ended with an unknown place-order outcome: reconcile each with
        /// Klarna.
        #[arg(long)]
        unresolved: bool,
        /// The database.
        #[arg(long, env = "KLARNA_HPP_DATABASE", value_name = "URL")]
        database: String,
    },
    /// One checkout: state, deadlines, order, amounts, lease and its last events.
    #[command(
        after_help = "Example:\n  klarna-hpp checkouts show demo-1764993600000 --database sqlite:///tmp/klarna-hpp-demo.db"
    )]
    Show {
        /// The checkout id.
        id: String,
        /// The database.
        #[arg(long, env = "KLARNA_HPP_DATABASE", value_name = "URL")]
        database: String,
    },
}

/// How many events `checkouts show` prints.
const LAST_EVENTS: usize = 10;

/// A runtime for one command.
pub(crate) fn tokio() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::Other(format!("cannot start the async runtime: {e}")))
}

/// Maps a store failure to the CLI's exit-code classes.
pub(crate) fn store_error(e: StoreError) -> CliError {
    match e {
        StoreError::UnsupportedUrl(_) => CliError::Usage(format!("--database: {e}")),
        StoreError::NotFound(_) => CliError::NotFound(e.to_string()),
        other => CliError::Other(other.to_string()),
    }
}

fn runtime_error(e: RuntimeError) -> CliError {
    match e {
        RuntimeError::Store(e) => store_error(e),
        other => CliError::Other(other.to_string()),
    }
}

/// Opens the store, waiting out a database that is not up yet when `wait` is set.
async fn open(url: &str, wait: bool) -> Result<CheckoutStore, CliError> {
    let opened = if wait {
        klarna_hpp_runtime::connect_when_up(url).await
    } else {
        CheckoutStore::connect(url).await
    };
    opened.map_err(store_error)
}

fn backend_name(store: &CheckoutStore) -> &'static str {
    match store.backend() {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
        _ => "other",
    }
}

/// Logs to stderr, plain text, level from `KLARNA_HPP_LOG` (default `info`).
fn init_logging() {
    let level = std::env::var("KLARNA_HPP_LOG")
        .ok()
        .and_then(|l| l.parse::<tracing::Level>().ok())
        .unwrap_or(tracing::Level::INFO);
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

/// Runs the worker until Ctrl-C or SIGTERM; exits 0 after the round under way.
pub(crate) fn worker(args: WorkerArgs, global: &Global) -> Result<(), CliError> {
    // Credentials and base URL as every Klarna command resolves them (flags, env, profile).
    let api = Klarna::connect(global)?.api().clone();
    init_logging();
    let rt = tokio()?;
    rt.block_on(async move {
        let store = open(&args.database, true).await?;
        let timeout = Duration::from_secs(args.request_timeout.max(1));
        let config = RuntimeConfig::default()
            .request_timeout(timeout)
            .capture_on_order(args.capture_on_order)
            .place_order_on_authorization(!args.no_place_order_on_authorization);
        let transport =
            ReqwestTransport::with_timeouts(timeout.min(Duration::from_secs(10)), timeout);
        let runtime = Runtime::new(store.clone(), api, transport, config);
        tracing::info!(
            database = backend_name(&store),
            owner = runtime.owner(),
            capture_on_order = args.capture_on_order,
            "worker started"
        );
        let worker = Worker::new(
            runtime,
            WorkerConfig::default()
                .batch(args.batch)
                .idle(Duration::from_millis(args.idle_ms)),
        );
        let stats = worker.run(klarna_hpp_runtime::shutdown_signal()).await;
        tracing::info!(
            claimed = stats.claimed,
            processed = stats.processed,
            leases_lost = stats.leases_lost,
            quarantined = stats.quarantined,
            backoffs = stats.backoffs,
            "worker stopped"
        );
        store.close().await;
        Ok(())
    })
}

/// `checkouts list|show`.
pub(crate) fn checkouts(args: CheckoutsArgs, global: &Global) -> Result<(), CliError> {
    let rt = tokio()?;
    rt.block_on(async move {
        match args {
            CheckoutsArgs::List {
                state,
                unresolved,
                database,
            } => {
                list(
                    &open(&database, false).await?,
                    state,
                    unresolved,
                    global.json,
                )
                .await
            }
            CheckoutsArgs::Show { id, database } => {
                show(&open(&database, false).await?, &id, global.json).await
            }
        }
    })
}

fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn time(millis: Option<i64>) -> Option<String> {
    output::time(millis.and_then(Timestamp::from_unix_millis))
}

fn time_json(millis: Option<i64>) -> Value {
    match millis.and_then(Timestamp::from_unix_millis) {
        Some(t) => Value::String(t.to_string()),
        None => Value::Null,
    }
}

fn ts_json(t: Option<Timestamp>) -> Value {
    t.map_or(Value::Null, |t| Value::String(t.to_string()))
}

/// The lease as people read it: `free`, or the holder and until when.
fn lease(row: &CheckoutRow, now: i64) -> String {
    match (&row.lease_owner, row.lease_expires_at) {
        (Some(owner), Some(until)) if until > now => {
            format!("{owner} until {}", time(Some(until)).unwrap_or_default())
        }
        (Some(owner), Some(_)) => format!("{owner} (expired)"),
        _ => "free".to_owned(),
    }
}

fn row_json(row: &CheckoutRow) -> Value {
    json!({
        "checkout_id": row.id,
        "state": row.state,
        "order_id": row.order_id,
        "due_at": time_json(row.due_at),
        "lease_owner": row.lease_owner,
        "lease_expires_at": time_json(row.lease_expires_at),
        "version": row.version,
        "unresolved": row.unresolved,
        "quarantined": row.quarantined,
        "created_at": time_json(Some(row.created_at)),
        "updated_at": time_json(Some(row.updated_at)),
    })
}

async fn list(
    store: &CheckoutStore,
    state: Option<String>,
    unresolved: bool,
    json: bool,
) -> Result<(), CliError> {
    const PAGE: i64 = 500;
    let mut rows = Vec::new();
    if unresolved {
        rows = store.list_unresolved(i64::MAX).await.map_err(store_error)?;
    } else {
        let mut after = String::new();
        loop {
            let page = store.list(&after, PAGE).await.map_err(store_error)?;
            let done = i64::try_from(page.len()).unwrap_or(0) < PAGE;
            if let Some(last) = page.last() {
                after.clone_from(&last.id);
            }
            rows.extend(page);
            if done {
                break;
            }
        }
    }
    if let Some(state) = &state {
        rows.retain(|r| r.state.eq_ignore_ascii_case(state));
    }
    if json {
        let all: Vec<Value> = rows.iter().map(row_json).collect();
        println!("{}", Value::Array(all));
        return Ok(());
    }
    let now = now_millis();
    let mut table = Table::columns(&["checkout", "state", "order", "due", "lease", "updated"]);
    for r in &rows {
        let mut state = r.state.clone();
        if r.unresolved {
            state.push_str(" (unresolved)");
        }
        if r.quarantined.is_some() {
            state.push_str(" (quarantined)");
        }
        table.add(vec![
            r.id.clone(),
            state,
            r.order_id.clone().unwrap_or_else(|| "-".into()),
            time(r.due_at).unwrap_or_else(|| "-".into()),
            lease(r, now),
            time(Some(r.updated_at)).unwrap_or_default(),
        ]);
    }
    table.print();
    output::note(format!("{} checkout(s)", rows.len()));
    Ok(())
}

fn view_json(view: &CheckoutView) -> Value {
    let d = &view.deadlines;
    json!({
        "state": format!("{:?}", view.state),
        "hpp_status": view.hpp_status.as_ref().map(ToString::to_string),
        "order_id": view.order_id,
        "captured_amount": view.captured,
        "refunded_amount": view.refunded,
        "capturable_amount": view.capturable,
        "failure": view.failure.as_ref().map(|f| format!("{f:?}")),
        "deadlines": {
            "kp_session": ts_json(d.kp_session),
            "hpp_session": ts_json(d.hpp_session),
            "authorization_token": ts_json(d.authorization_token),
            "order_authorization": ts_json(d.order_authorization),
        },
    })
}

async fn show(store: &CheckoutStore, id: &str, json: bool) -> Result<(), CliError> {
    let row = store
        .get(id)
        .await
        .map_err(store_error)?
        .ok_or_else(|| store_error(StoreError::NotFound(id.to_owned())))?;
    // A quarantined row has no usable snapshot: show the row and why.
    let view = match &row.quarantined {
        Some(_) => None,
        None => Some(inspect(store, id).await.map_err(runtime_error)?),
    };
    let events = store.events_of(id).await.map_err(store_error)?;
    let last = &events[events.len().saturating_sub(LAST_EVENTS)..];
    if json {
        let mut out = row_json(&row);
        if let (Some(view), Some(map)) = (&view, out.as_object_mut()) {
            if let Some(v) = view_json(view).as_object() {
                for (k, v) in v {
                    map.insert(k.clone(), v.clone());
                }
            }
        }
        if let Some(map) = out.as_object_mut() {
            map.insert(
                "events".into(),
                Value::Array(
                    last.iter()
                        .map(|e| {
                            json!({"id": e.id, "seq": e.seq, "kind": e.kind,
                                   "at": time_json(Some(e.created_at))})
                        })
                        .collect(),
                ),
            );
        }
        println!("{out}");
        return Ok(());
    }
    let now = now_millis();
    let mut table = Table::new()
        .row("checkout", row.id.clone())
        .row("state", row.state.clone());
    if let Some(view) = &view {
        let d = &view.deadlines;
        table = table
            .opt(
                "hpp_status",
                view.hpp_status.as_ref().map(ToString::to_string),
            )
            .row(
                "order_id",
                view.order_id.clone().unwrap_or_else(|| "-".into()),
            )
            .row("captured", output::money(view.captured, None))
            .row("refunded", output::money(view.refunded, None))
            .row("capturable", output::money(view.capturable, None))
            .opt("failure", view.failure.as_ref().map(|f| format!("{f:?}")))
            .opt("kp_session_deadline", output::time(d.kp_session))
            .opt("hpp_session_deadline", output::time(d.hpp_session))
            .opt("token_deadline", output::time(d.authorization_token))
            .opt("order_auth_deadline", output::time(d.order_authorization));
    }
    table = table
        .row("due", time(row.due_at).unwrap_or_else(|| "-".into()))
        .row("lease", lease(&row, now))
        .row("version", row.version.to_string())
        .opt(
            "unresolved",
            row.unresolved.then_some("yes: reconcile with Klarna"),
        )
        .opt("quarantined", row.quarantined.clone())
        .row("created", time(Some(row.created_at)).unwrap_or_default())
        .row("updated", time(Some(row.updated_at)).unwrap_or_default());
    table.print();
    println!();
    let mut events_table = Table::columns(&["event", "kind", "at"]);
    for e in last {
        events_table.add(vec![
            e.seq.to_string(),
            e.kind.clone(),
            time(Some(e.created_at)).unwrap_or_default(),
        ]);
    }
    events_table.print();
    output::note(format!("{} of {} event(s) shown", last.len(), events.len()));
    Ok(())
}

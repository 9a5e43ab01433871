//! The HTTP side: the accept loop (a connection cap, a header-read timeout, and a per-connection
//! switch that closes a connection without a response, for "commit then drop" faults), and the
//! pipeline every Klarna API request takes: correlation id → route → credentials → fault →
//! operation (idempotency) → log → response.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tower::ServiceExt;

use crate::api::{route, ApiError, NoRoute, Reply};
use crate::clock::{format, http_date};
use crate::faults::Fault;
use crate::ids::{base64_decode, IdKind};
use crate::records::{logged_body, RequestRecord};
use crate::shared::Shared;

/// The largest request body accepted (Klarna answers 413 REQUEST_TOO_LARGE beyond its limit).
const MAX_BODY: usize = 1 << 20;

/// Closes the connection a request arrived on, without a response.
#[derive(Clone, Debug)]
pub(crate) struct ConnectionKill(Arc<Notify>);

/// What one server allows a client.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Limits {
    /// Connections served at once; one more gets 503 and is closed.
    pub(crate) max_connections: usize,
    /// How long a request's headers may take to arrive.
    pub(crate) header_read_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            header_read_timeout: Duration::from_secs(30),
        }
    }
}

/// What a connection beyond the cap is told before it is closed.
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: 98\r\n\r\n{\"error_code\":\"TEMPORARILY_UNAVAILABLE\",\"error_messages\":[\"Too many connections to the emulator\"]}";

/// Serves `app` on `listener` until `shutdown` turns true, then lets open connections finish
/// (up to 2 s).
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    mut shutdown: watch::Receiver<bool>,
    limits: Limits,
) {
    let mut connections = JoinSet::new();
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                match accepted {
                    Ok((stream, _)) => match Arc::clone(&slots).try_acquire_owned() {
                        Ok(slot) => {
                            connections.spawn(connection(
                                stream,
                                app.clone(),
                                shutdown.clone(),
                                limits,
                                slot,
                            ));
                        }
                        Err(_) => {
                            connections.spawn(refuse(stream));
                        }
                    },
                    // Out of file descriptors and the like: wait a moment instead of spinning.
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                }
                while connections.try_join_next().is_some() {}
            }
            () = stopped(&mut shutdown) => break,
        }
    }
    drop(listener);
    let drained = tokio::time::timeout(Duration::from_secs(2), async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        connections.abort_all();
    }
}

/// A connection beyond the cap: 503, then closed (after reading what it sent, for at most a
/// second, so that the close does not reset the answer away).
async fn refuse(mut stream: TcpStream) {
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        let _ = stream.write_all(BUSY).await;
        let _ = stream.shutdown().await;
        let mut sink = [0u8; 4096];
        let mut left: usize = 64 * 1024;
        while left > 0 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    })
    .await;
}

/// Completes once the stop flag is set (or its sender is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

async fn connection(
    stream: TcpStream,
    app: Router,
    mut shutdown: watch::Receiver<bool>,
    limits: Limits,
    _slot: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let kill = Arc::new(Notify::new());
    let switch = ConnectionKill(Arc::clone(&kill));
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(switch.clone());
        let app = app.clone();
        async move { Ok::<_, Infallible>(app.oneshot(req).await.unwrap_or_else(|e| match e {})) }
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        // Dropping the connection closes the socket; the response is never written.
        _ = kill.notified() => {}
        () = stopped(&mut shutdown) => {
            conn.as_mut().graceful_shutdown();
            let _ = tokio::time::timeout(Duration::from_secs(1), conn.as_mut()).await;
        }
    }
}

/// Turns a [`Reply`] into a response with `Klarna-Correlation-Id`, a `Date` on the emulator's
/// clock (so that it agrees with the times in bodies), and `Content-Type` when there is a body.
pub(crate) fn respond(reply: &Reply, correlation_id: &str, now: crate::clock::Millis) -> Response {
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("Klarna-Correlation-Id", correlation_id)
        .header("Date", http_date(now));
    for (name, value) in &reply.headers {
        builder = builder.header(*name, value);
    }
    let body = match &reply.body {
        Some(b) => {
            builder = builder.header("Content-Type", "application/json");
            Body::from(b.clone())
        }
        None => Body::empty(),
    };
    builder.body(body).unwrap_or_else(|_| {
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

fn authorized(headers: &HeaderMap, shared: &Shared) -> bool {
    let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return false;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    let Some(decoded) = base64_decode(encoded.trim()) else {
        return false;
    };
    let Ok(text) = String::from_utf8(decoded) else {
        return false;
    };
    text.split_once(':')
        .is_some_and(|(u, p)| u == shared.username && p == shared.password)
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Every request that is not the hosted page or the control API: Klarna's API.
pub(crate) async fn api(State(shared): State<Arc<Shared>>, req: Request) -> Response {
    let kill = req.extensions().get::<ConnectionKill>().cloned();
    let (parts, body) = req.into_parts();
    let correlation_id = shared.env.ids.next(IdKind::Correlation).to_string();
    let mut record = RequestRecord {
        seq: 0,
        at: format(shared.clock.now()),
        method: parts.method.as_str().to_owned(),
        path: parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned()),
        operation: None,
        status: None,
        correlation_id: correlation_id.clone(),
        idempotency_key: header(&parts.headers, "klarna-idempotency-key"),
        idempotent_replay: false,
        user_agent: header(&parts.headers, "user-agent"),
        body: String::new(),
        fault: None,
    };
    let finish = |mut record: RequestRecord, reply: &Reply| {
        record.status = Some(reply.status);
        tracing::info!(
            target: "klarna_hpp_sim::api",
            "{} {} -> {} ({})",
            record.method,
            record.path,
            reply.status,
            record.operation.as_deref().unwrap_or("-")
        );
        shared.records().requests.push_weighed(
            |seq| {
                record.seq = seq;
                record
            },
            RequestRecord::weight,
        );
        respond(reply, &correlation_id, shared.clock.now())
    };
    let bytes = match to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            let e = ApiError::new(413, "REQUEST_TOO_LARGE", "Request is too large");
            return finish(record, &e.into_reply(&correlation_id));
        }
    };
    // Only a caller with the credentials gets its body kept (cut and marked when long): anyone
    // who reaches the port could otherwise fill the log.
    let authenticated = authorized(&parts.headers, &shared);
    if authenticated {
        record.body = logged_body(&bytes);
    }
    let (op, params) = match route(parts.method.as_str(), parts.uri.path()) {
        Ok(r) => r,
        Err(NoRoute::NotFound) => {
            let e = ApiError::new(
                404,
                "NOT_FOUND",
                format!("No such resource: {}", parts.uri.path()),
            );
            return finish(record, &e.into_reply(&correlation_id));
        }
        Err(NoRoute::MethodNotAllowed) => {
            let allow: Vec<&str> = ["GET", "POST", "PATCH", "DELETE"]
                .into_iter()
                .filter(|m| route(m, parts.uri.path()).is_ok())
                .collect();
            let e = ApiError::new(
                405,
                "METHOD_NOT_ALLOWED",
                format!("{} is not allowed here", parts.method),
            );
            let reply = e
                .into_reply(&correlation_id)
                .header("Allow", allow.join(", "));
            return finish(record, &reply);
        }
    };
    record.operation = Some(op.name().to_owned());
    if !authenticated {
        let reply = ApiError::new(401, "UNAUTHORIZED", "Unauthorized")
            .into_reply(&correlation_id)
            .header("WWW-Authenticate", "Basic realm=\"Klarna API\"".to_owned());
        return finish(record, &reply);
    }
    let fault = shared.faults().take(op);
    if let Some(fault) = &fault {
        record.fault = Some(fault.describe());
        if let Some(ms) = fault.delay_ms {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        if let Some(status) = fault.status {
            let code = fault
                .error_code
                .as_deref()
                .unwrap_or(Fault::code_for(status));
            let mut reply = Reply::json(
                status,
                &serde_json::json!({
                    "error_code": code,
                    "error_messages": [format!("Injected fault: {status} {code}")],
                    "correlation_id": correlation_id,
                }),
            );
            if let Some(secs) = fault.retry_after {
                reply = reply.header("Retry-After", secs.to_string());
            }
            return finish(record, &reply);
        }
    }
    if fault.as_ref().is_some_and(|f| f.stale) {
        if let Some(reply) = shared.last_read(&record.path, None) {
            return finish(record, &reply);
        }
    }
    let executed = shared.run(|state, cx| {
        state.execute(
            cx,
            op,
            &params,
            &bytes,
            record.idempotency_key.as_deref(),
            &correlation_id,
        )
    });
    record.idempotent_replay = executed.replayed;
    if op.name() == "om.get_order" && executed.reply.status == 200 {
        shared.last_read(&record.path, Some(&executed.reply));
    }
    if fault.as_ref().is_some_and(|f| f.drop_after_commit) {
        tracing::info!(
            target: "klarna_hpp_sim::api",
            "{} {} -> dropped after commit ({})",
            record.method,
            record.path,
            op.name()
        );
        let mut dropped = record.clone();
        shared.records().requests.push_weighed(
            |seq| {
                dropped.seq = seq;
                dropped
            },
            RequestRecord::weight,
        );
        if let Some(kill) = kill {
            kill.0.notify_one();
        }
        // The connection task drops this future together with the connection.
        std::future::pending::<()>().await;
    }
    finish(record, &executed.reply)
}

/// A `text/html` response.
pub(crate) fn html(status: StatusCode, body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r.headers_mut()
        .insert("cache-control", HeaderValue::from_static("no-store"));
    r
}

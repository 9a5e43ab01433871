//! The control API under `/_sim/`: the clock, the consumer without a browser, faults, the logs,
//! reset. No credentials; JSON in and out; errors are `{"error": "…"}`.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::api::NAMES;
use crate::clock::format;
use crate::consumer::Action;
use crate::faults::Fault;
use crate::records::{CallbackDelivery, RequestRecord, SentMessage};
use crate::shared::Shared;

/// The control routes (nested under `/_sim`).
pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/", get(info))
        .route("/clock", get(clock))
        .route("/clock/advance", post(advance))
        .route("/hpp/{id}", get(hpp_view))
        .route("/hpp/{id}/{action}", post(consumer))
        .route(
            "/faults",
            get(list_faults).post(add_fault).delete(clear_faults),
        )
        .route("/requests", get(requests))
        .route("/messages", get(messages))
        .route("/callbacks", get(callbacks))
        .route("/stats", get(stats))
        .route("/reset", post(reset))
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({"error": message.into()}))).into_response()
}

pub(crate) async fn info(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(json!({
        "name": "klarna-hpp-sim",
        "version": env!("CARGO_PKG_VERSION"),
        "base_url": shared.env.base_url,
        "operations": NAMES,
    }))
}

fn clock_json(now: i64) -> Value {
    json!({"now": format(now)})
}

async fn clock(State(shared): State<Arc<Shared>>) -> Json<Value> {
    Json(clock_json(shared.clock.now()))
}

#[derive(Deserialize)]
struct Advance {
    seconds: f64,
}

async fn advance(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let Ok(Advance { seconds }) = serde_json::from_slice(&body) else {
        return error(
            StatusCode::BAD_REQUEST,
            "expected {\"seconds\": <non-negative number>}",
        );
    };
    if !seconds.is_finite() || seconds < 0.0 {
        return error(
            StatusCode::BAD_REQUEST,
            "seconds must be a non-negative number",
        );
    }
    let now = shared.advance(Duration::from_secs_f64(seconds.min(1e12)));
    Json(clock_json(now)).into_response()
}

async fn hpp_view(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let now = shared.clock.now();
    let view = shared.read(|state| {
        let sid = state.live_hpp(&id, now)?;
        let s = state.hpp.get(&sid)?;
        let mut v = state.hpp_session_json(sid, s);
        v["kp_session_id"] = json!(s.kp.to_string());
        v["payment_method_categories"] =
            json!(s.allowed.iter().map(|c| c.kp_id()).collect::<Vec<_>>());
        v["place_order_mode"] = json!(match s.mode {
            crate::state::PlaceOrderMode::None => "NONE",
            crate::state::PlaceOrderMode::PlaceOrder => "PLACE_ORDER",
            crate::state::PlaceOrderMode::CaptureOrder => "CAPTURE_ORDER",
        });
        v["payment_fallback"] = json!(s.payment_fallback);
        Some(v)
    });
    match view {
        Some(v) => Json(v).into_response(),
        None => error(StatusCode::NOT_FOUND, "HPP session not found or expired"),
    }
}

#[derive(Deserialize, Default)]
struct ConsumerBody {
    payment_method_category: Option<String>,
}

async fn consumer(
    State(shared): State<Arc<Shared>>,
    Path((id, action)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let Some(action) = Action::parse(&action) else {
        return error(
            StatusCode::NOT_FOUND,
            "unknown action; use open, pay, decline, back, cancel or error",
        );
    };
    let body: ConsumerBody = if body.is_empty() {
        ConsumerBody::default()
    } else {
        match serde_json::from_slice(&body) {
            Ok(b) => b,
            Err(e) => return error(StatusCode::BAD_REQUEST, format!("invalid body: {e}")),
        }
    };
    let category = body.payment_method_category;
    match shared.run(|state, cx| state.consumer_act(cx, &id, action, category.as_deref())) {
        Ok(outcome) => Json(outcome).into_response(),
        Err(e) => error(
            StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::BAD_REQUEST),
            e.to_string(),
        ),
    }
}

async fn list_faults(State(shared): State<Arc<Shared>>) -> Json<Vec<Fault>> {
    Json(shared.faults().list())
}

async fn add_fault(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let fault: Fault = match serde_json::from_slice(&body) {
        Ok(f) => f,
        Err(e) => return error(StatusCode::BAD_REQUEST, format!("invalid fault: {e}")),
    };
    if let Err(e) = fault.validate() {
        return error(StatusCode::BAD_REQUEST, e.to_string());
    }
    shared.faults().add(fault.clone());
    (StatusCode::CREATED, Json(fault)).into_response()
}

async fn clear_faults(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.faults().clear();
    StatusCode::NO_CONTENT
}

async fn requests(State(shared): State<Arc<Shared>>) -> Json<Vec<RequestRecord>> {
    Json(shared.records().requests.iter().cloned().collect())
}

async fn messages(State(shared): State<Arc<Shared>>) -> Json<Vec<SentMessage>> {
    Json(shared.records().messages.iter().cloned().collect())
}

async fn callbacks(State(shared): State<Arc<Shared>>) -> Json<Vec<CallbackDelivery>> {
    Json(shared.records().callbacks.iter().cloned().collect())
}

async fn stats(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let mut v = shared.read(crate::state::State::stats);
    v["pending_callbacks"] = json!(shared.records().pending_callbacks());
    v["request_log_bytes"] = json!(shared.records().requests.bytes());
    v["now"] = json!(format(shared.clock.now()));
    Json(v)
}

async fn reset(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.reset();
    StatusCode::NO_CONTENT
}

//! Test support: an HTTP client for the emulator that validates every body it is served against
//! Klarna's schemas, request fixtures, and a tiny merchant server that records what reaches it.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use klarna_hpp_sim::{Sim, SimConfig, SimHandle};
use serde_json::{json, Map, Value};

// ---------------------------------------------------------------- schemas

fn spec(name: &str) -> &'static Value {
    static SPECS: OnceLock<HashMap<&'static str, Value>> = OnceLock::new();
    let specs = SPECS.get_or_init(|| {
        let mut m = HashMap::new();
        for (n, text) in [
            (
                "hpp",
                include_str!("../../../../docs/spec/hpp-v1.openapi.json"),
            ),
            (
                "payments",
                include_str!("../../../../docs/spec/payments-v1.openapi.json"),
            ),
            (
                "ordermanagement",
                include_str!("../../../../docs/spec/ordermanagement-v1.openapi.json"),
            ),
        ] {
            m.insert(n, serde_json::from_str(text).expect("spec is JSON"));
        }
        m
    });
    &specs[name]
}

/// A draft-4 validator for `#/components/schemas/<schema>` (root = spec minus paths + `$ref`).
pub fn validator(spec_name: &str, schema: &str) -> jsonschema::Validator {
    let mut root = spec(spec_name).clone();
    assert!(
        root["components"]["schemas"].get(schema).is_some(),
        "{spec_name} has no schema {schema}"
    );
    let obj = root.as_object_mut().unwrap();
    obj.remove("paths");
    obj.insert(
        "$ref".into(),
        json!(format!("#/components/schemas/{schema}")),
    );
    jsonschema::draft4::new(&root).expect("schema compiles")
}

/// Panics with every violation when `instance` does not validate.
pub fn assert_valid(spec_name: &str, schema: &str, instance: &Value) {
    let v = validator(spec_name, schema);
    let errors: Vec<String> = v
        .iter_errors(instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{spec_name}:{schema} rejects {instance}:\n{}",
        errors.join("\n")
    );
}

/// The schema a response body must match: (spec, schema, is an array of it).
fn response_schema(
    method: &str,
    path: &str,
    status: u16,
) -> Option<(&'static str, &'static str, bool)> {
    let segs: Vec<&str> = path
        .split('?')
        .next()
        .unwrap()
        .trim_matches('/')
        .split('/')
        .collect();
    let family = segs.first().copied().unwrap_or_default();
    if !(200..300).contains(&status) {
        return match family {
            "ordermanagement" => Some(("ordermanagement", "ErrorMessageDto", false)),
            // HPP declares no error schema; Klarna uses the same shape as KP's.
            _ => Some(("payments", "ErrorV2", false)),
        };
    }
    let s = match (method, segs.as_slice()) {
        ("POST", ["payments", "v1", "sessions"]) => ("payments", "merchant_session", false),
        ("GET", ["payments", "v1", "sessions", _]) => ("payments", "session_read", false),
        ("POST", ["payments", "v1", "authorizations", _, "order"]) => ("payments", "order", false),
        ("POST", ["payments", "v1", "authorizations", _, "customer-token"]) => {
            ("payments", "customer_token_creation_response", false)
        }
        ("POST", ["hpp", "v1", "sessions"]) => ("hpp", "SessionCreationResponseV1", false),
        ("GET", ["hpp", "v1", "sessions", _]) => ("hpp", "SessionResponseV1", false),
        ("GET", ["ordermanagement", "v1", "orders", _]) => ("ordermanagement", "Order", false),
        ("GET", ["ordermanagement", "v1", "orders", _, "captures"]) => {
            ("ordermanagement", "Capture", true)
        }
        ("GET", ["ordermanagement", "v1", "orders", _, "captures", _]) => {
            ("ordermanagement", "Capture", false)
        }
        ("GET", ["ordermanagement", "v1", "orders", _, "refunds", _]) => {
            ("ordermanagement", "Refund", false)
        }
        (
            "GET",
            ["ordermanagement", "v1", "orders", _, "captures", _, "extend-due-date-options"],
        ) => ("ordermanagement", "ExtendDueDateOptions", false),
        _ => return None,
    };
    Some(s)
}

// ---------------------------------------------------------------- client

/// A response: status, headers, body as JSON (Null when empty).
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn error_code(&self) -> &str {
        self.body["error_code"].as_str().unwrap_or_default()
    }

    /// Asserts a Klarna error: status and error_code, with a correlation id matching the header.
    pub fn assert_error(&self, status: u16, code: &str) -> &Self {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.error_code(), code, "{}", self.text);
        assert!(self.body["error_messages"]
            .as_array()
            .is_some_and(|m| !m.is_empty()));
        assert_eq!(
            self.body["correlation_id"].as_str(),
            self.header("klarna-correlation-id"),
            "correlation id in body and header"
        );
        self
    }
}

/// Klarna's API on an emulator, with credentials; every body served is schema-checked.
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub client: reqwest::Client,
    pub auth: Option<(String, String)>,
}

impl Api {
    pub fn new(sim: &SimHandle) -> Api {
        Api {
            base: sim.base_url().to_owned(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            auth: Some((sim.username().to_owned(), sim.password().to_owned())),
        }
    }

    pub fn without_auth(&self) -> Api {
        Api {
            auth: None,
            ..self.clone()
        }
    }

    pub fn with_auth(&self, user: &str, pass: &str) -> Api {
        Api {
            auth: Some((user.into(), pass.into())),
            ..self.clone()
        }
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{}", self.base, path)
        };
        let mut req = self
            .client
            .request(method.parse().unwrap(), &url)
            .header("Accept", "application/json")
            .header("User-Agent", "klarna-hpp-sim-tests/1");
        if let Some((u, p)) = &self.auth {
            req = req.basic_auth(u, Some(p));
        }
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.header("Content-Type", "application/json").body(b);
        }
        let resp = req.send().await.expect("request reaches the emulator");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap();
        assert!(
            headers.contains_key("klarna-correlation-id"),
            "{method} {path}: every API response has Klarna-Correlation-Id"
        );
        let body = if text.is_empty() {
            Value::Null
        } else {
            assert_eq!(
                headers.get("content-type").and_then(|v| v.to_str().ok()),
                Some("application/json"),
                "{method} {path}"
            );
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{method} {path}: not JSON ({e}): {text}"))
        };
        let api_path = url.strip_prefix(&self.base).unwrap_or(&url).to_owned();
        if !body.is_null() {
            let (s, schema, array) =
                response_schema(method, &api_path, status).unwrap_or_else(|| {
                    panic!("{method} {api_path} {status}: a body where none is documented: {text}")
                });
            if array {
                let items = body.as_array().expect("an array");
                for item in items {
                    assert_valid(s, schema, item);
                }
            } else {
                assert_valid(s, schema, &body);
            }
        }
        Resp {
            status,
            headers,
            body,
            text,
        }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send("GET", path, None, &[]).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send("DELETE", path, None, &[]).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Resp {
        self.send("POST", path, Some(body.to_string().into_bytes()), &[])
            .await
    }

    pub async fn post_empty(&self, path: &str) -> Resp {
        self.send("POST", path, None, &[]).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Resp {
        self.send("PATCH", path, Some(body.to_string().into_bytes()), &[])
            .await
    }

    pub async fn post_idem(&self, path: &str, body: &Value, key: &str) -> Resp {
        self.send(
            "POST",
            path,
            Some(body.to_string().into_bytes()),
            &[("Klarna-Idempotency-Key", key)],
        )
        .await
    }

    // ------------------------------------------------------------ flows

    /// Creates a KP session; returns its id.
    pub async fn kp_session(&self, body: &Value) -> String {
        let r = self.post("/payments/v1/sessions", body).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["session_id"].as_str().unwrap().to_owned()
    }

    pub fn kp_url(&self, kp: &str) -> String {
        format!("{}/payments/v1/sessions/{kp}", self.base)
    }

    /// Creates an HPP session for a KP session with extra fields merged in; returns the
    /// creation response.
    pub async fn hpp_session(&self, kp: &str, extra: Value) -> Value {
        let mut body = json!({"payment_session_url": self.kp_url(kp)});
        merge(&mut body, extra);
        let r = self.post("/hpp/v1/sessions", &body).await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.body
    }

    /// KP session + HPP session with the given HPP extras; returns (kp id, hpp id).
    pub async fn checkout(&self, hpp_extra: Value) -> (String, String) {
        let kp = self.kp_session(&kp_body()).await;
        let hpp = self.hpp_session(&kp, hpp_extra).await;
        (kp, hpp["session_id"].as_str().unwrap().to_owned())
    }

    /// The HPP session as read through the API.
    pub async fn hpp_status(&self, hpp: &str) -> String {
        let r = self.get(&format!("/hpp/v1/sessions/{hpp}")).await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["status"].as_str().unwrap().to_owned()
    }

    /// A placed order (PLACE_ORDER through the consumer); returns its id.
    pub async fn order(&self, sim: &SimHandle) -> String {
        let (_, hpp) = self
            .checkout(json!({"options": {"place_order_mode": "PLACE_ORDER"}}))
            .await;
        sim.consumer(&hpp).pay().unwrap().order_id.unwrap()
    }
}

/// Shallow-merges `extra`'s keys into `base`.
pub fn merge(base: &mut Value, extra: Value) {
    if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
        for (k, v) in e {
            b.insert(k, v);
        }
    }
}

/// A valid KP session body: 2 lines, 25 % VAT, SEK (Klarna's tax-handling example).
pub fn kp_body() -> Value {
    json!({
        "purchase_country": "SE",
        "purchase_currency": "SEK",
        "locale": "sv-SE",
        "order_amount": 62400,
        "order_tax_amount": 12480,
        "order_lines": [
            {"type": "physical", "reference": "19-402", "name": "Battery Power Pack", "quantity": 1,
             "unit_price": 59500, "tax_rate": 2500, "total_amount": 59500, "total_tax_amount": 11900},
            {"type": "shipping_fee", "name": "Shipping", "quantity": 1,
             "unit_price": 2900, "tax_rate": 2500, "total_amount": 2900, "total_tax_amount": 580}
        ],
        "billing_address": {"given_name": "Testperson-se", "family_name": "Approved", "email": "youremail@email.com",
            "street_address": "Stårgatan 1", "postal_code": "12345", "city": "Ankeborg", "country": "SE"},
        "customer": {"date_of_birth": "1970-01-01", "national_identification_number": "197001011234"},
        "merchant_reference1": "ORDER-1"
    })
}

/// The create-order body matching [`kp_body`].
pub fn order_body() -> Value {
    let mut b = kp_body();
    b.as_object_mut().unwrap().remove("merchant_reference1");
    b
}

pub async fn start() -> SimHandle {
    start_with(config()).await
}

pub fn config() -> SimConfig {
    SimConfig::default()
        .with_seed(7)
        .with_start_time(klarna_hpp_sim::time::macros::datetime!(2024-05-01 12:00 UTC))
        .with_callback_retry_delay(Duration::from_millis(20))
        .with_callback_timeout(Duration::from_millis(500))
}

pub async fn start_with(config: SimConfig) -> SimHandle {
    Sim::start(config).await.expect("emulator starts")
}

pub fn hours(h: u64) -> Duration {
    Duration::from_secs(h * 3600)
}

/// Waits (up to 10 s) until `f` holds.
pub async fn eventually(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..1000 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

// ---------------------------------------------------------------- merchant

/// One request that reached the merchant.
#[derive(Debug, Clone)]
pub struct Hit {
    pub method: String,
    pub uri: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// How the merchant answers: a status per request number (default 200) and a delay.
#[derive(Default)]
struct Behaviour {
    statuses: Vec<u16>,
    delay: Option<Duration>,
}

#[derive(Clone, Default)]
struct MerchantState {
    hits: Arc<Mutex<Vec<Hit>>>,
    behaviour: Arc<Mutex<Behaviour>>,
}

/// A tiny merchant web server on 127.0.0.1 that records every request (redirects and
/// callbacks) and answers 200 "ok" unless told otherwise.
pub struct Merchant {
    pub base: String,
    state: MerchantState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

async fn merchant_any(
    State(st): State<MerchantState>,
    method: axum::http::Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let n = {
        let mut hits = st.hits.lock().unwrap();
        hits.push(Hit {
            method: method.to_string(),
            uri: uri.to_string(),
            headers,
            body,
        });
        hits.len()
    };
    let (status, delay) = {
        let b = st.behaviour.lock().unwrap();
        (b.statuses.get(n - 1).copied().unwrap_or(200), b.delay)
    };
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "text/html")],
        format!(
            "<!doctype html><title>merchant</title><p id=\"landed\">{}</p>",
            uri
        ),
    )
}

impl Merchant {
    pub async fn start() -> Merchant {
        let state = MerchantState::default();
        let app = axum::Router::new()
            .fallback(merchant_any)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        Merchant {
            base,
            state,
            stop: Some(tx),
        }
    }

    /// Answer the n-th request (1-based order) with `statuses[n-1]`.
    pub fn answer_with(&self, statuses: &[u16]) {
        self.state.behaviour.lock().unwrap().statuses = statuses.to_vec();
    }

    pub fn delay(&self, d: Duration) {
        self.state.behaviour.lock().unwrap().delay = Some(d);
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.state.hits.lock().unwrap().clone()
    }

    /// Merchant URLs for every key, with placeholders; callbacks go to /cb.
    pub fn urls(&self) -> Value {
        let b = &self.base;
        json!({
            "success": format!("{b}/success?sid={{{{session_id}}}}&token={{{{authorization_token}}}}&order={{{{order_id}}}}"),
            "cancel": format!("{b}/cancel?sid={{{{session_id}}}}"),
            "back": format!("{b}/back?sid={{{{session_id}}}}"),
            "failure": format!("{b}/failure?sid={{{{session_id}}}}"),
            "error": format!("{b}/error?sid={{{{session_id}}}}"),
            "status_update": format!("{b}/cb?sid={{{{session_id}}}}&secret=s3cr3t"),
        })
    }
}

impl Drop for Merchant {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// A JSON object from pairs, for small bodies.
pub fn obj(pairs: &[(&str, Value)]) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        m.insert((*k).to_owned(), v.clone());
    }
    Value::Object(m)
}

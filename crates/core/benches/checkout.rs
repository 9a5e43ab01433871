//! A whole checkout (mode NONE: create, consumer completes, place order, read order, capture)
//! through the state machine with canned responses, next to bare serde_json encoding the same
//! request bodies and decoding the same response bodies. Goal: within 1.3x.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use klarna_hpp_core::checkout::{Checkout, CheckoutConfig, State};
use klarna_hpp_core::http::{HeaderValue, Request, Response};
use klarna_hpp_core::kp::{self, SessionCreate};
use klarna_hpp_core::model::{OrderLine, OrderLineType};
use klarna_hpp_core::{hpp, om};
use klarna_hpp_core::{Api, BaseUrl, Credentials, Timestamp};
use std::hint::black_box;

const KP: &str = r#"{"session_id":"kp-1","client_token":"eyJhbGciOiJub25lIn0.e30.","payment_method_categories":[{"identifier":"pay_later","name":"Pay later"}]}"#;
const HPP: &str = r#"{"session_id":"hpp-1","redirect_url":"https://pay.example/hpp-1","qr_code_url":"https://pay.example/hpp-1/qr","session_url":"http://127.0.0.1:1/hpp/v1/sessions/hpp-1","distribution_url":"http://127.0.0.1:1/hpp/v1/sessions/hpp-1/distribution","expires_at":"2026-11-28T11:00:00Z"}"#;
const WAITING: &str = r#"{"session_id":"hpp-1","status":"IN_PROGRESS","updated_at":"2026-11-26T12:00:01Z","expires_at":"2026-11-28T11:00:00Z"}"#;
const COMPLETED: &str = r#"{"session_id":"hpp-1","status":"COMPLETED","authorization_token":"tok-1","updated_at":"2026-11-26T12:00:02Z","expires_at":"2026-11-28T11:00:00Z"}"#;
const ORDER: &str = r#"{"order_id":"om-1","fraud_status":"ACCEPTED","authorized_payment_method":{"type":"invoice"}}"#;
const OM: &str = r#"{"order_id":"om-1","status":"AUTHORIZED","order_amount":12000,"original_order_amount":12000,"captured_amount":0,"refunded_amount":0,"remaining_authorized_amount":12000,"purchase_country":"se","purchase_currency":"sek","expires_at":"2026-12-24T12:00:00Z"}"#;

fn reply(status: u16, body: &str) -> Response<Vec<u8>> {
    let mut r = Response::new(body.as_bytes().to_vec());
    *r.status_mut() = status.try_into().expect("status");
    r
}

fn config() -> CheckoutConfig {
    let lines = vec![
        OrderLine::new("Running shoes", 1, 10_000)
            .kind(OrderLineType::Physical)
            .tax_rate(2500),
        OrderLine::new("Socks", 2, 1_000)
            .kind(OrderLineType::Physical)
            .tax_rate(2500),
    ];
    CheckoutConfig::new(
        "chk-1",
        "a-seed-of-at-least-16-bytes",
        SessionCreate::new("SE", "SEK", lines),
    )
}

/// Klarna's seven answers, in the order the checkout asks. They are the transport's output
/// (a driver hands the machine the response it read), so they are built outside the timing,
/// as the baselines get their bodies as `&'static str`.
fn canned() -> std::vec::IntoIter<Response<Vec<u8>>> {
    let mut created = reply(201, "");
    created
        .headers_mut()
        .insert("capture-id", "cap-1".parse().expect("header"));
    vec![
        reply(200, KP),
        reply(201, HPP),
        reply(200, WAITING),
        reply(200, COMPLETED),
        reply(200, ORDER),
        reply(200, OM),
        created,
    ]
    .into_iter()
}

fn run_checkout(
    api: Api,
    config: CheckoutConfig,
    mut answers: std::vec::IntoIter<Response<Vec<u8>>>,
    t0: Timestamp,
) -> Checkout {
    let mut c = Checkout::new(api, config, t0).expect("valid");
    let mut answer = |c: &mut Checkout| {
        let (id, _req) = c.poll_request().expect("request");
        let response = answers.next().expect("canned");
        c.handle_response(id, response, t0).expect("in flight");
        while c.poll_event().is_some() {}
    };
    answer(&mut c);
    answer(&mut c);
    c.handle_timeout(c.poll_timeout().expect("poll"));
    answer(&mut c);
    c.handle_timeout(c.poll_timeout().expect("poll"));
    answer(&mut c);
    c.place_order(None, t0).expect("authorized");
    answer(&mut c);
    answer(&mut c);
    c.capture(None, t0).expect("placed");
    answer(&mut c);
    c
}

/// The six response bodies, decoded with serde_json alone into the public types.
fn decode_same_bodies() -> usize {
    let a: kp::MerchantSession = serde_json::from_str(KP).expect("decodes");
    let b: hpp::SessionCreated = serde_json::from_str(HPP).expect("decodes");
    let c: hpp::Session = serde_json::from_str(WAITING).expect("decodes");
    let d: hpp::Session = serde_json::from_str(COMPLETED).expect("decodes");
    let e: kp::Order = serde_json::from_str(ORDER).expect("decodes");
    let f: om::Order = serde_json::from_str(OM).expect("decodes");
    a.session_id.len()
        + b.session_id.as_ref().map_or(0, String::len)
        + c.session_id.as_ref().map_or(0, String::len)
        + d.session_id.as_ref().map_or(0, String::len)
        + e.order_id.len()
        + f.order_id.len()
}

fn bare_serde(session: &SessionCreate, order: &kp::CreateOrderRequest) -> usize {
    // The same bodies, encoded and decoded with serde_json alone.
    let mut n = serde_json::to_vec(session).expect("encodes").len();
    let mut hpp_req =
        hpp::SessionCreationRequest::new("http://127.0.0.1:1/payments/v1/sessions/kp-1");
    hpp_req.options = Some(hpp::Options::default());
    n += serde_json::to_vec(&hpp_req).expect("encodes").len();
    n += serde_json::to_vec(order).expect("encodes").len();
    n += serde_json::to_vec(&om::CaptureRequest::new(12_000))
        .expect("encodes")
        .len();
    n + decode_same_bodies()
}

/// What a hand-written client would do for the same checkout: the bare serde work plus the same
/// seven `http::Request`s with the same headers (credentials encoded once, outside).
fn hand_written_client(
    session: &SessionCreate,
    order: &kp::CreateOrderRequest,
    authorization: &HeaderValue,
) -> usize {
    let build = |method: &str, path: &str, body: Option<Vec<u8>>, key: Option<&str>| {
        let mut b = Request::builder()
            .method(method)
            .uri(format!("http://127.0.0.1:1{path}"))
            .header("accept", "application/json")
            .header("authorization", authorization.clone())
            .header("user-agent", "klarna-hpp/0.1.0");
        if body.is_some() {
            b = b.header("content-type", "application/json");
        }
        if let Some(key) = key {
            b = b.header("klarna-idempotency-key", key);
        }
        b.body(body.unwrap_or_default()).expect("request")
    };
    let mut hpp_req =
        hpp::SessionCreationRequest::new("http://127.0.0.1:1/payments/v1/sessions/kp-1");
    hpp_req.options = Some(hpp::Options::default());
    let requests = [
        build(
            "POST",
            "/payments/v1/sessions",
            Some(serde_json::to_vec(session).expect("encodes")),
            None,
        ),
        build(
            "POST",
            "/hpp/v1/sessions",
            Some(serde_json::to_vec(&hpp_req).expect("encodes")),
            None,
        ),
        build("GET", "/hpp/v1/sessions/hpp-1", None, None),
        build("GET", "/hpp/v1/sessions/hpp-1", None, None),
        build(
            "POST",
            "/payments/v1/authorizations/tok-1/order",
            Some(serde_json::to_vec(order).expect("encodes")),
            None,
        ),
        build("GET", "/ordermanagement/v1/orders/om-1", None, None),
        build(
            "POST",
            "/ordermanagement/v1/orders/om-1/captures",
            Some(serde_json::to_vec(&om::CaptureRequest::new(12_000)).expect("encodes")),
            Some("7f1c1a52-6a63-8e1b-9d4c-3f2a1b0c9d8e"),
        ),
    ];
    requests.iter().map(|r| r.body().len()).sum::<usize>() + decode_same_bodies()
}

fn bench(c: &mut Criterion) {
    let api = Api::new(
        BaseUrl::custom("http://127.0.0.1:1").expect("loopback"),
        Credentials::new("user", "pass"),
    );
    let t0 = Timestamp::parse("2026-11-26T12:00:00Z").expect("time");
    let done = run_checkout(api.clone(), config(), canned(), t0);
    assert_eq!(done.state(), State::Captured);
    eprintln!(
        "snapshot of a captured checkout: {} bytes",
        done.snapshot().len()
    );
    let session = config().session;
    let authorization = HeaderValue::from_static("Basic dXNlcjpwYXNz");
    // The place-order body as the baselines serialize it: built once, so they pay no copy of
    // the session for it (the machine serializes it from the session without one either).
    let order = kp::CreateOrderRequest::from_session(&session);
    // `CHECKOUT_PROFILE=N` runs N iterations of each side and exits, for instruction-count
    // profiling (valgrind --tool=callgrind --toggle-collect=...), which machine load cannot skew.
    if let Some(n) = std::env::var("CHECKOUT_PROFILE")
        .ok()
        .and_then(|n| n.parse::<u32>().ok())
    {
        for _ in 0..n {
            black_box(bare_serde(black_box(&session), &order));
            black_box(hand_written_client(
                black_box(&session),
                &order,
                &authorization,
            ));
            black_box(run_checkout(api.clone(), config(), canned(), t0).state());
        }
        std::process::exit(0);
    }
    let mut g = c.benchmark_group("whole_checkout");
    // Both sides get their inputs (the merchant's configuration, the API handle) built in
    // setup, outside the timing.
    g.bench_function("bare_serde_same_bodies", |b| {
        b.iter_batched(
            || session.clone(),
            |session| bare_serde(black_box(&session), &order),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("hand_written_client_same_bodies_and_requests", |b| {
        b.iter_batched(
            || session.clone(),
            |session| hand_written_client(black_box(&session), &order, &authorization),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("checkout_state_machine", |b| {
        b.iter_batched(
            || (api.clone(), config(), canned()),
            |(api, config, answers)| run_checkout(black_box(api), config, answers, t0).state(),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

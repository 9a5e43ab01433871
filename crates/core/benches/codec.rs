//! Encode/decode of a 20-line KP session through the core, next to bare serde_json on the same
//! bodies in the same run. Goal: core within 1.2x of bare serde_json.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use klarna_hpp_core::http::Response;
use klarna_hpp_core::kp::{self, SessionCreate, SessionRead};
use klarna_hpp_core::model::{OrderLine, OrderLineType};
use klarna_hpp_core::{Api, BaseUrl, Credentials, Environment, Operation, Region};
use std::hint::black_box;

fn session() -> SessionCreate {
    let lines = (0..20)
        .map(|i| {
            OrderLine::new(format!("Article number {i}"), 1 + i % 3, 1_000 + i * 37)
                .kind(OrderLineType::Physical)
                .reference(format!("SKU-{i:04}"))
                .tax_rate(2500)
        })
        .collect();
    let mut s = SessionCreate::new("SE", "SEK", lines);
    s.locale = Some("sv-SE".into());
    s.merchant_reference1 = Some("order-1001".into());
    s
}

#[inline(never)]
fn encode_bare(s: SessionCreate) -> Vec<u8> {
    serde_json::to_vec(black_box(&s)).expect("encodes")
}

#[inline(never)]
fn encode_core(s: SessionCreate, api: &Api) -> klarna_hpp_core::http::Request<Vec<u8>> {
    kp::CreateSession::new(black_box(s))
        .to_request(api)
        .expect("valid")
}

#[inline(never)]
fn decode_bare(body: &[u8]) -> SessionRead {
    serde_json::from_slice::<SessionRead>(black_box(body)).expect("decodes")
}

#[inline(never)]
fn decode_core(response: &Response<Vec<u8>>) -> SessionRead {
    kp::ReadSession::decode_response(black_box(response)).expect("decodes")
}

fn bench(c: &mut Criterion) {
    let api = Api::new(
        BaseUrl::klarna(Region::Eu, Environment::Playground),
        Credentials::new("user", "pass"),
    );
    let s = session();
    let body = serde_json::to_vec(&s).expect("encodes");
    // The session as Klarna reads it back: the same body plus read-only fields.
    let mut read: serde_json::Value = serde_json::from_slice(&body).expect("json");
    read["status"] = "incomplete".into();
    read["expires_at"] = "2026-11-28T12:00:00.000Z".into();
    read["client_token"] = "eyJhbGciOiJub25lIn0.e30.".into();
    let read_body = serde_json::to_vec(&read).expect("json");
    let response = Response::new(read_body.clone());

    // `CODEC_PROFILE=N` runs N iterations of each case through the named functions below and
    // exits, for instruction counts (valgrind --tool=callgrind --toggle-collect=codec::<name>).
    if let Some(n) = std::env::var("CODEC_PROFILE")
        .ok()
        .and_then(|n| n.parse::<u32>().ok())
    {
        for _ in 0..n {
            black_box(encode_bare(s.clone()));
            black_box(encode_core(s.clone(), &api));
            black_box(decode_bare(&read_body));
            black_box(decode_core(&response));
        }
        std::process::exit(0);
    }
    let mut g = c.benchmark_group("kp_session_20_lines");
    // Both sides start from an owned session (cloned in setup, outside the timing), as a
    // merchant's code hands its freshly built body over.
    g.bench_function("encode/bare_serde_json", |b| {
        b.iter_batched(|| s.clone(), encode_bare, BatchSize::SmallInput)
    });
    g.bench_function("encode/core_validate_and_build_request", |b| {
        b.iter_batched(
            || s.clone(),
            |s| encode_core(s, &api),
            BatchSize::SmallInput,
        )
    });
    g.bench_function("decode/bare_serde_json", |b| {
        b.iter(|| decode_bare(&read_body))
    });
    g.bench_function("decode/core_decode_response", |b| {
        b.iter(|| decode_core(&response))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

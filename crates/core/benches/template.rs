//! Rendering and matching a typical success URL, next to hand-written baselines measured in the
//! same run: `format!` for rendering, `strip_prefix`/`split_once` for extraction (the baselines
//! skip percent-encoding and decoding, so they are a lower bound).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use klarna_hpp_core::template::{UrlTemplate, Values};

const TEMPLATE: &str =
    "https://shop.example/return?sid={{session_id}}&token={{authorization_token}}";
const SESSION_ID: &str = "39a1c773-0f6e-4e49-9bb1-8f2f6e0a3c11";
const TOKEN: &str = "a1a8f727-1b2c-4d5e-8f90-0123456789ab";

fn baseline_render(session_id: &str, token: &str) -> String {
    format!("https://shop.example/return?sid={session_id}&token={token}")
}

fn baseline_extract(url: &str) -> Option<(String, String)> {
    let rest = url.strip_prefix("https://shop.example/return?sid=")?;
    let (sid, token) = rest.split_once("&token=")?;
    Some((sid.to_owned(), token.to_owned()))
}

fn bench(c: &mut Criterion) {
    let template = UrlTemplate::parse(TEMPLATE).expect("valid template");
    let values = Values::new()
        .with_session_id(SESSION_ID)
        .with_authorization_token(TOKEN);
    let url = template.render(&values).expect("all values");
    assert_eq!(url, baseline_render(SESSION_ID, TOKEN));
    assert_eq!(template.matches(&url).expect("matches"), values);

    let mut render = c.benchmark_group("render");
    render.bench_function("baseline_format", |b| {
        b.iter(|| baseline_render(black_box(SESSION_ID), black_box(TOKEN)))
    });
    render.bench_function("template", |b| {
        b.iter(|| black_box(&template).render(black_box(&values)))
    });
    render.finish();

    let mut matching = c.benchmark_group("match");
    matching.bench_function("baseline_strip_split", |b| {
        b.iter(|| baseline_extract(black_box(&url)))
    });
    matching.bench_function("template", |b| {
        b.iter(|| black_box(&template).matches(black_box(&url)))
    });
    matching.bench_function("template_origin_form", |b| {
        let origin = &url["https://shop.example".len()..];
        b.iter(|| black_box(&template).matches(black_box(origin)))
    });
    matching.finish();

    c.bench_function("parse", |b| {
        b.iter(|| UrlTemplate::parse(black_box(TEMPLATE)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);

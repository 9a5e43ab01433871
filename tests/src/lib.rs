//! End-to-end tests across the klarna-hpp crates live in `tests/tests/`.
//!
//! The library holds what they share: [`shop`], a small axum web shop (also the
//! `klarna-hpp-async` example `web_shop`, which includes the same file).

pub mod shop;

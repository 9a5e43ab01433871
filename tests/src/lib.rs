//! End-to-end tests across the klarna-hpp crates live in `tests/tests/`.

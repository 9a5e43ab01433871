//! Bounded resources (issue 12, item 4): the request log is capped by bytes as well as by
//! count, long bodies are cut and marked, requests without credentials are logged without their
//! body; a connection that never finishes its headers is closed; connections beyond the cap
//! are answered 503 and closed.
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions

mod support;

use std::time::Duration;

use serde_json::json;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const MIB: usize = 1 << 20;

#[tokio::test(flavor = "multi_thread")]
async fn unauthenticated_bodies_are_not_kept() {
    let sim = start().await;
    let api = Api::new(&sim);
    let anonymous = api.without_auth();
    // Issue 12's probe, scaled down: 1 MiB bodies of 0xFF (3 MiB each when made lossy), to a
    // missing path and to a real one, without credentials.
    let body = vec![0xFFu8; MIB - 1];
    for i in 0..40 {
        let path = if i % 2 == 0 {
            "/nope"
        } else {
            "/payments/v1/sessions"
        };
        let r = anonymous.send("POST", path, Some(body.clone()), &[]).await;
        assert!(r.status == 404 || r.status == 401, "{}", r.status);
    }
    let log = sim.requests();
    assert_eq!(log.len(), 40);
    assert!(log.iter().all(|r| r.body.is_empty()), "no body kept");
    // Bound: 40 entries of headers and paths only, far under one body.
    assert!(
        sim.request_log_bytes() < 40 * 1024,
        "{}",
        sim.request_log_bytes()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_request_log_is_capped_by_bytes_and_cuts_long_bodies() {
    let sim = start_with(config().with_log_bytes(MIB)).await;
    let api = Api::new(&sim);
    let body = vec![0xFFu8; MIB - 1];
    for _ in 0..100 {
        let r = api
            .send("POST", "/payments/v1/sessions", Some(body.clone()), &[])
            .await;
        r.assert_error(400, "BAD_VALUE");
    }
    let small = api.kp_session(&kp_body()).await;
    let log = sim.requests();
    let held: usize = log.iter().map(|r| r.body.len()).sum();
    assert!(held <= MIB, "bodies held: {held}");
    assert!(
        sim.request_log_bytes() <= MIB,
        "{}",
        sim.request_log_bytes()
    );
    assert!(log.len() < 101, "old entries were dropped by size");
    let marker = format!("…[truncated: {} bytes]", MIB - 1);
    let cut: Vec<_> = log.iter().filter(|r| r.body.len() > 1000).collect();
    assert!(!cut.is_empty());
    assert!(cut.iter().all(|r| r.body.ends_with(&marker)), "marked");
    assert!(cut.iter().all(|r| r.body.len() <= 16 * 1024 + marker.len()));
    // A small body is kept whole, and the newest entry is there.
    let last = log.last().unwrap();
    assert_eq!(last.status, Some(200));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&last.body).unwrap(),
        kp_body()
    );
    assert!(!small.is_empty());
}

/// Reads until the server closes the connection; `None` if it is still open after 30 s.
async fn read_to_close(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), async {
        let mut buf = [0u8; 1024];
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok().map(|()| got)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_slow_header_closes_the_connection() {
    let sim = start_with(config().with_header_read_timeout(Duration::from_millis(200))).await;
    let addr = sim.local_addr();
    // Slowloris: headers begun, never finished.
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /_sim/ HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n")
        .await
        .unwrap();
    assert!(
        read_to_close(&mut slow).await.is_some(),
        "slow headers: closed"
    );
    // A connection that sends nothing at all.
    let mut idle = TcpStream::connect(addr).await.unwrap();
    assert!(read_to_close(&mut idle).await.is_some(), "idle: closed");
    // A prompt request on a fresh connection is served.
    let api = Api::new(&sim);
    assert!(!api.kp_session(&kp_body()).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn connections_beyond_the_cap_get_503() {
    let sim = start_with(
        config()
            .with_max_connections(1)
            .with_header_read_timeout(Duration::from_secs(600)),
    )
    .await;
    let addr = sim.local_addr();
    // The one slot: a connection accepted first and held open.
    let holder = TcpStream::connect(addr).await.unwrap();
    let mut over = TcpStream::connect(addr).await.unwrap();
    over.write_all(b"GET /_sim/ HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let answer = read_to_close(&mut over).await.expect("closed");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.contains("retry-after: 1"), "{text}");
    let body = text.split("\r\n\r\n").nth(1).unwrap();
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(v["error_code"], json!("TEMPORARILY_UNAVAILABLE"));
    // The slot frees when the holder goes; then a request is served.
    drop(holder);
    let mut served = false;
    for _ in 0..200 {
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.write_all(b"GET /_sim/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let answer = read_to_close(&mut c).await.unwrap_or_default();
        if answer.starts_with(b"HTTP/1.1 200") {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(served, "served once the slot is free");
}

//! Both adapters' transports (`UreqTransport`, `ReqwestTransport`) reading response bodies from
//! a real HTTP server on 127.0.0.1: a raw TCP listener answers with exactly the bytes each case
//! needs (honest, missing or lying `Content-Length`, bodies over the size limit), and both must
//! give the same result.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;

use klarna_hpp_async::{AsyncTransport, ReqwestTransport};
use klarna_hpp_blocking::{Transport, TransportError, UreqTransport};
use klarna_hpp_core::checkout::TransportFailure;
use klarna_hpp_core::http::{Request, Response};
use klarna_hpp_core::transport::MAX_RESPONSE_BODY;

/// Serves `connections` connections, one after the other: reads each request head, writes
/// `head` and `body`, closes.
fn serve(head: String, body: Vec<u8>, connections: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener.local_addr().expect("its address");
    thread::spawn(move || {
        for _ in 0..connections {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let mut seen = Vec::new();
            let mut byte = [0u8; 1];
            while !seen.ends_with(b"\r\n\r\n") {
                match stream.read(&mut byte) {
                    Ok(1) => seen.push(byte[0]),
                    _ => break,
                }
            }
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    format!("http://{addr}/orders/1")
}

/// The same GET through both transports, one after the other: both results.
fn get(head: String, body: Vec<u8>) -> [Result<Response<Vec<u8>>, TransportError>; 2] {
    let url = serve(head, body, 2);
    let request = || {
        Request::get(url.as_str())
            .body(Vec::new())
            .expect("a request")
    };
    let blocking = UreqTransport::default().send(request());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let not_blocking = runtime.block_on(ReqwestTransport::default().send(request()));
    [blocking, not_blocking]
}

#[test]
fn reads_a_body_of_the_announced_length() {
    let body = br#"{"order_id":"1","status":"AUTHORIZED"}"#.to_vec();
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    for response in get(head, body.clone()) {
        let response = response.expect("a response");
        assert_eq!(response.status(), 200);
        assert_eq!(response.body(), &body);
        assert_eq!(
            response.headers()["content-type"],
            "application/json",
            "headers kept"
        );
    }
}

#[test]
fn reads_a_body_without_length_to_the_end_of_the_connection() {
    let body = vec![b'x'; 100_000];
    let head = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_owned();
    for response in get(head, body.clone()) {
        assert_eq!(response.expect("a response").body(), &body);
    }
}

/// `body` in HTTP/1.1 chunks of `size` bytes.
fn chunked(body: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in body.chunks(size) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

const CHUNKED: &str = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";

#[test]
fn reads_a_chunked_body() {
    let body: Vec<u8> = (0..200_000u32)
        .map(|i| b"0123456789abcdef"[i as usize % 16])
        .collect();
    for response in get(CHUNKED.to_owned(), chunked(&body, 7_000)) {
        assert_eq!(response.expect("a response").body(), &body);
    }
}

#[test]
fn a_body_of_exactly_the_limit_is_read() {
    let limit = usize::try_from(MAX_RESPONSE_BODY).expect("fits");
    let body = vec![b'q'; limit];
    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {limit}\r\n\r\n");
    for response in get(head, body.clone()) {
        assert_eq!(response.expect("a response").body().len(), limit);
    }
    for response in get(CHUNKED.to_owned(), chunked(&body, 1 << 20)) {
        assert_eq!(response.expect("a response").body().len(), limit);
    }
}

#[test]
fn a_large_body_within_the_limit_is_read_in_full() {
    // Far beyond what is reserved up front from Content-Length.
    let body = vec![b'y'; 9 * 1024 * 1024];
    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
    for response in get(head, body.clone()) {
        assert_eq!(response.expect("a response").body().len(), body.len());
    }
}

#[test]
fn a_body_shorter_than_announced_is_an_outcome_unknown_failure() {
    let head = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n".to_owned();
    for result in get(head, b"{\"order_id\":".to_vec()) {
        let error = result.expect_err("truncated");
        assert_eq!(error.failure, TransportFailure::OutcomeUnknown);
        assert!(
            error.message.contains("reading the response body"),
            "{error}"
        );
    }
}

#[test]
fn a_body_over_the_limit_is_refused_not_truncated() {
    let over = usize::try_from(MAX_RESPONSE_BODY).expect("fits") + 1;
    let body = vec![b'z'; over];
    let cases = [
        (
            format!("HTTP/1.1 200 OK\r\nContent-Length: {over}\r\n\r\n"),
            body.clone(),
        ),
        (
            "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_owned(),
            body.clone(),
        ),
        (CHUNKED.to_owned(), chunked(&body, 1 << 20)),
    ];
    for (head, bytes) in cases {
        for result in get(head, bytes.clone()) {
            let error = result.expect_err("over the limit");
            assert_eq!(error.failure, TransportFailure::OutcomeUnknown, "{error}");
        }
    }
}

/// A connection refused while connecting never carried the request: both transports say
/// `NotSent` (the blocking one said "outcome unknown", so a write looked ambiguous).
#[test]
fn a_refused_connection_is_not_sent() {
    // A port that was just free: bind, note it, close it.
    let addr = TcpListener::bind("127.0.0.1:0")
        .expect("a loopback port")
        .local_addr()
        .expect("its address");
    let request = || {
        Request::post(format!(
            "http://{addr}/ordermanagement/v1/orders/1/captures"
        ))
        .body(b"{}".to_vec())
        .expect("a request")
    };
    let blocking = UreqTransport::default().send(request());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let not_blocking = runtime.block_on(ReqwestTransport::default().send(request()));
    for result in [blocking, not_blocking] {
        let error = result.expect_err("nothing listens");
        assert_eq!(error.failure, TransportFailure::NotSent, "{error}");
    }
}

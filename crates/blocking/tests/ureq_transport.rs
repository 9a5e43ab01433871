//! `UreqTransport` reading response bodies from a real HTTP server on 127.0.0.1: a raw TCP
//! listener answers with exactly the bytes each case needs (honest, missing or lying
//! `Content-Length`, bodies over the size limit).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;

use klarna_hpp_blocking::{Transport, TransportError, UreqTransport};
use klarna_hpp_core::checkout::TransportFailure;
use klarna_hpp_core::http::{Request, Response};

/// Serves one connection: reads the request head, writes `head` and `body`, closes.
fn serve_once(head: String, body: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener.local_addr().expect("its address");
    thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let mut seen = Vec::new();
        let mut byte = [0u8; 1];
        while !seen.ends_with(b"\r\n\r\n") {
            match stream.read(&mut byte) {
                Ok(1) => seen.push(byte[0]),
                _ => return,
            }
        }
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(&body);
    });
    format!("http://{addr}/orders/1")
}

fn get(url: &str) -> Result<Response<Vec<u8>>, TransportError> {
    let request = Request::get(url).body(Vec::new()).expect("a request");
    UreqTransport::default().send(request)
}

#[test]
fn reads_a_body_of_the_announced_length() {
    let body = br#"{"order_id":"1","status":"AUTHORIZED"}"#.to_vec();
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let response = get(&serve_once(head, body.clone())).expect("a response");
    assert_eq!(response.status(), 200);
    assert_eq!(response.body(), &body);
}

#[test]
fn reads_a_body_without_length_to_the_end_of_the_connection() {
    let body = vec![b'x'; 100_000];
    let head = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_owned();
    let response = get(&serve_once(head, body.clone())).expect("a response");
    assert_eq!(response.body().len(), body.len());
}

#[test]
fn a_huge_announced_length_reserves_little_and_still_reads_what_comes() {
    // 9 MiB announced and sent: within the limit, read in full although only 64 KiB were
    // reserved up front.
    let body = vec![b'y'; 9 * 1024 * 1024];
    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
    let response = get(&serve_once(head, body.clone())).expect("a response");
    assert_eq!(response.body().len(), body.len());
}

#[test]
fn a_body_shorter_than_announced_is_an_outcome_unknown_failure() {
    let head = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n".to_owned();
    let error = get(&serve_once(head, b"{\"order_id\":".to_vec())).expect_err("truncated");
    assert_eq!(error.failure, TransportFailure::OutcomeUnknown);
    assert!(
        error.message.contains("reading the response body"),
        "{error}"
    );
}

#[test]
fn a_body_over_the_limit_is_refused_not_truncated() {
    let body = vec![b'z'; 10 * 1024 * 1024 + 1];
    let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
    let error = get(&serve_once(head, body)).expect_err("over 10 MiB");
    assert_eq!(error.failure, TransportFailure::OutcomeUnknown);
}

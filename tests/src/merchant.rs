//! The merchant's web server (as in `klarna-hpp demo`): the consumer's browser returns to it, and
//! the emulator posts status callbacks to it. What arrives is queued for the test to feed into
//! the checkout; the consumer's "browser" follows redirects over real HTTP.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// Where status callbacks are posted (the checkout appends its secret and the session id).
pub const CALLBACK_PATH: &str = "/klarna/callback";

/// One request the shop received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Web {
    /// A status callback from Klarna: the request URI (path and query) and body.
    Callback {
        /// Path and query.
        uri: String,
        /// The JSON body.
        body: Vec<u8>,
    },
    /// The consumer's browser came back to a merchant URL (path and query).
    Redirect {
        /// Path and query.
        uri: String,
    },
}

/// A tiny merchant web server on `127.0.0.1:0`.
pub struct Shop {
    server: Arc<tiny_http::Server>,
    url: String,
    rx: Receiver<Web>,
    thread: Option<JoinHandle<()>>,
    received: Arc<AtomicUsize>,
}

impl std::fmt::Debug for Shop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shop").field("url", &self.url).finish()
    }
}

impl Shop {
    /// Starts the server.
    pub fn start() -> Shop {
        let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind the shop"));
        let port = server
            .server_addr()
            .to_ip()
            .map(|a| a.port())
            .expect("the shop has a port");
        let (tx, rx) = mpsc::channel();
        let received = Arc::new(AtomicUsize::new(0));
        let thread = {
            let server = Arc::clone(&server);
            let received = Arc::clone(&received);
            std::thread::spawn(move || {
                for mut request in server.incoming_requests() {
                    let uri = request.url().to_owned();
                    let mut body = Vec::new();
                    let _ = request.as_reader().read_to_end(&mut body);
                    let msg = if uri.starts_with(CALLBACK_PATH) {
                        Web::Callback { uri, body }
                    } else {
                        Web::Redirect { uri }
                    };
                    // Queue before answering: whoever waits for the answer finds it queued.
                    received.fetch_add(1, Ordering::SeqCst);
                    let stop = tx.send(msg).is_err();
                    let _ = request.respond(tiny_http::Response::from_string("Thank you!"));
                    if stop {
                        break;
                    }
                }
            })
        };
        Shop {
            server,
            url: format!("http://127.0.0.1:{port}"),
            rx,
            thread: Some(thread),
            received,
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// How many requests arrived so far.
    pub fn received(&self) -> usize {
        self.received.load(Ordering::SeqCst)
    }

    /// The next queued request, if any.
    pub fn try_recv(&self) -> Option<Web> {
        self.rx.try_recv().ok()
    }

    /// The next request, waiting up to `timeout` (real time).
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Web> {
        self.rx.recv_timeout(timeout).ok()
    }
}

impl Drop for Shop {
    fn drop(&mut self) {
        self.server.unblock();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The consumer's browser: `GET url` over real HTTP, without following redirects. Returns the
/// status (or the error).
pub fn browse(url: &str) -> Result<u16, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    agent
        .get(url)
        .call()
        .map(|r| r.status().as_u16())
        .map_err(|e| e.to_string())
}

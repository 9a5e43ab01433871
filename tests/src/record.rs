//! A transcript of one run: every request the driver sent with its outcome, every event and
//! every input fed, stamped with the emulator's virtual time. Transports are wrapped to record.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use klarna_hpp_blocking::{Transport, TransportError};
use klarna_hpp_core::http::{Request, Response};
use klarna_hpp_sim::SimHandle;

use crate::clock::sim_now;

/// Counters kept while recording.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Requests sent.
    pub requests: usize,
    /// Requests that got no usable answer: a transport error, 429 or 5xx.
    pub failures: usize,
    /// Requests sent right after a failed request with the same method and path.
    pub retries: usize,
}

#[derive(Debug, Default)]
struct Inner {
    lines: Vec<String>,
    counts: Counts,
    last_failed: Option<String>,
    last_lost: Option<Instant>,
}

/// The shared transcript of one run (cheap to clone).
#[derive(Debug, Clone, Default)]
pub struct Transcript(Arc<Mutex<Inner>>);

impl Transcript {
    /// An empty transcript.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Adds a line stamped with the emulator's time.
    pub fn say(&self, sim: &SimHandle, line: impl AsRef<str>) {
        let at = sim_now(sim);
        let line = format!("[{at}] {}", line.as_ref());
        if std::env::var_os("KLARNA_E2E_LIVE").is_some() {
            eprintln!("{line}");
        }
        self.lock().lines.push(line);
    }

    /// The lines so far.
    pub fn lines(&self) -> Vec<String> {
        self.lock().lines.clone()
    }

    /// The counters so far.
    pub fn counts(&self) -> Counts {
        self.lock().counts
    }

    /// When the last request that got no response at all was sent (real time): the emulator
    /// may still be working on it.
    pub fn last_lost(&self) -> Option<Instant> {
        self.lock().last_lost
    }

    /// The transcript as one text block.
    pub fn render(&self) -> String {
        self.lines().join("\n")
    }

    fn request(
        &self,
        sim: &SimHandle,
        what: &str,
        sent: Instant,
        result: &Result<Response<Vec<u8>>, TransportError>,
    ) {
        let (outcome, failed) = match result {
            Ok(r) => {
                let s = r.status();
                let retry_after = r
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .map(|v| format!(" retry-after {v}"))
                    .unwrap_or_default();
                (
                    format!("{}{retry_after}", s.as_u16()),
                    s.as_u16() == 429 || s.is_server_error(),
                )
            }
            Err(e) => (format!("✗ {:?}: {}", e.failure, e.message), true),
        };
        let mut inner = self.lock();
        if result.is_err() {
            inner.last_lost = Some(sent);
        }
        inner.counts.requests += 1;
        if inner.last_failed.as_deref() == Some(what) {
            inner.counts.retries += 1;
        }
        if failed {
            inner.counts.failures += 1;
            inner.last_failed = Some(what.to_owned());
        } else {
            inner.last_failed = None;
        }
        drop(inner);
        self.say(sim, format!("→ {what} ← {outcome}"));
    }
}

/// `METHOD path`, with the authorization token of KP's order calls hidden.
fn describe(request: &Request<Vec<u8>>) -> String {
    let path = request.uri().path();
    let path = match path.strip_prefix("/payments/v1/authorizations/") {
        Some(rest) => {
            let tail = rest
                .split_once('/')
                .map_or(String::new(), |(_, t)| format!("/{t}"));
            format!("/payments/v1/authorizations/[token]{tail}")
        }
        None => path.to_owned(),
    };
    format!("{} {path}", request.method())
}

/// A transport that records every call in a [`Transcript`].
#[derive(Debug, Clone)]
pub struct Recorded<'a, T> {
    inner: T,
    sim: &'a SimHandle,
    transcript: Transcript,
}

impl<'a, T> Recorded<'a, T> {
    /// Wraps `inner`.
    pub fn new(inner: T, sim: &'a SimHandle, transcript: Transcript) -> Self {
        Self {
            inner,
            sim,
            transcript,
        }
    }
}

impl<T: Transport> Transport for Recorded<'_, T> {
    fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        let what = describe(&request);
        let sent = Instant::now();
        let result = self.inner.send(request);
        self.transcript.request(self.sim, &what, sent, &result);
        result
    }
}

impl<T: klarna_hpp_async::AsyncTransport + Sync> klarna_hpp_async::AsyncTransport
    for Recorded<'_, T>
{
    fn send(
        &self,
        request: Request<Vec<u8>>,
    ) -> impl std::future::Future<Output = Result<Response<Vec<u8>>, TransportError>> + Send {
        let what = describe(&request);
        async move {
            let sent = Instant::now();
            let result = self.inner.send(request).await;
            self.transcript.request(self.sim, &what, sent, &result);
            result
        }
    }
}

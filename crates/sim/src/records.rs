//! What the emulator saw and did, kept for inspection: the request log, the messages it would
//! have sent (distribution) and the status callbacks it delivered.

use std::collections::VecDeque;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One API request the emulator answered (or dropped).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RequestRecord {
    /// Position in the log, from 1.
    pub seq: u64,
    /// When, on the emulator's clock (ISO 8601).
    pub at: String,
    /// The HTTP method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// The operation name (e.g. `om.create_capture`); `None` when no operation matched.
    pub operation: Option<String>,
    /// The status sent; `None` when the connection was closed without a response.
    pub status: Option<u16>,
    /// The `Klarna-Correlation-Id` of the response.
    pub correlation_id: String,
    /// The request's `Klarna-Idempotency-Key`, if any.
    pub idempotency_key: Option<String>,
    /// The response was a stored idempotent replay (no side effect happened).
    pub idempotent_replay: bool,
    /// The request's `User-Agent`, if any.
    pub user_agent: Option<String>,
    /// The request body (UTF-8, lossy).
    pub body: String,
    /// The injected fault applied to this request, described (e.g. `status 503`).
    pub fault: Option<String>,
}

impl fmt::Debug for RequestRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestRecord")
            .field("seq", &self.seq)
            .field("at", &self.at)
            .field("method", &self.method)
            .field("path", &self.path)
            .field("operation", &self.operation)
            .field("status", &self.status)
            .field("correlation_id", &self.correlation_id)
            .field("idempotency_key", &self.idempotency_key)
            .field("idempotent_replay", &self.idempotent_replay)
            .field("user_agent", &self.user_agent)
            .field("body", &format_args!("[{} bytes]", self.body.len()))
            .field("fault", &self.fault)
            .finish()
    }
}

/// A message the distribution endpoint would have sent to the consumer.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SentMessage {
    /// Position in the log, from 1.
    pub seq: u64,
    /// When, on the emulator's clock (ISO 8601).
    pub at: String,
    /// The HPP session distributed.
    pub session_id: String,
    /// `email`, `sms` or `token`.
    pub method: String,
    /// The e-mail address, phone number or access id.
    pub recipient: String,
    /// For SMS: the phone's country (ISO 3166-1 alpha-2).
    pub phone_country: Option<String>,
    /// The link to the hosted page (the session's `redirect_url`).
    pub link: String,
    /// The message text.
    pub text: String,
}

impl fmt::Debug for SentMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SentMessage")
            .field("seq", &self.seq)
            .field("at", &self.at)
            .field("session_id", &self.session_id)
            .field("method", &self.method)
            .field("recipient", &"[redacted]")
            .field("phone_country", &self.phone_country)
            .field("link", &self.link)
            .finish_non_exhaustive()
    }
}

/// The state of one status callback.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum DeliveryOutcome {
    /// Attempts are still being made.
    Pending,
    /// An attempt got a 2xx.
    Delivered,
    /// Every attempt failed.
    Failed,
}

/// One attempt to deliver a status callback.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CallbackAttempt {
    /// 1-based attempt number.
    pub attempt: u32,
    /// The HTTP status the merchant answered with, if it answered in time.
    pub status: Option<u16>,
    /// Why there was no usable answer (timeout, connection refused, …).
    pub error: Option<String>,
    /// How long the attempt took, in milliseconds (real time).
    pub elapsed_ms: u64,
}

/// A status callback (`POST {event_id, session}` to the rendered `status_update` URL).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CallbackDelivery {
    /// Position in the log, from 1.
    pub seq: u64,
    /// When the status changed, on the emulator's clock (ISO 8601).
    pub at: String,
    /// The callback's `event_id`.
    pub event_id: String,
    /// The HPP session.
    pub session_id: String,
    /// The status the callback reports.
    pub status: String,
    /// The URL posted to (placeholders rendered).
    pub url: String,
    /// The exact body posted.
    pub body: Value,
    /// The attempts made so far.
    pub attempts: Vec<CallbackAttempt>,
    /// Where the delivery stands.
    pub outcome: DeliveryOutcome,
}

/// A bounded log: the oldest entries go first, when it holds `limit` entries or when the
/// entries' weights (their stored bytes, for the request log) would pass `max_bytes`.
#[derive(Debug)]
pub(crate) struct Log<T> {
    items: VecDeque<T>,
    weights: VecDeque<usize>,
    limit: usize,
    max_bytes: usize,
    bytes: usize,
    next_seq: u64,
}

impl<T> Log<T> {
    pub(crate) fn new(limit: usize, max_bytes: usize) -> Self {
        Self {
            items: VecDeque::new(),
            weights: VecDeque::new(),
            limit: limit.max(1),
            max_bytes,
            bytes: 0,
            next_seq: 1,
        }
    }

    /// Adds an entry built from its sequence number; returns the number.
    pub(crate) fn push(&mut self, make: impl FnOnce(u64) -> T) -> u64 {
        self.push_weighed(make, |_| 0)
    }

    /// Adds an entry that weighs `weight(&entry)` bytes, dropping the oldest entries until it
    /// fits (the newest entry is always kept).
    pub(crate) fn push_weighed(
        &mut self,
        make: impl FnOnce(u64) -> T,
        weight: impl FnOnce(&T) -> usize,
    ) -> u64 {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.saturating_add(1);
        let item = make(seq);
        let w = weight(&item);
        while !self.items.is_empty()
            && (self.items.len() >= self.limit || self.bytes.saturating_add(w) > self.max_bytes)
        {
            self.items.pop_front();
            let dropped = self.weights.pop_front().unwrap_or(0);
            self.bytes = self.bytes.saturating_sub(dropped);
        }
        self.items.push_back(item);
        self.weights.push_back(w);
        self.bytes = self.bytes.saturating_add(w);
        seq
    }

    /// The entry with this sequence number, if still kept.
    pub(crate) fn get_mut(&mut self, seq: u64) -> Option<&mut T> {
        let first = self.next_seq - self.items.len() as u64;
        let idx = usize::try_from(seq.checked_sub(first)?).ok()?;
        self.items.get_mut(idx)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &T> {
        self.items.iter()
    }

    /// What the kept entries weigh.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    pub(crate) fn clear(&mut self) {
        self.items.clear();
        self.weights.clear();
        self.bytes = 0;
    }
}

/// The longest request body the request log keeps; a longer one is cut there and marked.
pub(crate) const MAX_LOGGED_BODY: usize = 16 * 1024;

/// A request body as the log keeps it: UTF-8 (lossy), at most [`MAX_LOGGED_BODY`] bytes, then
/// `…[truncated: N bytes]` when it was longer.
pub(crate) fn logged_body(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(MAX_LOGGED_BODY)];
    let mut text = String::from_utf8_lossy(head).into_owned();
    let mut cut = text.len() > MAX_LOGGED_BODY || head.len() < bytes.len();
    if text.len() > MAX_LOGGED_BODY {
        // Invalid bytes grow to three when made lossy: cut on a character boundary.
        let mut end = MAX_LOGGED_BODY;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        cut = true;
    }
    if cut {
        text.push_str(&format!("…[truncated: {} bytes]", bytes.len()));
    }
    text
}

impl RequestRecord {
    /// The bytes this record holds (its strings and a fixed part), as the log counts them.
    pub(crate) fn weight(&self) -> usize {
        let strings = [
            self.at.len(),
            self.method.len(),
            self.path.len(),
            self.operation.as_ref().map_or(0, String::len),
            self.correlation_id.len(),
            self.idempotency_key.as_ref().map_or(0, String::len),
            self.user_agent.as_ref().map_or(0, String::len),
            self.body.len(),
            self.fault.as_ref().map_or(0, String::len),
        ];
        std::mem::size_of::<Self>() + strings.iter().sum::<usize>()
    }
}

/// The three logs.
#[derive(Debug)]
pub(crate) struct Records {
    pub(crate) requests: Log<RequestRecord>,
    pub(crate) messages: Log<SentMessage>,
    pub(crate) callbacks: Log<CallbackDelivery>,
}

impl Records {
    pub(crate) fn new(limit: usize, request_bytes: usize) -> Self {
        Self {
            requests: Log::new(limit, request_bytes),
            messages: Log::new(limit, usize::MAX),
            callbacks: Log::new(limit, usize::MAX),
        }
    }

    pub(crate) fn clear(&mut self) {
        self.requests.clear();
        self.messages.clear();
        self.callbacks.clear();
    }

    /// Callbacks still being attempted.
    pub(crate) fn pending_callbacks(&self) -> usize {
        self.callbacks
            .iter()
            .filter(|c| c.outcome == DeliveryOutcome::Pending)
            .count()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_is_bounded_and_addressable() {
        let mut log = Log::new(2, usize::MAX);
        let a = log.push(|s| s);
        let b = log.push(|s| s * 10);
        let c = log.push(|s| s * 100);
        assert_eq!((a, b, c), (1, 2, 3));
        assert!(log.get_mut(1).is_none());
        assert_eq!(log.get_mut(2).copied(), Some(20));
        assert_eq!(log.iter().copied().collect::<Vec<_>>(), vec![20, 300]);
    }

    #[test]
    fn log_is_bounded_by_bytes() {
        let mut log = Log::new(100, 10);
        for _ in 0..5 {
            log.push_weighed(|s| s, |_| 4);
        }
        assert_eq!(log.bytes(), 8, "two entries of 4 fit in 10");
        assert_eq!(log.iter().copied().collect::<Vec<_>>(), vec![4, 5]);
        log.push_weighed(|s| s, |_| 50);
        assert_eq!(
            log.iter().copied().collect::<Vec<_>>(),
            vec![6],
            "the newest is kept"
        );
        log.clear();
        assert_eq!(log.bytes(), 0);
    }

    #[test]
    fn bodies_are_cut_and_marked() {
        assert_eq!(logged_body(b"{}"), "{}");
        let big = vec![0xFFu8; MAX_LOGGED_BODY * 4];
        let text = logged_body(&big);
        assert!(text.len() <= MAX_LOGGED_BODY + 40, "{}", text.len());
        assert!(text.ends_with(&format!("…[truncated: {} bytes]", big.len())));
        let exact = vec![b'a'; MAX_LOGGED_BODY];
        assert_eq!(logged_body(&exact).len(), MAX_LOGGED_BODY);
    }
}

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

/// A bounded log: the oldest entries go first.
#[derive(Debug)]
pub(crate) struct Log<T> {
    items: VecDeque<T>,
    limit: usize,
    next_seq: u64,
}

impl<T> Log<T> {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            items: VecDeque::new(),
            limit: limit.max(1),
            next_seq: 1,
        }
    }

    /// Adds an entry built from its sequence number; returns the number.
    pub(crate) fn push(&mut self, make: impl FnOnce(u64) -> T) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        if self.items.len() == self.limit {
            self.items.pop_front();
        }
        self.items.push_back(make(seq));
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

    pub(crate) fn clear(&mut self) {
        self.items.clear();
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
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            requests: Log::new(limit),
            messages: Log::new(limit),
            callbacks: Log::new(limit),
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
        let mut log = Log::new(2);
        let a = log.push(|s| s);
        let b = log.push(|s| s * 10);
        let c = log.push(|s| s * 100);
        assert_eq!((a, b, c), (1, 2, 3));
        assert!(log.get_mut(1).is_none());
        assert_eq!(log.get_mut(2).copied(), Some(20));
        assert_eq!(log.iter().copied().collect::<Vec<_>>(), vec![20, 300]);
    }
}

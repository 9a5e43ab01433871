//! Status callbacks: `POST {event_id, session}` to the rendered `status_update` URL on every
//! status change, each attempt limited to 3 s, up to 4 attempts, any 2xx ends it. Deliveries run
//! concurrently (like Klarna, no ordering is promised); every attempt is recorded.

use std::sync::Arc;
use std::time::Instant;

use crate::api::CallbackJob;
use crate::clock::format;
use crate::records::{CallbackAttempt, CallbackDelivery, DeliveryOutcome};
use crate::shared::Shared;

/// The User-Agent of callback requests.
pub(crate) const USER_AGENT: &str = concat!("klarna-hpp-sim/", env!("CARGO_PKG_VERSION"));

/// Records the delivery and starts it in the background.
pub(crate) fn dispatch(shared: &Arc<Shared>, job: CallbackJob) {
    let at = format(shared.clock.now());
    let body = job.body.to_string();
    let seq = shared.records().callbacks.push(|seq| CallbackDelivery {
        seq,
        at,
        event_id: job.body["event_id"].as_str().unwrap_or_default().to_owned(),
        session_id: job.session_id.clone(),
        status: job.status.to_owned(),
        url: job.url.clone(),
        body: job.body,
        attempts: Vec::new(),
        outcome: DeliveryOutcome::Pending,
    });
    let shared2 = Arc::clone(shared);
    shared
        .runtime
        .spawn(async move { deliver(shared2, seq, job.url, body).await });
}

async fn deliver(shared: Arc<Shared>, seq: u64, url: String, body: String) {
    let settings = shared.callback.clone();
    let attempts = settings.attempts.max(1);
    for attempt in 1..=attempts {
        let started = Instant::now();
        let result = shared
            .http
            .post(&url)
            .header("Content-Type", "application/json")
            .header("User-Agent", USER_AGENT)
            .body(body.clone())
            .timeout(settings.timeout)
            .send()
            .await;
        let (status, error) = match result {
            Ok(resp) => (Some(resp.status().as_u16()), None),
            Err(e) if e.is_timeout() => (
                None,
                Some(format!("timed out after {:?}", settings.timeout)),
            ),
            Err(e) => (None, Some(describe(&e))),
        };
        let delivered = status.is_some_and(|s| (200..300).contains(&s));
        let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        {
            let mut records = shared.records();
            if let Some(d) = records.callbacks.get_mut(seq) {
                d.attempts.push(CallbackAttempt {
                    attempt,
                    status,
                    error,
                    elapsed_ms,
                });
                if delivered {
                    d.outcome = DeliveryOutcome::Delivered;
                } else if attempt == attempts {
                    d.outcome = DeliveryOutcome::Failed;
                }
            }
        }
        if delivered {
            return;
        }
        if attempt < attempts {
            tokio::time::sleep(settings.retry_delay).await;
        }
    }
}

/// The error and its causes on one line.
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

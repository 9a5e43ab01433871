//! Redirects and callbacks: hints that schedule a verifying read, never a state change.

use super::*;

impl Core {
    // ----- hints -----

    pub(in crate::checkout) fn on_callback(
        &mut self,
        uri: &str,
        body: &[u8],
        now: Timestamp,
    ) -> Result<CallbackOutcome, InputError> {
        let given = query_param(uri, "kh_secret").ok_or(InputError::BadCallbackSecret)?;
        if !digest::constant_time_eq(given.as_bytes(), self.secret.expose().as_bytes()) {
            return Err(InputError::BadCallbackSecret);
        }
        let cb = hpp::StatusCallback::decode(body)
            .map_err(|e| InputError::MalformedCallback(e.to_string()))?;
        let ours = self.hpp.as_ref().ok_or(InputError::NoSession)?;
        // Authenticated by the secret; a body without `session_id` is about our session.
        if !cb.session.is_about(&ours.session_id) {
            return Err(InputError::WrongSession);
        }
        if self.seen.iter().any(|e| e == &cb.event_id) {
            return Ok(CallbackOutcome::Duplicate);
        }
        if self.seen.len() >= SEEN_EVENTS {
            self.seen.pop_front();
        }
        self.seen.push_back(cb.event_id);
        let live_at_klarna = self.hpp.as_ref().is_some_and(|h| h.open_at_klarna(now));
        if self.phase == Phase::Expired(Deadline::HppSession) && live_at_klarna {
            // Authentic, and the checkout gave up at the HPP deadline: a payment completed in
            // the last moments must still surface. One verifying read (`late_read`).
            self.late_read = true;
            return Ok(CallbackOutcome::ReadScheduled);
        }
        Ok(self.hint(now))
    }

    pub(in crate::checkout) fn on_redirect(
        &mut self,
        url: &str,
        now: Timestamp,
    ) -> Result<RedirectKind, InputError> {
        let ours = self
            .hpp
            .as_ref()
            .ok_or(InputError::NoSession)?
            .session_id
            .clone();
        let candidates = [
            (RedirectKind::Success, &self.urls.success),
            (RedirectKind::Cancel, &self.urls.cancel),
            (RedirectKind::Back, &self.urls.back),
            (RedirectKind::Failure, &self.urls.failure),
            (RedirectKind::Error, &self.urls.error),
        ];
        let mut found = None;
        for (kind, template) in candidates {
            let Some(template) = template else { continue };
            let Ok(t) = UrlTemplate::parse(template) else {
                continue;
            };
            let full = if url.starts_with('/') {
                format!("{}{url}", origin(template))
            } else {
                url.to_owned()
            };
            if let Ok(values) = t.matches(&full) {
                if values.session_id.as_deref().is_some_and(|sid| sid != ours) {
                    return Err(InputError::WrongSession);
                }
                found = Some(kind);
                break;
            }
        }
        let kind = found.ok_or(InputError::UnknownRedirect)?;
        self.hint(now);
        Ok(kind)
    }

    /// A redirect or callback: read soon. Hints are unauthenticated (a redirect) or cheap to
    /// repeat, so they never hasten a read past what Klarna asked for (a read waiting out a
    /// `Retry-After` or a backoff keeps its time) and never make reads closer together than
    /// the poll policy's initial interval.
    pub(super) fn hint(&mut self, now: Timestamp) -> CallbackOutcome {
        if self.phase != Phase::AwaitingConsumer {
            return CallbackOutcome::Ignored;
        }
        if self.retry_at.as_ref().is_some_and(|p| p.spec.is_read()) {
            return CallbackOutcome::ReadScheduled;
        }
        let earliest = self
            .last_read_at
            .map_or(now, |t| t.saturating_add(self.poll.initial))
            .max(now);
        self.next_poll = Some(self.next_poll.map_or(earliest, |at| at.min(earliest)));
        self.polls = 0;
        CallbackOutcome::ReadScheduled
    }
}

/// `scheme://authority` of an absolute URL (or "" when it has none).
fn origin(url: &str) -> &str {
    let Some(scheme_end) = url.find("://") else {
        return "";
    };
    let rest = &url[scheme_end + 3..];
    let end = rest
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| scheme_end + 3 + i);
    &url[..end]
}

/// The first value of a query parameter (not percent-decoded: the secret is hex).
fn query_param<'a>(uri: &'a str, name: &str) -> Option<&'a str> {
    let query = uri.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or(query);
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then_some(v)
    })
}

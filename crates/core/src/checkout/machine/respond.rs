//! Klarna's answers: responses and transport failures, per call.

use super::*;

impl Core {
    // ----- responses -----

    pub(super) fn take_inflight(&mut self, id: RequestId) -> Result<InFlight, InputError> {
        match &self.inflight {
            Some(f) if f.id == id.0 => self.inflight.take().ok_or(InputError::UnknownRequest(id)),
            _ => Err(InputError::UnknownRequest(id)),
        }
    }

    pub(in crate::checkout) fn on_transport_error(
        &mut self,
        id: RequestId,
        failure: TransportFailure,
        now: Timestamp,
    ) -> Result<(), InputError> {
        let f = self.take_inflight(id)?;
        if self.phase.is_terminal() && !self.late_read {
            return Ok(());
        }
        match failure {
            TransportFailure::NotSent => self.retry_later(f, None, now, None),
            TransportFailure::OutcomeUnknown => self.ambiguous(f, now),
        }
        Ok(())
    }

    pub(in crate::checkout) fn on_response(
        &mut self,
        id: RequestId,
        response: &Response<Vec<u8>>,
        now: Timestamp,
    ) -> Result<(), InputError> {
        let f = self.take_inflight(id)?;
        if self.phase.is_terminal() && !self.late_read {
            return Ok(());
        }
        let status = response.status();
        if status.is_success() {
            self.on_success(f, response, now);
        } else {
            let err = ApiError::from_response(call_name(&f.spec), response);
            // A 409 to an OM write with an idempotency key: the same key is being processed
            // (an earlier attempt still running). Replaying the key is safe and learns the end.
            let in_progress = err.status == http::StatusCode::CONFLICT
                && matches!(f.spec, Spec::Capture(_) | Spec::Refund(_) | Spec::Write(_));
            if err.is_transient() || in_progress {
                if f.spec.moves_money() && err.outcome_unknown() {
                    // Same handling as a lost response: replayed exactly-once, or read.
                    self.mark_ambiguous(&f);
                }
                self.retry_later(f, err.retry_after, now, Some(&err));
            } else {
                self.on_refused(f, &err, now);
            }
        }
        Ok(())
    }

    pub(super) fn mark_ambiguous(&mut self, f: &InFlight) {
        if matches!(f.spec, Spec::PlaceOrder) {
            if let Some(p) = self.place.as_mut() {
                p.ambiguous = true;
            }
        }
    }

    /// The request may have been processed: reads and creates are simply retried; writes are
    /// replayed exactly-once (same body or same idempotency key).
    pub(super) fn ambiguous(&mut self, f: InFlight, now: Timestamp) {
        self.mark_ambiguous(&f);
        self.retry_later(f, None, now, None);
    }

    pub(super) fn retry_later(
        &mut self,
        f: InFlight,
        retry_after: Option<Duration>,
        now: Timestamp,
        err: Option<&ApiError>,
    ) {
        let attempt = f.attempt.saturating_add(1);
        // Reads never give up before their deadline, nor writes that move money, nor the
        // disable that closes a session at its deadline; a late read (terminal) does.
        let unlimited = (f.spec.is_read() && !self.phase.is_terminal())
            || f.spec.moves_money()
            || f.spec.is_keyed_write()
            || (f.spec == Spec::Disable && self.closing);
        if !unlimited && attempt >= self.retry.max_attempts.max(1) {
            self.give_up(f.spec, err, now);
            return;
        }
        let mut delay = self.retry.delay(attempt);
        delay = delay.saturating_add(jitter(self.keys.expose(), f.id, delay));
        // Honour Retry-After, but never beyond 5 minutes (or the policy's max, if longer): a
        // hostile or broken value must not park the checkout past its deadlines.
        if let Some(ra) = retry_after {
            delay = delay.max(ra.min(self.retry.max.max(Duration::from_secs(300))));
        }
        self.retry_at = Some(Pending {
            spec: f.spec,
            attempt,
            at: now.saturating_add(delay),
        });
    }

    pub(super) fn give_up(&mut self, spec: Spec, err: Option<&ApiError>, now: Timestamp) {
        let call = spec.call();
        match spec {
            Spec::CreateKpSession | Spec::CreateHppSession => {
                self.enter(Phase::Failed(FailureReason::RetriesExhausted(call)));
            }
            Spec::ReadHppSession if self.phase.is_terminal() => {
                // The late read after an authentic callback could not be made.
                self.late_read = false;
            }
            _ => {
                let problem = err.map(ApiProblem::from).unwrap_or(ApiProblem {
                    status: 0,
                    error_code: None,
                    error_messages: vec!["no response after retries".to_owned()],
                    correlation_id: None,
                });
                self.emit(Event::CallFailed { call, problem });
                if self.phase == Phase::AwaitingConsumer {
                    self.schedule_poll(now);
                }
            }
        }
    }

    pub(super) fn on_success(&mut self, f: InFlight, response: &Response<Vec<u8>>, now: Timestamp) {
        match &f.spec {
            Spec::CreateKpSession => {
                match wire::decode::<views::KpSessionCreated>(kp::CreateSession::NAME, response) {
                    Ok(s) => {
                        self.kp = Some(KpInfo {
                            session_id: s.session_id.clone(),
                            // Klarna counts from creation, which is after we sent: a safe lower bound.
                            expires_at: f.sent_at.saturating_add(KP_SESSION_LIFETIME),
                        });
                        self.emit(Event::KpSessionCreated {
                            session_id: s.session_id,
                        });
                        self.phase = Phase::CreatingHppSession;
                    }
                    Err(_) => self.retry_later(f, None, now, None),
                }
            }
            Spec::CreateHppSession => {
                match wire::decode::<views::HppSessionCreated>(hpp::CreateSession::NAME, response) {
                    Ok(s) => {
                        let kp_bound = self
                            .kp
                            .as_ref()
                            .map_or(f.sent_at, |k| k.expires_at.saturating_sub(HPP_BEFORE_KP));
                        let expires_at = s.expires_at.map_or(kp_bound, |e| e.min(kp_bound));
                        self.hpp = Some(HppInfo {
                            session_id: s.session_id.clone(),
                            redirect_url: s.redirect_url.clone(),
                            qr_code_url: s.qr_code_url.clone(),
                            expires_at,
                            stated_expiry: s.expires_at,
                            created_at: f.sent_at,
                            status: None,
                        });
                        self.phase = Phase::AwaitingConsumer;
                        if self.hpp_deadline().is_some_and(|d| d <= now) {
                            // Created too late to be usable: never hand out a dead link, and
                            // close the session Klarna may still hold open.
                            if self.klarna_expiry().is_some_and(|e| now < e) {
                                self.start_closing();
                            } else {
                                self.enter(Phase::Expired(Deadline::HppSession));
                            }
                            return;
                        }
                        if let Some(link) = self.consumer_link() {
                            self.emit(Event::ConsumerLinkReady(link));
                        }
                        self.polls = 0;
                        self.schedule_poll(now);
                    }
                    Err(_) => self.retry_later(f, None, now, None),
                }
            }
            Spec::ReadHppSession => {
                match wire::decode::<views::HppSession>(hpp::ReadSession::NAME, response) {
                    // A body without `session_id` is about the session read; one naming
                    // another session is never acted on.
                    Ok(s)
                        if self.hpp.as_ref().is_some_and(|h| {
                            s.session_id.as_deref().is_none_or(|id| id == h.session_id)
                        }) =>
                    {
                        self.on_session(s, now)
                    }
                    _ => self.retry_later(f, None, now, None),
                }
            }
            Spec::Distribute(d) => {
                self.emit(Event::Distributed {
                    method: d.method.clone(),
                });
            }
            // Closing at the deadline: the door is shut; a read tells whether the consumer
            // completed before it was.
            Spec::Disable if self.closing && !self.intents.merchant_disable => {
                self.next_poll = Some(now)
            }
            Spec::Disable => self.enter(Phase::Disabled),
            Spec::PlaceOrder => {
                match wire::decode::<views::OrderPlaced>(kp::CreateOrder::NAME, response) {
                    Ok(order) => {
                        let amount = self.place.as_ref().map_or(0, |p| p.amount);
                        self.place = None;
                        self.order = Some(OrderInfo::new(order.order_id.clone(), amount, 0));
                        self.phase = Phase::OrderPlaced;
                        self.emit(Event::OrderPlaced {
                            order_id: order.order_id,
                            klarna_reference: None,
                            fraud_status: order.fraud_status.map(|s| s.as_str().to_owned()),
                        });
                        self.intents.read_order = true;
                    }
                    // A 2xx we cannot read may still be a placed order: replay the identical body.
                    Err(_) => self.ambiguous(f, now),
                }
            }
            Spec::CancelAuthorization => {
                self.enter(Phase::Cancelled(CancelledBy::AuthorizationReleased))
            }
            Spec::ReadOrder => match wire::decode::<views::Order>(om::GetOrder::NAME, response) {
                Ok(o) => self.on_order(o, now),
                Err(_) => self.retry_later(f, None, now, None),
            },
            Spec::Capture(m) => {
                let id = om::CreateCapture::decode_response(response)
                    .ok()
                    .and_then(|c| c.capture_id);
                let m = *m;
                if let Some(id) = self.confirmed(f, id, now) {
                    if let Some(o) = self.order.as_mut() {
                        if let Some(id) = &id {
                            o.know_capture(id);
                        }
                        o.captured = o.captured.saturating_add(m.amount);
                        let captured_total = o.captured;
                        self.emit(Event::Captured {
                            capture_id: id,
                            amount: m.amount,
                            captured_total,
                        });
                    }
                }
            }
            Spec::Refund(m) => {
                let id = om::CreateRefund::decode_response(response)
                    .ok()
                    .and_then(|r| r.refund_id);
                let m = *m;
                if let Some(id) = self.confirmed(f, id, now) {
                    if let Some(o) = self.order.as_mut() {
                        o.refunded = o.refunded.saturating_add(m.amount);
                        let refunded_total = o.refunded;
                        self.emit(Event::Refunded {
                            refund_id: id,
                            amount: m.amount,
                            refunded_total,
                        });
                    }
                }
            }
            Spec::CancelOrder(_) => self.enter(Phase::Cancelled(CancelledBy::OrderCancelled)),
            Spec::Write(w) => {
                // Order Management answers these with 204 and no body: done. Another 2xx is not
                // what Klarna documents (a proxy's page?): the replay under the same key returns
                // Klarna's real answer at no risk; after the policy's attempts it is taken as
                // success (as Klarna documents a 2xx), and the read that follows refreshes the view.
                let documented = response.status() == http::StatusCode::NO_CONTENT;
                if !documented && f.attempt.saturating_add(1) < self.retry.max_attempts {
                    self.retry_later(f, None, now, None);
                    return;
                }
                // A read refreshes the checkout's view of the order (a release lowers what is
                // authorized, an extension moves the deadline).
                if w.kind == WriteKind::Release {
                    if let Some(o) = self.order.as_mut() {
                        o.released = true;
                    }
                    self.withdraw_what_no_longer_fits();
                }
                self.emit(Event::OrderWritten {
                    call: w.kind.call(),
                });
                if self.phase == Phase::OrderPlaced {
                    self.intents.read_order = true;
                }
            }
        }
    }

    /// A 2xx to a capture or refund confirms it only with the created id: without one, the
    /// replay with the same idempotency key returns Klarna's real answer at no risk. After the
    /// policy's attempts, a 2xx is taken as Klarna documents it (success) so nothing loops.
    /// `Some(id)` (possibly `Some(None)`) when confirmed; `None` when a replay was scheduled.
    pub(super) fn confirmed(
        &mut self,
        f: InFlight,
        id: Option<String>,
        now: Timestamp,
    ) -> Option<Option<String>> {
        if id.is_none() && f.attempt.saturating_add(1) < self.retry.max_attempts {
            self.retry_later(f, None, now, None);
            return None;
        }
        Some(id)
    }

    pub(super) fn on_refused(&mut self, f: InFlight, err: &ApiError, now: Timestamp) {
        if self.phase.is_terminal() {
            // The late read was refused (the session is gone): the checkout stays as it was.
            self.late_read = false;
            return;
        }
        let problem = ApiProblem::from(err);
        let status = err.status.as_u16();
        match f.spec {
            Spec::CreateKpSession => {
                self.enter(Phase::Failed(FailureReason::KpSessionRejected(problem)))
            }
            Spec::CreateHppSession => {
                self.enter(Phase::Failed(FailureReason::HppSessionRejected(problem)))
            }
            Spec::ReadHppSession
                if status == 404
                    && !self.closing
                    && self.klarna_expiry().is_some_and(|e| now < e) =>
            {
                // Gone, Klarna says (expired, or never existed). Make sure before giving up:
                // disable it (a 404 to that too ends it), then read.
                self.start_closing();
            }
            Spec::ReadHppSession if status == 404 => {
                // Gone: the final read found nothing completed.
                self.enter(Phase::Expired(Deadline::HppSession));
            }
            Spec::ReadHppSession => {
                self.emit(Event::CallFailed {
                    call: Call::ReadHppSession,
                    problem,
                });
                let delay = self.poll.max;
                self.retry_at = Some(Pending {
                    spec: f.spec,
                    attempt: f.attempt.saturating_add(1),
                    at: now.saturating_add(delay),
                });
            }
            Spec::Disable if status == 404 => self.enter(Phase::Expired(Deadline::HppSession)),
            Spec::Disable => {
                // 400: already completed. Learn the outcome by reading.
                self.emit(Event::CallFailed {
                    call: Call::DisableHppSession,
                    problem,
                });
                self.next_poll = Some(now);
            }
            Spec::Distribute(_) => {
                self.emit(Event::CallFailed {
                    call: Call::Distribute,
                    problem,
                });
            }
            Spec::PlaceOrder => {
                let ambiguous = self.place.as_ref().is_some_and(|p| p.ambiguous);
                let code = err.error_code.as_deref().unwrap_or_default();
                let rejected = status == 403 && code == "REJECTED";
                if ambiguous && matches!(status, 403 | 404 | 409) && !rejected {
                    // A replay after an unknown outcome was refused as already used: the order
                    // probably exists but Klarna will not tell us its id here.
                    self.enter(Phase::Failed(FailureReason::OrderOutcomeUnknown));
                } else if ambiguous && !rejected {
                    // Any other refusal of a replay (credentials rotated: 401; a proxy's 400
                    // or 422) proves nothing about the attempt whose outcome is unknown: it
                    // may have placed the order. Keep the byte-identical replay (and nothing
                    // else) until the token's deadline, where an unresolved outcome fails
                    // loudly as `OrderOutcomeUnknown`.
                    self.emit(Event::CallFailed {
                        call: Call::PlaceOrder,
                        problem,
                    });
                    self.retry_later(f, err.retry_after, now, Some(err));
                } else if status == 404 {
                    self.enter(Phase::Expired(Deadline::AuthorizationToken));
                } else if status == 403 {
                    self.enter(Phase::Failed(FailureReason::OrderRejected(problem)));
                } else {
                    // 400 and similar: nothing was placed; the merchant may place a corrected body.
                    self.place = None;
                    self.emit(Event::CallFailed {
                        call: Call::PlaceOrder,
                        problem,
                    });
                }
            }
            Spec::CancelAuthorization if status == 404 => {
                self.enter(Phase::Cancelled(CancelledBy::AuthorizationReleased));
            }
            Spec::CancelAuthorization
            | Spec::CancelOrder(_)
            | Spec::Capture(_)
            | Spec::Refund(_)
            | Spec::Write(_) => {
                let call = f.spec.call();
                // Refused now; but if an earlier attempt's outcome was unknown, it may have
                // committed (a proxy's 4xx, a replay past the idempotency window): keep the
                // amount reserved until an order read shows it, or its key settles it.
                let money = match f.spec {
                    Spec::Capture(m) | Spec::Refund(m) if f.attempt > 0 || m.replay => Some(m),
                    _ => None,
                };
                if let (Some(money), Some(o)) = (money, self.order.as_mut()) {
                    let before = match call {
                        Call::Capture => o.captured,
                        _ => o.refunded,
                    };
                    o.unsettled.push(Unsettled {
                        call,
                        money,
                        before,
                    });
                }
                self.emit(Event::CallFailed { call, problem });
                if self.phase == Phase::OrderPlaced {
                    self.intents.read_order = true;
                }
            }
            Spec::ReadOrder => {
                self.emit(Event::CallFailed {
                    call: Call::ReadOrder,
                    problem,
                });
                // Money waits for a read: an unsettled call is settled only by one, and queued
                // writes are checked against one. Keep trying, with backoff (right after
                // placement, Order Management may not know the order yet: 404).
                if self.money_waits_for_a_read() {
                    self.retry_later(f, None, now, Some(err));
                }
            }
        }
    }

    pub(super) fn schedule_poll(&mut self, now: Timestamp) {
        let mut at = now.saturating_add(self.poll.interval(self.polls));
        self.polls = self.polls.saturating_add(1);
        if let Some(d) = self.hpp_deadline() {
            at = at.min(d.max(now));
        }
        self.next_poll = Some(at);
    }

    pub(super) fn on_session(&mut self, s: views::HppSession, now: Timestamp) {
        if self.phase.is_terminal() {
            // The late read (`late_read`): only a completed payment revives the checkout.
            self.late_read = false;
            let paid = s.order_id.is_some() || s.authorization_token.is_some();
            if s.status != HppStatus::Completed || !paid {
                return;
            }
            self.phase = Phase::AwaitingConsumer;
        }
        let Some(h) = self.hpp.as_mut() else { return };
        if let Some(e) = s.expires_at {
            if e < h.expires_at {
                h.expires_at = e;
            }
            h.stated_expiry = Some(e);
        }
        let changed = h.status.as_ref() != Some(&s.status);
        if changed {
            h.status = Some(s.status.clone());
        }
        let created_at = h.created_at;
        if changed {
            self.polls = 0;
            self.emit(Event::StatusChanged {
                status: s.status.clone(),
            });
        }
        match s.status {
            HppStatus::Completed => {
                if let Some(order_id) = s.order_id.clone() {
                    // Under CAPTURE_ORDER, HPP captured the whole order along with placing it:
                    // count it captured, so no capture can be asked for on top of HPP's. An
                    // order read may raise what is counted, never lower it (a read may lag).
                    let captured = match place_order_mode(&self.options) {
                        PlaceOrderMode::CaptureOrder => self.session.order_amount,
                        _ => 0,
                    };
                    self.order = Some(OrderInfo::new(
                        order_id.clone(),
                        self.session.order_amount,
                        captured,
                    ));
                    self.phase = Phase::OrderPlaced;
                    self.next_poll = None;
                    self.closing = false;
                    self.emit(Event::OrderPlaced {
                        order_id,
                        klarna_reference: s.klarna_reference.clone(),
                        fraud_status: None,
                    });
                    self.intents.read_order = true;
                } else if let (Some(token), PlaceOrderMode::None) = (
                    s.authorization_token.clone(),
                    place_order_mode(&self.options),
                ) {
                    // The token was issued at the status change (`updated_at`) and before this
                    // read: the earlier bound is the safe one. Without `updated_at`, the KP
                    // session's request time is earlier than any authorization.
                    let kp_requested = self
                        .kp
                        .as_ref()
                        .map(|k| k.expires_at.saturating_sub(KP_SESSION_LIFETIME));
                    let issued = s.updated_at.or(kp_requested).unwrap_or(created_at).min(now);
                    let expires_at = issued.saturating_add(AUTHORIZATION_TOKEN_LIFETIME);
                    self.auth = Some(AuthInfo { token, expires_at });
                    self.phase = Phase::Authorized;
                    self.next_poll = None;
                    self.closing = false;
                    let deadline = self.token_deadline().unwrap_or(expires_at);
                    self.emit(Event::Authorized {
                        expires_at: deadline,
                    });
                } else {
                    // COMPLETED without what the mode promises: keep reading.
                    self.after_read(now);
                }
            }
            HppStatus::Cancelled => self.enter(Phase::Cancelled(CancelledBy::Consumer)),
            // Disabled by the checkout itself, closing at the deadline: it expired.
            HppStatus::Disabled if self.closing && !self.intents.merchant_disable => {
                self.enter(Phase::Expired(Deadline::HppSession))
            }
            HppStatus::Disabled => self.enter(Phase::Disabled),
            _ => self.after_read(now),
        }
    }

    pub(super) fn after_read(&mut self, now: Timestamp) {
        if !self.closing {
            self.schedule_poll(now);
            return;
        }
        // Closing, and the session still reads as open (the disable was refused, or the read
        // lags behind it).
        if self.klarna_expiry().is_none_or(|e| now >= e) {
            self.enter(Phase::Expired(Deadline::HppSession));
        } else if !self.intents.disable && self.retry_at.is_none() {
            // Disable again after a poll interval, then read again.
            let at = now.saturating_add(self.poll.interval(self.polls));
            self.polls = self.polls.saturating_add(1);
            self.retry_at = Some(Pending {
                spec: Spec::Disable,
                attempt: 0,
                at,
            });
        }
    }

    pub(super) fn on_order(&mut self, o: views::Order, now: Timestamp) {
        let margin = self.margin;
        let Some(info) = self.order.as_mut() else {
            return;
        };
        info.authorized = o.order_amount;
        // A read may lag behind what the checkout confirmed (or, under CAPTURE_ORDER, what HPP
        // captured when placing): it can raise what is counted, never lower it.
        info.captured = info.captured.max(o.captured_amount);
        info.refunded = info.refunded.max(o.refunded_amount);
        // Snapshots before the lag rule: the read settles what they left unsettled.
        info.unsettled_captures = 0;
        info.unsettled_refunds = 0;
        info.expires_at = o.expires_at;
        for id in o.capture_ids() {
            info.know_capture(id);
        }
        let unsettled = std::mem::take(&mut info.unsettled);
        self.emit(Event::OrderUpdated {
            status: o.status.clone(),
            order_amount: o.order_amount,
            captured_amount: o.captured_amount,
            refunded_amount: o.refunded_amount,
            remaining_authorized_amount: o.remaining_authorized_amount,
            expires_at: o.expires_at.map(|t| t.saturating_sub(margin)),
        });
        if o.status == om::OrderStatus::Cancelled {
            self.enter(Phase::Cancelled(CancelledBy::OrderCancelled));
            return;
        }
        self.settle_unsettled(unsettled, o.captured_amount, o.refunded_amount, now);
        self.withdraw_what_no_longer_fits();
    }

    /// What an order read tells of the captures and refunds left unsettled. Reads may lag
    /// behind Klarna's writes (a write whose answer was lost may still be executing, or be
    /// visible a moment later), so a read that does not show a call is no proof it did not
    /// commit. Each one is:
    /// - settled as committed when the read shows it (the total reached what the checkout
    ///   knew before it plus its amount);
    /// - else, while Klarna still honours its key, re-sent under that same key (a key is
    ///   executed at most once: the replay returns the first answer if it committed, or makes
    ///   the call now if it did not);
    /// - else, once a read is made [`READ_LAG`] after it was last sent (by then a committed
    ///   write is visible), freed: reported as [`Event::Withdrawn`], its amount may be asked
    ///   for again;
    /// - else kept reserved, and read again then.
    fn settle_unsettled(
        &mut self,
        unsettled: Vec<Unsettled>,
        captured: i64,
        refunded: i64,
        now: Timestamp,
    ) {
        for u in unsettled {
            let shown = match u.call {
                Call::Capture => captured,
                _ => refunded,
            };
            if shown >= u.before.saturating_add(u.money.amount) {
                let event = match u.call {
                    Call::Capture => Event::Captured {
                        capture_id: None,
                        amount: u.money.amount,
                        captured_total: captured,
                    },
                    _ => Event::Refunded {
                        refund_id: None,
                        amount: u.money.amount,
                        refunded_total: refunded,
                    },
                };
                self.emit(event);
                continue;
            }
            let honoured = u.money.since.is_some_and(|since| {
                now.saturating_add(self.margin) < since.saturating_add(IDEMPOTENCY_WINDOW)
            });
            let visible_at = u
                .money
                .last
                .map_or(now, |last| last.saturating_add(READ_LAG));
            if honoured {
                let replay = Money {
                    replay: true,
                    ..u.money
                };
                match u.call {
                    Call::Capture => self.intents.captures.push_front(replay),
                    _ => self.intents.refunds.push_front(replay),
                }
            } else if now < visible_at {
                // Read again once it would show (see `Core::settle_read_at`).
                if let Some(o) = self.order.as_mut() {
                    o.unsettled.push(u);
                }
            } else {
                let remaining = self.left(u.call);
                self.emit(Event::Withdrawn {
                    call: u.call,
                    amount: u.money.amount,
                    remaining,
                });
            }
        }
    }
}

//! Merchant commands: checked, recorded as intents, and issued by `drive`.

use super::*;

impl Core {
    // ----- commands -----

    pub(super) fn check_live(&self) -> Result<(), CommandError> {
        if self.phase.is_terminal() {
            return Err(CommandError::Terminal {
                state: self.state(),
            });
        }
        Ok(())
    }

    pub(super) fn not_allowed(&self, command: &'static str) -> CommandError {
        CommandError::NotAllowed {
            command,
            state: self.state(),
        }
    }

    pub(in crate::checkout) fn cmd_distribute(
        &mut self,
        api: &Api,
        request: DistributionRequest,
        now: Timestamp,
    ) -> Result<(), CommandError> {
        self.check_live()?;
        if self.phase != Phase::AwaitingConsumer {
            return Err(self.not_allowed("distribute"));
        }
        if self.hpp_deadline().is_some_and(|d| now >= d) {
            return Err(CommandError::Expired {
                deadline: Deadline::HppSession,
            });
        }
        let sid = self
            .hpp
            .as_ref()
            .map(|h| h.session_id.clone())
            .unwrap_or_default();
        hpp::Distribute::new(sid, request.clone()).to_request(api)?;
        self.intents.distribute.push_back(request);
        Ok(())
    }

    pub(in crate::checkout) fn cmd_disable(&mut self, _now: Timestamp) -> Result<(), CommandError> {
        self.check_live()?;
        if self.phase != Phase::AwaitingConsumer {
            return Err(self.not_allowed("disable"));
        }
        self.intents.disable = true;
        self.intents.merchant_disable = true;
        Ok(())
    }

    pub(in crate::checkout) fn cmd_place_order(
        &mut self,
        order: Option<CreateOrderRequest>,
        now: Timestamp,
    ) -> Result<(), CommandError> {
        self.check_live()?;
        if self.phase != Phase::Authorized {
            return Err(self.not_allowed("place_order"));
        }
        if self.place.is_some() {
            return Err(CommandError::InProgress {
                command: "place_order",
            });
        }
        if self.token_deadline().is_some_and(|d| now >= d) {
            return Err(CommandError::Expired {
                deadline: Deadline::AuthorizationToken,
            });
        }
        if self.intents.cancel_authorization {
            return Err(CommandError::InProgress {
                command: "cancel_authorization",
            });
        }
        let Some(auth) = &self.auth else {
            return Err(self.not_allowed("place_order"));
        };
        // The token is a path segment: an empty one (from a broken answer) cannot be sent.
        if auth.token.expose().is_empty() {
            return Err(
                ValidationError::new("authorization_token", ValidationProblem::Empty).into(),
            );
        }
        let amount = order
            .as_ref()
            .map_or(self.session.order_amount, |body| body.order_amount);
        if amount > self.session.order_amount {
            return Err(CommandError::ExceedsRemaining {
                requested: amount,
                remaining: self.session.order_amount,
            });
        }
        // The session's own order was validated with the session and is serialized straight
        // from it; a different body is validated here, exactly as it will be sent.
        let text = match order {
            Some(body) => {
                body.validate()?;
                json_text(&body)?
            }
            None => match self.order_body.0.take() {
                Some(text) => {
                    debug_assert_eq!(
                        Ok(&text),
                        json_text(&OrderBody::of_session(&self.session)).as_ref(),
                        "the KP session body kept for placing the order is the order body"
                    );
                    text
                }
                None => json_text(&OrderBody::of_session(&self.session))?,
            },
        };
        self.place = Some(PlaceAttempt {
            body: text,
            amount,
            ambiguous: false,
        });
        self.intents.place = true;
        Ok(())
    }

    pub(super) fn check_order_phase(&self, command: &'static str) -> Result<(), CommandError> {
        self.check_live()?;
        if self.phase != Phase::OrderPlaced || self.order.is_none() {
            return Err(self.not_allowed(command));
        }
        Ok(())
    }

    pub(in crate::checkout) fn cmd_capture(
        &mut self,
        amount: Option<i64>,
        now: Timestamp,
    ) -> Result<(), CommandError> {
        self.check_order_phase("capture")?;
        let expired = self.order.as_ref().is_some_and(|o| o.authorization_expired)
            || self.order_deadline().is_some_and(|d| now >= d);
        if expired {
            return Err(CommandError::Expired {
                deadline: Deadline::OrderAuthorization,
            });
        }
        if self.intents.cancel_order.is_some() {
            return Err(CommandError::InProgress {
                command: "cancel_order",
            });
        }
        let remaining = self.capturable();
        let amount = amount.unwrap_or(remaining);
        if amount <= 0 {
            return Err(ValidationError::new(
                "captured_amount",
                ValidationProblem::NotPositive { actual: amount },
            )
            .into());
        }
        if amount > remaining {
            return Err(CommandError::ExceedsRemaining {
                requested: amount,
                remaining,
            });
        }
        let seq = self.next_seq();
        self.intents.captures.push_back(Money::new(seq, amount));
        Ok(())
    }

    pub(in crate::checkout) fn cmd_refund(
        &mut self,
        amount: i64,
        _now: Timestamp,
    ) -> Result<(), CommandError> {
        self.check_order_phase("refund")?;
        if amount <= 0 {
            return Err(ValidationError::new(
                "refunded_amount",
                ValidationProblem::NotPositive { actual: amount },
            )
            .into());
        }
        let remaining = self.refundable();
        if amount > remaining {
            return Err(CommandError::ExceedsRemaining {
                requested: amount,
                remaining,
            });
        }
        let seq = self.next_seq();
        self.intents.refunds.push_back(Money::new(seq, amount));
        Ok(())
    }

    pub(in crate::checkout) fn cmd_cancel_authorization(
        &mut self,
        _now: Timestamp,
    ) -> Result<(), CommandError> {
        self.check_live()?;
        if self.phase != Phase::Authorized {
            return Err(self.not_allowed("cancel_authorization"));
        }
        if self.place.is_some() {
            return Err(CommandError::InProgress {
                command: "place_order",
            });
        }
        self.intents.cancel_authorization = true;
        Ok(())
    }

    pub(in crate::checkout) fn cmd_cancel_order(
        &mut self,
        _now: Timestamp,
    ) -> Result<(), CommandError> {
        self.check_order_phase("cancel_order")?;
        if self.captured_or_capturing() {
            return Err(self.not_allowed("cancel_order"));
        }
        if self.intents.cancel_order.is_none() {
            let seq = self.next_seq();
            self.intents.cancel_order = Some(seq);
        }
        Ok(())
    }

    /// Releases what remains authorized: afterwards nothing more can be captured. Asking
    /// again while one is asked for or done changes nothing.
    pub(in crate::checkout) fn cmd_release_remaining_authorization(
        &mut self,
        _now: Timestamp,
    ) -> Result<(), CommandError> {
        self.check_order_phase("release_remaining_authorization")?;
        if self.cancelling() {
            return Err(CommandError::InProgress {
                command: "cancel_order",
            });
        }
        if !self.releasing() {
            self.queue_write(WriteKind::Release);
            // Queued captures are sent before it; none may be asked for after it.
        }
        Ok(())
    }

    pub(in crate::checkout) fn cmd_extend_authorization_time(
        &mut self,
        now: Timestamp,
    ) -> Result<(), CommandError> {
        self.check_order_phase("extend_authorization_time")?;
        let expired = self.order.as_ref().is_some_and(|o| o.authorization_expired)
            || self.order_deadline().is_some_and(|d| now >= d);
        if expired {
            return Err(CommandError::Expired {
                deadline: Deadline::OrderAuthorization,
            });
        }
        if self.cancelling() {
            return Err(CommandError::InProgress {
                command: "cancel_order",
            });
        }
        self.queue_write(WriteKind::Extend);
        Ok(())
    }

    pub(in crate::checkout) fn cmd_update_merchant_references(
        &mut self,
        api: &Api,
        references: om::MerchantReferences,
        _now: Timestamp,
    ) -> Result<(), CommandError> {
        self.check_order_phase("update_merchant_references")?;
        let kind = WriteKind::References(references);
        self.check_write(api, &kind)?;
        self.queue_write(kind);
        Ok(())
    }

    pub(in crate::checkout) fn cmd_add_shipping_info(
        &mut self,
        api: &Api,
        capture_id: &str,
        shipping_info: Vec<om::ShippingInfo>,
        _now: Timestamp,
    ) -> Result<(), CommandError> {
        self.check_order_phase("add_shipping_info")?;
        let known = self
            .order
            .as_ref()
            .is_some_and(|o| o.capture_ids.iter().any(|c| c == capture_id));
        if !known {
            return Err(CommandError::UnknownCapture {
                capture_id: capture_id.to_owned(),
            });
        }
        let kind = WriteKind::ShippingInfo {
            capture_id: capture_id.to_owned(),
            shipping_info,
        };
        self.check_write(api, &kind)?;
        self.queue_write(kind);
        Ok(())
    }

    /// Builds the write's request once, so a body Klarna would refuse is refused now.
    fn check_write(&self, api: &Api, kind: &WriteKind) -> Result<(), CommandError> {
        let order_id = self
            .order
            .as_ref()
            .map(|o| o.order_id.clone())
            .unwrap_or_default();
        write_request(api, order_id, kind, None)?;
        Ok(())
    }

    /// Whether a cancel of the order is asked for (queued, in flight or to be replayed).
    fn cancelling(&self) -> bool {
        let is_cancel = |s: &Spec| matches!(s, Spec::CancelOrder(_));
        self.intents.cancel_order.is_some()
            || self.inflight.as_ref().is_some_and(|f| is_cancel(&f.spec))
            || self.retry_at.as_ref().is_some_and(|p| is_cancel(&p.spec))
    }

    fn queue_write(&mut self, kind: WriteKind) {
        let seq = self.next_seq();
        self.intents.writes.push_back(OrderWrite { seq, kind });
    }

    pub(super) fn next_seq(&mut self) -> u32 {
        self.intents.seq = self.intents.seq.saturating_add(1);
        self.intents.seq
    }
}

/// A place-order body as JSON text.
fn json_text<T: serde::Serialize>(body: &T) -> Result<String, ValidationError> {
    let not_encodable = || ValidationError::new("order", ValidationProblem::NotEncodable);
    let bytes = crate::wire::json(body).map_err(|_| not_encodable())?;
    String::from_utf8(bytes).map_err(|_| not_encodable())
}

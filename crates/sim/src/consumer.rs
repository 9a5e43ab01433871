//! The consumer on the hosted page: open, pay, be declined, go back, cancel, hit an error. The
//! page's buttons, the control API (`/_sim/hpp/{id}/…`) and [`crate::Consumer`] all run this code.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::Ctx;
use crate::error::ConsumerError;
use crate::rules::{Categories, Category};
use crate::state::{AuthState, HppStatus, PlaceOrderMode, State};

/// What the consumer does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    Open,
    Pay,
    Decline,
    Back,
    Cancel,
    Error,
}

impl Action {
    pub(crate) fn parse(s: &str) -> Option<Action> {
        Some(match s {
            "open" => Action::Open,
            "pay" => Action::Pay,
            "decline" => Action::Decline,
            "back" => Action::Back,
            "cancel" => Action::Cancel,
            "error" => Action::Error,
            _ => return None,
        })
    }
}

/// The result of a consumer action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ConsumerOutcome {
    /// The HPP session.
    pub session_id: String,
    /// Its status after the action (`IN_PROGRESS`, `COMPLETED`, `FAILED`, `BACK`, `CANCELLED`,
    /// `ERROR`).
    pub status: String,
    /// Where the browser is sent next: the rendered merchant URL, the hosted page again (after
    /// `open`, or when `payment_fallback` offers other categories), or the emulator's own
    /// confirmation page when the merchant gave no URL.
    pub redirect_url: String,
    /// With `place_order_mode` NONE, after paying: the authorization token.
    pub authorization_token: Option<String>,
    /// With PLACE_ORDER / CAPTURE_ORDER, after paying: the OM order id.
    pub order_id: Option<String>,
    /// After a decline with `payment_fallback`: the other categories now offered (KP identifiers).
    pub fallback_categories: Vec<String>,
}

impl State {
    /// Runs one consumer action on an HPP session.
    pub(crate) fn consumer_act(
        &mut self,
        cx: &mut Ctx<'_>,
        session: &str,
        action: Action,
        category: Option<&str>,
    ) -> Result<ConsumerOutcome, ConsumerError> {
        let id = self
            .live_hpp(session, cx.now)
            .ok_or(ConsumerError::NotFound)?;
        let s = self.hpp.get(&id).ok_or(ConsumerError::NotFound)?;
        if s.status.is_final() {
            return Err(ConsumerError::Final {
                status: s.status.as_str().to_owned(),
            });
        }
        let kp_id = s.kp;
        let (_, kp) = self
            .live_kp(&kp_id.to_string(), cx.now)
            .ok_or(ConsumerError::PaymentSession("expired"))?;
        if kp.complete {
            return Err(ConsumerError::PaymentSession("completed"));
        }
        let kp_fields = kp.fields();
        let chosen = match category {
            Some(c) => {
                let parsed = Category::parse(c).filter(|c| s.allowed.contains(*c));
                Some(parsed.ok_or_else(|| ConsumerError::CategoryNotOffered {
                    category: c.to_owned(),
                })?)
            }
            None => s.allowed.iter().next(),
        };
        let page = cx.url(&format!("/hpp/pay/{id}"));
        let status_page = cx.url(&format!("/hpp/pay/{id}/status"));
        // Every action happens on the page, so it is (re)opened first.
        self.set_hpp_status(cx, id, HppStatus::InProgress);
        let mut fallback = Vec::new();
        let (status, url_keys): (HppStatus, &[&str]) = match action {
            Action::Open => (HppStatus::InProgress, &[]),
            Action::Pay => {
                let category = chosen.ok_or(ConsumerError::CategoryNotOffered {
                    category: String::new(),
                })?;
                let token = self.authorize(cx, kp_id, category);
                let mode = self
                    .hpp
                    .get(&id)
                    .map(|s| s.mode)
                    .unwrap_or(PlaceOrderMode::None);
                match mode {
                    PlaceOrderMode::None => {
                        if let Some(s) = self.hpp.get_mut(&id) {
                            s.authorization_token = Some(token);
                        }
                    }
                    PlaceOrderMode::PlaceOrder | PlaceOrderMode::CaptureOrder => {
                        let capture = mode == PlaceOrderMode::CaptureOrder;
                        let order = self.place_order(cx, category, &kp_fields, capture);
                        if let Some(a) = self.auths.get_mut(&token) {
                            a.state = AuthState::PlacedByHpp;
                        }
                        if let Some(k) = self.kp.get_mut(&kp_id) {
                            k.complete = true;
                        }
                        if let Some(s) = self.hpp.get_mut(&id) {
                            s.order_id = Some(order);
                        }
                    }
                }
                (HppStatus::Completed, &["success"])
            }
            Action::Decline => {
                let offered = cx.env.categories;
                let s = self.hpp.get_mut(&id).ok_or(ConsumerError::NotFound)?;
                if let Some(c) = chosen {
                    s.declined.insert(c);
                }
                let others: Categories = offered
                    .iter()
                    .filter(|c| !s.declined.contains(*c))
                    .collect();
                if s.payment_fallback && !others.is_empty() {
                    s.allowed = others;
                    fallback = others.iter().map(|c| c.kp_id().to_owned()).collect();
                    (HppStatus::InProgress, &[])
                } else {
                    (HppStatus::Failed, &["failure"])
                }
            }
            Action::Back => (HppStatus::Back, &["back", "cancel"]),
            Action::Cancel => {
                // In eCommerce Klarna treats cancel as back: the session stays usable.
                let channel = kp_fields
                    .get("acquiring_channel")
                    .and_then(Value::as_str)
                    .unwrap_or("ECOMMERCE");
                if channel.eq_ignore_ascii_case("ECOMMERCE") {
                    (HppStatus::Back, &["cancel", "back"])
                } else {
                    (HppStatus::Cancelled, &["cancel", "back"])
                }
            }
            Action::Error => (HppStatus::Error, &["error", "failure"]),
        };
        self.set_hpp_status(cx, id, status);
        let s = self.hpp.get(&id).ok_or(ConsumerError::NotFound)?;
        let redirect_url = if !fallback.is_empty() {
            format!("{page}?fallback=1")
        } else if status == HppStatus::InProgress {
            page
        } else {
            url_keys
                .iter()
                .find_map(|k| s.merchant_url(id, k))
                .unwrap_or(status_page)
        };
        Ok(ConsumerOutcome {
            session_id: id.to_string(),
            status: s.status.as_str().to_owned(),
            redirect_url,
            authorization_token: s.authorization_token.map(|t| t.to_string()),
            order_id: s.order_id.map(|o| o.to_string()),
            fallback_categories: fallback,
        })
    }
}

//! Everything the emulator remembers, held compactly: ids as 128-bit integers, statuses as bytes,
//! a KP session's merchant data as one compact JSON string parsed only when it is read.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::api::Reply;
use crate::clock::{Millis, DAY};
use crate::ids::Id;
use crate::rules::{Categories, Category};

/// The HPP session statuses of Klarna's spec.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum HppStatus {
    Waiting,
    InProgress,
    Back,
    Failed,
    Error,
    Completed,
    Cancelled,
    Disabled,
}

impl HppStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            HppStatus::Waiting => "WAITING",
            HppStatus::InProgress => "IN_PROGRESS",
            HppStatus::Back => "BACK",
            HppStatus::Failed => "FAILED",
            HppStatus::Error => "ERROR",
            HppStatus::Completed => "COMPLETED",
            HppStatus::Cancelled => "CANCELLED",
            HppStatus::Disabled => "DISABLED",
        }
    }

    /// COMPLETED, CANCELLED and DISABLED are final.
    pub(crate) fn is_final(self) -> bool {
        matches!(
            self,
            HppStatus::Completed | HppStatus::Cancelled | HppStatus::Disabled
        )
    }
}

/// What HPP does when the consumer is authorized.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum PlaceOrderMode {
    None,
    PlaceOrder,
    CaptureOrder,
}

/// A KP payment session.
#[derive(Debug)]
pub(crate) struct KpSession {
    /// The merchant-writable fields as a compact JSON object.
    pub(crate) data: Box<str>,
    pub(crate) expires_at: Millis,
    /// An order was placed from it (KP status `complete`).
    pub(crate) complete: bool,
}

impl KpSession {
    pub(crate) fn fields(&self) -> Map<String, Value> {
        match serde_json::from_str(&self.data) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }
}

/// The six merchant URL templates of an HPP session (interned: a shop sends the same templates
/// for every session, so sessions share one copy).
#[derive(Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct MerchantUrls {
    pub(crate) success: Option<Box<str>>,
    pub(crate) cancel: Option<Box<str>>,
    pub(crate) back: Option<Box<str>>,
    pub(crate) failure: Option<Box<str>>,
    pub(crate) error: Option<Box<str>>,
    pub(crate) status_update: Option<Box<str>>,
}

/// Page customisation (interned like the URLs).
#[derive(Debug, Default, PartialEq, Eq, Hash)]
pub(crate) struct PageOptions {
    pub(crate) page_title: Option<Box<str>>,
    pub(crate) logo_url: Option<Box<str>>,
    pub(crate) purchase_type: Option<Box<str>>,
    pub(crate) hide_subtotal: bool,
}

/// An HPP session.
#[derive(Debug)]
pub(crate) struct HppSession {
    pub(crate) kp: Id,
    pub(crate) status: HppStatus,
    pub(crate) mode: PlaceOrderMode,
    pub(crate) payment_fallback: bool,
    /// The categories the page offers now (the options' choice, narrowed to the KP session's).
    pub(crate) allowed: Categories,
    /// The categories the consumer was declined in.
    pub(crate) declined: Categories,
    pub(crate) updated_at: Millis,
    pub(crate) expires_at: Millis,
    pub(crate) authorization_token: Option<Id>,
    pub(crate) order_id: Option<Id>,
    pub(crate) urls: Option<Arc<MerchantUrls>>,
    pub(crate) page: Option<Arc<PageOptions>>,
}

/// What became of an authorization token.
#[derive(Debug)]
pub(crate) enum AuthState {
    /// Usable to place an order.
    Open,
    /// Released with `DELETE /payments/v1/authorizations/{token}`.
    Cancelled,
    /// HPP placed the order itself (PLACE_ORDER / CAPTURE_ORDER).
    PlacedByHpp,
    /// The merchant placed the order; a byte-identical replay gets `reply` again.
    Placed { body: Box<[u8]>, reply: Reply },
}

/// A KP authorization (token valid 60 minutes).
#[derive(Debug)]
pub(crate) struct Authorization {
    pub(crate) kp: Id,
    pub(crate) category: Category,
    pub(crate) expires_at: Millis,
    pub(crate) state: AuthState,
    /// A customer token created from it: the request body and the reply.
    pub(crate) customer_token: Option<(Box<[u8]>, Reply)>,
}

/// OM order statuses.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum OrderStatus {
    Authorized,
    PartCaptured,
    Captured,
    Cancelled,
    Expired,
}

impl OrderStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Authorized => "AUTHORIZED",
            OrderStatus::PartCaptured => "PART_CAPTURED",
            OrderStatus::Captured => "CAPTURED",
            OrderStatus::Cancelled => "CANCELLED",
            OrderStatus::Expired => "EXPIRED",
        }
    }
}

/// An OM capture.
#[derive(Debug)]
pub(crate) struct Capture {
    pub(crate) id: Id,
    pub(crate) klarna_reference: String,
    pub(crate) amount: i64,
    pub(crate) refunded: i64,
    pub(crate) captured_at: Millis,
    /// description, reference, order_lines, shipping_info as sent.
    pub(crate) data: Map<String, Value>,
}

/// An OM refund.
#[derive(Debug)]
pub(crate) struct Refund {
    pub(crate) id: Id,
    pub(crate) amount: i64,
    pub(crate) refunded_at: Millis,
    /// description, reference, order_lines as sent.
    pub(crate) data: Map<String, Value>,
}

/// An OM order.
#[derive(Debug)]
pub(crate) struct Order {
    /// order_lines, billing/shipping address, customer, merchant references and data, locale,
    /// purchase country and currency.
    pub(crate) data: Map<String, Value>,
    pub(crate) status: OrderStatus,
    pub(crate) order_amount: i64,
    pub(crate) original_order_amount: i64,
    pub(crate) captured_amount: i64,
    pub(crate) refunded_amount: i64,
    pub(crate) created_at: Millis,
    pub(crate) expires_at: Millis,
    pub(crate) klarna_reference: String,
    pub(crate) category: Category,
    pub(crate) captures: Vec<Capture>,
    pub(crate) refunds: Vec<Refund>,
    pub(crate) shipping_info: Vec<Value>,
    pub(crate) acknowledged: bool,
}

impl Order {
    /// What can still be captured.
    pub(crate) fn remaining(&self) -> i64 {
        match self.status {
            OrderStatus::Cancelled | OrderStatus::Expired => 0,
            _ => self
                .order_amount
                .saturating_sub(self.captured_amount)
                .max(0),
        }
    }

    /// Moves an uncaptured order past its `expires_at` to EXPIRED.
    pub(crate) fn refresh(&mut self, now: Millis) {
        if self.status == OrderStatus::Authorized && now >= self.expires_at {
            self.status = OrderStatus::Expired;
        }
    }
}

/// A stored OM response for `Klarna-Idempotency-Key` replays (24 h), keyed by operation,
/// resource and key.
#[derive(Debug)]
pub(crate) struct IdempotencyRecord {
    pub(crate) at: Millis,
    /// The first request's body ([`crate::api::body_fingerprint`]).
    pub(crate) fingerprint: u64,
    pub(crate) reply: Reply,
}

/// The whole mutable state, behind one mutex (every operation is short and never awaits).
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) kp: HashMap<Id, KpSession>,
    pub(crate) hpp: HashMap<Id, HppSession>,
    pub(crate) auths: HashMap<Id, Authorization>,
    pub(crate) orders: HashMap<Id, Order>,
    pub(crate) idempotency: HashMap<Box<str>, IdempotencyRecord>,
    interned_urls: HashSet<Arc<MerchantUrls>>,
    interned_pages: HashSet<Arc<PageOptions>>,
}

/// The shared copy of `value`.
fn intern<T: Eq + Hash>(set: &mut HashSet<Arc<T>>, value: T) -> Arc<T> {
    if let Some(existing) = set.get(&value) {
        return Arc::clone(existing);
    }
    let shared = Arc::new(value);
    set.insert(Arc::clone(&shared));
    shared
}

impl State {
    pub(crate) fn intern_urls(&mut self, urls: MerchantUrls) -> Arc<MerchantUrls> {
        intern(&mut self.interned_urls, urls)
    }

    pub(crate) fn intern_page(&mut self, page: PageOptions) -> Arc<PageOptions> {
        intern(&mut self.interned_pages, page)
    }

    /// Forgets what has expired at `now` (orders stay readable, as at Klarna).
    pub(crate) fn sweep(&mut self, now: Millis) {
        self.kp.retain(|_, s| s.expires_at > now);
        self.hpp.retain(|_, s| s.expires_at > now);
        self.interned_urls.retain(|u| Arc::strong_count(u) > 1);
        self.interned_pages.retain(|p| Arc::strong_count(p) > 1);
        self.auths.retain(|_, a| a.expires_at > now);
        self.idempotency
            .retain(|_, r| r.at.saturating_add(DAY) > now);
        for order in self.orders.values_mut() {
            order.refresh(now);
        }
    }

    /// Counts of what is held, for `/_sim/stats`.
    pub(crate) fn stats(&self) -> Value {
        serde_json::json!({
            "kp_sessions": self.kp.len(),
            "hpp_sessions": self.hpp.len(),
            "authorizations": self.auths.len(),
            "orders": self.orders.len(),
            "idempotency_keys": self.idempotency.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_stay_small() {
        // Guards the "compact" promise: these sit in the maps once per session.
        let hpp = std::mem::size_of::<HppSession>();
        let kp = std::mem::size_of::<KpSession>();
        eprintln!("HppSession {hpp} bytes, KpSession {kp} bytes");
        assert!(hpp <= 112, "HppSession is {hpp} bytes");
        assert!(kp <= 32, "KpSession is {kp} bytes");
    }

    #[test]
    fn identical_templates_are_shared() {
        let mut state = State::default();
        let make = || MerchantUrls {
            success: Some("https://shop.example/ok?sid={{session_id}}".into()),
            ..MerchantUrls::default()
        };
        let a = state.intern_urls(make());
        let b = state.intern_urls(make());
        assert!(Arc::ptr_eq(&a, &b));
        drop((a, b));
        state.sweep(0);
        assert!(
            state.interned_urls.is_empty(),
            "unused templates are forgotten"
        );
    }
}

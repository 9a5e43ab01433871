//! Placing an order from an authorization (`create_order_request` → `order`).

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use super::check::{self, Common};
use super::customer::Customer;
use super::session::{KpMerchantUrls, SessionCreate};
use crate::error::ValidationError;
use crate::model::{Address, OrderLine};
use crate::open_enum::open_enum;

/// The order to place (`create_order_request`, `POST /payments/v1/authorizations/{token}/order`).
/// Serialized through `OrderBody` (absent optionals and empty promo codes omitted).
///
/// It must match what the session authorized, so build it with
/// [`CreateOrderRequest::from_session`] from the body the session was created (or last updated)
/// with.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct CreateOrderRequest {
    /// Purchase country.
    pub purchase_country: String,
    /// Currency.
    pub purchase_currency: String,
    /// Locale.
    pub locale: Option<String>,
    /// Total including tax and discounts = Σ line `total_amount`.
    pub order_amount: i64,
    /// Total tax. Optional in Klarna's schema, and Klarna accepts an order without it; when
    /// present it must agree with the lines.
    #[serde(default)]
    pub order_tax_amount: Option<i64>,
    /// The order lines (1..=1000).
    pub order_lines: Vec<OrderLine>,
    /// Capture at once (default false). With HPP, prefer `place_order_mode = CAPTURE_ORDER`.
    pub auto_capture: Option<bool>,
    /// Merchant reference (≤255).
    pub merchant_reference1: Option<String>,
    /// Second merchant reference (≤255).
    pub merchant_reference2: Option<String>,
    /// Pass-through data (≤6000).
    pub merchant_data: Option<String>,
    /// KP callback URLs (`confirmation` enables the order's `redirect_url`).
    pub merchant_urls: Option<KpMerchantUrls>,
    /// Billing address.
    pub billing_address: Option<Address>,
    /// Shipping address.
    pub shipping_address: Option<Address>,
    /// The consumer.
    pub customer: Option<Customer>,
    /// Promo codes.
    #[serde(default)]
    pub custom_payment_method_ids: Vec<String>,
}

/// The wire form of [`CreateOrderRequest`], borrowing its parts: the one place its JSON shape is
/// defined. A checkout serializes the order of its session through it without copying the
/// session ([`OrderBody::of_session`]).
#[derive(Serialize)]
pub(crate) struct OrderBody<'a> {
    purchase_country: &'a str,
    purchase_currency: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    locale: Option<&'a str>,
    order_amount: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    order_tax_amount: Option<i64>,
    order_lines: &'a [OrderLine],
    #[serde(skip_serializing_if = "Option::is_none")]
    auto_capture: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    merchant_reference1: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    merchant_reference2: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    merchant_data: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    merchant_urls: Option<&'a KpMerchantUrls>,
    #[serde(skip_serializing_if = "Option::is_none")]
    billing_address: Option<&'a Address>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shipping_address: Option<&'a Address>,
    #[serde(skip_serializing_if = "Option::is_none")]
    customer: Option<&'a Customer>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    custom_payment_method_ids: &'a [String],
}

impl<'a> OrderBody<'a> {
    /// Exactly what `CreateOrderRequest::from_session(session)` serializes to.
    pub(crate) fn of_session(session: &'a SessionCreate) -> Self {
        Self {
            purchase_country: &session.purchase_country,
            purchase_currency: &session.purchase_currency,
            locale: session.locale.as_deref(),
            order_amount: session.order_amount,
            order_tax_amount: session.order_tax_amount,
            order_lines: &session.order_lines,
            auto_capture: None,
            merchant_reference1: session.merchant_reference1.as_deref(),
            merchant_reference2: session.merchant_reference2.as_deref(),
            merchant_data: session.merchant_data.as_deref(),
            merchant_urls: session.merchant_urls.as_ref(),
            billing_address: session.billing_address.as_ref(),
            shipping_address: session.shipping_address.as_ref(),
            customer: session.customer.as_ref(),
            custom_payment_method_ids: &session.custom_payment_method_ids,
        }
    }

    /// Whether `session` serializes to exactly the bytes of [`OrderBody::of_session`]: it does
    /// when it sets none of the fields only a session has, since the shared fields come first in
    /// both, in the same order, and absent ones are omitted by both (tested). The fields are
    /// listed exhaustively, so a new field of `SessionCreate` must be placed here to compile.
    pub(crate) fn is_session_body(session: &SessionCreate) -> bool {
        let SessionCreate {
            purchase_country: _,
            purchase_currency: _,
            locale: _,
            order_amount: _,
            order_tax_amount: _,
            order_lines: _,
            merchant_reference1: _,
            merchant_reference2: _,
            merchant_data: _,
            merchant_urls: _,
            billing_address: _,
            shipping_address: _,
            customer: _,
            custom_payment_method_ids: _,
            intent,
            acquiring_channel,
            attachment,
            options,
            design,
        } = session;
        intent.is_none()
            && acquiring_channel.is_none()
            && attachment.is_none()
            && options.is_none()
            && design.is_none()
    }

    fn of(order: &'a CreateOrderRequest) -> Self {
        Self {
            purchase_country: &order.purchase_country,
            purchase_currency: &order.purchase_currency,
            locale: order.locale.as_deref(),
            order_amount: order.order_amount,
            order_tax_amount: order.order_tax_amount,
            order_lines: &order.order_lines,
            auto_capture: order.auto_capture,
            merchant_reference1: order.merchant_reference1.as_deref(),
            merchant_reference2: order.merchant_reference2.as_deref(),
            merchant_data: order.merchant_data.as_deref(),
            merchant_urls: order.merchant_urls.as_ref(),
            billing_address: order.billing_address.as_ref(),
            shipping_address: order.shipping_address.as_ref(),
            customer: order.customer.as_ref(),
            custom_payment_method_ids: &order.custom_payment_method_ids,
        }
    }
}

impl Serialize for CreateOrderRequest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        OrderBody::of(self).serialize(serializer)
    }
}

impl CreateOrderRequest {
    /// An order whose amounts come from the lines, like [`SessionCreate::new`].
    pub fn new(
        purchase_country: impl Into<String>,
        purchase_currency: impl Into<String>,
        order_lines: Vec<OrderLine>,
    ) -> Self {
        let (order_amount, order_tax_amount) = check::sums(&order_lines);
        Self {
            purchase_country: purchase_country.into(),
            purchase_currency: purchase_currency.into(),
            locale: None,
            order_amount,
            order_tax_amount: Some(order_tax_amount),
            order_lines,
            auto_capture: None,
            merchant_reference1: None,
            merchant_reference2: None,
            merchant_data: None,
            merchant_urls: None,
            billing_address: None,
            shipping_address: None,
            customer: None,
            custom_payment_method_ids: Vec::new(),
        }
    }

    /// The order for a session: copies every field the two schemas share (country, currency,
    /// locale, amounts, lines, references, merchant data, URLs, addresses, customer, promo
    /// codes). `auto_capture` is left unset.
    pub fn from_session(session: &SessionCreate) -> Self {
        Self {
            purchase_country: session.purchase_country.clone(),
            purchase_currency: session.purchase_currency.clone(),
            locale: session.locale.clone(),
            order_amount: session.order_amount,
            order_tax_amount: session.order_tax_amount,
            order_lines: session.order_lines.clone(),
            auto_capture: None,
            merchant_reference1: session.merchant_reference1.clone(),
            merchant_reference2: session.merchant_reference2.clone(),
            merchant_data: session.merchant_data.clone(),
            merchant_urls: session.merchant_urls.clone(),
            billing_address: session.billing_address.clone(),
            shipping_address: session.shipping_address.clone(),
            customer: session.customer.clone(),
            custom_payment_method_ids: session.custom_payment_method_ids.clone(),
        }
    }

    /// Sets `auto_capture`.
    pub fn auto_capture(mut self, auto_capture: bool) -> Self {
        self.auto_capture = Some(auto_capture);
        self
    }

    /// The same rules as [`SessionCreate::validate`].
    pub fn validate(&self) -> Result<(), ValidationError> {
        check::required_head(
            &self.purchase_country,
            &self.purchase_currency,
            self.locale.as_deref(),
        )?;
        check::lines_and_amounts(
            Some(self.order_amount),
            self.order_tax_amount,
            Some(&self.order_lines),
        )?;
        Common {
            merchant_reference1: self.merchant_reference1.as_deref(),
            merchant_reference2: self.merchant_reference2.as_deref(),
            merchant_data: self.merchant_data.as_deref(),
            merchant_urls: self.merchant_urls.as_ref(),
            billing_address: self.billing_address.as_ref(),
            shipping_address: self.shipping_address.as_ref(),
            customer: self.customer.as_ref(),
            options: None,
            attachment: None,
        }
        .validate()
    }
}

open_enum! {
    /// Klarna's fraud decision on an order (`fraud_status`).
    pub enum FraudStatus {
        /// Accepted: ship it.
        Accepted = "ACCEPTED",
        /// Under review: wait for the `notification` callback before shipping.
        Pending = "PENDING",
        /// Rejected: do not ship.
        Rejected = "REJECTED",
    }
}

open_enum! {
    /// The kind of payment method the consumer chose (`authorized_payment_method.type`).
    pub enum AuthorizedPaymentMethodType {
        /// Invoice (pay later).
        Invoice = "invoice",
        /// Fixed-amount instalments.
        FixedAmount = "fixed_amount",
        /// Account (revolving credit).
        BaseAccount = "base_account",
        /// Direct debit.
        DirectDebit = "direct_debit",
        /// Direct bank transfer.
        DirectBankTransfer = "direct_bank_transfer",
        /// Business invoice.
        B2bInvoice = "b2b_invoice",
        /// Card.
        Card = "card",
        /// Slice it, by card.
        SliceItByCard = "slice_it_by_card",
        /// Pay later, by card.
        PayLaterByCard = "pay_later_by_card",
        /// Pay by card.
        PayByCard = "pay_by_card",
        /// Fixed-sum credit.
        FixedSumCredit = "fixed_sum_credit",
        /// An alternative payment method.
        AlternativePaymentMethod = "alternative_payment_method",
    }
}

/// The payment method the consumer chose (`authorized_payment_method`).
///
/// The spec describes an object `{type, number_of_days, number_of_installments}`; Klarna's
/// documentation shows a bare string (`"invoice"`). Both decode; encoding writes the object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AuthorizedPaymentMethod {
    /// The method.
    #[serde(rename = "type")]
    pub kind: AuthorizedPaymentMethodType,
    /// Days until payment is due (invoice).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number_of_days: Option<i64>,
    /// Number of instalments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub number_of_installments: Option<i64>,
}

impl AuthorizedPaymentMethod {
    /// A method without day or instalment counts.
    pub fn new(kind: AuthorizedPaymentMethodType) -> Self {
        Self {
            kind,
            number_of_days: None,
            number_of_installments: None,
        }
    }
}

impl<'de> Deserialize<'de> for AuthorizedPaymentMethod {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Object {
            #[serde(rename = "type")]
            kind: AuthorizedPaymentMethodType,
            #[serde(default, deserialize_with = "crate::lenient::count")]
            number_of_days: Option<i64>,
            #[serde(default, deserialize_with = "crate::lenient::count")]
            number_of_installments: Option<i64>,
        }

        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = AuthorizedPaymentMethod;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a payment method name or an object with `type`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(AuthorizedPaymentMethod::new(
                    AuthorizedPaymentMethodType::parse(v),
                ))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
                let o = Object::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(AuthorizedPaymentMethod {
                    kind: o.kind,
                    number_of_days: o.number_of_days,
                    number_of_installments: o.number_of_installments,
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// The placed order (`order`). `Debug` shows `redirect_url` through the crate's URL redaction
/// (it leads the consumer's browser on, with a token of its own).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Order {
    /// The order id, used by Order Management.
    pub order_id: String,
    /// A Klarna redirect that sets a cookie and leads to `merchant_urls.confirmation` (only when
    /// a confirmation URL was given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
    /// The fraud decision; `PENDING` means wait before shipping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fraud_status: Option<FraudStatus>,
    /// The chosen payment method.
    ///
    /// Decoded leniently: a value of any other shape (or an object without `type`) is read as
    /// `None` rather than failing the whole answer, because the order exists either way.
    #[serde(
        default,
        deserialize_with = "lenient_payment_method",
        skip_serializing_if = "Option::is_none"
    )]
    pub authorized_payment_method: Option<AuthorizedPaymentMethod>,
}

impl Order {
    /// An order with only its id.
    pub fn new(order_id: impl Into<String>) -> Self {
        Self {
            order_id: order_id.into(),
            redirect_url: None,
            fraud_status: None,
            authorized_payment_method: None,
        }
    }
}

impl fmt::Debug for Order {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Order")
            .field("order_id", &self.order_id)
            .field("redirect_url", &crate::redact::opt_url(&self.redirect_url))
            .field("fraud_status", &self.fraud_status)
            .field("authorized_payment_method", &self.authorized_payment_method)
            .finish()
    }
}

fn lenient_payment_method<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<AuthorizedPaymentMethod>, D::Error> {
    let value = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value(value).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kp::session::{AcquiringChannel, Attachment, Intent, WidgetOptions};
    use crate::model::OrderLineType;

    #[test]
    fn the_session_order_serializes_exactly_like_from_session() {
        let lines = vec![
            OrderLine::new("Shoes", 1, 10_000)
                .kind(OrderLineType::Physical)
                .tax_rate(2500),
            OrderLine::new("Socks", 2, 1_000).tax_rate(2500),
        ];
        let mut session = SessionCreate::new("SE", "SEK", lines);
        let bare = serde_json::to_string(&OrderBody::of_session(&session)).expect("json");
        assert_eq!(
            bare,
            serde_json::to_string(&CreateOrderRequest::from_session(&session)).expect("json")
        );
        session.locale = Some("sv-SE".into());
        session.merchant_reference1 = Some("r1".into());
        session.merchant_reference2 = Some("r2".into());
        session.merchant_data = Some("{\"k\":1}".into());
        session.merchant_urls = Some(KpMerchantUrls {
            confirmation: Some("https://shop.example/c".into()),
            ..KpMerchantUrls::default()
        });
        session.billing_address = Some(Address {
            given_name: Some("Ada".into()),
            country: Some("SE".into()),
            ..Address::default()
        });
        session.shipping_address = session.billing_address.clone();
        session.customer = Some(Customer::default());
        session.custom_payment_method_ids = vec!["promo".into()];
        let full = serde_json::to_string(&OrderBody::of_session(&session)).expect("json");
        assert_eq!(
            full,
            serde_json::to_string(&CreateOrderRequest::from_session(&session)).expect("json")
        );
        for field in [
            "locale",
            "merchant_urls",
            "customer",
            "custom_payment_method_ids",
        ] {
            assert!(full.contains(field) && !bare.contains(field), "{field}");
        }
        // With every shared field set, the session's own JSON is the order body; each field
        // only a session has makes them differ, and is_session_body says so.
        let session_json = |s: &SessionCreate| serde_json::to_string(s).expect("json");
        assert!(OrderBody::is_session_body(&session));
        assert_eq!(session_json(&session), full);
        let bare_session = SessionCreate::new("SE", "SEK", session.order_lines.clone());
        assert!(OrderBody::is_session_body(&bare_session));
        assert_eq!(session_json(&bare_session), bare);
        let only_in_sessions: [fn(&mut SessionCreate); 5] = [
            |s| s.intent = Some(Intent::Buy),
            |s| s.acquiring_channel = Some(AcquiringChannel::Ecommerce),
            |s| s.attachment = Some(Attachment::emd("{}")),
            |s| s.options = Some(WidgetOptions::default()),
            |s| s.design = Some("d".into()),
        ];
        for set in only_in_sessions {
            let mut with = session.clone();
            set(&mut with);
            assert!(!OrderBody::is_session_body(&with));
            assert_ne!(session_json(&with), full);
        }
        // auto_capture is the one field a session does not carry.
        let order = CreateOrderRequest::from_session(&session).auto_capture(true);
        assert!(serde_json::to_string(&order)
            .expect("json")
            .contains("\"auto_capture\":true"));
    }
}

//! What Order Management returns: orders, captures, refunds, shipping info.
//!
//! Decoding reads what Klarna really sends without guessing at money:
//!
//! - the amounts a caller acts on (`order_amount`, `captured_amount`, `refunded_amount`,
//!   `remaining_authorized_amount`; a capture's and a refund's amount) are strict integers, and
//!   an answer without one (or with `null`) is a [`DecodeError`] naming it, never a zero;
//! - an item of a list that this version cannot read (a refund without its id, an order line
//!   missing a field) is kept as raw JSON ([`Item::Raw`]) instead of making the whole answer
//!   unreadable;
//! - unknown fields are ignored, absent or `null` lists are empty, every enum keeps values it
//!   does not know, and references or counts sent as another JSON scalar are read as meant.
//!
//! [`DecodeError`]: crate::error::DecodeError

use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::lenient;
use crate::model::{Address, OrderLine};
use crate::open_enum::open_enum;
use crate::time::Timestamp;

open_enum! {
    /// The status of an order (`status`).
    pub enum OrderStatus {
        /// Placed, nothing captured yet.
        Authorized = "AUTHORIZED",
        /// Part of the amount is captured; some authorization remains.
        PartCaptured = "PART_CAPTURED",
        /// Fully captured.
        Captured = "CAPTURED",
        /// Cancelled before any capture; the authorization is released.
        Cancelled = "CANCELLED",
        /// The authorization expired without a (full) capture.
        Expired = "EXPIRED",
        /// Closed by Klarna (semantics unconfirmed).
        Closed = "CLOSED",
    }
}

open_enum! {
    /// Klarna's fraud assessment of an order (`fraud_status`).
    pub enum FraudStatus {
        /// The order may be fulfilled.
        Accepted = "ACCEPTED",
        /// Under review: do not ship yet.
        Pending = "PENDING",
        /// Rejected: do not ship.
        Rejected = "REJECTED",
    }
}

open_enum! {
    /// How the consumer first chose to pay (`initial_payment_method.type`).
    pub enum PaymentMethodType {
        /// Account (revolving credit).
        Account = "ACCOUNT",
        /// An alternative payment method.
        AlternativePaymentMethod = "ALTERNATIVE_PAYMENT_METHOD",
        /// Bank transfer.
        BankTransfer = "BANK_TRANSFER",
        /// Card.
        Card = "CARD",
        /// Deferred interest financing.
        DeferredInterest = "DEFERRED_INTEREST",
        /// Direct debit.
        DirectDebit = "DIRECT_DEBIT",
        /// Fixed amount, paid by card.
        FixedAmountByCard = "FIXED_AMOUNT_BY_CARD",
        /// Fixed amount financing ("Slice it").
        FixedAmount = "FIXED_AMOUNT",
        /// Fixed sum credit.
        FixedSumCredit = "FIXED_SUM_CREDIT",
        /// Invoice to a business.
        InvoiceBusiness = "INVOICE_BUSINESS",
        /// Invoice.
        Invoice = "INVOICE",
        /// MobilePay.
        Mobilepay = "MOBILEPAY",
        /// Pay now by card.
        PayByCard = "PAY_BY_CARD",
        /// Pay in X installments.
        PayInX = "PAY_IN_X",
        /// Pay later, by card.
        PayLaterByCard = "PAY_LATER_BY_CARD",
        /// Pay later in parts.
        PayLaterInParts = "PAY_LATER_IN_PARTS",
        /// Swish.
        Swish = "SWISH",
        /// Anything else.
        Other = "OTHER",
    }
}

open_enum! {
    /// How a shipment travels (`shipping_info[].shipping_method`).
    ///
    /// Klarna restricts requests to these values; an `Unknown` value is sent as given.
    pub enum ShippingMethod {
        /// Picked up in a store.
        PickUpStore = "PickUpStore",
        /// Delivered home.
        Home = "Home",
        /// Registered box delivery.
        BoxReg = "BoxReg",
        /// Unregistered box delivery.
        BoxUnreg = "BoxUnreg",
        /// Picked up at a pick-up point.
        PickUpPoint = "PickUpPoint",
        /// The merchant's own delivery.
        Own = "Own",
        /// Postal delivery.
        Postal = "Postal",
        /// DHL Packstation.
        DhlPackstation = "DHLPackstation",
        /// Digital delivery.
        Digital = "Digital",
        /// Not specified.
        Undefined = "Undefined",
        /// Picked up at a warehouse.
        PickUpWarehouse = "PickUpWarehouse",
        /// Click and collect.
        ClickCollect = "ClickCollect",
        /// Pallet delivery.
        PalletDelivery = "PalletDelivery",
    }
}

/// Decodes `null` like an absent field: as the type's default.
pub(crate) fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// One item of a list in an Order Management answer: an order line, a capture, a refund, a
/// shipment.
///
/// Klarna's schema requires nothing of them, and one item this version cannot read (a refund
/// without its id, a line missing a field, a value of another type) must not make the whole
/// answer unreadable, its amounts included: such an item is kept as the JSON Klarna sent, and
/// encoded back unchanged. `Debug` of a raw item shows only its JSON type, never its content
/// (it may hold customer data).
#[derive(Clone, PartialEq, Eq)]
pub enum Item<T> {
    /// An item of the documented shape.
    Decoded(T),
    /// An item that is not, as received.
    Raw(serde_json::Value),
}

impl<T> Item<T> {
    /// The decoded item, if it is one.
    pub fn decoded(&self) -> Option<&T> {
        match self {
            Item::Decoded(t) => Some(t),
            Item::Raw(_) => None,
        }
    }

    /// The raw JSON, if the item could not be decoded.
    pub fn raw(&self) -> Option<&serde_json::Value> {
        match self {
            Item::Decoded(_) => None,
            Item::Raw(v) => Some(v),
        }
    }
}

impl<T: DeserializeOwned> Item<T> {
    /// Decodes `value` as a `T`, or keeps it raw.
    fn from_value(value: serde_json::Value) -> Self {
        match T::deserialize(&value) {
            Ok(t) => Item::Decoded(t),
            Err(_) => Item::Raw(value),
        }
    }
}

impl<T> From<T> for Item<T> {
    fn from(t: T) -> Self {
        Item::Decoded(t)
    }
}

impl<T: fmt::Debug> fmt::Debug for Item<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Item::Decoded(t) => f.debug_tuple("Decoded").field(t).finish(),
            Item::Raw(v) => {
                let kind = match v {
                    serde_json::Value::Null => "null",
                    serde_json::Value::Bool(_) => "boolean",
                    serde_json::Value::Number(_) => "number",
                    serde_json::Value::String(_) => "string",
                    serde_json::Value::Array(_) => "array",
                    serde_json::Value::Object(_) => "object",
                };
                f.debug_tuple("Raw")
                    .field(&format_args!("<{kind}>"))
                    .finish()
            }
        }
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Item<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde_json::Value::deserialize(d).map(Item::from_value)
    }
}

impl<T: Serialize> Serialize for Item<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Item::Decoded(t) => t.serialize(s),
            Item::Raw(v) => v.serialize(s),
        }
    }
}

/// A list of [`Item`]s: absent or `null` is empty; a value that is not an array is read as a
/// list of that one item (so it is kept, and encodes back as a list).
pub(crate) fn items<'de, D, T>(d: D) -> Result<Vec<Item<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Vec::new(),
        serde_json::Value::Array(values) => values.into_iter().map(Item::from_value).collect(),
        other => vec![Item::from_value(other)],
    })
}

/// An order as Order Management reports it (`GET /ordermanagement/v1/orders/{order_id}`).
///
/// Country, currency and locale are kept exactly as sent (Klarna often writes them in lower case,
/// e.g. `usd`, `en-us`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Order {
    /// Klarna's order id.
    pub order_id: String,
    /// The order status; values this version does not know are kept.
    pub status: OrderStatus,
    /// Klarna's fraud assessment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fraud_status: Option<FraudStatus>,
    /// The current authorized order amount, in minor units. Required: an answer without it is
    /// a decode error.
    pub order_amount: i64,
    /// The order amount at creation.
    #[serde(default, deserialize_with = "nullable")]
    pub original_order_amount: i64,
    /// The sum of all captures. Required.
    pub captured_amount: i64,
    /// The sum of all refunds. Required.
    pub refunded_amount: i64,
    /// What can still be captured. Required.
    pub remaining_authorized_amount: i64,
    /// ISO 3166-1 alpha-2 purchase country, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_country: Option<String>,
    /// ISO 4217 currency, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_currency: Option<String>,
    /// The consumer's locale, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// The order lines.
    #[serde(default, deserialize_with = "items")]
    pub order_lines: Vec<Item<OrderLine>>,
    /// The merchant's order number (a number is read as its text).
    #[serde(
        default,
        deserialize_with = "lenient::text",
        skip_serializing_if = "Option::is_none"
    )]
    pub merchant_reference1: Option<String>,
    /// The merchant's internal reference (a number is read as its text).
    #[serde(
        default,
        deserialize_with = "lenient::text",
        skip_serializing_if = "Option::is_none"
    )]
    pub merchant_reference2: Option<String>,
    /// Merchant data set at order creation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_data: Option<String>,
    /// Klarna's short, customer-facing reference, e.g. `K4MADNY`.
    #[serde(
        default,
        deserialize_with = "lenient::text",
        skip_serializing_if = "Option::is_none"
    )]
    pub klarna_reference: Option<String>,
    /// Customer details (redacted in `Debug`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    /// Billing address (redacted in `Debug`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    /// Shipping address (redacted in `Debug`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Address>,
    /// When the order was placed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<Timestamp>,
    /// Until when the order can be captured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    /// The captures made so far.
    #[serde(default, deserialize_with = "items")]
    pub captures: Vec<Item<Capture>>,
    /// The refunds made so far.
    #[serde(default, deserialize_with = "items")]
    pub refunds: Vec<Item<Refund>>,
    /// Shipping information of the order.
    #[serde(default, deserialize_with = "items")]
    pub shipping_info: Vec<Item<ShippingInfo>>,
    /// The payment method the consumer chose at purchase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_payment_method: Option<InitialPaymentMethod>,
    /// The shipping option chosen in checkout (Klarna Checkout only), as raw JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected_shipping_option: Option<serde_json::Value>,
}

impl Order {
    /// An order with an id and a status; everything else empty or zero.
    pub fn new(order_id: impl Into<String>, status: OrderStatus) -> Self {
        Self {
            order_id: order_id.into(),
            status,
            fraud_status: None,
            order_amount: 0,
            original_order_amount: 0,
            captured_amount: 0,
            refunded_amount: 0,
            remaining_authorized_amount: 0,
            purchase_country: None,
            purchase_currency: None,
            locale: None,
            order_lines: Vec::new(),
            merchant_reference1: None,
            merchant_reference2: None,
            merchant_data: None,
            klarna_reference: None,
            customer: None,
            billing_address: None,
            shipping_address: None,
            created_at: None,
            expires_at: None,
            captures: Vec::new(),
            refunds: Vec::new(),
            shipping_info: Vec::new(),
            initial_payment_method: None,
            selected_shipping_option: None,
        }
    }
}

/// The customer of an order. Customer data: `Debug` shows only which fields are present.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Customer {
    /// Date of birth, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    /// National identification number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub national_identification_number: Option<String>,
}

impl fmt::Debug for Customer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = |v: &Option<String>| if v.is_some() { "[redacted]" } else { "None" };
        f.debug_struct("Customer")
            .field(
                "date_of_birth",
                &format_args!("{}", shown(&self.date_of_birth)),
            )
            .field(
                "national_identification_number",
                &format_args!("{}", shown(&self.national_identification_number)),
            )
            .finish()
    }
}

/// The payment method chosen at purchase (`initial_payment_method`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct InitialPaymentMethod {
    /// The kind of payment method.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<PaymentMethodType>,
    /// A description, e.g. `Slice it (Fixed Payments)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The number of installments, if applicable (a numeric string is read as its number).
    #[serde(
        default,
        deserialize_with = "lenient::count",
        skip_serializing_if = "Option::is_none"
    )]
    pub number_of_installments: Option<i64>,
}

/// A capture of (part of) an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Capture {
    /// Klarna's capture id.
    pub capture_id: String,
    /// Customer-facing reference, e.g. `K4MADNY-1`.
    #[serde(
        default,
        deserialize_with = "lenient::text",
        skip_serializing_if = "Option::is_none"
    )]
    pub klarna_reference: Option<String>,
    /// The captured amount, in minor units. Required.
    pub captured_amount: i64,
    /// When the capture was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub captured_at: Option<Timestamp>,
    /// Description shown to the customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The captured order lines.
    #[serde(default, deserialize_with = "items")]
    pub order_lines: Vec<Item<OrderLine>>,
    /// The merchant's reference, included in settlement files.
    #[serde(
        default,
        deserialize_with = "lenient::text",
        skip_serializing_if = "Option::is_none"
    )]
    pub reference: Option<String>,
    /// How much of this capture has been refunded.
    #[serde(default, deserialize_with = "nullable")]
    pub refunded_amount: i64,
    /// Billing address (redacted in `Debug`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    /// Shipping address (redacted in `Debug`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Address>,
    /// Shipping information of this capture.
    #[serde(default, deserialize_with = "items")]
    pub shipping_info: Vec<Item<ShippingInfo>>,
}

impl Capture {
    /// A capture with its id and amount; everything else empty or zero.
    pub fn new(capture_id: impl Into<String>, captured_amount: i64) -> Self {
        Self {
            capture_id: capture_id.into(),
            klarna_reference: None,
            captured_amount,
            captured_at: None,
            description: None,
            order_lines: Vec::new(),
            reference: None,
            refunded_amount: 0,
            billing_address: None,
            shipping_address: None,
            shipping_info: Vec::new(),
        }
    }
}

/// A refund of (part of) the captured amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Refund {
    /// Klarna's refund id.
    pub refund_id: String,
    /// The refunded amount, in minor units. Required.
    pub refunded_amount: i64,
    /// When the refund was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refunded_at: Option<Timestamp>,
    /// Description shown to the customer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The merchant's reference, included in settlement files.
    #[serde(
        default,
        deserialize_with = "lenient::text",
        skip_serializing_if = "Option::is_none"
    )]
    pub reference: Option<String>,
    /// The refunded order lines.
    #[serde(default, deserialize_with = "items")]
    pub order_lines: Vec<Item<OrderLine>>,
    /// B2B only: the refund is issued as a credit invoice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_invoice: Option<bool>,
}

impl Refund {
    /// A refund with its id and amount; everything else empty.
    pub fn new(refund_id: impl Into<String>, refunded_amount: i64) -> Self {
        Self {
            refund_id: refund_id.into(),
            refunded_amount,
            refunded_at: None,
            description: None,
            reference: None,
            order_lines: Vec::new(),
            credit_invoice: None,
        }
    }
}

/// One shipment's details (`shipping_info` item). Limits: companies and tracking numbers ≤100
/// characters, URIs ≤1024.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ShippingInfo {
    /// The shipping company, as specific as possible (`DHL US`, not `DHL`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_company: Option<String>,
    /// The shipping method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_method: Option<ShippingMethod>,
    /// The tracking number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_number: Option<String>,
    /// Where the customer can track the shipment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_uri: Option<String>,
    /// The shipping company of the return shipment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_shipping_company: Option<String>,
    /// The tracking number of the return shipment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_tracking_number: Option<String>,
    /// Where the customer can track the return shipment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub return_tracking_uri: Option<String>,
}

impl ShippingInfo {
    /// Empty shipping info; fill it with the setters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the shipping company.
    pub fn shipping_company(mut self, company: impl Into<String>) -> Self {
        self.shipping_company = Some(company.into());
        self
    }

    /// Sets the shipping method.
    pub fn shipping_method(mut self, method: ShippingMethod) -> Self {
        self.shipping_method = Some(method);
        self
    }

    /// Sets the tracking number.
    pub fn tracking_number(mut self, number: impl Into<String>) -> Self {
        self.tracking_number = Some(number.into());
        self
    }

    /// Sets the tracking URI.
    pub fn tracking_uri(mut self, uri: impl Into<String>) -> Self {
        self.tracking_uri = Some(uri.into());
        self
    }

    /// Sets the return shipment's company.
    pub fn return_shipping_company(mut self, company: impl Into<String>) -> Self {
        self.return_shipping_company = Some(company.into());
        self
    }

    /// Sets the return shipment's tracking number.
    pub fn return_tracking_number(mut self, number: impl Into<String>) -> Self {
        self.return_tracking_number = Some(number.into());
        self
    }

    /// Sets the return shipment's tracking URI.
    pub fn return_tracking_uri(mut self, uri: impl Into<String>) -> Self {
        self.return_tracking_uri = Some(uri.into());
        self
    }
}

/// The options for extending a capture's payment due date, with their fees.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ExtendDueDateOptions {
    /// The currency of the fees, as sent (e.g. `usd`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// The available extensions.
    #[serde(default, deserialize_with = "nullable")]
    pub options: Vec<DueDateOption>,
}

/// One way to extend a due date: this many days for this fee.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DueDateOption {
    /// Days added to the due date.
    #[serde(default, deserialize_with = "nullable")]
    pub number_of_days: i32,
    /// The fee, in minor units.
    #[serde(default, deserialize_with = "nullable")]
    pub amount: i64,
}

impl DueDateOption {
    /// An option of `number_of_days` for `amount`.
    pub fn new(number_of_days: i32, amount: i64) -> Self {
        Self {
            number_of_days,
            amount,
        }
    }
}

/// Tracking numbers lead to the consumer's address at the carrier: `Debug` shows whether they
/// are set, and the tracking URLs through the crate's URL redaction.
impl fmt::Debug for ShippingInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = crate::redact::opt_url;
        let shown = crate::redact::presence;
        f.debug_struct("ShippingInfo")
            .field("shipping_company", &self.shipping_company)
            .field("shipping_method", &self.shipping_method)
            .field("tracking_number", &shown(&self.tracking_number))
            .field("tracking_uri", &url(&self.tracking_uri))
            .field("return_shipping_company", &self.return_shipping_company)
            .field(
                "return_tracking_number",
                &shown(&self.return_tracking_number),
            )
            .field("return_tracking_uri", &url(&self.return_tracking_uri))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn customer_debug_is_redacted() {
        let c = Customer {
            date_of_birth: Some("1981-09-06".into()),
            national_identification_number: None,
        };
        let s = format!("{c:?}");
        assert!(!s.contains("1981"), "{s}");
        assert!(s.contains("[redacted]") && s.contains("None"), "{s}");
    }

    const AMOUNTS: &str = r#""order_amount":100,"captured_amount":0,"refunded_amount":0,"remaining_authorized_amount":100"#;

    #[test]
    fn null_lists_are_empty_but_a_null_amount_is_no_zero() {
        let o: Order = serde_json::from_str(&format!(
            r#"{{"order_id":"o","status":"AUTHORIZED","order_lines":null,{AMOUNTS}}}"#
        ))
        .expect("lenient");
        assert!(o.order_lines.is_empty());
        assert_eq!(o.captured_amount, 0);
        // Money is never guessed: `null` (as absent) is an error naming the field.
        let body = format!(r#"{{"order_id":"o","status":"AUTHORIZED",{AMOUNTS}}}"#)
            .replace(r#""captured_amount":0"#, r#""captured_amount":null"#);
        let e = serde_json::from_str::<Order>(&body).expect_err("null amount");
        assert!(e.to_string().contains("null"), "{e}");
    }

    #[test]
    fn raw_items_show_only_their_json_type() {
        let item: Item<Refund> =
            serde_json::from_str(r#"{"refunded_amount":5,"description":"Jane Doe"}"#)
                .expect("kept raw");
        assert!(item.raw().is_some() && item.decoded().is_none());
        let debug = format!("{item:?}");
        assert_eq!(debug, "Raw(<object>)");
        // Encoded back exactly as received.
        assert_eq!(
            serde_json::to_value(&item).expect("encodes"),
            serde_json::json!({"refunded_amount":5,"description":"Jane Doe"})
        );
    }
}

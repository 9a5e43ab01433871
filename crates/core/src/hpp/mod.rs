//! Klarna's Hosted Payment Page API v1 (`/hpp/v1/sessions`): types and operations.
//!
//! | operation | request | success | output |
//! |---|---|---|---|
//! | [`CreateSession`] | `POST /hpp/v1/sessions` | 201 | [`SessionCreated`] |
//! | [`ReadSession`] | `GET /hpp/v1/sessions/{id}` | 200 | [`Session`] |
//! | [`DisableSession`] | `DELETE /hpp/v1/sessions/{id}` | 204 | `()` |
//! | [`Distribute`] | `POST /hpp/v1/sessions/{id}/distribution` | 201 or 204 | `()` |
//!
//! The status callback Klarna posts to `merchant_urls.status_update` decodes with
//! [`StatusCallback::decode`]. It is unsigned: treat it as a hint and confirm with
//! [`ReadSession`].
//!
//! ```
//! use klarna_hpp_core::hpp::{CreateSession, MerchantUrls, Options, PlaceOrderMode, SessionCreationRequest};
//! use klarna_hpp_core::{Api, BaseUrl, Credentials, Operation};
//!
//! let api = Api::new(BaseUrl::custom("http://127.0.0.1:8080")?, Credentials::new("user", "pass"));
//! let mut body = SessionCreationRequest::new("http://127.0.0.1:8080/payments/v1/sessions/kp-1");
//! let mut urls = MerchantUrls::default();
//! urls.success = Some("https://shop.example/ok?sid={{session_id}}&token={{authorization_token}}".into());
//! body.merchant_urls = Some(urls);
//! let mut options = Options::default();
//! options.place_order_mode = Some(PlaceOrderMode::None);
//! body.options = Some(options);
//! let request = CreateSession::new(body).to_request(&api)?;
//! assert_eq!(request.uri(), "http://127.0.0.1:8080/hpp/v1/sessions");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod distribution;
mod operations;
mod request;
mod response;

use crate::open_enum::open_enum;

pub use self::distribution::{
    DistributionContact, DistributionMethod, DistributionRequest, DistributionTemplate,
};
pub use self::operations::{CreateSession, DisableSession, Distribute, ReadSession};
pub(crate) use self::request::SessionCreationBody;
pub use self::request::{BackgroundImage, MerchantUrls, Options, SessionCreationRequest};
pub use self::response::{
    Customer, DistributionModule, DistributionToken, ManualIdentification, Session, SessionCreated,
    StatusCallback,
};

open_enum! {
    /// What HPP does when the consumer completes the payment (`options.place_order_mode`).
    pub enum PlaceOrderMode {
        /// Default: authorize only; the merchant gets an `authorization_token` and places the order.
        None = "NONE",
        /// HPP places the order; the merchant gets `order_id` and captures later.
        PlaceOrder = "PLACE_ORDER",
        /// HPP places and captures the order.
        CaptureOrder = "CAPTURE_ORDER",
    }
}

impl Default for PlaceOrderMode {
    /// `NONE`, Klarna's default.
    fn default() -> Self {
        PlaceOrderMode::None
    }
}

open_enum! {
    /// A KP payment method category shown on the page (`options.payment_method_category(ies)`).
    ///
    /// Klarna's own examples send lowercase (`pay_later`); decoding ignores case, encoding emits
    /// the spec's uppercase.
    pub enum PaymentMethodCategory {
        /// Direct debit.
        DirectDebit = "DIRECT_DEBIT",
        /// Direct bank transfer.
        DirectBankTransfer = "DIRECT_BANK_TRANSFER",
        /// Pay now.
        PayNow = "PAY_NOW",
        /// Pay later.
        PayLater = "PAY_LATER",
        /// Slice it / financing.
        PayOverTime = "PAY_OVER_TIME",
        /// Klarna's combined category.
        Klarna = "KLARNA",
    }
}

open_enum! {
    /// The type of the purchase (`options.purchase_type`).
    pub enum PurchaseType {
        /// Buy.
        Buy = "BUY",
        /// Rent.
        Rent = "RENT",
        /// Book.
        Book = "BOOK",
        /// Subscribe.
        Subscribe = "SUBSCRIBE",
        /// Download.
        Download = "DOWNLOAD",
        /// Order.
        Order = "ORDER",
        /// Continue.
        Continue = "CONTINUE",
    }
}

open_enum! {
    /// `options.show_subtotal_detail`.
    pub enum ShowSubtotalDetail {
        /// Hide the subtotal detail.
        Hide = "HIDE",
    }
}

open_enum! {
    /// The status of an HPP session (reference §2.7).
    pub enum HppStatus {
        /// Created; the consumer has not opened the page yet.
        Waiting = "WAITING",
        /// The consumer pressed Back; may come back.
        Back = "BACK",
        /// The consumer opened the page.
        InProgress = "IN_PROGRESS",
        /// A manual identity check is pending (in-store).
        ManualIdCheck = "MANUAL_ID_CHECK",
        /// Authorized (final): `authorization_token`, or `order_id` with a place-order mode.
        Completed = "COMPLETED",
        /// Cancelled by the consumer (final).
        Cancelled = "CANCELLED",
        /// Refused; the consumer may retry.
        Failed = "FAILED",
        /// Disabled by the merchant (final).
        Disabled = "DISABLED",
        /// An error while paying; the consumer may retry.
        Error = "ERROR",
    }
}

impl HppStatus {
    /// Whether the session can no longer change: `COMPLETED`, `CANCELLED`, `DISABLED`.
    ///
    /// Unknown statuses are not final (keep reading until `expires_at`).
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            HppStatus::Completed | HppStatus::Cancelled | HppStatus::Disabled
        )
    }
}

//! Payment sessions: create (`session_create`), update (`session`), read (`session_read`) and the
//! create response (`merchant_session`).

use std::fmt;

use serde::{Deserialize, Serialize};

use super::check::{self, Common};
use super::customer::Customer;
use crate::error::ValidationError;
use crate::model::{Address, OrderLine};
use crate::open_enum::open_enum;
use crate::secret::{AuthorizationToken, ClientToken};
use crate::time::Timestamp;
use crate::validate;

open_enum! {
    /// What the session is for (`intent`).
    pub enum Intent {
        /// A one-off purchase (the default).
        Buy = "buy",
        /// Only create a customer token (no purchase).
        Tokenize = "tokenize",
        /// A purchase that also creates a customer token.
        BuyAndTokenize = "buy_and_tokenize",
    }
}

open_enum! {
    /// Where the purchase happens (`acquiring_channel`).
    pub enum AcquiringChannel {
        /// Online (the default).
        Ecommerce = "ECOMMERCE",
        /// In a physical store.
        InStore = "IN_STORE",
        /// Over the phone.
        Telesales = "TELESALES",
    }
}

open_enum! {
    /// A payment method category offered by a session (`payment_method_categories[].identifier`).
    ///
    /// KP spells these in lower case; HPP's `payment_method_categories` option has its own
    /// upper-case enum.
    pub enum PaymentMethodCategory {
        /// All of Klarna's methods in one (the current default).
        Klarna = "klarna",
        /// Pay later.
        PayLater = "pay_later",
        /// Pay now.
        PayNow = "pay_now",
        /// Financing / slice it.
        PayOverTime = "pay_over_time",
        /// Direct bank transfer.
        DirectBankTransfer = "direct_bank_transfer",
        /// Direct debit.
        DirectDebit = "direct_debit",
    }
}

open_enum! {
    /// A session's status (`status`): `complete` once an order was placed.
    pub enum SessionStatus {
        /// An order was placed from the session.
        Complete = "complete",
        /// No order yet.
        Incomplete = "incomplete",
    }
}

/// The merchant's KP callback URLs (`merchant_urls`), each at most 2000 characters.
///
/// Placeholders `{session.id}` and `{order.id}` are filled in by Klarna. HPP flows do not need
/// them (HPP has its own `merchant_urls`). `Debug` shows each URL through the crate's URL
/// redaction: Klarna tells merchants to put a per-session secret in `authorization`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct KpMerchantUrls {
    /// Where the consumer lands after an order is placed (used by the order's `redirect_url`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<String>,
    /// Receives fraud-status updates of pending orders.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification: Option<String>,
    /// Receives a push when the order is completed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub push: Option<String>,
    /// Receives `{authorization_token, session_id}` after an authorization.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization: Option<String>,
}

impl fmt::Debug for KpMerchantUrls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let url = crate::redact::opt_url;
        f.debug_struct("KpMerchantUrls")
            .field("confirmation", &url(&self.confirmation))
            .field("notification", &url(&self.notification))
            .field("push", &url(&self.push))
            .field("authorization", &url(&self.authorization))
            .finish()
    }
}

/// Styling of Klarna's payment widget (`options`); irrelevant with HPP. Colours are `#RRGGBB`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct WidgetOptions {
    /// Border colour.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color_border: Option<String>,
    /// Border colour of the selected method.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color_border_selected: Option<String>,
    /// Colour of details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color_details: Option<String>,
    /// Text colour.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color_text: Option<String>,
    /// Border radius, e.g. `5px`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub radius_border: Option<String>,
}

/// Extra merchant data (`attachment`): a JSON document serialized into `body`.
///
/// The body usually carries customer account details, so `Debug` shows only its length.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Attachment {
    /// The JSON-serialized extra merchant data.
    pub body: String,
    /// Its content type, normally [`Attachment::EMD_CONTENT_TYPE`].
    pub content_type: String,
}

impl Attachment {
    /// The content type of Klarna's extra merchant data, version 2.
    pub const EMD_CONTENT_TYPE: &'static str = "application/vnd.klarna.internal.emd-v2+json";

    /// An attachment with any content type.
    pub fn new(body: impl Into<String>, content_type: impl Into<String>) -> Self {
        Self {
            body: body.into(),
            content_type: content_type.into(),
        }
    }

    /// Extra merchant data (EMD v2): `body` is the JSON-serialized EMD object.
    pub fn emd(body: impl Into<String>) -> Self {
        Self::new(body, Self::EMD_CONTENT_TYPE)
    }
}

impl fmt::Debug for Attachment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attachment")
            .field("content_type", &self.content_type)
            .field("body", &format_args!("[{} bytes]", self.body.len()))
            .finish()
    }
}

/// A payment session to create (`session_create`, `POST /payments/v1/sessions`).
///
/// Build it with [`SessionCreate::new`], which derives `order_amount` and `order_tax_amount`
/// from the lines, then set the optional fields. [`SessionCreate::validate`] checks every rule
/// [`crate::kp::CreateSession`] enforces before a request is built.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionCreate {
    /// ISO 3166-1 alpha-2 purchase country (the billing country overrides it).
    pub purchase_country: String,
    /// ISO 4217 currency.
    pub purchase_currency: String,
    /// Locale such as `en-US` (Klarna's default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Total including tax and discounts (minor units) = Σ line `total_amount`.
    pub order_amount: i64,
    /// Total tax (minor units). Optional in Klarna's schema, and Klarna accepts a session
    /// without it; when present it must agree with the lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_tax_amount: Option<i64>,
    /// The order lines (1..=1000).
    pub order_lines: Vec<OrderLine>,
    /// Purchase, tokenize, or both.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intent: Option<Intent>,
    /// Where the purchase happens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acquiring_channel: Option<AcquiringChannel>,
    /// The merchant's order reference (≤255).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_reference1: Option<String>,
    /// A second reference, shown in settlement files (≤255).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_reference2: Option<String>,
    /// Pass-through data (≤6000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_data: Option<String>,
    /// KP callback URLs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_urls: Option<KpMerchantUrls>,
    /// Billing address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    /// Shipping address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Address>,
    /// The consumer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    /// Extra merchant data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
    /// Widget styling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<WidgetOptions>,
    /// Promo codes that unlock custom payment methods.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub custom_payment_method_ids: Vec<String>,
    /// Contract-specific design name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub design: Option<String>,
}

impl SessionCreate {
    /// A session whose amounts come from the lines ("the lines are the truth"):
    /// `order_amount = Σ total_amount`, `order_tax_amount` = Σ `total_tax_amount` (or, with a
    /// `sales_tax` line, that line's total; see [`validate::lines_tax`]). Sums saturate; an
    /// impossible sum is then refused by [`SessionCreate::validate`].
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
            intent: None,
            acquiring_channel: None,
            merchant_reference1: None,
            merchant_reference2: None,
            merchant_data: None,
            merchant_urls: None,
            billing_address: None,
            shipping_address: None,
            customer: None,
            attachment: None,
            options: None,
            custom_payment_method_ids: Vec::new(),
            design: None,
        }
    }

    /// Sets the locale.
    pub fn locale(mut self, locale: impl Into<String>) -> Self {
        self.locale = Some(locale.into());
        self
    }

    /// Sets the intent.
    pub fn intent(mut self, intent: Intent) -> Self {
        self.intent = Some(intent);
        self
    }

    /// Sets the acquiring channel.
    pub fn acquiring_channel(mut self, channel: AcquiringChannel) -> Self {
        self.acquiring_channel = Some(channel);
        self
    }

    /// Sets `merchant_reference1`.
    pub fn merchant_reference1(mut self, reference: impl Into<String>) -> Self {
        self.merchant_reference1 = Some(reference.into());
        self
    }

    /// Sets `merchant_reference2`.
    pub fn merchant_reference2(mut self, reference: impl Into<String>) -> Self {
        self.merchant_reference2 = Some(reference.into());
        self
    }

    /// Sets `merchant_data`.
    pub fn merchant_data(mut self, data: impl Into<String>) -> Self {
        self.merchant_data = Some(data.into());
        self
    }

    /// Sets the KP merchant URLs.
    pub fn merchant_urls(mut self, urls: KpMerchantUrls) -> Self {
        self.merchant_urls = Some(urls);
        self
    }

    /// Sets the billing address.
    pub fn billing_address(mut self, address: Address) -> Self {
        self.billing_address = Some(address);
        self
    }

    /// Sets the shipping address.
    pub fn shipping_address(mut self, address: Address) -> Self {
        self.shipping_address = Some(address);
        self
    }

    /// Sets the customer.
    pub fn customer(mut self, customer: Customer) -> Self {
        self.customer = Some(customer);
        self
    }

    /// Sets the attachment.
    pub fn attachment(mut self, attachment: Attachment) -> Self {
        self.attachment = Some(attachment);
        self
    }

    /// Checks every rule of `session_create`: country, currency and locale patterns; amounts ≥0;
    /// 1..=1000 valid lines; `order_amount` agrees with the lines, and `order_tax_amount` too
    /// when present (Klarna's schema does not require it, and Klarna accepts a body without it;
    /// see [`validate::order_tax_matches`]); string limits; addresses, customer, options.
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
        self.common().validate()
    }

    fn common(&self) -> Common<'_> {
        Common {
            merchant_reference1: self.merchant_reference1.as_deref(),
            merchant_reference2: self.merchant_reference2.as_deref(),
            merchant_data: self.merchant_data.as_deref(),
            merchant_urls: self.merchant_urls.as_ref(),
            billing_address: self.billing_address.as_ref(),
            shipping_address: self.shipping_address.as_ref(),
            customer: self.customer.as_ref(),
            options: self.options.as_ref(),
            attachment: self.attachment.as_ref(),
        }
    }
}

/// Changes to a session (`session`, `POST /payments/v1/sessions/{id}`): every field optional,
/// absent fields are left as they are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct SessionUpdate {
    /// Purchase country.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_country: Option<String>,
    /// Currency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_currency: Option<String>,
    /// Locale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Total including tax and discounts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_amount: Option<i64>,
    /// Total tax.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_tax_amount: Option<i64>,
    /// The order lines (replace the old ones).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_lines: Option<Vec<OrderLine>>,
    /// Intent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intent: Option<Intent>,
    /// Acquiring channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acquiring_channel: Option<AcquiringChannel>,
    /// Merchant reference (≤255).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_reference1: Option<String>,
    /// Second merchant reference (≤255).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_reference2: Option<String>,
    /// Pass-through data (≤6000).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_data: Option<String>,
    /// KP callback URLs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_urls: Option<KpMerchantUrls>,
    /// Billing address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    /// Shipping address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Address>,
    /// The consumer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    /// Extra merchant data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
    /// Widget styling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<WidgetOptions>,
    /// Promo codes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub custom_payment_method_ids: Option<Vec<String>>,
    /// Design name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub design: Option<String>,
}

impl SessionUpdate {
    /// An update that replaces the lines and sets both amounts from them (like
    /// [`SessionCreate::new`]).
    pub fn with_lines(order_lines: Vec<OrderLine>) -> Self {
        let (order_amount, order_tax_amount) = check::sums(&order_lines);
        Self {
            order_amount: Some(order_amount),
            order_tax_amount: Some(order_tax_amount),
            order_lines: Some(order_lines),
            ..Self::default()
        }
    }

    /// Checks what is present. Amounts are compared with the lines only when both are in the
    /// update (the session's stored values are not known here).
    pub fn validate(&self) -> Result<(), ValidationError> {
        if let Some(c) = &self.purchase_country {
            validate::country("purchase_country", c)?;
        }
        if let Some(c) = &self.purchase_currency {
            validate::currency("purchase_currency", c)?;
        }
        if let Some(l) = &self.locale {
            validate::locale("locale", l)?;
        }
        check::lines_and_amounts(
            self.order_amount,
            self.order_tax_amount,
            self.order_lines.as_deref(),
        )?;
        Common {
            merchant_reference1: self.merchant_reference1.as_deref(),
            merchant_reference2: self.merchant_reference2.as_deref(),
            merchant_data: self.merchant_data.as_deref(),
            merchant_urls: self.merchant_urls.as_ref(),
            billing_address: self.billing_address.as_ref(),
            shipping_address: self.shipping_address.as_ref(),
            customer: self.customer.as_ref(),
            options: self.options.as_ref(),
            attachment: self.attachment.as_ref(),
        }
        .validate()
    }
}

/// Image URLs of a payment method category (`asset_urls`). `Debug` shows them through the
/// crate's URL redaction.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct AssetUrls {
    /// Descriptive asset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub descriptive: Option<String>,
    /// Standard asset.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standard: Option<String>,
}

impl AssetUrls {
    /// Both URLs.
    pub fn new(descriptive: impl Into<String>, standard: impl Into<String>) -> Self {
        Self {
            descriptive: Some(descriptive.into()),
            standard: Some(standard.into()),
        }
    }
}

impl fmt::Debug for AssetUrls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssetUrls")
            .field("descriptive", &crate::redact::opt_url(&self.descriptive))
            .field("standard", &crate::redact::opt_url(&self.standard))
            .finish()
    }
}

/// One payment method category a session offers (`payment_method_category`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PaymentMethodCategoryInfo {
    /// The category.
    pub identifier: PaymentMethodCategory,
    /// Its display name, e.g. `Pay with Klarna`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_urls: Option<AssetUrls>,
}

impl PaymentMethodCategoryInfo {
    /// A category without name or assets.
    pub fn new(identifier: PaymentMethodCategory) -> Self {
        Self {
            identifier,
            name: None,
            asset_urls: None,
        }
    }
}

/// The answer to a session creation (`merchant_session`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MerchantSession {
    /// The session id (use it for `payment_session_url` in HPP).
    pub session_id: String,
    /// The client token for Klarna's JavaScript SDK (not needed with HPP).
    pub client_token: ClientToken,
    /// The payment method categories available.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub payment_method_categories: Vec<PaymentMethodCategoryInfo>,
}

impl MerchantSession {
    /// A session answer without categories.
    pub fn new(session_id: impl Into<String>, client_token: ClientToken) -> Self {
        Self {
            session_id: session_id.into(),
            client_token,
            payment_method_categories: Vec::new(),
        }
    }
}

/// A session as read back (`session_read`, `GET /payments/v1/sessions/{id}`). Everything is
/// optional so that any session Klarna returns decodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
#[non_exhaustive]
pub struct SessionRead {
    /// `complete` once an order was placed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<SessionStatus>,
    /// When the session expires (48 h after the last update).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<Timestamp>,
    /// The client token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_token: Option<ClientToken>,
    /// The authorization token, once authorized (read-only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_token: Option<AuthorizationToken>,
    /// Purchase country.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_country: Option<String>,
    /// Currency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchase_currency: Option<String>,
    /// Locale.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    /// Total including tax and discounts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_amount: Option<i64>,
    /// Total tax.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub order_tax_amount: Option<i64>,
    /// The order lines.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub order_lines: Vec<OrderLine>,
    /// Intent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intent: Option<Intent>,
    /// Acquiring channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acquiring_channel: Option<AcquiringChannel>,
    /// Merchant reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_reference1: Option<String>,
    /// Second merchant reference.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_reference2: Option<String>,
    /// Pass-through data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_data: Option<String>,
    /// KP callback URLs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_urls: Option<KpMerchantUrls>,
    /// Billing address (shared only after authorization).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    /// Shipping address (shared only after authorization).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Address>,
    /// The consumer (`customer_read`: without national id or SSN).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    /// Extra merchant data.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
    /// Widget styling.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub options: Option<WidgetOptions>,
    /// Promo codes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub custom_payment_method_ids: Vec<String>,
    /// Design name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub design: Option<String>,
    /// The payment method categories available.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub payment_method_categories: Vec<PaymentMethodCategoryInfo>,
}

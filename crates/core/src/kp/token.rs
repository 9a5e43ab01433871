//! Customer tokens for recurring purchases (`customer_token_creation_request` → `…_response`).

use serde::{Deserialize, Serialize};

use super::check;
use super::customer::Customer;
use crate::error::ValidationError;
use crate::model::Address;
use crate::open_enum::open_enum;
use crate::secret::secret_string;
use crate::validate;

open_enum! {
    /// What a customer token will be used for (`intended_use`).
    pub enum IntendedUse {
        /// Recurring charges of a subscription.
        Subscription = "SUBSCRIPTION",
    }
}

secret_string!(
    /// A customer token id (`token_id`): with the merchant's credentials it charges the consumer
    /// again, so it is kept out of logs.
    CustomerTokenId
);

/// A request to turn an authorization into a customer token
/// (`POST /payments/v1/authorizations/{token}/customer-token`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CustomerTokenRequest {
    /// What the consumer sees as the token's purpose (1..=255).
    pub description: String,
    /// What the token is for.
    pub intended_use: IntendedUse,
    /// Locale.
    pub locale: String,
    /// Purchase country.
    pub purchase_country: String,
    /// Currency.
    pub purchase_currency: String,
    /// Billing address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    /// The consumer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
}

impl CustomerTokenRequest {
    /// A request with the required fields.
    pub fn new(
        description: impl Into<String>,
        intended_use: IntendedUse,
        locale: impl Into<String>,
        purchase_country: impl Into<String>,
        purchase_currency: impl Into<String>,
    ) -> Self {
        Self {
            description: description.into(),
            intended_use,
            locale: locale.into(),
            purchase_country: purchase_country.into(),
            purchase_currency: purchase_currency.into(),
            billing_address: None,
            customer: None,
        }
    }

    /// Checks `description` (1..=255), locale, country, currency, address and customer.
    pub fn validate(&self) -> Result<(), ValidationError> {
        validate::required_len("description", &self.description, 255)?;
        check::required_head(
            &self.purchase_country,
            &self.purchase_currency,
            Some(&self.locale),
        )?;
        if let Some(a) = &self.billing_address {
            validate::address("billing_address", a)?;
        }
        if let Some(c) = &self.customer {
            c.validate("customer")?;
        }
        Ok(())
    }
}

/// A created customer token (`customer_token_creation_response`). `Debug` shows `redirect_url`
/// through the crate's URL redaction.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CustomerTokenResponse {
    /// The token.
    pub token_id: CustomerTokenId,
    /// A redirect URL for the consumer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
    /// A reference to the payment method behind the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method_reference: Option<String>,
    /// The billing address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    /// The consumer (only `date_of_birth` and `gender`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
}

impl CustomerTokenResponse {
    /// A response with only the token.
    pub fn new(token_id: CustomerTokenId) -> Self {
        Self {
            token_id,
            redirect_url: None,
            payment_method_reference: None,
            billing_address: None,
            customer: None,
        }
    }
}

impl std::fmt::Debug for CustomerTokenResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CustomerTokenResponse")
            .field("token_id", &self.token_id)
            .field("redirect_url", &crate::redact::opt_url(&self.redirect_url))
            .field("payment_method_reference", &self.payment_method_reference)
            .field("billing_address", &self.billing_address)
            .field("customer", &self.customer)
            .finish()
    }
}

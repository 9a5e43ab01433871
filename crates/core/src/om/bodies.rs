//! Request bodies of Order Management writes. Each checks itself with `validate()`, which the
//! operations call before building a request (and which an emulator may call too).

use serde::{Deserialize, Serialize};

use crate::error::{Error, ValidationError, ValidationProblem};
use crate::model::{Address, OrderLine};

use super::check::{self, MAX_AMOUNT, MAX_TEXT};
use super::types::{nullable, ShippingInfo};

/// A capture (`CaptureObject`): `captured_amount` is required, the rest optional.
///
/// For a full capture send the remaining authorized amount; for a partial one, less.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CaptureRequest {
    /// The amount to capture, in minor units (1..=100 000 000).
    pub captured_amount: i64,
    /// Description shown to the customer (≤255).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Internal reference, included in settlement files (≤255).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The captured order lines (≤1000); omitted when empty.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub order_lines: Vec<OrderLine>,
    /// Shipping information (≤500); omitted when empty.
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub shipping_info: Vec<ShippingInfo>,
    /// Delay before shipping (≥0; values above 0 must be enabled on the merchant account).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_delay: Option<i64>,
}

impl CaptureRequest {
    /// A capture of `captured_amount` minor units.
    pub fn new(captured_amount: i64) -> Self {
        Self {
            captured_amount,
            description: None,
            reference: None,
            order_lines: Vec::new(),
            shipping_info: Vec::new(),
            shipping_delay: None,
        }
    }

    /// Sets the description shown to the customer.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the settlement reference.
    pub fn reference(mut self, reference: impl Into<String>) -> Self {
        self.reference = Some(reference.into());
        self
    }

    /// Sets the captured order lines.
    pub fn order_lines(mut self, lines: Vec<OrderLine>) -> Self {
        self.order_lines = lines;
        self
    }

    /// Sets the shipping information.
    pub fn shipping_info(mut self, info: Vec<ShippingInfo>) -> Self {
        self.shipping_info = info;
        self
    }

    /// Sets the shipping delay.
    pub fn shipping_delay(mut self, delay: i64) -> Self {
        self.shipping_delay = Some(delay);
        self
    }

    /// Checks the capture against Klarna's limits.
    pub fn validate(&self) -> Result<(), ValidationError> {
        check::positive_amount("captured_amount", self.captured_amount)?;
        check::max_chars(
            || "description".into(),
            self.description.as_deref(),
            MAX_TEXT,
        )?;
        check::max_chars(|| "reference".into(), self.reference.as_deref(), MAX_TEXT)?;
        check::order_lines(&self.order_lines)?;
        check::shipping_info(&self.shipping_info)?;
        if let Some(delay) = self.shipping_delay {
            check::at_most("shipping_delay", delay, 0, i64::MAX)?;
        }
        Ok(())
    }
}

/// A refund (`RefundObject`): `refunded_amount` is required, the rest optional.
///
/// Klarna refuses a refund larger than what was captured (403 `REFUND_NOT_ALLOWED`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RefundRequest {
    /// The amount to refund, in minor units (1..=100 000 000).
    pub refunded_amount: i64,
    /// Description shown to the customer (≤255).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Internal reference, included in settlement files (≤255).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The refunded order lines (≤1000; a `return_fee` line charges a return fee).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub order_lines: Vec<OrderLine>,
}

impl RefundRequest {
    /// A refund of `refunded_amount` minor units.
    pub fn new(refunded_amount: i64) -> Self {
        Self {
            refunded_amount,
            description: None,
            reference: None,
            order_lines: Vec::new(),
        }
    }

    /// Sets the description shown to the customer.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the settlement reference.
    pub fn reference(mut self, reference: impl Into<String>) -> Self {
        self.reference = Some(reference.into());
        self
    }

    /// Sets the refunded order lines.
    pub fn order_lines(mut self, lines: Vec<OrderLine>) -> Self {
        self.order_lines = lines;
        self
    }

    /// Checks the refund against Klarna's limits.
    pub fn validate(&self) -> Result<(), ValidationError> {
        check::positive_amount("refunded_amount", self.refunded_amount)?;
        check::max_chars(
            || "description".into(),
            self.description.as_deref(),
            MAX_TEXT,
        )?;
        check::max_chars(|| "reference".into(), self.reference.as_deref(), MAX_TEXT)?;
        check::order_lines(&self.order_lines)
    }
}

/// A new authorized amount for an order (`Update_authorization`).
///
/// Klarna replaces the order lines with the ones sent: sending none deletes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UpdateAuthorizationRequest {
    /// The new total order amount, in minor units (0..=100 000 000, ≥ the captured amount).
    pub order_amount: i64,
    /// Description of the change (≤255).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The new set of order lines (≤1000).
    #[serde(
        default,
        deserialize_with = "nullable",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub order_lines: Vec<OrderLine>,
}

impl UpdateAuthorizationRequest {
    /// A new order amount.
    pub fn new(order_amount: i64) -> Self {
        Self {
            order_amount,
            description: None,
            order_lines: Vec::new(),
        }
    }

    /// Sets the description of the change.
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the new order lines.
    pub fn order_lines(mut self, lines: Vec<OrderLine>) -> Self {
        self.order_lines = lines;
        self
    }

    /// Checks the update against Klarna's limits.
    pub fn validate(&self) -> Result<(), ValidationError> {
        check::at_most("order_amount", self.order_amount, 0, MAX_AMOUNT)?;
        check::max_chars(
            || "description".into(),
            self.description.as_deref(),
            MAX_TEXT,
        )?;
        check::order_lines(&self.order_lines)
    }
}

/// New merchant references (`Update_merchant_references`). A present field overwrites the old
/// reference; `""` clears it; an absent one leaves it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MerchantReferences {
    /// The merchant's order number (≤255).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_reference1: Option<String>,
    /// The merchant's internal reference (≤255).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_reference2: Option<String>,
}

impl MerchantReferences {
    /// No change; set the references with the setters.
    pub fn new() -> Self {
        Self::default()
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

    /// Checks the references' lengths.
    pub fn validate(&self) -> Result<(), ValidationError> {
        let refs = [
            ("merchant_reference1", &self.merchant_reference1),
            ("merchant_reference2", &self.merchant_reference2),
        ];
        for (name, value) in refs {
            check::max_chars(|| name.into(), value.as_deref(), MAX_TEXT)?;
        }
        Ok(())
    }
}

/// New customer addresses (`UpdateConsumer`). Klarna usually allows only the shipping address to
/// change, and runs a new risk check.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CustomerDetails {
    /// The new billing address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_address: Option<Address>,
    /// The new shipping address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Address>,
}

impl CustomerDetails {
    /// A change of the shipping address only.
    pub fn shipping(address: Address) -> Self {
        Self {
            billing_address: None,
            shipping_address: Some(address),
        }
    }

    /// Checks that there is something to change.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.billing_address.is_none() && self.shipping_address.is_none() {
            return Err(ValidationError::new(
                "shipping_address",
                ValidationProblem::Missing,
            ));
        }
        Ok(())
    }
}

/// Extends a capture's payment due date (`ExtendDueDateRequest`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ExtendDueDateRequest {
    /// Days to add (>0); see [`GetExtendDueDateOptions`](super::GetExtendDueDateOptions).
    pub number_of_days: i32,
}

impl ExtendDueDateRequest {
    /// An extension by `number_of_days`.
    pub fn new(number_of_days: i32) -> Self {
        Self { number_of_days }
    }

    /// Checks that the number of days is positive.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.number_of_days <= 0 {
            return Err(ValidationError::new(
                "number_of_days",
                ValidationProblem::NotPositive {
                    actual: i64::from(self.number_of_days),
                },
            ));
        }
        Ok(())
    }
}

/// Shipping information to add to an order or a capture (`UpdateShippingInfo`): 1..=500 items.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ShippingInfoUpdate {
    /// The shipping information to add.
    #[serde(default, deserialize_with = "nullable")]
    pub shipping_info: Vec<ShippingInfo>,
}

impl ShippingInfoUpdate {
    /// An update adding `shipping_info`.
    pub fn new(shipping_info: Vec<ShippingInfo>) -> Self {
        Self { shipping_info }
    }

    /// Checks there is 1..=500 items within the length limits.
    pub fn validate(&self) -> Result<(), ValidationError> {
        validate_shipping_info_update(&self.shipping_info)
    }
}

fn validate_shipping_info_update(items: &[ShippingInfo]) -> Result<(), ValidationError> {
    if items.is_empty() {
        return Err(ValidationError::new(
            "shipping_info",
            ValidationProblem::Empty,
        ));
    }
    check::shipping_info(items)
}

/// Validates and encodes a [`ShippingInfoUpdate`] body without copying the items.
pub(super) fn shipping_info_update_body(items: &[ShippingInfo]) -> Result<Vec<u8>, Error> {
    #[derive(Serialize)]
    struct Body<'a> {
        shipping_info: &'a [ShippingInfo],
    }
    validate_shipping_info_update(items)?;
    crate::wire::json(&Body {
        shipping_info: items,
    })
}

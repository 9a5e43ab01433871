//! Types shared by Klarna Payments and Order Management: order lines and addresses.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::open_enum::open_enum;

open_enum! {
    /// The kind of an order line (`type`). A free string in the spec; these are the documented values.
    pub enum OrderLineType {
        /// Physical goods.
        Physical = "physical",
        /// A discount (negative amounts).
        Discount = "discount",
        /// Shipping fee.
        ShippingFee = "shipping_fee",
        /// US-style sales tax line.
        SalesTax = "sales_tax",
        /// Digital goods.
        Digital = "digital",
        /// Gift card.
        GiftCard = "gift_card",
        /// Store credit.
        StoreCredit = "store_credit",
        /// Surcharge.
        Surcharge = "surcharge",
        /// Return fee (OM refunds).
        ReturnFee = "return_fee",
    }
}

open_enum! {
    /// A subscription's billing interval.
    pub enum SubscriptionInterval {
        /// Daily.
        Day = "DAY",
        /// Weekly.
        Week = "WEEK",
        /// Monthly.
        Month = "MONTH",
        /// Yearly.
        Year = "YEAR",
    }
}

/// One line of an order (KP `order_line`, OM `order_line`: the same schema).
///
/// Amounts are integer minor units including tax. Rule: `total_amount = quantity × unit_price −
/// total_discount_amount`. `Debug` shows the product and image URLs through the crate's URL
/// redaction.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct OrderLine {
    /// Line kind.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<OrderLineType>,
    /// SKU or article number (≤255).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// Descriptive name (1..=255).
    pub name: String,
    /// Quantity (≥0).
    pub quantity: i64,
    /// Unit, e.g. `pcs` (1..=8).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quantity_unit: Option<String>,
    /// Price of one unit, including tax, excluding discount.
    pub unit_price: i64,
    /// Tax rate with two implied decimals (2500 = 25%), 0..=10000.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_rate: Option<i64>,
    /// Total including tax and discount.
    pub total_amount: i64,
    /// Discount including tax (≥0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_discount_amount: Option<i64>,
    /// Tax amount of the line.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_tax_amount: Option<i64>,
    /// Merchant data (≤1024).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merchant_data: Option<String>,
    /// Product page URL (≤1024).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_url: Option<String>,
    /// Product image URL (≤1024).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
    /// Product identifiers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub product_identifiers: Option<ProductIdentifiers>,
    /// Subscription details.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription: Option<Subscription>,
}

impl OrderLine {
    /// A line with the required fields; `total_amount = quantity × unit_price` (saturating).
    pub fn new(name: impl Into<String>, quantity: i64, unit_price: i64) -> Self {
        Self {
            name: name.into(),
            quantity,
            unit_price,
            total_amount: quantity.saturating_mul(unit_price),
            ..Self::default()
        }
    }

    /// Sets the line kind.
    pub fn kind(mut self, kind: OrderLineType) -> Self {
        self.kind = Some(kind);
        self
    }

    /// Sets the reference (SKU).
    pub fn reference(mut self, reference: impl Into<String>) -> Self {
        self.reference = Some(reference.into());
        self
    }

    /// Sets tax rate (basis points ×100, 2500 = 25%) and computes `total_tax_amount` from
    /// `total_amount` the way Klarna does: `total − total × 10000 / (10000 + rate)`.
    pub fn tax_rate(mut self, rate: i64) -> Self {
        self.tax_rate = Some(rate);
        let total = i128::from(self.total_amount);
        let denom = 10_000 + i128::from(rate);
        let tax = if denom == 0 {
            0
        } else {
            total - total * 10_000 / denom
        };
        self.total_tax_amount = Some(i64::try_from(tax).unwrap_or(0));
        self
    }

    /// Applies a discount (including tax) and lowers `total_amount` by it.
    pub fn discount(mut self, amount: i64) -> Self {
        self.total_discount_amount = Some(amount);
        self.total_amount = self
            .quantity
            .saturating_mul(self.unit_price)
            .saturating_sub(amount);
        match self.tax_rate {
            Some(rate) => self.tax_rate(rate),
            None => self,
        }
    }
}

impl fmt::Debug for OrderLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OrderLine")
            .field("kind", &self.kind)
            .field("reference", &self.reference)
            .field("name", &self.name)
            .field("quantity", &self.quantity)
            .field("quantity_unit", &self.quantity_unit)
            .field("unit_price", &self.unit_price)
            .field("tax_rate", &self.tax_rate)
            .field("total_amount", &self.total_amount)
            .field("total_discount_amount", &self.total_discount_amount)
            .field("total_tax_amount", &self.total_tax_amount)
            .field("merchant_data", &self.merchant_data)
            .field("product_url", &crate::redact::opt_url(&self.product_url))
            .field("image_url", &crate::redact::opt_url(&self.image_url))
            .field("product_identifiers", &self.product_identifiers)
            .field("subscription", &self.subscription)
            .finish()
    }
}

/// Product identifiers of an order line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct ProductIdentifiers {
    /// Brand (≤70).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    /// Category path, e.g. `Electronics > Phones` (≤750).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category_path: Option<String>,
    /// GTIN (≤50).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub global_trade_item_number: Option<String>,
    /// MPN (≤70).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manufacturer_part_number: Option<String>,
    /// Colour (≤64).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// Size (≤64).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<String>,
}

/// Subscription details of an order line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Subscription {
    /// Subscription name (1..=255).
    pub name: String,
    /// Billing interval.
    pub interval: SubscriptionInterval,
    /// Intervals between charges (≥1).
    pub interval_count: i64,
}

impl Subscription {
    /// A subscription.
    pub fn new(
        name: impl Into<String>,
        interval: SubscriptionInterval,
        interval_count: i64,
    ) -> Self {
        Self {
            name: name.into(),
            interval,
            interval_count,
        }
    }
}

/// A postal address with contact details (KP `address`, OM `address`). Customer data: `Debug`
/// shows only the country.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct Address {
    /// Given name (≤99).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub given_name: Option<String>,
    /// Family name (≤99).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family_name: Option<String>,
    /// E-mail (≤99).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Title, e.g. `Mr` (≤20).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Street address (≤99).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street_address: Option<String>,
    /// Street address, second line (≤99).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub street_address2: Option<String>,
    /// Postal code (≤10).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    /// City (≤99).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    /// Region or state; required for US and AU (≤99).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Phone (≤99).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// ISO 3166-1 alpha-2 country.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// Organization name, B2B (≤99).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_name: Option<String>,
    /// Attention, B2B (≤99).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attention: Option<String>,
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Address")
            .field("country", &self.country)
            .field("details", &"[redacted]")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_line_builders_follow_klarna_math() {
        let line = OrderLine::new("Shoes", 2, 10_000)
            .tax_rate(2500)
            .discount(2_000);
        assert_eq!(line.total_amount, 18_000);
        assert_eq!(line.total_tax_amount, Some(3_600));
        let line = OrderLine::new("Shoes", 1, 12_500).tax_rate(2500);
        assert_eq!(line.total_tax_amount, Some(2_500));
    }

    #[test]
    fn address_debug_hides_customer_data() {
        let a = Address {
            given_name: Some("Jane".into()),
            email: Some("jane@example.com".into()),
            country: Some("SE".into()),
            ..Address::default()
        };
        let s = format!("{a:?}");
        assert!(!s.contains("Jane") && !s.contains("jane@"), "{s}");
        assert!(s.contains("SE"));
    }

    #[test]
    fn order_line_type_is_open() {
        let t: OrderLineType = serde_json::from_str("\"PHYSICAL\"").expect("decodes");
        assert_eq!(t, OrderLineType::Physical);
        let u: OrderLineType = serde_json::from_str("\"hologram\"").expect("decodes");
        assert_eq!(u, OrderLineType::Unknown("hologram".into()));
        assert_eq!(serde_json::to_string(&u).expect("encodes"), "\"hologram\"");
    }
}

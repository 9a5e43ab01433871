//! Validation shared by the KP request bodies.

use super::customer::Customer;
use super::session::{Attachment, KpMerchantUrls, WidgetOptions};
use crate::error::{ValidationError, ValidationProblem};
use crate::model::{Address, OrderLine};
use crate::validate;

/// `(Σ total_amount, implied order_tax_amount)` of the lines, saturating.
pub(super) fn sums(lines: &[OrderLine]) -> (i64, i64) {
    (
        validate::lines_total(lines).unwrap_or(i64::MAX),
        validate::lines_tax(lines).unwrap_or(i64::MAX),
    )
}

/// The required head of a purchase: country, currency, optional locale.
pub(super) fn required_head(
    purchase_country: &str,
    purchase_currency: &str,
    locale: Option<&str>,
) -> Result<(), ValidationError> {
    validate::country("purchase_country", purchase_country)?;
    validate::currency("purchase_currency", purchase_currency)?;
    if let Some(l) = locale {
        validate::locale("locale", l)?;
    }
    Ok(())
}

/// Amounts ≥0, 1..=1000 valid lines, and the amounts agree with the lines when both are given.
pub(super) fn lines_and_amounts(
    order_amount: Option<i64>,
    order_tax_amount: Option<i64>,
    lines: Option<&[OrderLine]>,
) -> Result<(), ValidationError> {
    if let Some(a) = order_amount {
        validate::non_negative("order_amount", a)?;
    }
    if let Some(t) = order_tax_amount {
        validate::non_negative("order_tax_amount", t)?;
    }
    let Some(lines) = lines else {
        return Ok(());
    };
    if lines.is_empty() {
        return Err(ValidationError::new(
            "order_lines",
            ValidationProblem::Empty,
        ));
    }
    validate::order_lines(lines, "order_lines")?;
    if let Some(a) = order_amount {
        validate::order_amount_matches("order_amount", a, lines)?;
    }
    if let Some(t) = order_tax_amount {
        validate::order_tax_matches("order_tax_amount", t, lines, "order_lines")?;
    }
    Ok(())
}

/// The optional parts every KP purchase body shares.
pub(super) struct Common<'a> {
    pub(super) merchant_reference1: Option<&'a str>,
    pub(super) merchant_reference2: Option<&'a str>,
    pub(super) merchant_data: Option<&'a str>,
    pub(super) merchant_urls: Option<&'a KpMerchantUrls>,
    pub(super) billing_address: Option<&'a Address>,
    pub(super) shipping_address: Option<&'a Address>,
    pub(super) customer: Option<&'a Customer>,
    pub(super) options: Option<&'a WidgetOptions>,
    pub(super) attachment: Option<&'a Attachment>,
}

impl Common<'_> {
    pub(super) fn validate(&self) -> Result<(), ValidationError> {
        let refs = [
            ("merchant_reference1", self.merchant_reference1),
            ("merchant_reference2", self.merchant_reference2),
        ];
        for (name, value) in refs {
            if let Some(v) = value {
                validate::max_len(name, v, validate::MAX_MERCHANT_REFERENCE)?;
            }
        }
        if let Some(d) = self.merchant_data {
            validate::max_len("merchant_data", d, validate::MAX_MERCHANT_DATA)?;
        }
        if let Some(urls) = self.merchant_urls {
            merchant_urls(urls)?;
        }
        if let Some(a) = self.billing_address {
            validate::address("billing_address", a)?;
        }
        if let Some(a) = self.shipping_address {
            validate::address("shipping_address", a)?;
        }
        if let Some(c) = self.customer {
            c.validate("customer")?;
        }
        if let Some(o) = self.options {
            options(o)?;
        }
        if let Some(a) = self.attachment {
            attachment(a)?;
        }
        Ok(())
    }
}

fn merchant_urls(urls: &KpMerchantUrls) -> Result<(), ValidationError> {
    let all = [
        ("merchant_urls.confirmation", &urls.confirmation),
        ("merchant_urls.notification", &urls.notification),
        ("merchant_urls.push", &urls.push),
        ("merchant_urls.authorization", &urls.authorization),
    ];
    for (name, value) in all {
        if let Some(v) = value {
            validate::max_len(name, v, 2000)?;
        }
    }
    Ok(())
}

fn options(o: &WidgetOptions) -> Result<(), ValidationError> {
    let colours = [
        ("options.color_border", &o.color_border),
        ("options.color_border_selected", &o.color_border_selected),
        ("options.color_details", &o.color_details),
        ("options.color_text", &o.color_text),
    ];
    for (name, value) in colours {
        if let Some(v) = value {
            let b = v.as_bytes();
            if b.len() != 7 || b[0] != b'#' || !b[1..].iter().all(u8::is_ascii_hexdigit) {
                return Err(ValidationError::new(
                    name,
                    ValidationProblem::Pattern {
                        expected: "a colour #RRGGBB",
                    },
                ));
            }
        }
    }
    Ok(())
}

fn attachment(a: &Attachment) -> Result<(), ValidationError> {
    validate::required_len("attachment.content_type", &a.content_type, 255)?;
    if serde_json::from_str::<serde::de::IgnoredAny>(&a.body).is_err() {
        return Err(ValidationError::new(
            "attachment.body",
            ValidationProblem::Pattern {
                expected: "a JSON document serialized as a string",
            },
        ));
    }
    Ok(())
}

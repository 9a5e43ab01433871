//! The few rules Order Management requests are checked against before sending (from the OM
//! OpenAPI's limits). Kept local and small on purpose: Klarna remains the judge.

use crate::error::{ValidationError, ValidationProblem};
use crate::model::OrderLine;

use super::types::ShippingInfo;

/// The largest amount a capture, refund or authorization update may carry.
pub(super) const MAX_AMOUNT: i64 = 100_000_000;
/// The most order lines a request may carry.
pub(super) const MAX_ORDER_LINES: usize = 1000;
/// The most shipping info items a request may carry.
pub(super) const MAX_SHIPPING_INFO: usize = 500;
/// The longest description, reference or merchant reference.
pub(super) const MAX_TEXT: usize = 255;

type Checked = Result<(), ValidationError>;

/// A capture or refund amount: 1..=100 000 000.
pub(super) fn positive_amount(field: &str, value: i64) -> Checked {
    if value <= 0 {
        return Err(ValidationError::new(
            field,
            ValidationProblem::NotPositive { actual: value },
        ));
    }
    at_most(field, value, 1, MAX_AMOUNT)
}

/// An integer within `min..=max`.
pub(super) fn at_most(field: &str, value: i64, min: i64, max: i64) -> Checked {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ValidationError::new(
            field,
            ValidationProblem::OutOfRange {
                min,
                max,
                actual: value,
            },
        ))
    }
}

/// An optional string of at most `max` characters.
pub(super) fn max_chars(
    field: impl FnOnce() -> String,
    value: Option<&str>,
    max: usize,
) -> Checked {
    match value {
        Some(v) if v.chars().count() > max => Err(ValidationError::new(
            field(),
            ValidationProblem::TooLong { max },
        )),
        _ => Ok(()),
    }
}

/// A list of at most `max` items.
pub(super) fn max_items(field: &str, len: usize, max: usize) -> Checked {
    if len > max {
        Err(ValidationError::new(
            field,
            ValidationProblem::TooMany { max },
        ))
    } else {
        Ok(())
    }
}

/// Order lines: at most 1000, each with a name of 1..=255 characters, a non-negative quantity,
/// amounts within ±100 000 000 (discount and tax rate not negative) and the OM length limits on
/// its text fields.
pub(super) fn order_lines(lines: &[OrderLine]) -> Checked {
    max_items("order_lines", lines.len(), MAX_ORDER_LINES)?;
    for (i, line) in lines.iter().enumerate() {
        let at = |name: &str| format!("order_lines[{i}].{name}");
        if line.name.is_empty() {
            return Err(ValidationError::new(at("name"), ValidationProblem::Empty));
        }
        max_chars(|| at("name"), Some(&line.name), MAX_TEXT)?;
        if line.quantity < 0 {
            return Err(ValidationError::new(
                at("quantity"),
                ValidationProblem::OutOfRange {
                    min: 0,
                    max: i64::MAX,
                    actual: line.quantity,
                },
            ));
        }
        at_most(&at("unit_price"), line.unit_price, -MAX_AMOUNT, MAX_AMOUNT)?;
        at_most(
            &at("total_amount"),
            line.total_amount,
            -MAX_AMOUNT,
            MAX_AMOUNT,
        )?;
        if let Some(tax) = line.total_tax_amount {
            at_most(&at("total_tax_amount"), tax, -MAX_AMOUNT, MAX_AMOUNT)?;
        }
        if let Some(discount) = line.total_discount_amount {
            at_most(&at("total_discount_amount"), discount, 0, MAX_AMOUNT)?;
        }
        if let Some(rate) = line.tax_rate {
            at_most(&at("tax_rate"), rate, 0, i64::from(i32::MAX))?;
        }
        max_chars(|| at("reference"), line.reference.as_deref(), MAX_TEXT)?;
        max_chars(|| at("quantity_unit"), line.quantity_unit.as_deref(), 10)?;
        max_chars(|| at("merchant_data"), line.merchant_data.as_deref(), 1024)?;
        max_chars(|| at("product_url"), line.product_url.as_deref(), 1024)?;
        max_chars(|| at("image_url"), line.image_url.as_deref(), 1024)?;
    }
    Ok(())
}

/// Shipping info: at most 500 items; companies and tracking numbers ≤100, URIs ≤1024.
pub(super) fn shipping_info(items: &[ShippingInfo]) -> Checked {
    max_items("shipping_info", items.len(), MAX_SHIPPING_INFO)?;
    for (i, item) in items.iter().enumerate() {
        let at = |name: &str| format!("shipping_info[{i}].{name}");
        let fields = [
            ("shipping_company", &item.shipping_company, 100),
            ("tracking_number", &item.tracking_number, 100),
            ("tracking_uri", &item.tracking_uri, 1024),
            (
                "return_shipping_company",
                &item.return_shipping_company,
                100,
            ),
            ("return_tracking_number", &item.return_tracking_number, 100),
            ("return_tracking_uri", &item.return_tracking_uri, 1024),
        ];
        for (name, value, max) in fields {
            max_chars(|| at(name), value.as_deref(), max)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts() {
        assert!(positive_amount("a", 1).is_ok());
        assert!(positive_amount("a", MAX_AMOUNT).is_ok());
        assert_eq!(
            positive_amount("a", 0).expect_err("zero").problem,
            ValidationProblem::NotPositive { actual: 0 }
        );
        assert_eq!(
            positive_amount("a", MAX_AMOUNT + 1)
                .expect_err("big")
                .problem,
            ValidationProblem::OutOfRange {
                min: 1,
                max: MAX_AMOUNT,
                actual: MAX_AMOUNT + 1
            }
        );
    }

    #[test]
    fn lengths_count_characters() {
        assert!(max_chars(|| "f".into(), Some(&"é".repeat(255)), 255).is_ok());
        assert!(max_chars(|| "f".into(), Some(&"é".repeat(256)), 255).is_err());
        assert!(max_chars(|| "f".into(), None, 0).is_ok());
    }
}

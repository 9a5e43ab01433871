//! Klarna's validation rules beyond the schemas: amount and tax arithmetic, merchant URL
//! requirements, payment method categories, and the `{{placeholder}}` templates of merchant URLs.

use serde_json::Value;

/// A KP / HPP payment method category.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Category {
    PayNow,
    PayLater,
    PayOverTime,
    Klarna,
    DirectDebit,
    DirectBankTransfer,
}

impl Category {
    pub(crate) const ALL: [Category; 6] = [
        Category::PayNow,
        Category::PayLater,
        Category::PayOverTime,
        Category::Klarna,
        Category::DirectDebit,
        Category::DirectBankTransfer,
    ];

    /// The KP identifier (`pay_later`).
    pub(crate) fn kp_id(self) -> &'static str {
        match self {
            Category::PayNow => "pay_now",
            Category::PayLater => "pay_later",
            Category::PayOverTime => "pay_over_time",
            Category::Klarna => "klarna",
            Category::DirectDebit => "direct_debit",
            Category::DirectBankTransfer => "direct_bank_transfer",
        }
    }

    /// The HPP option spelling (`PAY_LATER`).
    pub(crate) fn hpp_name(self) -> &'static str {
        match self {
            Category::PayNow => "PAY_NOW",
            Category::PayLater => "PAY_LATER",
            Category::PayOverTime => "PAY_OVER_TIME",
            Category::Klarna => "KLARNA",
            Category::DirectDebit => "DIRECT_DEBIT",
            Category::DirectBankTransfer => "DIRECT_BANK_TRANSFER",
        }
    }

    /// What the consumer reads.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Category::PayNow => "Pay now",
            Category::PayLater => "Pay later",
            Category::PayOverTime => "Financing",
            Category::Klarna => "Pay with Klarna",
            Category::DirectDebit => "Direct debit",
            Category::DirectBankTransfer => "Bank transfer",
        }
    }

    /// The KP `authorized_payment_method.type` an authorization in this category gets.
    pub(crate) fn authorized_payment_method(self) -> &'static str {
        match self {
            Category::PayNow | Category::DirectDebit => "direct_debit",
            Category::PayLater | Category::Klarna => "invoice",
            Category::PayOverTime => "fixed_amount",
            Category::DirectBankTransfer => "direct_bank_transfer",
        }
    }

    /// The OM `initial_payment_method` (type, description).
    pub(crate) fn initial_payment_method(self) -> (&'static str, &'static str) {
        match self {
            Category::PayNow | Category::DirectDebit => ("DIRECT_DEBIT", "Direct debit"),
            Category::PayLater | Category::Klarna => ("INVOICE", "Pay later by invoice"),
            Category::PayOverTime => ("FIXED_AMOUNT", "Financing"),
            Category::DirectBankTransfer => ("BANK_TRANSFER", "Bank transfer"),
        }
    }

    /// Parses either spelling, in any letter case.
    pub(crate) fn parse(s: &str) -> Option<Category> {
        Category::ALL
            .into_iter()
            .find(|c| c.kp_id().eq_ignore_ascii_case(s) || c.hpp_name().eq_ignore_ascii_case(s))
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of categories in one byte.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub(crate) struct Categories(u8);

impl Categories {
    pub(crate) fn insert(&mut self, c: Category) {
        self.0 |= c.bit();
    }

    pub(crate) fn contains(self, c: Category) -> bool {
        self.0 & c.bit() != 0
    }

    pub(crate) fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// In the order of [`Category::ALL`].
    pub(crate) fn iter(self) -> impl Iterator<Item = Category> {
        Category::ALL.into_iter().filter(move |c| self.contains(*c))
    }
}

impl FromIterator<Category> for Categories {
    fn from_iter<T: IntoIterator<Item = Category>>(iter: T) -> Self {
        let mut s = Categories::default();
        for c in iter {
            s.insert(c);
        }
        s
    }
}

fn int(v: &Value, key: &str) -> Option<i128> {
    v.get(key).and_then(Value::as_i64).map(i128::from)
}

/// Klarna's amount and tax rules for a body with `order_amount`, `order_tax_amount` and
/// `order_lines` (KP create session / update / create order). `Err` is the JSON path of the
/// first offending field, e.g. `order_lines[1].total_tax_amount`. Every value is an int64 (larger
/// numbers are refused before this runs); the arithmetic is in 128 bits and checked, and a
/// result that would not fit is the offending field's error, never a panic.
pub(crate) fn check_amounts(body: &Value) -> Result<(), String> {
    let lines = body
        .get("order_lines")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut sum_total: i128 = 0;
    let mut sum_tax: i128 = 0;
    let mut sales_tax: Option<i128> = None;
    for (i, line) in lines.iter().enumerate() {
        let total_path = || format!("order_lines[{i}].total_amount");
        let tax_path = || format!("order_lines[{i}].total_tax_amount");
        let quantity = int(line, "quantity").unwrap_or(0);
        let unit_price = int(line, "unit_price").unwrap_or(0);
        let discount = int(line, "total_discount_amount").unwrap_or(0);
        let total = int(line, "total_amount").unwrap_or(0);
        let expected = quantity
            .checked_mul(unit_price)
            .and_then(|x| x.checked_sub(discount));
        if expected != Some(total) {
            return Err(total_path());
        }
        let tax = int(line, "total_tax_amount");
        if let (Some(rate), Some(tax)) = (int(line, "tax_rate"), tax) {
            // |tax − total·rate/(10000+rate)| ≤ 1, in integers:
            // |tax·(10000+rate) − total·rate| ≤ 10000+rate.
            let scale = rate.checked_add(10_000);
            let deviation = scale
                .and_then(|s| tax.checked_mul(s))
                .zip(total.checked_mul(rate))
                .and_then(|(a, b)| a.checked_sub(b))
                .and_then(i128::checked_abs);
            match (deviation, scale) {
                (Some(d), Some(s)) if d <= s => {}
                _ => return Err(tax_path()),
            }
        }
        sum_total = sum_total.checked_add(total).ok_or_else(total_path)?;
        sum_tax = sum_tax.checked_add(tax.unwrap_or(0)).ok_or_else(tax_path)?;
        if line.get("type").and_then(Value::as_str) == Some("sales_tax") {
            let s = sales_tax.get_or_insert(0);
            *s = s.checked_add(total).ok_or_else(total_path)?;
        }
    }
    if let Some(amount) = int(body, "order_amount") {
        if amount != sum_total {
            return Err("order_amount".into());
        }
    }
    if let Some(order_tax) = int(body, "order_tax_amount") {
        let expected = sales_tax.unwrap_or(sum_tax);
        let tolerance = i128::try_from(lines.len()).unwrap_or(i128::MAX);
        let off = order_tax.checked_sub(expected).and_then(i128::checked_abs);
        if off.is_none_or(|off| off > tolerance) {
            return Err("order_tax_amount".into());
        }
    }
    Ok(())
}

/// Is this host a loopback host (`localhost`, `*.localhost`, `127.0.0.0/8`, `::1`)?
pub(crate) fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.eq_ignore_ascii_case("localhost") || host.to_ascii_lowercase().ends_with(".localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

/// The scheme and host of an absolute http(s) URL, if it is one.
pub(crate) fn scheme_and_host(url: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.contains('@') || authority.chars().any(char::is_whitespace) {
        return None;
    }
    let host = if authority.starts_with('[') {
        authority.split_inclusive(']').next().unwrap_or_default()
    } else {
        authority.split(':').next().unwrap_or_default()
    };
    if host.is_empty() {
        None
    } else {
        Some((scheme, host))
    }
}

/// Merchant URLs must be absolute `https` URLs; plain `http` is allowed for loopback hosts so that
/// tests can receive redirects and callbacks.
pub(crate) fn is_acceptable_merchant_url(url: &str) -> bool {
    match scheme_and_host(url) {
        Some((scheme, host)) => scheme.eq_ignore_ascii_case("https") || is_loopback_host(host),
        None => false,
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub(crate) fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The values HPP substitutes into merchant URL templates.
#[derive(Debug, Default, Clone)]
pub(crate) struct Placeholders {
    pub(crate) session_id: String,
    pub(crate) authorization_token: Option<String>,
    pub(crate) order_id: Option<String>,
}

/// Renders `{{session_id}}`, `{{authorization_token}}` and `{{order_id}}` (percent-encoded; an
/// unknown value renders empty). Any other `{{…}}` is left as it is.
pub(crate) fn render_template(template: &str, values: &Placeholders) -> String {
    let mut out = String::with_capacity(template.len() + 48);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = &after[..end];
        let value = match name {
            "session_id" => Some(values.session_id.as_str()),
            "authorization_token" => Some(values.authorization_token.as_deref().unwrap_or("")),
            "order_id" => Some(values.order_id.as_deref().unwrap_or("")),
            _ => None,
        };
        match value {
            Some(v) => out.push_str(&percent_encode(v)),
            None => {
                out.push_str("{{");
                out.push_str(name);
                out.push_str("}}");
            }
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

/// Upper-cases the string values at these keys of an object (Klarna's docs send HPP option enums
/// in lower case while the spec spells them in upper case; the emulator accepts both).
pub(crate) fn uppercase_enums(obj: &mut Value, keys: &[&str]) {
    for key in keys {
        match obj.get_mut(*key) {
            Some(Value::String(s)) => *s = s.to_ascii_uppercase(),
            Some(Value::Array(items)) => {
                for item in items {
                    if let Value::String(s) = item {
                        *s = s.to_ascii_uppercase();
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn line(q: i64, unit: i64, total: i64, rate: i64, tax: i64) -> Value {
        json!({"name": "x", "quantity": q, "unit_price": unit, "total_amount": total,
               "tax_rate": rate, "total_tax_amount": tax})
    }

    #[test]
    fn klarna_doc_example_passes() {
        // 59500 at 25 % and 2900 shipping at 25 % (S17).
        let body = json!({"order_amount": 62400, "order_tax_amount": 12480,
            "order_lines": [line(1, 59500, 59500, 2500, 11900), line(1, 2900, 2900, 2500, 580)]});
        assert_eq!(check_amounts(&body), Ok(()));
    }

    #[test]
    fn each_rule_names_its_field() {
        let body = json!({"order_amount": 100, "order_lines": [line(2, 50, 99, 0, 0)]});
        assert_eq!(
            check_amounts(&body).unwrap_err(),
            "order_lines[0].total_amount"
        );
        let body =
            json!({"order_amount": 10000, "order_lines": [line(1, 10000, 10000, 2500, 2100)]});
        assert_eq!(
            check_amounts(&body).unwrap_err(),
            "order_lines[0].total_tax_amount"
        );
        let body =
            json!({"order_amount": 10000, "order_lines": [line(1, 10000, 10000, 2500, 2001)]});
        assert_eq!(check_amounts(&body), Ok(()), "±1 tolerance");
        let body =
            json!({"order_amount": 10001, "order_lines": [line(1, 10000, 10000, 2500, 2000)]});
        assert_eq!(check_amounts(&body).unwrap_err(), "order_amount");
        let body = json!({"order_amount": 10000, "order_tax_amount": 2500,
            "order_lines": [line(1, 10000, 10000, 2500, 2000)]});
        assert_eq!(check_amounts(&body).unwrap_err(), "order_tax_amount");
    }

    #[test]
    fn extreme_values_are_refused_not_overflowed() {
        let m = i64::MIN;
        let x = i64::MAX;
        for body in [
            json!({"order_amount": x, "order_lines": [line(x, x, x, x, m)]}),
            json!({"order_amount": m, "order_lines": [line(1, m, m, x, m), line(1, -1, -1, m, x)]}),
            json!({"order_amount": x, "order_tax_amount": m, "order_lines": [line(1, x, x, 0, x)]}),
            json!({"order_amount": 0, "order_lines": [line(m, m, m, m, m), line(x, x, x, x, x)]}),
        ] {
            assert!(check_amounts(&body).is_err(), "{body}");
        }
        // Large but consistent values pass.
        let body = json!({"order_amount": x, "order_lines": [line(1, x, x, 0, 0)]});
        assert_eq!(check_amounts(&body), Ok(()));
    }

    #[test]
    fn us_sales_tax_line() {
        let body = json!({"order_amount": 21000, "order_tax_amount": 1000, "order_lines": [
            {"name": "x", "quantity": 1, "unit_price": 20000, "total_amount": 20000},
            {"type": "sales_tax", "name": "Tax", "quantity": 1, "unit_price": 1000, "total_amount": 1000}]});
        assert_eq!(check_amounts(&body), Ok(()));
    }

    #[test]
    fn merchant_urls() {
        assert!(is_acceptable_merchant_url(
            "https://shop.example/ok?sid={{session_id}}"
        ));
        assert!(is_acceptable_merchant_url("http://127.0.0.1:8080/cb"));
        assert!(is_acceptable_merchant_url("http://localhost/cb"));
        assert!(is_acceptable_merchant_url("http://[::1]:9/cb"));
        assert!(!is_acceptable_merchant_url("http://shop.example/cb"));
        assert!(!is_acceptable_merchant_url("ftp://shop.example/cb"));
        assert!(!is_acceptable_merchant_url("/relative"));
        assert!(!is_acceptable_merchant_url("https://user@evil/"));
    }

    #[test]
    fn templates() {
        let v = Placeholders {
            session_id: "s 1".into(),
            authorization_token: Some("t/2".into()),
            order_id: None,
        };
        assert_eq!(
            render_template(
                "https://x/{{session_id}}?t={{authorization_token}}&o={{order_id}}&k={{other}}",
                &v
            ),
            "https://x/s%201?t=t%2F2&o=&k={{other}}"
        );
        assert_eq!(render_template("a{{b", &v), "a{{b");
    }

    #[test]
    fn categories() {
        assert_eq!(Category::parse("pay_later"), Some(Category::PayLater));
        assert_eq!(Category::parse("PAY_LATER"), Some(Category::PayLater));
        assert_eq!(Category::parse("nope"), None);
        let s: Categories = [Category::Klarna, Category::PayNow].into_iter().collect();
        assert_eq!(
            s.iter().collect::<Vec<_>>(),
            vec![Category::PayNow, Category::Klarna]
        );
    }
}

//! Scalars Klarna may send in another JSON type than its schema says, read where that is
//! harmless: a reference or a version sent as a number, a count sent as a numeric string.
//!
//! Never used for money or ids: amounts stay strict integers, ids strict strings.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};

/// A text field (a reference, a version) that may arrive as a number or a boolean: kept as
/// that scalar's JSON text (`10001` becomes `"10001"`). `null` is `None`; an object or an
/// array is refused.
pub(crate) fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct Text;

    impl<'de> Visitor<'de> for Text {
        type Value = Option<String>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string, a number or a boolean")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }

        fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(v))
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            // serde_json's own formatting: the text re-reads as the same number.
            Ok(Some(
                serde_json::Number::from_f64(v).map_or_else(|| v.to_string(), |n| n.to_string()),
            ))
        }

        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
    }

    d.deserialize_any(Text)
}

/// A count (installments, days) that may arrive as a numeric string (`"3"`). `null` is
/// `None`; anything else that is not an integer is refused. Not for money.
pub(crate) fn count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    struct Count;

    impl<'de> Visitor<'de> for Count {
        type Value = Option<i64>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an integer, or one written as a string")
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            i64::try_from(v)
                .map(Some)
                .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            // Digits only (an optional leading `-`): no spaces, signs or exponents guessed at.
            let digits = v.strip_prefix('-').unwrap_or(v);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(E::invalid_value(de::Unexpected::Other("a string"), &self));
            }
            v.parse()
                .map(Some)
                .map_err(|_| E::invalid_value(de::Unexpected::Other("a string"), &self))
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
    }

    d.deserialize_any(Count)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Deserialize, Debug, PartialEq)]
    struct T {
        #[serde(default, deserialize_with = "super::text")]
        text: Option<String>,
        #[serde(default, deserialize_with = "super::count")]
        count: Option<i64>,
    }

    fn t(json: &str) -> Result<T, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn text_keeps_scalars_and_refuses_structures() {
        assert_eq!(
            t(r#"{"text":"a"}"#).ok().and_then(|t| t.text),
            Some("a".into())
        );
        assert_eq!(
            t(r#"{"text":10001}"#).ok().and_then(|t| t.text),
            Some("10001".into())
        );
        assert_eq!(
            t(r#"{"text":-7}"#).ok().and_then(|t| t.text),
            Some("-7".into())
        );
        assert_eq!(
            t(r#"{"text":1.5}"#).ok().and_then(|t| t.text),
            Some("1.5".into())
        );
        assert_eq!(
            t(r#"{"text":true}"#).ok().and_then(|t| t.text),
            Some("true".into())
        );
        assert_eq!(t(r#"{"text":null}"#).ok().and_then(|t| t.text), None);
        assert_eq!(t("{}").ok().and_then(|t| t.text), None);
        assert!(t(r#"{"text":[1]}"#).is_err());
        assert!(t(r#"{"text":{}}"#).is_err());
    }

    #[test]
    fn count_reads_digit_strings_only() {
        assert_eq!(t(r#"{"count":3}"#).ok().and_then(|t| t.count), Some(3));
        assert_eq!(t(r#"{"count":"3"}"#).ok().and_then(|t| t.count), Some(3));
        assert_eq!(t(r#"{"count":"-3"}"#).ok().and_then(|t| t.count), Some(-3));
        assert_eq!(t(r#"{"count":null}"#).ok().and_then(|t| t.count), None);
        for bad in [
            r#""3 ""#,
            r#""+3""#,
            r#""3e2""#,
            r#""""#,
            r#""-""#,
            "1.5",
            "true",
            "18446744073709551615",
            r#""99999999999999999999""#,
        ] {
            assert!(t(&format!(r#"{{"count":{bad}}}"#)).is_err(), "{bad}");
        }
    }
}

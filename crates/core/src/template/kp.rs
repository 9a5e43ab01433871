//! Klarna Payments' own merchant URL templates: single braces, dotted names.

use std::fmt;

use super::{encoding, parse, redact_query, Part, Placeholder, TemplateError, Values};

/// A KP `merchant_urls` template (`confirmation`, `notification`, `push`, `authorization`) with
/// KP's single-brace placeholders: `{session.id}` (the KP session id, [`Values::session_id`])
/// and `{order.id}` ([`Values::order_id`]).
///
/// Same URL rules as [`UrlTemplate`](super::UrlTemplate) (absolute http(s), literal origin);
/// `}` outside a placeholder is [`TemplateError::StrayClose`].
///
/// ```
/// use klarna_hpp_core::template::{KpUrlTemplate, Values};
///
/// let t = KpUrlTemplate::parse("https://shop.example/kp/{session.id}/confirm?order={order.id}")?;
/// let url = t.render(&Values::new().with_session_id("s-1").with_order_id("o 2"))?;
/// assert_eq!(url, "https://shop.example/kp/s-1/confirm?order=o%202");
/// # Ok::<(), klarna_hpp_core::template::TemplateError>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct KpUrlTemplate {
    raw: String,
    parts: Vec<Part>,
}

impl KpUrlTemplate {
    /// Parses a KP template.
    pub fn parse(template: &str) -> Result<Self, TemplateError> {
        let parsed = parse::parse(template, &parse::KP)?;
        Ok(Self {
            raw: template.to_owned(),
            parts: parsed.parts,
        })
    }

    /// The template text, exactly as given.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// The placeholders, in order of appearance.
    pub fn placeholders(&self) -> impl Iterator<Item = Placeholder> + '_ {
        self.parts.iter().filter_map(|p| match p {
            Part::Placeholder { placeholder, .. } => Some(*placeholder),
            Part::Literal { .. } => None,
        })
    }

    /// Substitutes the percent-encoded values (unreserved characters kept).
    pub fn render(&self, values: &Values) -> Result<String, TemplateError> {
        let mut out = String::with_capacity(self.raw.len() + 48);
        for part in &self.parts {
            match *part {
                Part::Literal { start, end } => out.push_str(&self.raw[start..end]),
                Part::Placeholder { placeholder, .. } => {
                    let value = values
                        .get(placeholder)
                        .ok_or(TemplateError::MissingValue { placeholder })?;
                    encoding::encode_into(&mut out, value, None);
                }
            }
        }
        Ok(out)
    }
}

impl fmt::Debug for KpUrlTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("KpUrlTemplate")
            .field(&redact_query(&self.raw))
            .finish()
    }
}

/// The template redacted as in `Debug` (the `authorization` URL may carry a per-session
/// secret); the text itself is [`KpUrlTemplate::as_str`].
impl fmt::Display for KpUrlTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact_query(&self.raw))
    }
}

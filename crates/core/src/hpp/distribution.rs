//! Sending the payment link to the consumer (`DistributionRequestV1`).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{ValidationError, ValidationProblem};
use crate::open_enum::open_enum;

open_enum! {
    /// How the link is sent (`method`, lowercase on the wire).
    pub enum DistributionMethod {
        /// By SMS to `phone` in `phone_country`.
        Sms = "sms",
        /// By e-mail to `email`.
        Email = "email",
        /// Connect the session to an `access_id` shown as a QR code to the consumer.
        Token = "token",
    }
}

open_enum! {
    /// The message template (`template`); Klarna says it is not used and might be removed.
    pub enum DistributionTemplate {
        /// In-store purchase.
        InstorePurchase = "INSTORE_PURCHASE",
    }
}

/// Body of `POST /hpp/v1/sessions/{id}/distribution`. Build it with [`DistributionRequest::email`],
/// [`DistributionRequest::sms`] or [`DistributionRequest::token`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DistributionRequest {
    /// How to send the link.
    pub method: DistributionMethod,
    /// Where to send it.
    pub contact_information: DistributionContact,
    /// Message template (unused by Klarna).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<DistributionTemplate>,
}

impl DistributionRequest {
    /// Send the link by e-mail.
    pub fn email(address: impl Into<String>) -> Self {
        Self::with(
            DistributionMethod::Email,
            DistributionContact {
                email: Some(address.into()),
                ..DistributionContact::default()
            },
        )
    }

    /// Send the link by SMS to `phone` (e.g. `07000212345`) in `phone_country` (ISO alpha-2).
    pub fn sms(phone: impl Into<String>, phone_country: impl Into<String>) -> Self {
        Self::with(
            DistributionMethod::Sms,
            DistributionContact {
                phone: Some(phone.into()),
                phone_country: Some(phone_country.into()),
                ..DistributionContact::default()
            },
        )
    }

    /// Connect the session to the consumer's `access_id` (from the QR code they were shown).
    pub fn token(access_id: impl Into<String>) -> Self {
        Self::with(
            DistributionMethod::Token,
            DistributionContact {
                access_id: Some(access_id.into()),
                ..DistributionContact::default()
            },
        )
    }

    fn with(method: DistributionMethod, contact_information: DistributionContact) -> Self {
        Self {
            method,
            contact_information,
            template: None,
        }
    }

    /// The method's contact field is present and well-formed. Unknown methods are not checked.
    pub(super) fn validate(&self) -> Result<(), ValidationError> {
        let contact = &self.contact_information;
        match self.method {
            DistributionMethod::Email => {
                let email = required("contact_information.email", contact.email.as_deref())?;
                let well_formed = email.split_once('@').is_some_and(|(local, domain)| {
                    !local.is_empty() && !domain.is_empty() && !domain.contains('@')
                }) && !email.chars().any(|c| c.is_whitespace() || c.is_control());
                if !well_formed {
                    return Err(ValidationError::new(
                        "contact_information.email",
                        ValidationProblem::Pattern {
                            expected: "an e-mail address (local@domain)",
                        },
                    ));
                }
            }
            DistributionMethod::Sms => {
                let phone = required("contact_information.phone", contact.phone.as_deref())?;
                let digits = phone.bytes().filter(u8::is_ascii_digit).count();
                if digits == 0
                    || !phone
                        .bytes()
                        .all(|b| b.is_ascii_digit() || b"+ -()".contains(&b))
                {
                    return Err(ValidationError::new(
                        "contact_information.phone",
                        ValidationProblem::Pattern {
                            expected:
                                "a phone number (digits, optionally +, spaces, dashes, parentheses)",
                        },
                    ));
                }
                let country = required(
                    "contact_information.phone_country",
                    contact.phone_country.as_deref(),
                )?;
                if !(country.len() == 2 && country.bytes().all(|b| b.is_ascii_alphabetic())) {
                    return Err(ValidationError::new(
                        "contact_information.phone_country",
                        ValidationProblem::Pattern {
                            expected: "two ASCII letters (ISO 3166-1 alpha-2)",
                        },
                    ));
                }
            }
            DistributionMethod::Token => {
                required(
                    "contact_information.access_id",
                    contact.access_id.as_deref(),
                )?;
            }
            DistributionMethod::Unknown(_) => {}
        }
        Ok(())
    }
}

fn required<'a>(field: &'static str, value: Option<&'a str>) -> Result<&'a str, ValidationError> {
    match value {
        None => Err(ValidationError::new(field, ValidationProblem::Missing)),
        Some(v) if v.trim().is_empty() => {
            Err(ValidationError::new(field, ValidationProblem::Empty))
        }
        Some(v) => Ok(v),
    }
}

/// `contact_information` (`DistributionContactV1`). `Debug` never shows the values.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DistributionContact {
    /// E-mail address (method `email`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Phone number (method `sms`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// ISO 3166-1 alpha-2 country of the phone number (method `sms`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_country: Option<String>,
    /// Access id (method `token`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_id: Option<String>,
}

impl fmt::Debug for DistributionContact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |v: &Option<String>| v.as_ref().map(|_| "[redacted]");
        f.debug_struct("DistributionContact")
            .field("email", &redacted(&self.email))
            .field("phone", &redacted(&self.phone))
            .field("phone_country", &self.phone_country)
            .field("access_id", &redacted(&self.access_id))
            .finish()
    }
}

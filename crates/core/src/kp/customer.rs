//! The consumer: `customer` (request), `customer_read` (session read) and
//! `customer_read_create_token` (customer-token response) share one lenient type.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{ValidationError, ValidationProblem};
use crate::open_enum::open_enum;

open_enum! {
    /// Whether the customer is a person or an organization (`customer.type`).
    pub enum CustomerType {
        /// A private person (B2C).
        Person = "person",
        /// A company or other organization (B2B).
        Organization = "organization",
    }
}

open_enum! {
    /// The legal form of an organization (`customer.organization_entity_type`).
    pub enum OrganizationEntityType {
        /// Limited company.
        LimitedCompany = "LIMITED_COMPANY",
        /// Public limited company.
        PublicLimitedCompany = "PUBLIC_LIMITED_COMPANY",
        /// Entrepreneurial company.
        EntrepreneurialCompany = "ENTREPRENEURIAL_COMPANY",
        /// Limited partnership limited company.
        LimitedPartnershipLimitedCompany = "LIMITED_PARTNERSHIP_LIMITED_COMPANY",
        /// Limited partnership.
        LimitedPartnership = "LIMITED_PARTNERSHIP",
        /// General partnership.
        GeneralPartnership = "GENERAL_PARTNERSHIP",
        /// Registered sole trader.
        RegisteredSoleTrader = "REGISTERED_SOLE_TRADER",
        /// Sole trader.
        SoleTrader = "SOLE_TRADER",
        /// Civil law partnership.
        CivilLawPartnership = "CIVIL_LAW_PARTNERSHIP",
        /// Public institution.
        PublicInstitution = "PUBLIC_INSTITUTION",
        /// Other.
        Other = "OTHER",
    }
}

/// Information about the consumer (KP `customer`). Customer data: `Debug` shows only the
/// customer type and organization entity type.
///
/// Klarna returns a subset on reads (`customer_read` without national id or SSN, and only
/// `date_of_birth` and `gender` with a customer token); the same type decodes all of them.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[non_exhaustive]
pub struct Customer {
    /// Date of birth, `YYYY-MM-DD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    /// Gender, e.g. `male`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    /// The last four (or all nine) digits of a US social security number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_four_ssn: Option<String>,
    /// National identification number (Nordics).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub national_identification_number: Option<String>,
    /// Legal form of an organization (B2B).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_entity_type: Option<OrganizationEntityType>,
    /// Organization registration id (B2B).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organization_registration_id: Option<String>,
    /// Title, e.g. `Mr.`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Person or organization.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<CustomerType>,
    /// VAT id (B2B).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vat_id: Option<String>,
}

impl fmt::Debug for Customer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Customer")
            .field("type", &self.kind)
            .field("organization_entity_type", &self.organization_entity_type)
            .field("details", &"[redacted]")
            .finish()
    }
}

impl Customer {
    /// Checks the documented forms: `date_of_birth` is `YYYY-MM-DD`, `last_four_ssn` is 4 or 9
    /// digits, `type` is `person` or `organization` (the spec's pattern, so no unknown value).
    pub fn validate(&self, path: &str) -> Result<(), ValidationError> {
        let pattern = |name: &str, expected: &'static str| {
            ValidationError::new(
                format!("{path}.{name}"),
                ValidationProblem::Pattern { expected },
            )
        };
        if let Some(dob) = &self.date_of_birth {
            let b = dob.as_bytes();
            let ok = b.len() == 10
                && b.iter().enumerate().all(|(i, c)| {
                    if i == 4 || i == 7 {
                        *c == b'-'
                    } else {
                        c.is_ascii_digit()
                    }
                });
            if !ok {
                return Err(pattern("date_of_birth", "a date YYYY-MM-DD"));
            }
        }
        if let Some(ssn) = &self.last_four_ssn {
            if !matches!(ssn.len(), 4 | 9) || !ssn.bytes().all(|c| c.is_ascii_digit()) {
                return Err(pattern("last_four_ssn", "4 or 9 digits"));
            }
        }
        if let Some(CustomerType::Unknown(_)) = &self.kind {
            return Err(pattern("type", "person or organization"));
        }
        Ok(())
    }
}

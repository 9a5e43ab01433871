//! The create-session request (`SessionCreationRequestV1`) and its validation.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

use super::{PaymentMethodCategory, PlaceOrderMode, PurchaseType, ShowSubtotalDetail};
use crate::config::is_loopback_host;
use crate::error::{Error, ValidationError, ValidationProblem};
use crate::template::{redact_query, TemplateError, UrlKind, UrlTemplate};

/// The longest `options.page_title` accepted (Klarna's general string limit).
const PAGE_TITLE_MAX: usize = 255;

/// Body of `POST /hpp/v1/sessions` (`SessionCreationRequestV1`).
///
/// Serialized through `SessionCreationBody`, its borrowed wire form. `Debug` shows URLs through
/// the crate's URL redaction.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct SessionCreationRequest {
    /// Full API URL of the KP session, e.g. `https://api.klarna.com/payments/v1/sessions/<id>`.
    pub payment_session_url: String,
    /// Where the consumer is sent back, and the status callback.
    #[serde(default)]
    pub merchant_urls: Option<MerchantUrls>,
    /// Page options.
    #[serde(default)]
    pub options: Option<Options>,
    /// Distribution-module profile id for default session options.
    #[serde(default)]
    pub profile_id: Option<String>,
}

impl fmt::Debug for SessionCreationRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionCreationRequest")
            .field(
                "payment_session_url",
                &redact_query(&self.payment_session_url),
            )
            .field("merchant_urls", &self.merchant_urls)
            .field("options", &self.options)
            .field("profile_id", &self.profile_id)
            .finish()
    }
}

/// The wire form of [`SessionCreationRequest`], borrowing its parts: the one place its JSON
/// shape is defined. A checkout serializes its HPP session request through it without copying
/// its merchant URLs and options.
#[derive(Serialize)]
pub(crate) struct SessionCreationBody<'a> {
    pub(crate) payment_session_url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) merchant_urls: Option<&'a MerchantUrls>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) options: Option<&'a Options>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) profile_id: Option<&'a str>,
}

impl Serialize for SessionCreationRequest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.body().serialize(serializer)
    }
}

impl SessionCreationRequest {
    /// The borrowed wire form.
    pub(crate) fn body(&self) -> SessionCreationBody<'_> {
        SessionCreationBody {
            payment_session_url: &self.payment_session_url,
            merchant_urls: self.merchant_urls.as_ref(),
            options: self.options.as_ref(),
            profile_id: self.profile_id.as_deref(),
        }
    }

    /// A request hosting the KP session at `payment_session_url`, without URLs or options.
    pub fn new(payment_session_url: impl Into<String>) -> Self {
        Self {
            payment_session_url: payment_session_url.into(),
            merchant_urls: None,
            options: None,
            profile_id: None,
        }
    }

    /// The `place_order_mode` in effect: the one set in `options`, or `NONE`.
    pub fn place_order_mode(&self) -> PlaceOrderMode {
        self.options
            .as_ref()
            .and_then(|o| o.place_order_mode.clone())
            .unwrap_or_default()
    }

    /// Checks the request against Klarna's rules (see [`CreateSession`](super::CreateSession)).
    pub(crate) fn validate(&self) -> Result<(), Error> {
        check_url("payment_session_url", &self.payment_session_url)?;
        if let Some(urls) = &self.merchant_urls {
            urls.validate(&self.place_order_mode())?;
        }
        if let Some(options) = &self.options {
            options.validate()?;
        }
        Ok(())
    }
}

/// `merchant_urls` (`MerchantUrlsV1`): `{{placeholder}}` templates (see [`UrlTemplate`]).
///
/// `Debug` shows each URL through the crate's URL redaction: origin and plain path, never the
/// query, fragment or parameters (the status callback URL carries a secret).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MerchantUrls {
    /// After a successful authorization. With `NONE`, `{{authorization_token}}` delivers the token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success: Option<String>,
    /// The consumer cancelled (in eCommerce treated like `back`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel: Option<String>,
    /// The consumer pressed Back. Klarna shows either Back or Cancel, not both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub back: Option<String>,
    /// Klarna refused the payment (also used for errors when `error` is absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// A technical error in the flow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Server-to-server status callback (POST); must be https.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_update: Option<String>,
}

impl MerchantUrls {
    /// Sets the URL of one kind (a `{{placeholder}}` template).
    pub fn with(mut self, kind: UrlKind, url: impl Into<String>) -> Self {
        let slot = match kind {
            UrlKind::Success => &mut self.success,
            UrlKind::Cancel => &mut self.cancel,
            UrlKind::Back => &mut self.back,
            UrlKind::Failure => &mut self.failure,
            UrlKind::Error => &mut self.error,
            UrlKind::StatusUpdate => &mut self.status_update,
        };
        *slot = Some(url.into());
        self
    }

    /// The URL of one kind.
    pub fn get(&self, kind: UrlKind) -> Option<&str> {
        match kind {
            UrlKind::Success => self.success.as_deref(),
            UrlKind::Cancel => self.cancel.as_deref(),
            UrlKind::Back => self.back.as_deref(),
            UrlKind::Failure => self.failure.as_deref(),
            UrlKind::Error => self.error.as_deref(),
            UrlKind::StatusUpdate => self.status_update.as_deref(),
        }
    }

    /// The URLs that are set, in `merchant_urls` order.
    pub fn iter(&self) -> impl Iterator<Item = (UrlKind, &str)> + '_ {
        UrlKind::ALL
            .into_iter()
            .filter_map(move |kind| self.get(kind).map(|url| (kind, url)))
    }

    /// Every URL parses as a template, is https (http for loopback hosts) and uses only the
    /// placeholders allowed for its kind under `mode`.
    pub(crate) fn validate(&self, mode: &PlaceOrderMode) -> Result<(), Error> {
        for (kind, url) in self.iter() {
            let field = field_name(kind);
            if url.is_empty() {
                return Err(ValidationError::new(field, ValidationProblem::Empty).into());
            }
            let template = UrlTemplate::parse(url).map_err(|e| TemplateError::InMerchantUrl {
                kind,
                source: Box::new(e),
            })?;
            if !template.is_https() && !is_loopback_host(template.host()) {
                return Err(ValidationError::new(field, ValidationProblem::NotHttps).into());
            }
            template.check(kind, mode)?;
        }
        Ok(())
    }
}

fn field_name(kind: UrlKind) -> &'static str {
    match kind {
        UrlKind::Success => "merchant_urls.success",
        UrlKind::Cancel => "merchant_urls.cancel",
        UrlKind::Back => "merchant_urls.back",
        UrlKind::Failure => "merchant_urls.failure",
        UrlKind::Error => "merchant_urls.error",
        UrlKind::StatusUpdate => "merchant_urls.status_update",
    }
}

impl fmt::Debug for MerchantUrls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("MerchantUrls");
        for kind in UrlKind::ALL {
            s.field(kind.field_name(), &self.get(kind).map(redact_query));
        }
        s.finish()
    }
}

/// `options` (`OptionsV1`): how the page looks and what it does on success. `Debug` shows URLs
/// through the crate's URL redaction.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Options {
    /// What HPP does on success; absent means `NONE`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place_order_mode: Option<PlaceOrderMode>,
    /// Show a single category. Never together with `payment_method_categories`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method_category: Option<PaymentMethodCategory>,
    /// Show these categories. Never together with `payment_method_category`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_method_categories: Option<Vec<PaymentMethodCategory>>,
    /// Offer the other categories before the rejection flow (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_fallback: Option<bool>,
    /// The type of purchase.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purchase_type: Option<PurchaseType>,
    /// Logo shown on the page (https).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    /// Page title (≤255 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_title: Option<String>,
    /// Background images; HPP picks the best width.
    #[serde(
        default,
        deserialize_with = "null_as_empty",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub background_images: Vec<BackgroundImage>,
    /// Hide the subtotal detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_subtotal_detail: Option<ShowSubtotalDetail>,
}

impl Options {
    /// Sets `place_order_mode`.
    pub fn with_place_order_mode(mut self, mode: PlaceOrderMode) -> Self {
        self.place_order_mode = Some(mode);
        self
    }

    /// Shows a single payment category.
    pub fn with_payment_method_category(mut self, category: PaymentMethodCategory) -> Self {
        self.payment_method_category = Some(category);
        self
    }

    /// Sets `payment_fallback`.
    pub fn with_payment_fallback(mut self, fallback: bool) -> Self {
        self.payment_fallback = Some(fallback);
        self
    }

    /// Sets the page title.
    pub fn with_page_title(mut self, title: impl Into<String>) -> Self {
        self.page_title = Some(title.into());
        self
    }

    pub(crate) fn validate(&self) -> Result<(), ValidationError> {
        if let Some(categories) = &self.payment_method_categories {
            if self.payment_method_category.is_some() {
                return Err(ValidationError::new(
                    "options.payment_method_categories",
                    ValidationProblem::MutuallyExclusive {
                        other: "options.payment_method_category",
                    },
                ));
            }
            if categories.is_empty() {
                // An empty list would mean "show nothing"; leave the field out to show all.
                return Err(ValidationError::new(
                    "options.payment_method_categories",
                    ValidationProblem::Empty,
                ));
            }
        }
        if let Some(logo) = &self.logo_url {
            check_url("options.logo_url", logo)?;
        }
        for (i, image) in self.background_images.iter().enumerate() {
            check_url(&format!("options.background_images[{i}].url"), &image.url)?;
            if let Some(width) = image.width {
                if width <= 0 {
                    return Err(ValidationError::new(
                        format!("options.background_images[{i}].width"),
                        ValidationProblem::NotPositive { actual: width },
                    ));
                }
            }
        }
        if let Some(title) = &self.page_title {
            if title.chars().count() > PAGE_TITLE_MAX {
                return Err(ValidationError::new(
                    "options.page_title",
                    ValidationProblem::TooLong {
                        max: PAGE_TITLE_MAX,
                    },
                ));
            }
        }
        Ok(())
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("place_order_mode", &self.place_order_mode)
            .field("payment_method_category", &self.payment_method_category)
            .field("payment_method_categories", &self.payment_method_categories)
            .field("payment_fallback", &self.payment_fallback)
            .field("purchase_type", &self.purchase_type)
            .field("logo_url", &crate::redact::opt_url(&self.logo_url))
            .field("page_title", &self.page_title)
            .field("background_images", &self.background_images)
            .field("show_subtotal_detail", &self.show_subtotal_detail)
            .finish()
    }
}

/// One background image (`BackgroundImageV1`). `Debug` shows the URL through the crate's URL
/// redaction.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BackgroundImage {
    /// Image URL (https).
    pub url: String,
    /// Width in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<i64>,
}

impl BackgroundImage {
    /// An image of the given width.
    pub fn new(url: impl Into<String>, width: i64) -> Self {
        Self {
            url: url.into(),
            width: Some(width),
        }
    }
}

impl fmt::Debug for BackgroundImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BackgroundImage")
            .field("url", &redact_query(&self.url))
            .field("width", &self.width)
            .finish()
    }
}

/// `null` decodes as an empty list.
fn null_as_empty<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// An absolute URL that is https, or http on a loopback host.
pub(super) fn check_url(field: &str, url: &str) -> Result<(), ValidationError> {
    let problem = |p| Err(ValidationError::new(field, p));
    let Ok(uri) = url.parse::<http::Uri>() else {
        return problem(ValidationProblem::NotAbsoluteUrl);
    };
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        return problem(ValidationProblem::NotAbsoluteUrl);
    };
    if authority.host().is_empty() {
        return problem(ValidationProblem::NotAbsoluteUrl);
    }
    if scheme.eq_ignore_ascii_case("https") {
        Ok(())
    } else if scheme.eq_ignore_ascii_case("http") {
        if is_loopback_host(authority.host()) {
            Ok(())
        } else {
            problem(ValidationProblem::NotHttps)
        }
    } else {
        problem(ValidationProblem::NotHttps)
    }
}

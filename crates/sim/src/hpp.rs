//! The Hosted Payment Page API v1: create, read, disable and distribute sessions, and the status
//! changes (with their callbacks) every other part of the emulator goes through.

use serde_json::{json, Value};

use crate::api::{ApiError, CallbackJob, Ctx, Family, Reply};
use crate::clock::{format, Millis, HOUR};
use crate::ids::{Id, IdKind};
use crate::records::SentMessage;
use crate::rules::{
    is_acceptable_merchant_url, render_template, uppercase_enums, Categories, Category,
    Placeholders,
};
use crate::schema::Spec;
use crate::state::{HppSession, HppStatus, MerchantUrls, PageOptions, PlaceOrderMode, State};

const MERCHANT_URL_KEYS: [&str; 6] = [
    "success",
    "cancel",
    "back",
    "failure",
    "error",
    "status_update",
];

fn not_found() -> ApiError {
    ApiError::new(
        404,
        "NOT_FOUND",
        "HPP session has expired or could not be found by provided id.",
    )
}

fn payment_session_expired() -> ApiError {
    ApiError::new(404, "NOT_FOUND", "Payment session has expired.")
}

/// The KP session id in a `payment_session_url` (`…/payments/v1/sessions/{id}`).
fn kp_session_id(url: &str) -> Option<&str> {
    crate::rules::scheme_and_host(url)?;
    let (_, id) = url.split_once("/payments/v1/sessions/")?;
    let id = id.trim_end_matches('/');
    if id.is_empty() || id.contains(['/', '?', '#']) {
        None
    } else {
        Some(id)
    }
}

impl MerchantUrls {
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        match key {
            "success" => self.success.as_deref(),
            "cancel" => self.cancel.as_deref(),
            "back" => self.back.as_deref(),
            "failure" => self.failure.as_deref(),
            "error" => self.error.as_deref(),
            "status_update" => self.status_update.as_deref(),
            _ => None,
        }
    }
}

impl HppSession {
    /// The values of `{{session_id}}`, `{{authorization_token}}`, `{{order_id}}`.
    pub(crate) fn placeholders(&self, id: Id) -> Placeholders {
        Placeholders {
            session_id: id.to_string(),
            authorization_token: self.authorization_token.map(|t| t.to_string()),
            order_id: self.order_id.map(|o| o.to_string()),
        }
    }

    /// A merchant URL with its placeholders rendered.
    pub(crate) fn merchant_url(&self, id: Id, key: &str) -> Option<String> {
        let template = self.urls.as_ref()?.get(key)?;
        Some(render_template(template, &self.placeholders(id)))
    }
}

impl State {
    /// An HPP session that exists and has not expired.
    pub(crate) fn live_hpp(&self, id: &str, now: Millis) -> Option<Id> {
        let id: Id = id.parse().ok()?;
        self.hpp.get(&id).filter(|s| s.expires_at > now).map(|_| id)
    }

    /// `SessionResponseV1`: what GET returns and what callbacks carry.
    pub(crate) fn hpp_session_json(&self, id: Id, s: &HppSession) -> Value {
        let mut v = json!({
            "session_id": id.to_string(),
            "status": s.status.as_str(),
            "updated_at": format(s.updated_at),
            "expires_at": format(s.expires_at),
        });
        if let Some(t) = s.authorization_token {
            v["authorization_token"] = json!(t.to_string());
        }
        if let Some(o) = s.order_id {
            v["order_id"] = json!(o.to_string());
            if let Some(order) = self.orders.get(&o) {
                v["klarna_reference"] = json!(order.klarna_reference);
            }
        }
        v
    }

    /// Moves a session to `status`; on a change, stamps `updated_at` (now, or 1 ms after the
    /// last stamp when the clock has not moved since) and queues the status callback. Returns whether the status changed.
    pub(crate) fn set_hpp_status(&mut self, cx: &mut Ctx<'_>, id: Id, status: HppStatus) -> bool {
        let Some(s) = self.hpp.get_mut(&id) else {
            return false;
        };
        if s.status == status {
            return false;
        }
        s.status = status;
        // Every change moves `updated_at`, also on a frozen clock or twice in one millisecond.
        s.updated_at = cx.now.max(s.updated_at.saturating_add(1));
        let Some(s) = self.hpp.get(&id) else {
            return false;
        };
        if let Some(url) = s.merchant_url(id, "status_update") {
            let event_id = cx.id(IdKind::Event).to_string();
            cx.fx.callbacks.push(CallbackJob {
                session_id: id.to_string(),
                status: status.as_str(),
                url,
                body: json!({"event_id": event_id, "session": self.hpp_session_json(id, s)}),
            });
        }
        true
    }

    pub(crate) fn hpp_create_session(
        &mut self,
        cx: &mut Ctx<'_>,
        body: &[u8],
    ) -> Result<Reply, ApiError> {
        let bad = |path: &str| ApiError::bad_value(Family::Hpp, path);
        let mut v = cx.parse(Family::Hpp, body)?;
        if let Some(options) = v.get_mut("options") {
            uppercase_enums(
                options,
                &[
                    "place_order_mode",
                    "payment_method_category",
                    "payment_method_categories",
                    "purchase_type",
                    "show_subtotal_detail",
                ],
            );
        }
        cx.validate(Family::Hpp, Spec::Hpp, "SessionCreationRequestV1", &mut v)?;
        let options = v.get("options").cloned().unwrap_or_else(|| json!({}));
        let single = options
            .get("payment_method_category")
            .and_then(Value::as_str);
        let list = options
            .get("payment_method_categories")
            .and_then(Value::as_array);
        if single.is_some() && list.is_some() {
            return Err(ApiError::new(
                400,
                "CONSTRAINT_VIOLATION",
                "Bad value: options.payment_method_category and options.payment_method_categories are mutually exclusive",
            ));
        }
        let urls = v.get("merchant_urls").cloned().unwrap_or_else(|| json!({}));
        for key in MERCHANT_URL_KEYS {
            if let Some(url) = urls.get(key).and_then(Value::as_str) {
                if !is_acceptable_merchant_url(url) {
                    return Err(bad(&format!("merchant_urls.{key}")));
                }
            }
        }
        if let Some(url) = options.get("logo_url").and_then(Value::as_str) {
            if !is_acceptable_merchant_url(url) {
                return Err(bad("options.logo_url"));
            }
        }
        for (i, img) in options
            .get("background_images")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            if let Some(url) = img.get("url").and_then(Value::as_str) {
                if !is_acceptable_merchant_url(url) {
                    return Err(bad(&format!("options.background_images[{i}].url")));
                }
            }
        }
        let psu = v
            .get("payment_session_url")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let kp_id = kp_session_id(psu).ok_or_else(|| bad("payment_session_url"))?;
        let (kp_id, kp) = self
            .live_kp(kp_id, cx.now)
            .ok_or_else(payment_session_expired)?;
        if kp.complete {
            return Err(ApiError::new(
                400,
                "CONSTRAINT_VIOLATION",
                "Payment session has already been completed.",
            ));
        }
        let expires_at = kp.expires_at - HOUR;
        if expires_at <= cx.now {
            return Err(payment_session_expired());
        }
        let offered = cx.env.categories;
        let allowed = if let Some(c) = single {
            let c = Category::parse(c).filter(|c| offered.contains(*c));
            [c.ok_or_else(|| bad("options.payment_method_category"))?]
                .into_iter()
                .collect()
        } else if let Some(list) = list {
            let mut set = Categories::default();
            for (i, c) in list.iter().enumerate() {
                let c = c
                    .as_str()
                    .and_then(Category::parse)
                    .filter(|c| offered.contains(*c))
                    .ok_or_else(|| bad(&format!("options.payment_method_categories[{i}]")))?;
                set.insert(c);
            }
            if set.is_empty() {
                return Err(bad("options.payment_method_categories"));
            }
            set
        } else {
            offered
        };
        let mode = match options.get("place_order_mode").and_then(Value::as_str) {
            Some("PLACE_ORDER") => PlaceOrderMode::PlaceOrder,
            Some("CAPTURE_ORDER") => PlaceOrderMode::CaptureOrder,
            _ => PlaceOrderMode::None,
        };
        let text = |v: &Value, key: &str| v.get(key).and_then(Value::as_str).map(Box::from);
        let merchant_urls = MerchantUrls {
            success: text(&urls, "success"),
            cancel: text(&urls, "cancel"),
            back: text(&urls, "back"),
            failure: text(&urls, "failure"),
            error: text(&urls, "error"),
            status_update: text(&urls, "status_update"),
        };
        let any_url = MERCHANT_URL_KEYS
            .iter()
            .any(|k| merchant_urls.get(k).is_some());
        let page = PageOptions {
            page_title: text(&options, "page_title"),
            logo_url: text(&options, "logo_url"),
            purchase_type: text(&options, "purchase_type"),
            hide_subtotal: options.get("show_subtotal_detail").and_then(Value::as_str)
                == Some("HIDE"),
        };
        let any_page = page.page_title.is_some()
            || page.logo_url.is_some()
            || page.purchase_type.is_some()
            || page.hide_subtotal;
        let urls = any_url.then(|| self.intern_urls(merchant_urls));
        let page = any_page.then(|| self.intern_page(page));
        let id = cx.id(IdKind::HppSession);
        self.hpp.insert(
            id,
            HppSession {
                kp: kp_id,
                status: HppStatus::Waiting,
                mode,
                payment_fallback: options
                    .get("payment_fallback")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                allowed,
                declined: Categories::default(),
                updated_at: cx.now,
                expires_at,
                authorization_token: None,
                order_id: None,
                urls,
                page,
            },
        );
        let sid = id.to_string();
        let distribution = cx.id(IdKind::Distribution);
        Ok(Reply::json(
            201,
            &json!({
                "session_id": sid,
                "session_url": cx.url(&format!("/hpp/v1/sessions/{sid}")),
                "redirect_url": cx.url(&format!("/hpp/pay/{sid}")),
                "qr_code_url": cx.url(&format!("/hpp/pay/{sid}/qr")),
                "distribution_url": cx.url(&format!("/hpp/v1/sessions/{sid}/distribution")),
                "manual_identification_check_url": cx.url(&format!("/hpp/v1/sessions/{sid}/manual-id-check")),
                "expires_at": format(expires_at),
                "distribution_module": {
                    "token": distribution.to_string(),
                    "standalone_url": cx.url(&format!(
                        "/hpp/distributions/{distribution}?profile_id={{{{profile_id}}}}&view_id={{{{view_id}}}}"
                    )),
                    "generation_url": cx.url(&format!("/hpp/v1/sessions/{sid}/distribution-module/token")),
                },
            }),
        ))
    }

    pub(crate) fn hpp_read_session(
        &mut self,
        cx: &mut Ctx<'_>,
        id: &str,
    ) -> Result<Reply, ApiError> {
        let id = self.live_hpp(id, cx.now).ok_or_else(not_found)?;
        let s = self.hpp.get(&id).ok_or_else(not_found)?;
        Ok(Reply::json(200, &self.hpp_session_json(id, s)))
    }

    pub(crate) fn hpp_disable_session(
        &mut self,
        cx: &mut Ctx<'_>,
        id: &str,
    ) -> Result<Reply, ApiError> {
        let id = self.live_hpp(id, cx.now).ok_or_else(not_found)?;
        let status = self.hpp.get(&id).map(|s| s.status).ok_or_else(not_found)?;
        match status {
            HppStatus::Completed => Err(ApiError::new(
                400,
                "INVALID_OPERATION",
                "HPP session has already been successfully completed.",
            )),
            HppStatus::Cancelled => Err(ApiError::new(
                400,
                "INVALID_OPERATION",
                "HPP session has been cancelled by the consumer.",
            )),
            _ => {
                self.set_hpp_status(cx, id, HppStatus::Disabled);
                Ok(Reply::empty(204))
            }
        }
    }

    pub(crate) fn hpp_distribute_session(
        &mut self,
        cx: &mut Ctx<'_>,
        id: &str,
        body: &[u8],
    ) -> Result<Reply, ApiError> {
        let id = self.live_hpp(id, cx.now).ok_or_else(not_found)?;
        let mut v = cx.parse(Family::Hpp, body)?;
        if let Some(Value::String(m)) = v.get_mut("method") {
            *m = m.to_ascii_lowercase();
        }
        uppercase_enums(&mut v, &["template"]);
        // The spec lists sample access ids as an enum; any string is an access id.
        let access_id = v
            .get_mut("contact_information")
            .and_then(Value::as_object_mut)
            .and_then(|c| c.remove("access_id"))
            .filter(|a| !a.is_null());
        if access_id.as_ref().is_some_and(|a| !a.is_string()) {
            return Err(ApiError::bad_value(
                Family::Hpp,
                "contact_information.access_id",
            ));
        }
        cx.validate(Family::Hpp, Spec::Hpp, "DistributionRequestV1", &mut v)?;
        let status = self.hpp.get(&id).map(|s| s.status).ok_or_else(not_found)?;
        match status {
            HppStatus::Disabled => {
                return Err(ApiError::new(
                    400,
                    "CONSTRAINT_VIOLATION",
                    "HPP session has been disabled by the merchant.",
                ))
            }
            HppStatus::Completed | HppStatus::Cancelled => {
                return Err(ApiError::new(
                    400,
                    "CONSTRAINT_VIOLATION",
                    format!("HPP session is {}.", status.as_str()),
                ))
            }
            _ => {}
        }
        let contact = v.get("contact_information").cloned().unwrap_or_default();
        let field = |k: &str| {
            contact
                .get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
        };
        let missing = |k: &str| {
            ApiError::new(
                400,
                "MISSING_CONTACT_DATA",
                format!("Missing contact_information.{k}"),
            )
        };
        let method = v
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let (recipient, phone_country) = match method.as_str() {
            "email" => {
                let email = field("email").ok_or_else(|| missing("email"))?;
                let valid = email.split_once('@').is_some_and(|(local, domain)| {
                    !local.is_empty() && domain.contains('.') && !domain.ends_with('.')
                });
                if !valid {
                    return Err(ApiError::bad_value(
                        Family::Hpp,
                        "contact_information.email",
                    ));
                }
                (email.to_owned(), None)
            }
            "sms" => {
                let phone = field("phone").ok_or_else(|| missing("phone"))?;
                let country = field("phone_country").ok_or_else(|| missing("phone_country"))?;
                if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_alphabetic()) {
                    return Err(ApiError::new(
                        400,
                        "UNSUPPORTED_COUNTRY",
                        format!("Phone country {country} is not supported"),
                    ));
                }
                let digits = phone.bytes().filter(u8::is_ascii_digit).count();
                let allowed = phone
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b" +-()".contains(&b));
                if digits < 6 || !allowed {
                    return Err(ApiError::bad_value(
                        Family::Hpp,
                        "contact_information.phone",
                    ));
                }
                (phone.to_owned(), Some(country.to_ascii_uppercase()))
            }
            _ => {
                let access = access_id
                    .as_ref()
                    .and_then(Value::as_str)
                    .filter(|s| !s.trim().is_empty())
                    .ok_or_else(|| missing("access_id"))?;
                (access.to_owned(), None)
            }
        };
        let link = cx.url(&format!("/hpp/pay/{id}"));
        cx.fx.messages.push(SentMessage {
            seq: 0,
            at: format(cx.now),
            session_id: id.to_string(),
            text: format!("Complete your purchase with Klarna: {link}"),
            method,
            recipient,
            phone_country,
            link,
        });
        Ok(Reply::empty(201))
    }
}

#[cfg(test)]
mod tests {
    use super::kp_session_id;

    #[test]
    fn payment_session_urls() {
        assert_eq!(
            kp_session_id("https://api.klarna.com/payments/v1/sessions/abc"),
            Some("abc")
        );
        assert_eq!(
            kp_session_id("http://127.0.0.1:9/payments/v1/sessions/abc/"),
            Some("abc")
        );
        assert_eq!(kp_session_id("https://x/checkout/v3/orders/abc"), None);
        assert_eq!(kp_session_id("/payments/v1/sessions/abc"), None);
        assert_eq!(kp_session_id("https://x/payments/v1/sessions/a/b"), None);
    }
}

//! Klarna Payments v1: sessions, orders from authorization tokens, authorization release,
//! customer tokens.

use serde_json::{json, Map, Value};

use crate::api::{ApiError, Ctx, Family, Reply};
use crate::clock::{Millis, DAY, HOUR, MINUTE};
use crate::ids::{client_token, Id, IdKind};
use crate::rules::{check_amounts, Category};
use crate::schema::Spec;
use crate::state::{AuthState, Authorization, Capture, KpSession, Order, OrderStatus, State};

/// A KP session lives 48 hours after its last update.
pub(crate) const KP_SESSION_LIFETIME: Millis = 48 * HOUR;
/// An authorization token is valid for 60 minutes.
pub(crate) const AUTHORIZATION_LIFETIME: Millis = 60 * MINUTE;
/// An OM order can be captured for 28 days (the default authorization period).
pub(crate) const OM_AUTHORIZATION_PERIOD: Millis = 28 * DAY;

/// Fields Klarna sets; ignored on input.
const READ_ONLY: &[&str] = &[
    "client_token",
    "authorization_token",
    "expires_at",
    "status",
    "payment_method_categories",
];

/// The fields of a KP session (or create-order request) that an OM order keeps.
const ORDER_FIELDS: &[&str] = &[
    "purchase_country",
    "purchase_currency",
    "locale",
    "order_lines",
    "billing_address",
    "shipping_address",
    "merchant_reference1",
    "merchant_reference2",
    "merchant_data",
];

fn strip_read_only(v: &mut Value) {
    if let Some(obj) = v.as_object_mut() {
        for key in READ_ONLY {
            obj.remove(*key);
        }
    }
}

fn invalid_session() -> ApiError {
    ApiError::new(404, "NOT_FOUND", "Invalid session id")
}

fn invalid_token() -> ApiError {
    ApiError::new(404, "NOT_FOUND", "Invalid authorization token")
}

fn str_field<'a>(m: &'a Map<String, Value>, key: &str) -> &'a str {
    m.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// A KP `payment_method_categories` entry.
pub(crate) fn category_json(c: Category) -> Value {
    let asset = format!(
        "https://x.klarnacdn.net/payment-method/assets/badges/generic/{}.svg",
        c.kp_id()
    );
    json!({
        "identifier": c.kp_id(),
        "name": c.label(),
        "asset_urls": {"descriptive": asset, "standard": asset},
    })
}

impl State {
    /// A KP session that exists and has not expired.
    pub(crate) fn live_kp(&self, id: &str, now: Millis) -> Option<(Id, &KpSession)> {
        let id: Id = id.parse().ok()?;
        self.kp
            .get(&id)
            .filter(|s| s.expires_at > now)
            .map(|s| (id, s))
    }

    pub(crate) fn kp_create_session(
        &mut self,
        cx: &mut Ctx<'_>,
        body: &[u8],
    ) -> Result<Reply, ApiError> {
        let mut v = cx.parse(Family::Kp, body)?;
        strip_read_only(&mut v);
        cx.validate(Family::Kp, Spec::Payments, "session_create", &mut v)?;
        check_amounts(&v).map_err(|p| ApiError::bad_value(Family::Kp, &p))?;
        if let Some(obj) = v.as_object_mut() {
            obj.entry("locale").or_insert_with(|| json!("en-US"));
        }
        let id = cx.id(IdKind::KpSession);
        self.kp.insert(
            id,
            KpSession {
                data: v.to_string().into_boxed_str(),
                expires_at: cx.now.saturating_add(KP_SESSION_LIFETIME),
                complete: false,
            },
        );
        let categories: Vec<Value> = cx.env.categories.iter().map(category_json).collect();
        Ok(Reply::json(
            200,
            &json!({
                "session_id": id.to_string(),
                "client_token": client_token(id),
                "payment_method_categories": categories,
            }),
        ))
    }

    pub(crate) fn kp_read_session(
        &mut self,
        cx: &mut Ctx<'_>,
        id: &str,
    ) -> Result<Reply, ApiError> {
        let (id, s) = self.live_kp(id, cx.now).ok_or_else(invalid_session)?;
        let mut m = s.fields();
        if let Some(Value::Object(customer)) = m.get_mut("customer") {
            customer.remove("national_identification_number");
            customer.remove("last_four_ssn");
        }
        m.insert(
            "status".into(),
            json!(if s.complete { "complete" } else { "incomplete" }),
        );
        m.insert(
            "expires_at".into(),
            json!(crate::clock::format(s.expires_at)),
        );
        m.insert("client_token".into(), json!(client_token(id)));
        let categories: Vec<Value> = cx.env.categories.iter().map(category_json).collect();
        m.insert("payment_method_categories".into(), Value::Array(categories));
        Ok(Reply::json(200, &Value::Object(m)))
    }

    pub(crate) fn kp_update_session(
        &mut self,
        cx: &mut Ctx<'_>,
        id: &str,
        body: &[u8],
    ) -> Result<Reply, ApiError> {
        let (id, s) = self.live_kp(id, cx.now).ok_or_else(invalid_session)?;
        if s.complete {
            return Err(ApiError::new(
                404,
                "SESSION_COMPLETED",
                "Session has already been completed",
            ));
        }
        let mut v = cx.parse(Family::Kp, body)?;
        strip_read_only(&mut v);
        cx.validate(Family::Kp, Spec::Payments, "session", &mut v)?;
        let mut merged = s.fields();
        if let Value::Object(update) = v {
            merged.extend(update);
        }
        let merged = Value::Object(merged);
        check_amounts(&merged).map_err(|p| ApiError::bad_value(Family::Kp, &p))?;
        if let Some(s) = self.kp.get_mut(&id) {
            s.data = merged.to_string().into_boxed_str();
            s.expires_at = cx.now.saturating_add(KP_SESSION_LIFETIME);
        }
        Ok(Reply::empty(204))
    }

    /// `DELETE /payments/v1/sessions/{id}` (documented for in-store payments): the KP session
    /// is gone, and its open HPP sessions follow it to CANCELLED.
    pub(crate) fn kp_cancel_session(
        &mut self,
        cx: &mut Ctx<'_>,
        id: &str,
    ) -> Result<Reply, ApiError> {
        let (id, s) = self.live_kp(id, cx.now).ok_or_else(invalid_session)?;
        if s.complete {
            return Err(ApiError::new(
                404,
                "SESSION_COMPLETED",
                "Session has already been completed",
            ));
        }
        self.kp.remove(&id);
        let mut open: Vec<Id> = self
            .hpp
            .iter()
            .filter(|(_, h)| h.kp == id && !h.status.is_final())
            .map(|(k, _)| *k)
            .collect();
        open.sort();
        for hpp in open {
            self.set_hpp_status(cx, hpp, crate::state::HppStatus::Cancelled);
        }
        Ok(Reply::empty(204))
    }

    /// Issues an authorization token for a KP session (the consumer was approved).
    pub(crate) fn authorize(&mut self, cx: &Ctx<'_>, kp: Id, category: Category) -> Id {
        let token = cx.id(IdKind::AuthorizationToken);
        self.auths.insert(
            token,
            Authorization {
                kp,
                category,
                expires_at: cx.now.saturating_add(AUTHORIZATION_LIFETIME),
                state: AuthState::Open,
                customer_token: None,
            },
        );
        token
    }

    /// An authorization that exists and has not expired, with its id.
    fn live_auth(&self, token: &str, now: Millis) -> Result<Id, ApiError> {
        let id: Id = token.parse().map_err(|_| invalid_token())?;
        match self.auths.get(&id) {
            Some(a) if a.expires_at > now && !matches!(a.state, AuthState::Cancelled) => Ok(id),
            _ => Err(invalid_token()),
        }
    }

    pub(crate) fn kp_create_order(
        &mut self,
        cx: &mut Ctx<'_>,
        token: &str,
        body: &[u8],
    ) -> Result<Reply, ApiError> {
        let token = self.live_auth(token, cx.now)?;
        let (kp_id, category) = match self.auths.get(&token) {
            Some(a) => {
                match &a.state {
                    AuthState::Placed { body: first, reply } => {
                        return if first.as_ref() == body {
                            Ok(reply.clone())
                        } else {
                            Err(ApiError::new(
                                409,
                                "BAD_VALUE",
                                "The order has been already completed with different request body",
                            ))
                        };
                    }
                    AuthState::PlacedByHpp => {
                        return Err(ApiError::new(
                            403,
                            "INVALID_OPERATION",
                            "Authorization token already consumed",
                        ));
                    }
                    AuthState::Open | AuthState::Cancelled => {}
                }
                (a.kp, a.category)
            }
            None => return Err(invalid_token()),
        };
        let session = self
            .kp
            .get(&kp_id)
            .filter(|s| s.expires_at > cx.now)
            .ok_or_else(invalid_token)?;
        if session.complete {
            return Err(ApiError::new(
                404,
                "SESSION_COMPLETED",
                "Session has already been completed",
            ));
        }
        let fields = session.fields();
        if str_field(&fields, "intent") == "tokenize" {
            return Err(ApiError::new(
                403,
                "INVALID_OPERATION",
                "Not allowed to create order for intent tokenize",
            ));
        }
        let mut v = cx.parse(Family::Kp, body)?;
        strip_read_only(&mut v);
        cx.validate(Family::Kp, Spec::Payments, "create_order_request", &mut v)?;
        check_amounts(&v).map_err(|p| ApiError::bad_value(Family::Kp, &p))?;
        let req = v.as_object().cloned().unwrap_or_default();
        let mut mismatched = Vec::new();
        for key in ["purchase_country", "purchase_currency"] {
            if !str_field(&req, key).eq_ignore_ascii_case(str_field(&fields, key)) {
                mismatched.push(key);
            }
        }
        let amount = req.get("order_amount").and_then(Value::as_i64).unwrap_or(0);
        let authorized = fields
            .get("order_amount")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if amount > authorized {
            mismatched.push("order_amount");
        }
        if !mismatched.is_empty() {
            return Err(ApiError::new(
                409,
                "BAD_VALUE",
                format!("Not matching fields: [{}]", mismatched.join(", ")),
            ));
        }
        let auto_capture = req
            .get("auto_capture")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let order_id = self.place_order(cx, category, &req, auto_capture);
        let mut out = json!({
            "order_id": order_id.to_string(),
            "fraud_status": "ACCEPTED",
            "authorized_payment_method": {"type": category.authorized_payment_method()},
        });
        if let Some(confirmation) = req
            .get("merchant_urls")
            .and_then(|u| u.get("confirmation"))
            .and_then(Value::as_str)
        {
            let url = confirmation
                .replace("{session.id}", &kp_id.to_string())
                .replace("{order.id}", &order_id.to_string());
            out["redirect_url"] = json!(url);
        }
        let reply = Reply::json(200, &out);
        if let Some(s) = self.kp.get_mut(&kp_id) {
            s.complete = true;
        }
        if let Some(a) = self.auths.get_mut(&token) {
            a.state = AuthState::Placed {
                body: body.into(),
                reply: reply.clone(),
            };
        }
        Ok(reply)
    }

    /// Creates an OM order from order data (a create-order request, or the KP session's fields
    /// when HPP places the order); with `capture` the whole amount is captured at once.
    pub(crate) fn place_order(
        &mut self,
        cx: &Ctx<'_>,
        category: Category,
        data: &Map<String, Value>,
        capture: bool,
    ) -> Id {
        let id = cx.id(IdKind::Order);
        let mut kept = Map::new();
        for key in ORDER_FIELDS {
            if let Some(v) = data.get(*key) {
                kept.insert((*key).to_owned(), v.clone());
            }
        }
        if let Some(Value::Object(c)) = data.get("customer") {
            let mut customer = Map::new();
            for key in ["date_of_birth", "national_identification_number"] {
                if let Some(v) = c.get(key) {
                    customer.insert(key.to_owned(), v.clone());
                }
            }
            kept.insert("customer".into(), Value::Object(customer));
        }
        let amount = data
            .get("order_amount")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let reference = crate::ids::klarna_reference(id);
        let mut order = Order {
            data: kept,
            status: OrderStatus::Authorized,
            order_amount: amount,
            original_order_amount: amount,
            captured_amount: 0,
            refunded_amount: 0,
            created_at: cx.now,
            expires_at: cx.now.saturating_add(OM_AUTHORIZATION_PERIOD),
            klarna_reference: reference,
            category,
            captures: Vec::new(),
            refunds: Vec::new(),
            shipping_info: Vec::new(),
            acknowledged: false,
        };
        if capture && amount > 0 {
            let mut capture_data = Map::new();
            if let Some(lines) = order.data.get("order_lines") {
                capture_data.insert("order_lines".into(), lines.clone());
            }
            order.captures.push(Capture {
                id: cx.id(IdKind::Capture),
                klarna_reference: format!("{}-1", order.klarna_reference),
                amount,
                refunded: 0,
                captured_at: cx.now,
                data: capture_data,
            });
            order.captured_amount = amount;
            order.status = OrderStatus::Captured;
        }
        self.orders.insert(id, order);
        id
    }

    pub(crate) fn kp_cancel_authorization(
        &mut self,
        cx: &mut Ctx<'_>,
        token: &str,
    ) -> Result<Reply, ApiError> {
        let token = self.live_auth(token, cx.now)?;
        let auth = self.auths.get_mut(&token).ok_or_else(invalid_token)?;
        match auth.state {
            AuthState::Open => {
                auth.state = AuthState::Cancelled;
                Ok(Reply::empty(204))
            }
            _ => Err(ApiError::new(
                403,
                "INVALID_OPERATION",
                "Authorization token already consumed",
            )),
        }
    }

    pub(crate) fn kp_create_customer_token(
        &mut self,
        cx: &mut Ctx<'_>,
        token: &str,
        body: &[u8],
    ) -> Result<Reply, ApiError> {
        let token = self.live_auth(token, cx.now)?;
        let auth = self.auths.get(&token).ok_or_else(invalid_token)?;
        if let Some((first, reply)) = &auth.customer_token {
            return if first.as_ref() == body {
                Ok(reply.clone())
            } else {
                Err(ApiError::new(
                    409,
                    "BAD_VALUE",
                    "A customer token was already created with a different request body",
                ))
            };
        }
        let session = self.kp.get(&auth.kp).ok_or_else(invalid_token)?;
        let fields = session.fields();
        let intent = match str_field(&fields, "intent") {
            "" => "buy",
            other => other,
        };
        if intent == "buy" {
            return Err(ApiError::new(
                403,
                "INVALID_OPERATION",
                "Not allowed to create customer token for intent buy",
            ));
        }
        let mut v = cx.parse(Family::Kp, body)?;
        cx.validate(
            Family::Kp,
            Spec::Payments,
            "customer_token_creation_request",
            &mut v,
        )?;
        let mut out = json!({
            "token_id": cx.id(IdKind::CustomerToken).to_string(),
            "payment_method_reference": cx.id(IdKind::CustomerToken).to_string(),
        });
        if let Some(addr) = v
            .get("billing_address")
            .or_else(|| fields.get("billing_address"))
        {
            out["billing_address"] = addr.clone();
        }
        if let Some(Value::Object(c)) = v.get("customer").or_else(|| fields.get("customer")) {
            let mut customer = Map::new();
            for key in ["date_of_birth", "gender"] {
                if let Some(x) = c.get(key) {
                    customer.insert(key.to_owned(), x.clone());
                }
            }
            out["customer"] = Value::Object(customer);
        }
        let reply = Reply::json(200, &out);
        if let Some(a) = self.auths.get_mut(&token) {
            a.customer_token = Some((body.into(), reply.clone()));
        }
        Ok(reply)
    }
}

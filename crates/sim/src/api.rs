//! The Klarna API surface as data: which operation a request is, the reply it gets, Klarna's
//! error bodies, and the dispatcher that runs an operation against the state (with
//! `Klarna-Idempotency-Key` replays for Order Management writes, scoped to operation, resource
//! and body).

use serde_json::{json, Value};

use crate::clock::{Millis, DAY};
use crate::ids::{Id, IdGen};
use crate::records::SentMessage;
use crate::rules::Categories;
use crate::schema::{Schemas, Spec};
use crate::state::{IdempotencyRecord, State};

/// Which of Klarna's APIs an operation belongs to (their error conventions differ).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Family {
    Kp,
    Hpp,
    Om,
}

macro_rules! operations {
    ($($variant:ident = $name:literal, $method:ident, $idem:literal;)*) => {
        /// Every API operation the emulator serves.
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        pub(crate) enum Op { $($variant,)* }

        /// The operation names, in the order of the protocol reference.
        pub(crate) const NAMES: &[&str] = &[$($name,)*];

        impl Op {
            /// Every operation, in the order of the protocol reference.
            pub(crate) const ALL: &'static [Op] = &[$(Op::$variant,)*];

            /// The stable name used for faults and the request log, e.g. `om.create_capture`.
            pub(crate) fn name(self) -> &'static str {
                match self { $(Op::$variant => $name,)* }
            }

            /// OM POST/PATCH operations honour `Klarna-Idempotency-Key`.
            pub(crate) fn idempotent(self) -> bool {
                match self { $(Op::$variant => $idem,)* }
            }

            #[allow(dead_code)]
            pub(crate) fn method(self) -> &'static str {
                match self { $(Op::$variant => stringify!($method),)* }
            }
        }
    };
}

operations! {
    KpCreateSession = "kp.create_session", POST, false;
    KpReadSession = "kp.read_session", GET, false;
    KpUpdateSession = "kp.update_session", POST, false;
    KpCreateOrder = "kp.create_order", POST, false;
    KpCancelAuthorization = "kp.cancel_authorization", DELETE, false;
    KpCreateCustomerToken = "kp.create_customer_token", POST, false;
    KpCancelSession = "kp.cancel_session", DELETE, false;
    HppCreateSession = "hpp.create_session", POST, false;
    HppReadSession = "hpp.read_session", GET, false;
    HppDisableSession = "hpp.disable_session", DELETE, false;
    HppDistributeSession = "hpp.distribute_session", POST, false;
    OmGetOrder = "om.get_order", GET, false;
    OmAcknowledgeOrder = "om.acknowledge_order", POST, true;
    OmUpdateAuthorization = "om.update_authorization", PATCH, true;
    OmCancelOrder = "om.cancel_order", POST, true;
    OmListCaptures = "om.list_captures", GET, false;
    OmCreateCapture = "om.create_capture", POST, true;
    OmGetCapture = "om.get_capture", GET, false;
    OmAddCaptureShippingInfo = "om.add_capture_shipping_info", POST, true;
    OmTriggerSendOut = "om.trigger_send_out", POST, true;
    OmExtendDueDate = "om.extend_due_date", PATCH, true;
    OmGetExtendDueDateOptions = "om.get_extend_due_date_options", GET, false;
    OmUpdateCustomerDetails = "om.update_customer_details", PATCH, true;
    OmExtendAuthorizationTime = "om.extend_authorization_time", POST, true;
    OmUpdateMerchantReferences = "om.update_merchant_references", PATCH, true;
    OmCreateRefund = "om.create_refund", POST, true;
    OmGetRefund = "om.get_refund", GET, false;
    OmReleaseRemainingAuthorization = "om.release_remaining_authorization", POST, true;
    OmAddShippingInfo = "om.add_shipping_info", POST, true;
}

impl Op {
    pub(crate) fn from_name(name: &str) -> Option<Op> {
        Op::ALL.iter().copied().find(|op| op.name() == name)
    }
}

/// Why a request matched no operation.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum NoRoute {
    NotFound,
    MethodNotAllowed,
}

/// Maps a request to its operation and path parameters.
pub(crate) fn route<'p>(method: &str, path: &'p str) -> Result<(Op, Vec<&'p str>), NoRoute> {
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    use Op::*;
    let (candidates, params): (&[(&str, Op)], Vec<&str>) = match segs.as_slice() {
        ["payments", "v1", "sessions"] => (&[("POST", KpCreateSession)], vec![]),
        ["payments", "v1", "sessions", id] => (
            &[
                ("GET", KpReadSession),
                ("POST", KpUpdateSession),
                ("DELETE", KpCancelSession),
            ],
            vec![*id],
        ),
        ["payments", "v1", "authorizations", t] => (&[("DELETE", KpCancelAuthorization)], vec![*t]),
        ["payments", "v1", "authorizations", t, "order"] => (&[("POST", KpCreateOrder)], vec![*t]),
        ["payments", "v1", "authorizations", t, "customer-token"] => {
            (&[("POST", KpCreateCustomerToken)], vec![*t])
        }
        ["hpp", "v1", "sessions"] => (&[("POST", HppCreateSession)], vec![]),
        ["hpp", "v1", "sessions", id] => (
            &[("GET", HppReadSession), ("DELETE", HppDisableSession)],
            vec![*id],
        ),
        ["hpp", "v1", "sessions", id, "distribution"] => {
            (&[("POST", HppDistributeSession)], vec![*id])
        }
        ["ordermanagement", "v1", "orders", o] => (&[("GET", OmGetOrder)], vec![*o]),
        ["ordermanagement", "v1", "orders", o, tail] => {
            let c: &[(&str, Op)] = match *tail {
                "acknowledge" => &[("POST", OmAcknowledgeOrder)],
                "authorization" => &[("PATCH", OmUpdateAuthorization)],
                "cancel" => &[("POST", OmCancelOrder)],
                "captures" => &[("GET", OmListCaptures), ("POST", OmCreateCapture)],
                "customer-details" => &[("PATCH", OmUpdateCustomerDetails)],
                "extend-authorization-time" => &[("POST", OmExtendAuthorizationTime)],
                "merchant-references" => &[("PATCH", OmUpdateMerchantReferences)],
                "refunds" => &[("POST", OmCreateRefund)],
                "release-remaining-authorization" => &[("POST", OmReleaseRemainingAuthorization)],
                "shipping-info" => &[("POST", OmAddShippingInfo)],
                _ => return Err(NoRoute::NotFound),
            };
            (c, vec![*o])
        }
        ["ordermanagement", "v1", "orders", o, "captures", c] => {
            (&[("GET", OmGetCapture)], vec![*o, *c])
        }
        ["ordermanagement", "v1", "orders", o, "refunds", r] => {
            (&[("GET", OmGetRefund)], vec![*o, *r])
        }
        ["ordermanagement", "v1", "orders", o, "captures", c, tail] => {
            let c2: &[(&str, Op)] = match *tail {
                "shipping-info" => &[("POST", OmAddCaptureShippingInfo)],
                "trigger-send-out" => &[("POST", OmTriggerSendOut)],
                "extend-due-date" => &[("PATCH", OmExtendDueDate)],
                "extend-due-date-options" => &[("GET", OmGetExtendDueDateOptions)],
                _ => return Err(NoRoute::NotFound),
            };
            (c2, vec![*o, *c])
        }
        _ => return Err(NoRoute::NotFound),
    };
    candidates
        .iter()
        .find(|(m, _)| *m == method)
        .map(|(_, op)| (*op, params))
        .ok_or(NoRoute::MethodNotAllowed)
}

/// A response as data: status, the extra headers (`Location`, `Capture-Id`, …) and a JSON body.
/// `Klarna-Correlation-Id` and `Content-Type` are added when it is sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(&'static str, String)>,
    pub(crate) body: Option<Vec<u8>>,
}

impl Reply {
    pub(crate) fn json(status: u16, body: &Value) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Some(body.to_string().into_bytes()),
        }
    }

    pub(crate) fn empty(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: None,
        }
    }

    pub(crate) fn header(mut self, name: &'static str, value: String) -> Reply {
        self.headers.push((name, value));
        self
    }
}

/// A Klarna error: status, `error_code`, `error_messages`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    pub(crate) code: &'static str,
    pub(crate) messages: Vec<String>,
}

impl ApiError {
    pub(crate) fn new(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            messages: vec![message.into()],
        }
    }

    /// The body `{error_code, error_messages, correlation_id}`.
    pub(crate) fn into_reply(self, correlation_id: &str) -> Reply {
        Reply::json(
            self.status,
            &json!({
                "error_code": self.code,
                "error_messages": self.messages,
                "correlation_id": correlation_id,
            }),
        )
    }

    /// A request field broke a rule: KP `400 BAD_VALUE`, HPP `400 CONSTRAINT_VIOLATION`,
    /// OM `400 BAD_VALUE`; the message names the field (`Bad value: order_amount`).
    pub(crate) fn bad_value(family: Family, path: &str) -> ApiError {
        let message = format!("Bad value: {path}");
        match family {
            Family::Kp | Family::Om => ApiError::new(400, "BAD_VALUE", message),
            Family::Hpp => ApiError::new(400, "CONSTRAINT_VIOLATION", message),
        }
    }
}

/// What an operation asks to happen after its state change is committed.
#[derive(Debug, Default)]
pub(crate) struct Effects {
    pub(crate) callbacks: Vec<CallbackJob>,
    pub(crate) messages: Vec<SentMessage>,
}

/// One status callback to deliver.
#[derive(Debug)]
pub(crate) struct CallbackJob {
    pub(crate) session_id: String,
    pub(crate) status: &'static str,
    pub(crate) url: String,
    pub(crate) body: Value,
}

/// What operations read but never change.
#[derive(Debug)]
pub(crate) struct Env {
    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub(crate) base_url: String,
    pub(crate) ids: IdGen,
    pub(crate) schemas: Schemas,
    /// The categories every KP session offers.
    pub(crate) categories: Categories,
}

/// One operation's context.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub(crate) env: &'a Env,
    pub(crate) now: Millis,
    pub(crate) fx: Effects,
}

impl Ctx<'_> {
    /// Parses a JSON object body.
    pub(crate) fn parse(&self, family: Family, body: &[u8]) -> Result<Value, ApiError> {
        match serde_json::from_slice::<Value>(body) {
            Ok(v @ Value::Object(_)) => Ok(v),
            Ok(_) | Err(_) => Err(match family {
                Family::Hpp => ApiError::new(
                    400,
                    "CONSTRAINT_VIOLATION",
                    "Request body is not a JSON object",
                ),
                Family::Kp | Family::Om => {
                    ApiError::new(400, "BAD_VALUE", "Request body is not a JSON object")
                }
            }),
        }
    }

    /// Reads a body as Klarna does ([`Schemas::accept`]: `null` members dropped, enum case and
    /// scalar types as Klarna takes them, in place) and validates it against one of Klarna's
    /// schemas: KP `400 BAD_VALUE`, HPP `400 CONSTRAINT_VIOLATION`, OM `422
    /// UNPROCESSABLE_ENTITY`, each message naming a field.
    pub(crate) fn validate(
        &self,
        family: Family,
        spec: Spec,
        schema: &str,
        v: &mut Value,
    ) -> Result<(), ApiError> {
        self.env
            .schemas
            .accept(spec, schema, v)
            .map_err(|violations| {
                let messages = violations
                    .iter()
                    .map(|v| format!("Bad value: {} ({})", v.path, v.problem))
                    .collect();
                let (status, code) = match family {
                    Family::Kp => (400, "BAD_VALUE"),
                    Family::Hpp => (400, "CONSTRAINT_VIOLATION"),
                    Family::Om => (422, "UNPROCESSABLE_ENTITY"),
                };
                ApiError {
                    status,
                    code,
                    messages,
                }
            })
    }

    pub(crate) fn id(&self, kind: crate::ids::IdKind) -> Id {
        self.env.ids.next(kind)
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{}", self.env.base_url, path)
    }
}

/// The outcome of running one request against the state.
#[derive(Debug)]
pub(crate) struct Executed {
    pub(crate) reply: Reply,
    /// The reply came from the idempotency store.
    pub(crate) replayed: bool,
}

/// The answer to an idempotency key sent empty (or blank): Klarna's documentation gives the
/// key no empty form and the emulator refuses it rather than treating it as absent, so that a
/// merchant bug (a key that was never filled in) shows instead of running unprotected.
fn empty_key() -> ApiError {
    ApiError::new(
        400,
        "BAD_VALUE",
        "Bad value: Klarna-Idempotency-Key (empty)",
    )
}

/// The answer to a key reused with another body on the same operation and resource.
fn key_conflict() -> ApiError {
    ApiError::new(
        409,
        "CONFLICT",
        "Klarna-Idempotency-Key was already used with a different request body for this operation",
    )
}

/// Where a key is looked up: the operation, the resource (the path's ids) and the key itself.
/// The same key on another operation or another order is another key.
fn idempotency_scope(op: Op, params: &[&str], key: &str) -> Box<str> {
    let mut scope = String::with_capacity(op.name().len() + key.len() + 80);
    scope.push_str(op.name());
    for p in params {
        scope.push('\n');
        scope.push_str(p);
    }
    scope.push('\n');
    scope.push_str(key);
    scope.into_boxed_str()
}

/// A body's fingerprint: JSON compared as JSON (member order and whitespace do not matter),
/// anything else byte for byte.
pub(crate) fn body_fingerprint(body: &[u8]) -> u64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    fn feed(v: &Value, h: &mut DefaultHasher) {
        match v {
            Value::Null => 0u8.hash(h),
            Value::Bool(b) => (1u8, b).hash(h),
            Value::Number(n) => (2u8, n.to_string()).hash(h),
            Value::String(s) => (3u8, s).hash(h),
            Value::Array(items) => {
                (4u8, items.len()).hash(h);
                for item in items {
                    feed(item, h);
                }
            }
            Value::Object(m) => {
                (5u8, m.len()).hash(h);
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                for k in keys {
                    k.hash(h);
                    if let Some(item) = m.get(k) {
                        feed(item, h);
                    }
                }
            }
        }
    }
    let mut h = DefaultHasher::new();
    if body.iter().all(u8::is_ascii_whitespace) {
        6u8.hash(&mut h);
    } else if let Ok(v) = serde_json::from_slice::<Value>(body) {
        feed(&v, &mut h);
    } else {
        (7u8, body).hash(&mut h);
    }
    h.finish()
}

impl State {
    /// Runs one operation. An OM write with a `Klarna-Idempotency-Key` that the same operation
    /// on the same resource saw in the last 24 h gets the stored reply again without running
    /// (status, headers and body as first sent); with another body it gets 409 `CONFLICT`. An
    /// empty key is refused (400 `BAD_VALUE`).
    pub(crate) fn execute(
        &mut self,
        cx: &mut Ctx<'_>,
        op: Op,
        params: &[&str],
        body: &[u8],
        idempotency_key: Option<&str>,
        correlation_id: &str,
    ) -> Executed {
        let key = idempotency_key.filter(|_| op.idempotent());
        let mut scoped = None;
        if let Some(key) = key {
            if key.trim().is_empty() {
                return Executed {
                    reply: empty_key().into_reply(correlation_id),
                    replayed: false,
                };
            }
            let scope = idempotency_scope(op, params, key);
            let fingerprint = body_fingerprint(body);
            if let Some(rec) = self.idempotency.get(&scope) {
                if rec.at.saturating_add(DAY) > cx.now {
                    if rec.fingerprint != fingerprint {
                        return Executed {
                            reply: key_conflict().into_reply(correlation_id),
                            replayed: false,
                        };
                    }
                    return Executed {
                        reply: rec.reply.clone(),
                        replayed: true,
                    };
                }
            }
            scoped = Some((scope, fingerprint));
        }
        let reply = match self.dispatch(cx, op, params, body) {
            Ok(r) => r,
            Err(e) => e.into_reply(correlation_id),
        };
        if let Some((scope, fingerprint)) = scoped {
            self.idempotency.insert(
                scope,
                IdempotencyRecord {
                    at: cx.now,
                    fingerprint,
                    reply: reply.clone(),
                },
            );
        }
        Executed {
            reply,
            replayed: false,
        }
    }

    fn dispatch(
        &mut self,
        cx: &mut Ctx<'_>,
        op: Op,
        p: &[&str],
        body: &[u8],
    ) -> Result<Reply, ApiError> {
        let p0 = p.first().copied().unwrap_or_default();
        let p1 = p.get(1).copied().unwrap_or_default();
        use Op::*;
        match op {
            KpCreateSession => self.kp_create_session(cx, body),
            KpReadSession => self.kp_read_session(cx, p0),
            KpUpdateSession => self.kp_update_session(cx, p0, body),
            KpCreateOrder => self.kp_create_order(cx, p0, body),
            KpCancelAuthorization => self.kp_cancel_authorization(cx, p0),
            KpCreateCustomerToken => self.kp_create_customer_token(cx, p0, body),
            KpCancelSession => self.kp_cancel_session(cx, p0),
            HppCreateSession => self.hpp_create_session(cx, body),
            HppReadSession => self.hpp_read_session(cx, p0),
            HppDisableSession => self.hpp_disable_session(cx, p0),
            HppDistributeSession => self.hpp_distribute_session(cx, p0, body),
            OmGetOrder => self.om_get_order(cx, p0),
            OmAcknowledgeOrder => self.om_acknowledge(cx, p0),
            OmUpdateAuthorization => self.om_update_authorization(cx, p0, body),
            OmCancelOrder => self.om_cancel(cx, p0),
            OmListCaptures => self.om_list_captures(cx, p0),
            OmCreateCapture => self.om_create_capture(cx, p0, body),
            OmGetCapture => self.om_get_capture(cx, p0, p1),
            OmAddCaptureShippingInfo => self.om_add_capture_shipping_info(cx, p0, p1, body),
            OmTriggerSendOut => self.om_trigger_send_out(cx, p0, p1),
            OmExtendDueDate => self.om_extend_due_date(cx, p0, p1, body),
            OmGetExtendDueDateOptions => self.om_extend_due_date_options(cx, p0, p1),
            OmUpdateCustomerDetails => self.om_update_customer_details(cx, p0, body),
            OmExtendAuthorizationTime => self.om_extend_authorization_time(cx, p0),
            OmUpdateMerchantReferences => self.om_update_merchant_references(cx, p0, body),
            OmCreateRefund => self.om_create_refund(cx, p0, body),
            OmGetRefund => self.om_get_refund(cx, p0, p1),
            OmReleaseRemainingAuthorization => self.om_release_remaining(cx, p0),
            OmAddShippingInfo => self.om_add_shipping_info(cx, p0, body),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_every_operation() {
        let cases = [
            ("POST", "/payments/v1/sessions", Op::KpCreateSession),
            ("GET", "/payments/v1/sessions/x", Op::KpReadSession),
            ("POST", "/payments/v1/sessions/x", Op::KpUpdateSession),
            (
                "POST",
                "/payments/v1/authorizations/t/order",
                Op::KpCreateOrder,
            ),
            (
                "DELETE",
                "/payments/v1/authorizations/t",
                Op::KpCancelAuthorization,
            ),
            (
                "POST",
                "/payments/v1/authorizations/t/customer-token",
                Op::KpCreateCustomerToken,
            ),
            ("DELETE", "/payments/v1/sessions/x", Op::KpCancelSession),
            ("POST", "/hpp/v1/sessions", Op::HppCreateSession),
            ("GET", "/hpp/v1/sessions/x", Op::HppReadSession),
            ("DELETE", "/hpp/v1/sessions/x", Op::HppDisableSession),
            (
                "POST",
                "/hpp/v1/sessions/x/distribution",
                Op::HppDistributeSession,
            ),
            ("GET", "/ordermanagement/v1/orders/o", Op::OmGetOrder),
            (
                "POST",
                "/ordermanagement/v1/orders/o/acknowledge",
                Op::OmAcknowledgeOrder,
            ),
            (
                "PATCH",
                "/ordermanagement/v1/orders/o/authorization",
                Op::OmUpdateAuthorization,
            ),
            (
                "POST",
                "/ordermanagement/v1/orders/o/cancel",
                Op::OmCancelOrder,
            ),
            (
                "GET",
                "/ordermanagement/v1/orders/o/captures",
                Op::OmListCaptures,
            ),
            (
                "POST",
                "/ordermanagement/v1/orders/o/captures",
                Op::OmCreateCapture,
            ),
            (
                "GET",
                "/ordermanagement/v1/orders/o/captures/c",
                Op::OmGetCapture,
            ),
            (
                "POST",
                "/ordermanagement/v1/orders/o/captures/c/shipping-info",
                Op::OmAddCaptureShippingInfo,
            ),
            (
                "POST",
                "/ordermanagement/v1/orders/o/captures/c/trigger-send-out",
                Op::OmTriggerSendOut,
            ),
            (
                "PATCH",
                "/ordermanagement/v1/orders/o/captures/c/extend-due-date",
                Op::OmExtendDueDate,
            ),
            (
                "GET",
                "/ordermanagement/v1/orders/o/captures/c/extend-due-date-options",
                Op::OmGetExtendDueDateOptions,
            ),
            (
                "PATCH",
                "/ordermanagement/v1/orders/o/customer-details",
                Op::OmUpdateCustomerDetails,
            ),
            (
                "POST",
                "/ordermanagement/v1/orders/o/extend-authorization-time",
                Op::OmExtendAuthorizationTime,
            ),
            (
                "PATCH",
                "/ordermanagement/v1/orders/o/merchant-references",
                Op::OmUpdateMerchantReferences,
            ),
            (
                "POST",
                "/ordermanagement/v1/orders/o/refunds",
                Op::OmCreateRefund,
            ),
            (
                "GET",
                "/ordermanagement/v1/orders/o/refunds/r",
                Op::OmGetRefund,
            ),
            (
                "POST",
                "/ordermanagement/v1/orders/o/release-remaining-authorization",
                Op::OmReleaseRemainingAuthorization,
            ),
            (
                "POST",
                "/ordermanagement/v1/orders/o/shipping-info",
                Op::OmAddShippingInfo,
            ),
        ];
        assert_eq!(cases.len(), Op::ALL.len());
        for (m, p, op) in cases {
            assert_eq!(route(m, p).map(|r| r.0), Ok(op), "{m} {p}");
            assert_eq!(Op::from_name(op.name()), Some(op));
            assert_eq!(op.method(), m);
        }
        assert_eq!(
            route("PUT", "/hpp/v1/sessions").unwrap_err(),
            NoRoute::MethodNotAllowed
        );
        assert_eq!(route("GET", "/nope").unwrap_err(), NoRoute::NotFound);
        assert_eq!(
            route("GET", "/ordermanagement/v1/orders/o/captures/c")
                .unwrap()
                .1,
            vec!["o", "c"]
        );
    }
}

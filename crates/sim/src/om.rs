//! Order Management v1: orders, captures, refunds and the post-purchase operations, with Klarna's
//! rules (no capture beyond the remaining authorization, no cancel after a capture, refunds up to
//! the captured amount, release of the remaining authorization).

use serde_json::{json, Map, Value};

use crate::api::{ApiError, Ctx, Family, Reply};
use crate::clock::{format, DAY};
use crate::ids::{Id, IdKind};
use crate::kp::OM_AUTHORIZATION_PERIOD;
use crate::schema::Spec;
use crate::state::{Capture, Order, OrderStatus, Refund, State};

/// Authorization can be extended up to 180 days after the order was created.
const MAX_AUTHORIZATION_AGE: i64 = 180 * DAY;

/// The due-date extensions offered on every capture: (days, fee in minor units).
const DUE_DATE_OPTIONS: [(i64, i64); 2] = [(14, 295), (28, 495)];

fn not_allowed(message: impl Into<String>) -> ApiError {
    ApiError::new(403, "NOT_ALLOWED", message)
}

fn no_such_capture(capture: &str) -> ApiError {
    ApiError::new(
        404,
        "NO_SUCH_CAPTURE",
        format!("Capture {capture} cannot be found"),
    )
}

fn copy_fields(from: &Value, keys: &[&str]) -> Map<String, Value> {
    let mut out = Map::new();
    for key in keys {
        if let Some(v) = from.get(*key) {
            out.insert((*key).to_owned(), v.clone());
        }
    }
    out
}

/// The sum of the lines' `total_amount`, if there are lines. Exact: each total is an int64
/// (larger numbers are refused on input), summed in 128 bits.
fn lines_total(v: &Value) -> Option<i128> {
    let lines = v.get("order_lines")?.as_array()?;
    if lines.is_empty() {
        return None;
    }
    let mut sum: i128 = 0;
    for l in lines {
        let total = l.get("total_amount").and_then(Value::as_i64).unwrap_or(0);
        sum = sum.checked_add(i128::from(total))?;
    }
    Some(sum)
}

/// `a + b` for money, refused instead of wrapping (never reached while the rules hold: they keep
/// every total within the order amount).
fn add_money(a: i64, b: i64) -> Result<i64, ApiError> {
    a.checked_add(b)
        .ok_or_else(|| ApiError::bad_value(Family::Om, "amount (out of the int64 range)"))
}

fn capture_json(order: &Order, c: &Capture) -> Value {
    let mut v = Value::Object(c.data.clone());
    v["capture_id"] = json!(c.id.to_string());
    v["klarna_reference"] = json!(c.klarna_reference);
    v["captured_amount"] = json!(c.amount);
    v["captured_at"] = json!(format(c.captured_at));
    v["refunded_amount"] = json!(c.refunded);
    for key in ["billing_address", "shipping_address"] {
        if let Some(a) = order.data.get(key) {
            v[key] = a.clone();
        }
    }
    v
}

fn refund_json(r: &Refund) -> Value {
    let mut v = Value::Object(r.data.clone());
    v["refund_id"] = json!(r.id.to_string());
    v["refunded_amount"] = json!(r.amount);
    v["refunded_at"] = json!(format(r.refunded_at));
    v["credit_invoice"] = json!(false);
    v
}

fn order_json(id: Id, o: &Order) -> Value {
    let mut v = Value::Object(o.data.clone());
    let (method, description) = o.category.initial_payment_method();
    v["order_id"] = json!(id.to_string());
    v["status"] = json!(o.status.as_str());
    v["fraud_status"] = json!("ACCEPTED");
    v["order_amount"] = json!(o.order_amount);
    v["original_order_amount"] = json!(o.original_order_amount);
    v["captured_amount"] = json!(o.captured_amount);
    v["refunded_amount"] = json!(o.refunded_amount);
    v["remaining_authorized_amount"] = json!(o.remaining());
    v["klarna_reference"] = json!(o.klarna_reference);
    v["created_at"] = json!(format(o.created_at));
    v["expires_at"] = json!(format(o.expires_at));
    v["captures"] = o.captures.iter().map(|c| capture_json(o, c)).collect();
    v["refunds"] = o.refunds.iter().map(refund_json).collect();
    v["shipping_info"] = Value::Array(o.shipping_info.clone());
    v["initial_payment_method"] = json!({"type": method, "description": description});
    if v.get("order_lines").is_none() {
        v["order_lines"] = json!([]);
    }
    v
}

impl State {
    /// The order, refreshed against the clock (uncaptured past `expires_at` → EXPIRED).
    fn order(&mut self, cx: &Ctx<'_>, id: &str) -> Result<(Id, &mut Order), ApiError> {
        let oid: Id = id.parse().map_err(|_| {
            ApiError::new(400, "INVALID_ORDER_ID", "Order ID must be a valid UUID.")
        })?;
        let order = self.orders.get_mut(&oid).ok_or_else(|| {
            ApiError::new(404, "NO_SUCH_ORDER", format!("Order {id} cannot be found"))
        })?;
        order.refresh(cx.now);
        Ok((oid, order))
    }

    fn capture_index(order: &Order, capture: &str) -> Result<usize, ApiError> {
        let cid: Id = capture.parse().map_err(|_| no_such_capture(capture))?;
        order
            .captures
            .iter()
            .position(|c| c.id == cid)
            .ok_or_else(|| no_such_capture(capture))
    }

    pub(crate) fn om_get_order(&mut self, cx: &mut Ctx<'_>, id: &str) -> Result<Reply, ApiError> {
        let (oid, order) = self.order(cx, id)?;
        Ok(Reply::json(200, &order_json(oid, order)))
    }

    pub(crate) fn om_acknowledge(&mut self, cx: &mut Ctx<'_>, id: &str) -> Result<Reply, ApiError> {
        let (_, order) = self.order(cx, id)?;
        order.acknowledged = true;
        Ok(Reply::empty(204))
    }

    pub(crate) fn om_update_authorization(
        &mut self,
        cx: &mut Ctx<'_>,
        id: &str,
        body: &[u8],
    ) -> Result<Reply, ApiError> {
        let mut v = cx.parse(Family::Om, body)?;
        cx.validate(
            Family::Om,
            Spec::OrderManagement,
            "Update_authorization",
            &mut v,
        )?;
        let (_, order) = self.order(cx, id)?;
        match order.status {
            OrderStatus::Cancelled => {
                return Err(not_allowed("Update not allowed. Order is cancelled."))
            }
            OrderStatus::Expired => {
                return Err(not_allowed("Update not allowed. Order is expired."))
            }
            OrderStatus::Captured => {
                return Err(not_allowed("Update not allowed. Order is fully captured."))
            }
            OrderStatus::Authorized | OrderStatus::PartCaptured => {}
        }
        let amount = v.get("order_amount").and_then(Value::as_i64).unwrap_or(0);
        if amount < order.captured_amount {
            return Err(not_allowed(format!(
                "Resulting authorization amount {amount} cannot be less than the captured amount {}.",
                order.captured_amount
            )));
        }
        if lines_total(&v).is_some_and(|t| t != i128::from(amount)) {
            return Err(ApiError::bad_value(Family::Om, "order_lines"));
        }
        order.order_amount = amount;
        match v.get("order_lines") {
            Some(lines) => order.data.insert("order_lines".into(), lines.clone()),
            None => order.data.remove("order_lines"),
        };
        if order.captured_amount > 0 {
            order.status = if order.captured_amount == amount {
                OrderStatus::Captured
            } else {
                OrderStatus::PartCaptured
            };
        }
        Ok(Reply::empty(204))
    }

    pub(crate) fn om_cancel(&mut self, cx: &mut Ctx<'_>, id: &str) -> Result<Reply, ApiError> {
        let (_, order) = self.order(cx, id)?;
        let refuse = |m: &str| ApiError::new(403, "CANCEL_NOT_ALLOWED", m);
        if !order.captures.is_empty() {
            return Err(refuse("Order has previous captures. Cancel not possible."));
        }
        match order.status {
            OrderStatus::Authorized => {
                order.status = OrderStatus::Cancelled;
                Ok(Reply::empty(204))
            }
            OrderStatus::Cancelled => Err(refuse("Order is already cancelled.")),
            _ => Err(refuse("Order is expired. Cancel not possible.")),
        }
    }

    pub(crate) fn om_list_captures(
        &mut self,
        cx: &mut Ctx<'_>,
        id: &str,
    ) -> Result<Reply, ApiError> {
        let (_, order) = self.order(cx, id)?;
        let list: Vec<Value> = order
            .captures
            .iter()
            .map(|c| capture_json(order, c))
            .collect();
        Ok(Reply::json(200, &Value::Array(list)))
    }

    pub(crate) fn om_create_capture(
        &mut self,
        cx: &mut Ctx<'_>,
        id: &str,
        body: &[u8],
    ) -> Result<Reply, ApiError> {
        let mut v = cx.parse(Family::Om, body)?;
        cx.validate(Family::Om, Spec::OrderManagement, "CaptureObject", &mut v)?;
        let now = cx.now;
        let capture_id = cx.id(IdKind::Capture);
        let (oid, order) = self.order(cx, id)?;
        let refuse = |m: String| ApiError::new(403, "CAPTURE_NOT_ALLOWED", m);
        if order.status == OrderStatus::Cancelled {
            return Err(refuse(format!(
                "Order {oid} is cancelled. Capture not possible."
            )));
        }
        if order.status == OrderStatus::Expired || now >= order.expires_at {
            return Err(refuse(format!(
                "Order {oid} is expired. Capture not possible."
            )));
        }
        let amount = v
            .get("captured_amount")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if amount <= 0 {
            return Err(refuse("Captured amount must be greater than zero.".into()));
        }
        let remaining = order.remaining();
        if amount > remaining {
            return Err(refuse(format!(
                "Capture not allowed. Captured amount {amount} exceeds the remaining authorized amount {remaining}."
            )));
        }
        if lines_total(&v).is_some_and(|t| t != i128::from(amount)) {
            return Err(ApiError::bad_value(Family::Om, "order_lines"));
        }
        let seq = order.captures.len() + 1;
        order.captures.push(Capture {
            id: capture_id,
            klarna_reference: format!("{}-{seq}", order.klarna_reference),
            amount,
            refunded: 0,
            captured_at: now,
            data: copy_fields(
                &v,
                &["description", "reference", "order_lines", "shipping_info"],
            ),
        });
        let captured = add_money(order.captured_amount, amount)?;
        order.captured_amount = captured;
        order.status = if order.remaining() == 0 {
            OrderStatus::Captured
        } else {
            OrderStatus::PartCaptured
        };
        Ok(Reply::empty(201)
            .header(
                "Location",
                cx.url(&format!(
                    "/ordermanagement/v1/orders/{oid}/captures/{capture_id}"
                )),
            )
            .header("Capture-Id", capture_id.to_string()))
    }

    pub(crate) fn om_get_capture(
        &mut self,
        cx: &mut Ctx<'_>,
        id: &str,
        capture: &str,
    ) -> Result<Reply, ApiError> {
        let (_, order) = self.order(cx, id)?;
        let i = Self::capture_index(order, capture)?;
        Ok(Reply::json(200, &capture_json(order, &order.captures[i])))
    }

    pub(crate) fn om_add_capture_shipping_info(
        &mut self,
        cx: &mut Ctx<'_>,
        id: &str,
        capture: &str,
        body: &[u8],
    ) -> Result<Reply, ApiError> {
        let mut v = cx.parse(Family::Om, body)?;
        cx.validate(
            Family::Om,
            Spec::OrderManagement,
            "UpdateShippingInfo",
            &mut v,
        )?;
        let (_, order) = self.order(cx, id)?;
        let i = Self::capture_index(order, capture).map_err(|_| {
            ApiError::new(
                404,
                "NO_SUCH_CAPTURE",
                format!("Capture could not be found. Shipping info cannot be added to capture {capture}"),
            )
        })?;
        let items = v
            .get("shipping_info")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let entry = order.captures[i]
            .data
            .entry("shipping_info")
            .or_insert_with(|| json!([]));
        if let Value::Array(list) = entry {
            list.extend(items);
        }
        Ok(Reply::empty(204))
    }

    pub(crate) fn om_trigger_send_out(
        &mut self,
        cx: &mut Ctx<'_>,
        id: &str,
        capture: &str,
    ) -> Result<Reply, ApiError> {
        let (_, order) = self.order(cx, id)?;
        Self::capture_index(order, capture)?;
        Ok(Reply::empty(204))
    }

    pub(crate) fn om_extend_due_date(
        &mut self,
        cx: &mut Ctx<'_>,
        id: &str,
        capture: &str,
        body: &[u8],
    ) -> Result<Reply, ApiError> {
        let mut v = cx.parse(Family::Om, body)?;
        cx.validate(
            Family::Om,
            Spec::OrderManagement,
            "ExtendDueDateRequest",
            &mut v,
        )?;
        let (_, order) = self.order(cx, id)?;
        Self::capture_index(order, capture)?;
        let days = v.get("number_of_days").and_then(Value::as_i64).unwrap_or(0);
        if !DUE_DATE_OPTIONS.iter().any(|(d, _)| *d == days) {
            return Err(not_allowed(format!(
                "Due date cannot be extended by {days} days."
            )));
        }
        Ok(Reply::empty(204))
    }

    pub(crate) fn om_extend_due_date_options(
        &mut self,
        cx: &mut Ctx<'_>,
        id: &str,
        capture: &str,
    ) -> Result<Reply, ApiError> {
        let (_, order) = self.order(cx, id)?;
        Self::capture_index(order, capture)?;
        let currency = order
            .data
            .get("purchase_currency")
            .cloned()
            .unwrap_or(json!(""));
        let options: Vec<Value> = DUE_DATE_OPTIONS
            .iter()
            .map(|(days, amount)| json!({"number_of_days": days, "amount": amount}))
            .collect();
        Ok(Reply::json(
            200,
            &json!({"currency": currency, "options": options}),
        ))
    }

    pub(crate) fn om_update_customer_details(
        &mut self,
        cx: &mut Ctx<'_>,
        id: &str,
        body: &[u8],
    ) -> Result<Reply, ApiError> {
        let mut v = cx.parse(Family::Om, body)?;
        cx.validate(Family::Om, Spec::OrderManagement, "UpdateConsumer", &mut v)?;
        let (_, order) = self.order(cx, id)?;
        if order.status == OrderStatus::Cancelled {
            return Err(not_allowed("Can not update a cancelled order."));
        }
        if v.get("billing_address").is_some() {
            return Err(not_allowed("Billing address cannot be updated."));
        }
        if let Some(a) = v.get("shipping_address") {
            order.data.insert("shipping_address".into(), a.clone());
        }
        Ok(Reply::empty(204))
    }

    pub(crate) fn om_extend_authorization_time(
        &mut self,
        cx: &mut Ctx<'_>,
        id: &str,
    ) -> Result<Reply, ApiError> {
        let now = cx.now;
        let (_, order) = self.order(cx, id)?;
        if order.status == OrderStatus::Cancelled {
            return Err(not_allowed(
                "Order is cancelled. Authorization time cannot be extended.",
            ));
        }
        if order.status == OrderStatus::Expired || now >= order.expires_at {
            return Err(not_allowed(
                "Order is expired. Authorization time cannot be extended.",
            ));
        }
        let limit = order.created_at.saturating_add(MAX_AUTHORIZATION_AGE);
        let extended = now.saturating_add(OM_AUTHORIZATION_PERIOD).min(limit);
        order.expires_at = order.expires_at.max(extended);
        Ok(Reply::empty(204))
    }

    pub(crate) fn om_update_merchant_references(
        &mut self,
        cx: &mut Ctx<'_>,
        id: &str,
        body: &[u8],
    ) -> Result<Reply, ApiError> {
        let mut v = cx.parse(Family::Om, body)?;
        cx.validate(
            Family::Om,
            Spec::OrderManagement,
            "Update_merchant_references",
            &mut v,
        )?;
        let (_, order) = self.order(cx, id)?;
        if order.status == OrderStatus::Cancelled {
            return Err(not_allowed("Can not update a cancelled order."));
        }
        for key in ["merchant_reference1", "merchant_reference2"] {
            match v.get(key).and_then(Value::as_str) {
                Some("") => {
                    order.data.remove(key);
                }
                Some(r) => {
                    order.data.insert(key.into(), json!(r));
                }
                None => {}
            }
        }
        Ok(Reply::empty(204))
    }

    pub(crate) fn om_create_refund(
        &mut self,
        cx: &mut Ctx<'_>,
        id: &str,
        body: &[u8],
    ) -> Result<Reply, ApiError> {
        let mut v = cx.parse(Family::Om, body)?;
        cx.validate(Family::Om, Spec::OrderManagement, "RefundObject", &mut v)?;
        let now = cx.now;
        let refund_id = cx.id(IdKind::Refund);
        let (oid, order) = self.order(cx, id)?;
        let refuse = |m: String| ApiError::new(403, "REFUND_NOT_ALLOWED", m);
        if order.captures.is_empty() {
            return Err(refuse("Order has no captures. Refund not possible".into()));
        }
        let amount = v
            .get("refunded_amount")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        if amount <= 0 {
            return Err(refuse("Refunded amount must be greater than zero.".into()));
        }
        let refundable = order.captured_amount.saturating_sub(order.refunded_amount);
        if amount > refundable {
            return Err(refuse(format!(
                "Refund not allowed. Refunded amount {amount} exceeds the captured amount not yet refunded ({refundable})."
            )));
        }
        let refunded = add_money(order.refunded_amount, amount)?;
        // Attribute the refund to the captures, oldest first.
        let mut left = amount;
        for c in &mut order.captures {
            let take = c.amount.saturating_sub(c.refunded).min(left).max(0);
            c.refunded = c.refunded.saturating_add(take);
            left = left.saturating_sub(take);
        }
        order.refunded_amount = refunded;
        order.refunds.push(Refund {
            id: refund_id,
            amount,
            refunded_at: now,
            data: copy_fields(&v, &["description", "reference", "order_lines"]),
        });
        Ok(Reply::empty(201)
            .header(
                "Location",
                cx.url(&format!(
                    "/ordermanagement/v1/orders/{oid}/refunds/{refund_id}"
                )),
            )
            .header("Refund-Id", refund_id.to_string()))
    }

    pub(crate) fn om_get_refund(
        &mut self,
        cx: &mut Ctx<'_>,
        id: &str,
        refund: &str,
    ) -> Result<Reply, ApiError> {
        let (oid, order) = self.order(cx, id)?;
        let not_found = || {
            ApiError::new(
                404,
                "NOT_FOUND",
                format!("Refund {refund} cannot be found for order {oid}"),
            )
        };
        let rid: Id = refund.parse().map_err(|_| not_found())?;
        let r = order
            .refunds
            .iter()
            .find(|r| r.id == rid)
            .ok_or_else(not_found)?;
        Ok(Reply::json(200, &refund_json(r)))
    }

    pub(crate) fn om_release_remaining(
        &mut self,
        cx: &mut Ctx<'_>,
        id: &str,
    ) -> Result<Reply, ApiError> {
        let (_, order) = self.order(cx, id)?;
        if order.status == OrderStatus::Cancelled || order.captures.is_empty() {
            return Err(not_allowed(
                "Can not release when order is cancelled or has no captures.",
            ));
        }
        if order.status == OrderStatus::Captured {
            return Err(not_allowed(
                "Order is fully captured. Remaining authorization cannot be released.",
            ));
        }
        order.order_amount = order.captured_amount;
        order.status = OrderStatus::Captured;
        Ok(Reply::empty(204))
    }

    pub(crate) fn om_add_shipping_info(
        &mut self,
        cx: &mut Ctx<'_>,
        id: &str,
        body: &[u8],
    ) -> Result<Reply, ApiError> {
        let mut v = cx.parse(Family::Om, body)?;
        cx.validate(
            Family::Om,
            Spec::OrderManagement,
            "UpdateShippingInfo",
            &mut v,
        )?;
        let (_, order) = self.order(cx, id)?;
        let items = v
            .get("shipping_info")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        order.shipping_info.extend(items);
        Ok(Reply::empty(204))
    }
}

//! Operations on captures: create, list, read, and what follows a capture (shipping info,
//! send-out, due dates).

use http::{Method, Request, Response, StatusCode};

use crate::config::Api;
use crate::error::Error;
use crate::operation::Operation;
use crate::wire;

use super::bodies::{shipping_info_update_body, CaptureRequest, ExtendDueDateRequest};
use super::types::{Capture, ExtendDueDateOptions, Item, ShippingInfo};
use super::{capture_path, created, order_path, send, IdempotencyKey};

/// Lists an order's captures: `GET …/{order_id}/captures` → 200 `[Capture]`. A capture this
/// version cannot read is kept as raw JSON ([`Item::Raw`]), not a failure of the whole list.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListCaptures {
    /// The order.
    pub order_id: String,
}

impl ListCaptures {
    /// Lists the captures of `order_id`.
    pub fn new(order_id: impl Into<String>) -> Self {
        Self {
            order_id: order_id.into(),
        }
    }
}

impl Operation for ListCaptures {
    type Output = Vec<Item<Capture>>;
    const NAME: &'static str = "om.list_captures";
    const DOCUMENTED_STATUS: StatusCode = StatusCode::OK;

    fn to_request(&self, api: &Api) -> Result<Request<Vec<u8>>, Error> {
        let path = order_path(&self.order_id)?.then("/captures");
        send(api, Method::GET, &path, None, None)
    }

    fn decode_response(response: &Response<Vec<u8>>) -> Result<Vec<Item<Capture>>, Error> {
        wire::decode(Self::NAME, response)
    }
}

/// Captures (part of) an order: `POST …/{order_id}/captures` → 201 with headers `Capture-Id` and
/// `Location` and no body (403 `CAPTURE_NOT_ALLOWED` when the amount exceeds what remains or the
/// order is cancelled or expired).
///
/// This moves money: always pass an idempotency key, and reuse it on retries.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreateCapture {
    /// The order.
    pub order_id: String,
    /// The capture.
    pub body: CaptureRequest,
    /// Sent as `Klarna-Idempotency-Key`.
    pub idempotency_key: Option<IdempotencyKey>,
}

impl CreateCapture {
    /// Captures `body` on `order_id`.
    pub fn new(
        order_id: impl Into<String>,
        body: CaptureRequest,
        idempotency_key: Option<IdempotencyKey>,
    ) -> Self {
        Self {
            order_id: order_id.into(),
            body,
            idempotency_key,
        }
    }
}

/// What a created capture's response says: its id and URL, from the headers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CaptureCreated {
    /// The new capture's id: the `Capture-Id` header, else the last path segment of `Location`.
    /// `None` when neither says (list the captures to find it).
    pub capture_id: Option<String>,
    /// The `Location` header: where the capture can be read.
    pub location: Option<String>,
}

impl Operation for CreateCapture {
    type Output = CaptureCreated;
    const NAME: &'static str = "om.create_capture";
    const DOCUMENTED_STATUS: StatusCode = StatusCode::CREATED;

    fn to_request(&self, api: &Api) -> Result<Request<Vec<u8>>, Error> {
        let path = order_path(&self.order_id)?.then("/captures");
        self.body.validate()?;
        let body = wire::json(&self.body)?;
        send(
            api,
            Method::POST,
            &path,
            Some(body),
            self.idempotency_key.as_ref(),
        )
    }

    fn decode_response(response: &Response<Vec<u8>>) -> Result<CaptureCreated, Error> {
        let (capture_id, location) = created(Self::NAME, response, "Capture-Id", "captures")?;
        Ok(CaptureCreated {
            capture_id,
            location,
        })
    }
}

/// Reads one capture: `GET …/{order_id}/captures/{capture_id}` → 200 [`Capture`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GetCapture {
    /// The order.
    pub order_id: String,
    /// The capture.
    pub capture_id: String,
}

impl GetCapture {
    /// Reads `capture_id` of `order_id`.
    pub fn new(order_id: impl Into<String>, capture_id: impl Into<String>) -> Self {
        Self {
            order_id: order_id.into(),
            capture_id: capture_id.into(),
        }
    }
}

impl Operation for GetCapture {
    type Output = Capture;
    const NAME: &'static str = "om.get_capture";
    const DOCUMENTED_STATUS: StatusCode = StatusCode::OK;

    fn to_request(&self, api: &Api) -> Result<Request<Vec<u8>>, Error> {
        let path = capture_path(&self.order_id, &self.capture_id)?;
        send(api, Method::GET, &path, None, None)
    }

    fn decode_response(response: &Response<Vec<u8>>) -> Result<Capture, Error> {
        wire::decode(Self::NAME, response)
    }
}

/// Adds shipping information to a capture:
/// `POST …/{order_id}/captures/{capture_id}/shipping-info` → 204.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AddCaptureShippingInfo {
    /// The order.
    pub order_id: String,
    /// The capture.
    pub capture_id: String,
    /// The shipping information to add (1..=500 items).
    pub shipping_info: Vec<ShippingInfo>,
    /// Sent as `Klarna-Idempotency-Key`.
    pub idempotency_key: Option<IdempotencyKey>,
}

impl AddCaptureShippingInfo {
    /// Adds `shipping_info` to `capture_id` of `order_id`.
    pub fn new(
        order_id: impl Into<String>,
        capture_id: impl Into<String>,
        shipping_info: Vec<ShippingInfo>,
        idempotency_key: Option<IdempotencyKey>,
    ) -> Self {
        Self {
            order_id: order_id.into(),
            capture_id: capture_id.into(),
            shipping_info,
            idempotency_key,
        }
    }
}

impl Operation for AddCaptureShippingInfo {
    type Output = ();
    const NAME: &'static str = "om.add_capture_shipping_info";
    const DOCUMENTED_STATUS: StatusCode = StatusCode::NO_CONTENT;

    fn to_request(&self, api: &Api) -> Result<Request<Vec<u8>>, Error> {
        let path = capture_path(&self.order_id, &self.capture_id)?.then("/shipping-info");
        let body = shipping_info_update_body(&self.shipping_info)?;
        send(
            api,
            Method::POST,
            &path,
            Some(body),
            self.idempotency_key.as_ref(),
        )
    }

    fn decode_response(response: &Response<Vec<u8>>) -> Result<(), Error> {
        wire::success(Self::NAME, response)
    }
}

/// Sends the customer a new copy of the capture's payment information:
/// `POST …/{order_id}/captures/{capture_id}/trigger-send-out` → 204.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TriggerSendOut {
    /// The order.
    pub order_id: String,
    /// The capture.
    pub capture_id: String,
    /// Sent as `Klarna-Idempotency-Key`.
    pub idempotency_key: Option<IdempotencyKey>,
}

impl TriggerSendOut {
    /// Triggers a send-out for `capture_id` of `order_id`.
    pub fn new(
        order_id: impl Into<String>,
        capture_id: impl Into<String>,
        idempotency_key: Option<IdempotencyKey>,
    ) -> Self {
        Self {
            order_id: order_id.into(),
            capture_id: capture_id.into(),
            idempotency_key,
        }
    }
}

impl Operation for TriggerSendOut {
    type Output = ();
    const NAME: &'static str = "om.trigger_send_out";
    const DOCUMENTED_STATUS: StatusCode = StatusCode::NO_CONTENT;

    fn to_request(&self, api: &Api) -> Result<Request<Vec<u8>>, Error> {
        let path = capture_path(&self.order_id, &self.capture_id)?.then("/trigger-send-out");
        send(
            api,
            Method::POST,
            &path,
            None,
            self.idempotency_key.as_ref(),
        )
    }

    fn decode_response(response: &Response<Vec<u8>>) -> Result<(), Error> {
        wire::success(Self::NAME, response)
    }
}

/// Extends a capture's payment due date:
/// `PATCH …/{order_id}/captures/{capture_id}/extend-due-date` → 204. The merchant pays the fee
/// listed by [`GetExtendDueDateOptions`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExtendDueDate {
    /// The order.
    pub order_id: String,
    /// The capture.
    pub capture_id: String,
    /// Days to add (>0).
    pub number_of_days: i32,
    /// Sent as `Klarna-Idempotency-Key`.
    pub idempotency_key: Option<IdempotencyKey>,
}

impl ExtendDueDate {
    /// Extends the due date of `capture_id` by `number_of_days`.
    pub fn new(
        order_id: impl Into<String>,
        capture_id: impl Into<String>,
        number_of_days: i32,
        idempotency_key: Option<IdempotencyKey>,
    ) -> Self {
        Self {
            order_id: order_id.into(),
            capture_id: capture_id.into(),
            number_of_days,
            idempotency_key,
        }
    }
}

impl Operation for ExtendDueDate {
    type Output = ();
    const NAME: &'static str = "om.extend_due_date";
    const DOCUMENTED_STATUS: StatusCode = StatusCode::NO_CONTENT;

    fn to_request(&self, api: &Api) -> Result<Request<Vec<u8>>, Error> {
        let path = capture_path(&self.order_id, &self.capture_id)?.then("/extend-due-date");
        let request = ExtendDueDateRequest::new(self.number_of_days);
        request.validate()?;
        let body = wire::json(&request)?;
        send(
            api,
            Method::PATCH,
            &path,
            Some(body),
            self.idempotency_key.as_ref(),
        )
    }

    fn decode_response(response: &Response<Vec<u8>>) -> Result<(), Error> {
        wire::success(Self::NAME, response)
    }
}

/// Lists the ways a capture's due date can be extended, with fees:
/// `GET …/{order_id}/captures/{capture_id}/extend-due-date-options` → 200
/// [`ExtendDueDateOptions`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GetExtendDueDateOptions {
    /// The order.
    pub order_id: String,
    /// The capture.
    pub capture_id: String,
}

impl GetExtendDueDateOptions {
    /// Lists the options for `capture_id` of `order_id`.
    pub fn new(order_id: impl Into<String>, capture_id: impl Into<String>) -> Self {
        Self {
            order_id: order_id.into(),
            capture_id: capture_id.into(),
        }
    }
}

impl Operation for GetExtendDueDateOptions {
    type Output = ExtendDueDateOptions;
    const NAME: &'static str = "om.get_extend_due_date_options";
    const DOCUMENTED_STATUS: StatusCode = StatusCode::OK;

    fn to_request(&self, api: &Api) -> Result<Request<Vec<u8>>, Error> {
        let path = capture_path(&self.order_id, &self.capture_id)?.then("/extend-due-date-options");
        send(api, Method::GET, &path, None, None)
    }

    fn decode_response(response: &Response<Vec<u8>>) -> Result<ExtendDueDateOptions, Error> {
        wire::decode(Self::NAME, response)
    }
}

//! Operations on refunds: create and read.

use http::{Method, Request, Response, StatusCode};

use crate::config::Api;
use crate::error::Error;
use crate::operation::Operation;
use crate::wire;

use super::bodies::RefundRequest;
use super::types::Refund;
use super::{created, order_path, send, IdempotencyKey};

/// Refunds (part of) the captured amount: `POST …/{order_id}/refunds` → 201 with headers
/// `Refund-Id` and `Location` and no body (403 `REFUND_NOT_ALLOWED` when nothing, or less, was
/// captured).
///
/// This moves money: always pass an idempotency key, and reuse it on retries.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreateRefund {
    /// The order.
    pub order_id: String,
    /// The refund.
    pub body: RefundRequest,
    /// Sent as `Klarna-Idempotency-Key`.
    pub idempotency_key: Option<IdempotencyKey>,
}

impl CreateRefund {
    /// Refunds `body` on `order_id`.
    pub fn new(
        order_id: impl Into<String>,
        body: RefundRequest,
        idempotency_key: Option<IdempotencyKey>,
    ) -> Self {
        Self {
            order_id: order_id.into(),
            body,
            idempotency_key,
        }
    }
}

/// What a created refund's response says: its id and URL, from the headers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RefundCreated {
    /// The new refund's id: the `Refund-Id` header, else the last path segment of `Location`.
    /// `None` when neither says (read the order to find it).
    pub refund_id: Option<String>,
    /// The `Location` header: where the refund can be read.
    pub location: Option<String>,
}

impl Operation for CreateRefund {
    type Output = RefundCreated;
    const NAME: &'static str = "om.create_refund";
    const DOCUMENTED_STATUS: StatusCode = StatusCode::CREATED;

    fn to_request(&self, api: &Api) -> Result<Request<Vec<u8>>, Error> {
        let path = order_path(&self.order_id)?.then("/refunds");
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

    fn decode_response(response: &Response<Vec<u8>>) -> Result<RefundCreated, Error> {
        let (refund_id, location) = created(Self::NAME, response, "Refund-Id", "refunds")?;
        Ok(RefundCreated {
            refund_id,
            location,
        })
    }
}

/// Reads one refund: `GET …/{order_id}/refunds/{refund_id}` → 200 [`Refund`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GetRefund {
    /// The order.
    pub order_id: String,
    /// The refund.
    pub refund_id: String,
}

impl GetRefund {
    /// Reads `refund_id` of `order_id`.
    pub fn new(order_id: impl Into<String>, refund_id: impl Into<String>) -> Self {
        Self {
            order_id: order_id.into(),
            refund_id: refund_id.into(),
        }
    }
}

impl Operation for GetRefund {
    type Output = Refund;
    const NAME: &'static str = "om.get_refund";
    const DOCUMENTED_STATUS: StatusCode = StatusCode::OK;

    fn to_request(&self, api: &Api) -> Result<Request<Vec<u8>>, Error> {
        let path = order_path(&self.order_id)?
            .then("/refunds")
            .id("refund_id", &self.refund_id)?;
        send(api, Method::GET, &path, None, None)
    }

    fn decode_response(response: &Response<Vec<u8>>) -> Result<Refund, Error> {
        wire::decode(Self::NAME, response)
    }
}

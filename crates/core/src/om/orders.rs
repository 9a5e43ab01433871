//! Operations on a whole order: read, acknowledge, change, cancel, extend, release.

use http::{Method, Request, Response, StatusCode};

use crate::config::Api;
use crate::error::Error;
use crate::operation::Operation;
use crate::wire;

use super::bodies::{
    shipping_info_update_body, CustomerDetails, MerchantReferences, UpdateAuthorizationRequest,
};
use super::types::{Order, ShippingInfo};
use super::{order_path, send, IdempotencyKey};

/// Reads an order: `GET /ordermanagement/v1/orders/{order_id}` → 200 [`Order`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct GetOrder {
    /// The order to read.
    pub order_id: String,
}

impl GetOrder {
    /// Reads `order_id`.
    pub fn new(order_id: impl Into<String>) -> Self {
        Self {
            order_id: order_id.into(),
        }
    }
}

impl Operation for GetOrder {
    type Output = Order;
    const NAME: &'static str = "om.get_order";
    const DOCUMENTED_STATUS: StatusCode = StatusCode::OK;

    fn to_request(&self, api: &Api) -> Result<Request<Vec<u8>>, Error> {
        let path = order_path(&self.order_id)?;
        send(api, Method::GET, &path, None, None)
    }

    fn decode_response(response: &Response<Vec<u8>>) -> Result<Order, Error> {
        wire::decode(Self::NAME, response)
    }
}

/// Defines a body-less `POST …/orders/{order_id}/<action>` answered with 204.
macro_rules! order_action {
    ($(#[$doc:meta])* $name:ident, $op:literal, $action:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[non_exhaustive]
        pub struct $name {
            /// The order.
            pub order_id: String,
            /// Sent as `Klarna-Idempotency-Key`.
            pub idempotency_key: Option<IdempotencyKey>,
        }

        impl $name {
            /// The action on `order_id`, with an optional idempotency key.
            pub fn new(order_id: impl Into<String>, idempotency_key: Option<IdempotencyKey>) -> Self {
                Self { order_id: order_id.into(), idempotency_key }
            }
        }

        impl Operation for $name {
            type Output = ();
            const NAME: &'static str = $op;
            const DOCUMENTED_STATUS: StatusCode = StatusCode::NO_CONTENT;

            fn to_request(&self, api: &Api) -> Result<Request<Vec<u8>>, Error> {
                let path = order_path(&self.order_id)?.then("/").then($action);
                send(api, Method::POST, &path, None, self.idempotency_key.as_ref())
            }

            fn decode_response(response: &Response<Vec<u8>>) -> Result<(), Error> {
                wire::success(Self::NAME, response)
            }
        }
    };
}

order_action!(
    /// Acknowledges an order: `POST …/{order_id}/acknowledge` → 204.
    Acknowledge,
    "om.acknowledge",
    "acknowledge"
);

order_action!(
    /// Cancels an order that has no captures: `POST …/{order_id}/cancel` → 204
    /// (403 `CANCEL_NOT_ALLOWED` otherwise).
    CancelOrder,
    "om.cancel_order",
    "cancel"
);

order_action!(
    /// Extends the authorization by the account's period (default 28 days, at most 180 days after
    /// creation): `POST …/{order_id}/extend-authorization-time` → 204.
    ExtendAuthorizationTime,
    "om.extend_authorization_time",
    "extend-authorization-time"
);

order_action!(
    /// Releases what remains authorized after at least one capture:
    /// `POST …/{order_id}/release-remaining-authorization` → 204.
    ReleaseRemainingAuthorization,
    "om.release_remaining_authorization",
    "release-remaining-authorization"
);

/// Sets a new order amount (and lines): `PATCH …/{order_id}/authorization` → 204.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpdateAuthorization {
    /// The order.
    pub order_id: String,
    /// The new amount and lines.
    pub body: UpdateAuthorizationRequest,
    /// Sent as `Klarna-Idempotency-Key`.
    pub idempotency_key: Option<IdempotencyKey>,
}

impl UpdateAuthorization {
    /// Updates the authorization of `order_id`.
    pub fn new(
        order_id: impl Into<String>,
        body: UpdateAuthorizationRequest,
        idempotency_key: Option<IdempotencyKey>,
    ) -> Self {
        Self {
            order_id: order_id.into(),
            body,
            idempotency_key,
        }
    }
}

impl Operation for UpdateAuthorization {
    type Output = ();
    const NAME: &'static str = "om.update_authorization";
    const DOCUMENTED_STATUS: StatusCode = StatusCode::NO_CONTENT;

    fn to_request(&self, api: &Api) -> Result<Request<Vec<u8>>, Error> {
        let path = order_path(&self.order_id)?.then("/authorization");
        self.body.validate()?;
        let body = wire::json(&self.body)?;
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

/// Changes the customer's addresses: `PATCH …/{order_id}/customer-details` → 204.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpdateCustomerDetails {
    /// The order.
    pub order_id: String,
    /// The new addresses.
    pub body: CustomerDetails,
    /// Sent as `Klarna-Idempotency-Key`.
    pub idempotency_key: Option<IdempotencyKey>,
}

impl UpdateCustomerDetails {
    /// Updates the addresses of `order_id`.
    pub fn new(
        order_id: impl Into<String>,
        body: CustomerDetails,
        idempotency_key: Option<IdempotencyKey>,
    ) -> Self {
        Self {
            order_id: order_id.into(),
            body,
            idempotency_key,
        }
    }
}

impl Operation for UpdateCustomerDetails {
    type Output = ();
    const NAME: &'static str = "om.update_customer_details";
    const DOCUMENTED_STATUS: StatusCode = StatusCode::NO_CONTENT;

    fn to_request(&self, api: &Api) -> Result<Request<Vec<u8>>, Error> {
        let path = order_path(&self.order_id)?.then("/customer-details");
        self.body.validate()?;
        let body = wire::json(&self.body)?;
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

/// Changes the merchant references: `PATCH …/{order_id}/merchant-references` → 204.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpdateMerchantReferences {
    /// The order.
    pub order_id: String,
    /// The new references.
    pub body: MerchantReferences,
    /// Sent as `Klarna-Idempotency-Key`.
    pub idempotency_key: Option<IdempotencyKey>,
}

impl UpdateMerchantReferences {
    /// Updates the references of `order_id`.
    pub fn new(
        order_id: impl Into<String>,
        body: MerchantReferences,
        idempotency_key: Option<IdempotencyKey>,
    ) -> Self {
        Self {
            order_id: order_id.into(),
            body,
            idempotency_key,
        }
    }
}

impl Operation for UpdateMerchantReferences {
    type Output = ();
    const NAME: &'static str = "om.update_merchant_references";
    const DOCUMENTED_STATUS: StatusCode = StatusCode::NO_CONTENT;

    fn to_request(&self, api: &Api) -> Result<Request<Vec<u8>>, Error> {
        let path = order_path(&self.order_id)?.then("/merchant-references");
        self.body.validate()?;
        let body = wire::json(&self.body)?;
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

/// Adds shipping information to an order: `POST …/{order_id}/shipping-info` → 204.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AddOrderShippingInfo {
    /// The order.
    pub order_id: String,
    /// The shipping information to add (1..=500 items).
    pub shipping_info: Vec<ShippingInfo>,
    /// Sent as `Klarna-Idempotency-Key`.
    pub idempotency_key: Option<IdempotencyKey>,
}

impl AddOrderShippingInfo {
    /// Adds `shipping_info` to `order_id`.
    pub fn new(
        order_id: impl Into<String>,
        shipping_info: Vec<ShippingInfo>,
        idempotency_key: Option<IdempotencyKey>,
    ) -> Self {
        Self {
            order_id: order_id.into(),
            shipping_info,
            idempotency_key,
        }
    }
}

impl Operation for AddOrderShippingInfo {
    type Output = ();
    const NAME: &'static str = "om.add_order_shipping_info";
    const DOCUMENTED_STATUS: StatusCode = StatusCode::NO_CONTENT;

    fn to_request(&self, api: &Api) -> Result<Request<Vec<u8>>, Error> {
        let path = order_path(&self.order_id)?.then("/shipping-info");
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

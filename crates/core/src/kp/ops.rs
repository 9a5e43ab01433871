//! The six KP operations as [`Operation`]s.

use http::{Method, Request, Response, StatusCode};

use super::order::{CreateOrderRequest, Order};
use super::session::{MerchantSession, SessionCreate, SessionRead, SessionUpdate};
use super::token::{CustomerTokenRequest, CustomerTokenResponse};
use crate::config::Api;
use crate::error::{Error, ValidationError};
use crate::operation::Operation;
use crate::secret::AuthorizationToken;
use crate::wire;
use crate::wire::Path;

const SESSIONS: &str = "/payments/v1/sessions";
const AUTHORIZATIONS: &str = "/payments/v1/authorizations";

fn session_path(session_id: &str) -> Result<Path, ValidationError> {
    Path::new(SESSIONS).id("session_id", session_id)
}

fn authorization_path(token: &AuthorizationToken) -> Result<Path, ValidationError> {
    Path::new(AUTHORIZATIONS).id("authorization_token", token.expose())
}

/// K1: create a payment session (`POST /payments/v1/sessions`, 200 [`MerchantSession`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateSession {
    /// The session to create.
    pub body: SessionCreate,
}

impl CreateSession {
    /// The operation.
    pub fn new(body: SessionCreate) -> Self {
        Self { body }
    }

    /// The request for a body validated earlier (a checkout validates its session once, when
    /// it starts, and sends it from a borrow).
    pub(crate) fn request_for_valid(
        api: &Api,
        body: &SessionCreate,
    ) -> Result<Request<Vec<u8>>, Error> {
        wire::request(api, Method::POST, SESSIONS, Some(wire::json(body)?), None)
    }
}

impl Operation for CreateSession {
    type Output = MerchantSession;
    const NAME: &'static str = "kp.create_session";
    const DOCUMENTED_STATUS: StatusCode = StatusCode::OK;

    fn to_request(&self, api: &Api) -> Result<Request<Vec<u8>>, Error> {
        self.body.validate()?;
        Self::request_for_valid(api, &self.body)
    }

    fn decode_response(response: &Response<Vec<u8>>) -> Result<MerchantSession, Error> {
        wire::decode(Self::NAME, response)
    }
}

/// K2: read a session (`GET /payments/v1/sessions/{id}`, 200 [`SessionRead`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadSession {
    /// The session id.
    pub session_id: String,
}

impl ReadSession {
    /// The operation.
    pub fn new(session_id: impl Into<String>) -> Self {
        Self {
            session_id: session_id.into(),
        }
    }
}

impl Operation for ReadSession {
    type Output = SessionRead;
    const NAME: &'static str = "kp.read_session";
    const DOCUMENTED_STATUS: StatusCode = StatusCode::OK;

    fn to_request(&self, api: &Api) -> Result<Request<Vec<u8>>, Error> {
        wire::request(
            api,
            Method::GET,
            &session_path(&self.session_id)?,
            None,
            None,
        )
    }

    fn decode_response(response: &Response<Vec<u8>>) -> Result<SessionRead, Error> {
        wire::decode(Self::NAME, response)
    }
}

/// K3: update a session (`POST /payments/v1/sessions/{id}`, 204).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateSession {
    /// The session id.
    pub session_id: String,
    /// The changes.
    pub body: SessionUpdate,
}

impl UpdateSession {
    /// The operation.
    pub fn new(session_id: impl Into<String>, body: SessionUpdate) -> Self {
        Self {
            session_id: session_id.into(),
            body,
        }
    }
}

impl Operation for UpdateSession {
    type Output = ();
    const NAME: &'static str = "kp.update_session";
    const DOCUMENTED_STATUS: StatusCode = StatusCode::NO_CONTENT;

    fn to_request(&self, api: &Api) -> Result<Request<Vec<u8>>, Error> {
        let path = session_path(&self.session_id)?;
        self.body.validate()?;
        let body = wire::json(&self.body)?;
        wire::request(api, Method::POST, &path, Some(body), None)
    }

    fn decode_response(response: &Response<Vec<u8>>) -> Result<(), Error> {
        wire::success(Self::NAME, response)
    }
}

/// K4: place the order of an authorization
/// (`POST /payments/v1/authorizations/{token}/order`, 200 [`Order`]).
///
/// KP has no idempotency key: never resend after an ambiguous failure without reading first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateOrder {
    /// The authorization token (valid 60 minutes, single use).
    pub authorization_token: AuthorizationToken,
    /// The order; must match the authorized session.
    pub body: CreateOrderRequest,
}

impl CreateOrder {
    /// The operation.
    pub fn new(authorization_token: AuthorizationToken, body: CreateOrderRequest) -> Self {
        Self {
            authorization_token,
            body,
        }
    }
}

impl Operation for CreateOrder {
    type Output = Order;
    const NAME: &'static str = "kp.create_order";
    const DOCUMENTED_STATUS: StatusCode = StatusCode::OK;

    fn to_request(&self, api: &Api) -> Result<Request<Vec<u8>>, Error> {
        let path = authorization_path(&self.authorization_token)?.then("/order");
        self.body.validate()?;
        let body = wire::json(&self.body)?;
        wire::request(api, Method::POST, &path, Some(body), None)
    }

    fn decode_response(response: &Response<Vec<u8>>) -> Result<Order, Error> {
        wire::decode(Self::NAME, response)
    }
}

/// K5: release an authorization without placing an order
/// (`DELETE /payments/v1/authorizations/{token}`, 204).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CancelAuthorization {
    /// The authorization token.
    pub authorization_token: AuthorizationToken,
}

impl CancelAuthorization {
    /// The operation.
    pub fn new(authorization_token: AuthorizationToken) -> Self {
        Self {
            authorization_token,
        }
    }
}

impl Operation for CancelAuthorization {
    type Output = ();
    const NAME: &'static str = "kp.cancel_authorization";
    const DOCUMENTED_STATUS: StatusCode = StatusCode::NO_CONTENT;

    fn to_request(&self, api: &Api) -> Result<Request<Vec<u8>>, Error> {
        let path = authorization_path(&self.authorization_token)?;
        wire::request(api, Method::DELETE, &path, None, None)
    }

    fn decode_response(response: &Response<Vec<u8>>) -> Result<(), Error> {
        wire::success(Self::NAME, response)
    }
}

/// K6: create a customer token from an authorization
/// (`POST /payments/v1/authorizations/{token}/customer-token`, 200 [`CustomerTokenResponse`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateCustomerToken {
    /// The authorization token (of a `tokenize` or `buy_and_tokenize` session).
    pub authorization_token: AuthorizationToken,
    /// The token request.
    pub body: CustomerTokenRequest,
}

impl CreateCustomerToken {
    /// The operation.
    pub fn new(authorization_token: AuthorizationToken, body: CustomerTokenRequest) -> Self {
        Self {
            authorization_token,
            body,
        }
    }
}

impl Operation for CreateCustomerToken {
    type Output = CustomerTokenResponse;
    const NAME: &'static str = "kp.create_customer_token";
    const DOCUMENTED_STATUS: StatusCode = StatusCode::OK;

    fn to_request(&self, api: &Api) -> Result<Request<Vec<u8>>, Error> {
        let path = authorization_path(&self.authorization_token)?.then("/customer-token");
        self.body.validate()?;
        let body = wire::json(&self.body)?;
        wire::request(api, Method::POST, &path, Some(body), None)
    }

    fn decode_response(response: &Response<Vec<u8>>) -> Result<CustomerTokenResponse, Error> {
        wire::decode(Self::NAME, response)
    }
}

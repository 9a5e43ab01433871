//! The four HPP operations.

use http::{Method, Request, Response, StatusCode};

use super::request::SessionCreationBody;
use super::{DistributionRequest, Session, SessionCreated, SessionCreationRequest};
use crate::config::Api;
use crate::error::{DecodeError, Error};
use crate::operation::Operation;
use crate::wire;

const SESSIONS: &str = "/hpp/v1/sessions";

/// `POST /hpp/v1/sessions`: host a KP session on the payment page.
///
/// Validated before a request is built:
/// - `payment_session_url` is absolute and https (plain http only for loopback hosts);
/// - every `merchant_urls` entry is non-empty, parses as a [`UrlTemplate`] (syntax errors come as
///   [`TemplateError::InMerchantUrl`]), is https (http for loopback) and passes
///   [`UrlTemplate::check`] for its kind and the effective `place_order_mode` (default `NONE`);
/// - `payment_method_category` and `payment_method_categories` are not both set, and the list
///   is not empty;
/// - `logo_url` and `background_images[].url` are absolute https, widths positive;
/// - `page_title` has at most 255 characters.
///
/// Setting both `back` and `cancel` is accepted (Klarna shows one of them).
///
/// [`UrlTemplate`]: crate::template::UrlTemplate
/// [`UrlTemplate::check`]: crate::template::UrlTemplate::check
/// [`TemplateError::InMerchantUrl`]: crate::template::TemplateError::InMerchantUrl
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateSession {
    /// The request body.
    pub body: SessionCreationRequest,
}

impl CreateSession {
    /// Creates a session from `body`.
    pub fn new(body: SessionCreationRequest) -> Self {
        Self { body }
    }

    /// The request for a body validated earlier (a checkout validates its URLs and options
    /// once, when it starts).
    pub(crate) fn request_for_valid(
        api: &Api,
        body: &SessionCreationBody<'_>,
    ) -> Result<Request<Vec<u8>>, Error> {
        wire::request(api, Method::POST, SESSIONS, Some(wire::json(body)?), None)
    }
}

impl Operation for CreateSession {
    type Output = SessionCreated;
    const NAME: &'static str = "hpp.create_session";
    const DOCUMENTED_STATUS: StatusCode = StatusCode::CREATED;

    fn to_request(&self, api: &Api) -> Result<Request<Vec<u8>>, Error> {
        self.body.validate()?;
        Self::request_for_valid(api, &self.body.body())
    }

    fn decode_response(response: &Response<Vec<u8>>) -> Result<SessionCreated, Error> {
        wire::decode(Self::NAME, response)
    }
}

/// `GET /hpp/v1/sessions/{session_id}`: the session's current status (the only trusted source).
///
/// Past `expires_at` Klarna answers 404 ([`Error::Api`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadSession {
    /// The HPP session id.
    pub session_id: String,
}

impl ReadSession {
    /// Reads session `session_id`.
    pub fn new(session_id: impl Into<String>) -> Self {
        Self {
            session_id: session_id.into(),
        }
    }

    /// Decodes the answer to this read, tied to the session asked for: a body without
    /// `session_id` is about this read's session (its id is filled in), and a body naming
    /// another session is a [`DecodeError`] at `session_id`, never a session to act on.
    /// [`Operation::decode_response`] decodes without that check.
    pub fn decode(&self, response: &Response<Vec<u8>>) -> Result<Session, Error> {
        let mut session = Self::decode_response(response)?;
        if !session.is_about(&self.session_id) {
            return Err(DecodeError {
                operation: Self::NAME,
                status: response.status(),
                path: "session_id".to_owned(),
                message: "names another session than the one read".to_owned(),
                body: response.body().clone(),
            }
            .into());
        }
        session
            .session_id
            .get_or_insert_with(|| self.session_id.clone());
        Ok(session)
    }
}

impl Operation for ReadSession {
    type Output = Session;
    const NAME: &'static str = "hpp.read_session";
    const DOCUMENTED_STATUS: StatusCode = StatusCode::OK;

    fn to_request(&self, api: &Api) -> Result<Request<Vec<u8>>, Error> {
        let path = wire::Path::new(SESSIONS).id("session_id", &self.session_id)?;
        wire::request(api, Method::GET, &path, None, None)
    }

    fn decode_response(response: &Response<Vec<u8>>) -> Result<Session, Error> {
        wire::decode(Self::NAME, response)
    }
}

/// `DELETE /hpp/v1/sessions/{session_id}`: disable the session (status `DISABLED`, final).
///
/// Klarna answers 400 when the session is already `COMPLETED`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisableSession {
    /// The HPP session id.
    pub session_id: String,
}

impl DisableSession {
    /// Disables session `session_id`.
    pub fn new(session_id: impl Into<String>) -> Self {
        Self {
            session_id: session_id.into(),
        }
    }
}

impl Operation for DisableSession {
    type Output = ();
    const NAME: &'static str = "hpp.disable_session";
    const DOCUMENTED_STATUS: StatusCode = StatusCode::NO_CONTENT;

    fn to_request(&self, api: &Api) -> Result<Request<Vec<u8>>, Error> {
        let path = wire::Path::new(SESSIONS).id("session_id", &self.session_id)?;
        wire::request(api, Method::DELETE, &path, None, None)
    }

    fn decode_response(response: &Response<Vec<u8>>) -> Result<(), Error> {
        wire::success(Self::NAME, response)
    }
}

/// `POST /hpp/v1/sessions/{session_id}/distribution`: send the page link by e-mail or SMS, or
/// connect it to a consumer's access id.
///
/// The method's contact field must be present and well-formed (e-mail `local@domain`; phone
/// digits with an alpha-2 `phone_country`; a non-empty `access_id`). Klarna documents 201 and
/// 204; any 2xx is success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Distribute {
    /// The HPP session id.
    pub session_id: String,
    /// Where and how to send the link.
    pub body: DistributionRequest,
}

impl Distribute {
    /// Distributes session `session_id`.
    pub fn new(session_id: impl Into<String>, body: DistributionRequest) -> Self {
        Self {
            session_id: session_id.into(),
            body,
        }
    }
}

impl Operation for Distribute {
    type Output = ();
    const NAME: &'static str = "hpp.distribute";
    const DOCUMENTED_STATUS: StatusCode = StatusCode::CREATED;

    fn to_request(&self, api: &Api) -> Result<Request<Vec<u8>>, Error> {
        let path = wire::Path::new(SESSIONS)
            .id("session_id", &self.session_id)?
            .then("/distribution");
        self.body.validate()?;
        let body = wire::json(&self.body)?;
        wire::request(api, Method::POST, &path, Some(body), None)
    }

    fn decode_response(response: &Response<Vec<u8>>) -> Result<(), Error> {
        wire::success(Self::NAME, response)
    }
}

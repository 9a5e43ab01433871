//! The shape every Klarna operation shares: a request builder and a response decoder.

use http::{Request, Response, StatusCode};

use crate::config::Api;
use crate::error::Error;

/// One call to Klarna's API, as data.
///
/// `to_request` validates and emits the exact `http::Request`; `decode_response` turns the
/// `http::Response` into [`Operation::Output`] (any 2xx is success, as Klarna advises) or an
/// [`Error`]. No I/O happens here: run the request with any HTTP client.
pub trait Operation {
    /// What a successful response decodes into.
    type Output;
    /// A stable name used in errors and logs, e.g. `hpp.create_session`.
    const NAME: &'static str;
    /// The status Klarna documents for success (any 2xx is still accepted).
    const DOCUMENTED_STATUS: StatusCode;

    /// Validates the operation and builds its request. No request is built from invalid input.
    fn to_request(&self, api: &Api) -> Result<Request<Vec<u8>>, Error>;

    /// Decodes Klarna's response.
    fn decode_response(response: &Response<Vec<u8>>) -> Result<Self::Output, Error>;
}

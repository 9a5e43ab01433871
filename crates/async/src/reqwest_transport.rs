//! The default async transport: a reqwest client with timeouts.

use std::time::Duration;

use klarna_hpp_core::http::{Request, Response};
use klarna_hpp_core::transport::{response_buffer, MAX_RESPONSE_BODY};

use crate::{AsyncTransport, TransportError};

/// An [`AsyncTransport`] over a `reqwest::Client`. Any HTTP status is returned as a response.
#[derive(Debug, Clone)]
pub struct ReqwestTransport {
    client: reqwest::Client,
}

impl Default for ReqwestTransport {
    /// 10 s to connect, 30 s for the whole call.
    fn default() -> Self {
        Self::with_timeouts(Duration::from_secs(10), Duration::from_secs(30))
    }
}

impl ReqwestTransport {
    /// A transport with a connect timeout and a whole-call timeout.
    pub fn with_timeouts(connect: Duration, call: Duration) -> Self {
        // reqwest is built without a bundled crypto provider; use ring (as ureq does). Installing
        // fails harmlessly when the application installed one already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .connect_timeout(connect)
            .timeout(call)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self { client }
    }

    /// Wraps a client you configured (keep redirects off).
    pub fn from_client(client: reqwest::Client) -> Self {
        Self { client }
    }
}

impl AsyncTransport for ReqwestTransport {
    async fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        let request = reqwest::Request::try_from(request)
            .map_err(|e| TransportError::not_sent(e.to_string()))?;
        let mut response = self.client.execute(request).await.map_err(classify)?;
        let status = response.status();
        let version = response.version();
        let headers = std::mem::take(response.headers_mut());
        // A body over the limit is refused rather than buffered, at once when announced.
        let announced = response.content_length();
        if announced.is_some_and(|n| n > MAX_RESPONSE_BODY) {
            return Err(too_long());
        }
        let mut body = response_buffer(announced);
        let reading = |e: reqwest::Error| {
            TransportError::outcome_unknown(format!(
                "reading the response body: {}",
                e.without_url()
            ))
        };
        while let Some(chunk) = response.chunk().await.map_err(reading)? {
            let total = u64::try_from(body.len() + chunk.len()).unwrap_or(u64::MAX);
            if total > MAX_RESPONSE_BODY {
                return Err(too_long());
            }
            body.extend_from_slice(&chunk);
        }
        let mut out = Response::new(body);
        *out.status_mut() = status;
        *out.version_mut() = version;
        *out.headers_mut() = headers;
        Ok(out)
    }
}

/// A response body over [`MAX_RESPONSE_BODY`]: the request reached the server.
fn too_long() -> TransportError {
    TransportError::outcome_unknown(format!(
        "reading the response body: longer than {MAX_RESPONSE_BODY} bytes"
    ))
}

/// Which reqwest errors prove the request never left.
fn classify(error: reqwest::Error) -> TransportError {
    let never_sent = error.is_builder() || error.is_connect();
    let message = error.without_url().to_string();
    if never_sent {
        TransportError::not_sent(message)
    } else {
        TransportError::outcome_unknown(message)
    }
}

//! The default transport: a ureq agent with timeouts.

use std::io::Read;
use std::time::Duration;

use klarna_hpp_core::http::{Request, Response};
use klarna_hpp_core::transport::{response_buffer, MAX_RESPONSE_BODY};

use crate::{Transport, TransportError};

/// A [`Transport`] over a ureq agent. Any HTTP status is returned as a response.
#[derive(Debug, Clone)]
pub struct UreqTransport {
    agent: ureq::Agent,
}

impl Default for UreqTransport {
    /// 10 s to connect, 30 s for the whole call (Klarna's documented timeouts are shorter).
    fn default() -> Self {
        Self::with_timeouts(Duration::from_secs(10), Duration::from_secs(30))
    }
}

impl UreqTransport {
    /// A transport with a connect timeout and a whole-call timeout.
    pub fn with_timeouts(connect: Duration, call: Duration) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(connect))
            .timeout_per_call(Some(call))
            .build();
        Self {
            agent: config.into(),
        }
    }

    /// Wraps an agent you configured (keep `http_status_as_error(false)`).
    pub fn from_agent(agent: ureq::Agent) -> Self {
        Self { agent }
    }
}

impl Transport for UreqTransport {
    fn send(&self, request: Request<Vec<u8>>) -> Result<Response<Vec<u8>>, TransportError> {
        let response = self.agent.run(request).map_err(classify)?;
        let (parts, body) = response.into_parts();
        let mut bytes = response_buffer(body.content_length());
        body.into_with_config()
            .limit(MAX_RESPONSE_BODY)
            .reader()
            .read_to_end(&mut bytes)
            .map_err(|e| {
                TransportError::outcome_unknown(format!("reading the response body: {e}"))
            })?;
        Ok(Response::from_parts(parts, bytes))
    }
}

/// Which ureq errors prove the request never left.
fn classify(error: ureq::Error) -> TransportError {
    use ureq::Timeout;
    match &error {
        ureq::Error::HostNotFound
        | ureq::Error::ConnectionFailed
        | ureq::Error::BadUri(_)
        | ureq::Error::Http(_)
        | ureq::Error::Tls(_)
        | ureq::Error::InvalidProxyUrl
        | ureq::Error::Timeout(Timeout::Resolve | Timeout::Connect) => {
            TransportError::not_sent(error.to_string())
        }
        // Refused while connecting: no byte of the request left.
        ureq::Error::Io(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            TransportError::not_sent(error.to_string())
        }
        _ => TransportError::outcome_unknown(error.to_string()),
    }
}

//! Fault injection: make the next `times` calls of an operation fail, stall, or succeed and then
//! lose their response.

use serde::{Deserialize, Serialize};

use crate::api::Op;
use crate::error::Error;

/// A fault for an operation, e.g. "the next capture is committed but its response is lost":
///
/// ```
/// use klarna_hpp_sim::Fault;
///
/// let lost = Fault::drop_after_commit("om.create_capture");
/// let busy = Fault::status("hpp.read_session", 503).retry_after(2).times(3);
/// let slow = Fault::delay("kp.create_order", 4_000);
/// assert_eq!(busy.times, 3);
/// # let _ = (lost, slow);
/// ```
///
/// Operation names are those of [`crate::OPERATIONS`] (`kp.create_order`, `om.create_capture`,
/// `hpp.read_session`, …), or `*` for any API operation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Fault {
    /// The operation it applies to (`*`: any).
    pub operation: String,
    /// Answer with this status (and a Klarna error body) instead of running the operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The `error_code` of that answer (default: Klarna's code for the status, e.g.
    /// `TEMPORARILY_UNAVAILABLE` for 503).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    /// Send `Retry-After: <seconds>` with that answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// Wait this long (real time) before handling the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// Run the operation (its side effects happen), then close the connection without sending
    /// the response.
    #[serde(default)]
    pub drop_after_commit: bool,
    /// Answer a read (`om.get_order`) as the previous read of the same resource was answered:
    /// a read that lags behind the writes made since (Klarna does not promise read-after-write
    /// consistency). Without a previous read, the read is answered as usual.
    #[serde(default)]
    pub stale: bool,
    /// How many matching requests it applies to (default 1).
    #[serde(default = "one")]
    pub times: u32,
}

fn one() -> u32 {
    1
}

impl Fault {
    fn new(operation: &str) -> Fault {
        Fault {
            operation: operation.to_owned(),
            status: None,
            error_code: None,
            retry_after: None,
            delay_ms: None,
            drop_after_commit: false,
            stale: false,
            times: 1,
        }
    }

    /// Answer `status` instead of running the operation.
    pub fn status(operation: &str, status: u16) -> Fault {
        Fault {
            status: Some(status),
            ..Fault::new(operation)
        }
    }

    /// Commit the operation, then drop the connection without a response.
    pub fn drop_after_commit(operation: &str) -> Fault {
        Fault {
            drop_after_commit: true,
            ..Fault::new(operation)
        }
    }

    /// Answer the next read of an order as the previous one was: it lags behind the writes
    /// made since.
    pub fn stale(operation: &str) -> Fault {
        Fault {
            stale: true,
            ..Fault::new(operation)
        }
    }

    /// Wait `ms` milliseconds before handling the request.
    pub fn delay(operation: &str, ms: u64) -> Fault {
        Fault {
            delay_ms: Some(ms),
            ..Fault::new(operation)
        }
    }

    /// Apply to the next `n` matching requests.
    #[must_use]
    pub fn times(mut self, n: u32) -> Fault {
        self.times = n;
        self
    }

    /// Send `Retry-After: <seconds>` with a status answer.
    #[must_use]
    pub fn retry_after(mut self, seconds: u64) -> Fault {
        self.retry_after = Some(seconds);
        self
    }

    /// Use this `error_code` in a status answer.
    #[must_use]
    pub fn error_code(mut self, code: impl Into<String>) -> Fault {
        self.error_code = Some(code.into());
        self
    }

    /// Also wait `ms` milliseconds first.
    #[must_use]
    pub fn with_delay(mut self, ms: u64) -> Fault {
        self.delay_ms = Some(ms);
        self
    }

    /// Checks that the fault names a real operation and asks for something.
    pub(crate) fn validate(&self) -> Result<(), Error> {
        if self.operation != "*" && Op::from_name(&self.operation).is_none() {
            let names: Vec<&str> = Op::ALL.iter().map(|op| op.name()).collect();
            return Err(Error::Fault(format!(
                "unknown operation {:?}; known: * {}",
                self.operation,
                names.join(" ")
            )));
        }
        if let Some(status) = self.status {
            if !(100..=599).contains(&status) {
                return Err(Error::Fault(format!(
                    "status {status} is not an HTTP status"
                )));
            }
            if self.drop_after_commit {
                return Err(Error::Fault(
                    "status and drop_after_commit exclude each other".into(),
                ));
            }
        }
        if self.stale
            && (self.operation != "om.get_order" || self.status.is_some() || self.drop_after_commit)
        {
            return Err(Error::Fault(
                "stale applies to om.get_order alone, without status or drop_after_commit".into(),
            ));
        }
        if self.status.is_none()
            && self.delay_ms.is_none()
            && !self.drop_after_commit
            && !self.stale
        {
            return Err(Error::Fault(
                "a fault needs status, delay_ms, drop_after_commit or stale".into(),
            ));
        }
        if self.times == 0 {
            return Err(Error::Fault("times must be at least 1".into()));
        }
        Ok(())
    }

    /// A short description for the request log.
    pub(crate) fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(ms) = self.delay_ms {
            parts.push(format!("delay {ms} ms"));
        }
        if let Some(s) = self.status {
            parts.push(format!("status {s}"));
        }
        if self.drop_after_commit {
            parts.push("drop after commit".to_owned());
        }
        if self.stale {
            parts.push("stale read".to_owned());
        }
        parts.join(", ")
    }

    /// Klarna's error code for an injected status.
    pub(crate) fn code_for(status: u16) -> &'static str {
        match status {
            400 => "BAD_VALUE",
            401 => "UNAUTHORIZED",
            403 => "NOT_ALLOWED",
            404 => "NOT_FOUND",
            409 => "CONFLICT",
            413 => "REQUEST_TOO_LARGE",
            422 => "UNPROCESSABLE_ENTITY",
            429 => "TOO_MANY_REQUESTS",
            500 => "INTERNAL_SERVER_ERROR",
            502..=504 => "TEMPORARILY_UNAVAILABLE",
            _ => "INJECTED_FAULT",
        }
    }
}

/// The armed faults, first match wins.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    armed: Vec<Fault>,
}

impl Faults {
    pub(crate) fn add(&mut self, fault: Fault) {
        self.armed.push(fault);
    }

    /// Takes one use of the first fault matching `op`.
    pub(crate) fn take(&mut self, op: Op) -> Option<Fault> {
        let idx = self
            .armed
            .iter()
            .position(|f| f.operation == "*" || f.operation == op.name())?;
        let fault = &mut self.armed[idx];
        fault.times = fault.times.saturating_sub(1);
        let taken = Fault {
            times: 1,
            ..fault.clone()
        };
        if fault.times == 0 {
            self.armed.remove(idx);
        }
        Some(taken)
    }

    pub(crate) fn list(&self) -> Vec<Fault> {
        self.armed.clone()
    }

    pub(crate) fn clear(&mut self) {
        self.armed.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_used_up() {
        let mut f = Faults::default();
        f.add(Fault::status("om.create_capture", 503).times(2));
        assert!(f.take(Op::OmGetOrder).is_none());
        assert_eq!(f.take(Op::OmCreateCapture).unwrap().status, Some(503));
        assert!(f.take(Op::OmCreateCapture).is_some());
        assert!(f.take(Op::OmCreateCapture).is_none());
    }

    #[test]
    fn validation() {
        assert!(Fault::status("nope", 503).validate().is_err());
        assert!(Fault::status("*", 503).validate().is_ok());
        assert!(Fault::status("kp.create_order", 503)
            .times(0)
            .validate()
            .is_err());
        let mut both = Fault::drop_after_commit("kp.create_order");
        both.status = Some(500);
        assert!(both.validate().is_err());
        let none: Fault = serde_json::from_str(r#"{"operation":"kp.create_order"}"#).unwrap();
        assert!(none.validate().is_err());
    }
}

//! Metric names (through the `metrics` facade) and the operation names of Klarna calls used in
//! spans and labels. Labels never carry ids, URLs, tokens or customer data.

use klarna_hpp_core::http::Method;

/// Checkouts started.
pub const STARTED: &str = "klarna_hpp_checkouts_started_total";
/// Committed saves (recovery points).
pub const COMMITS: &str = "klarna_hpp_commits_total";
/// Klarna calls, by `operation`.
pub const CALLS: &str = "klarna_hpp_calls_total";
/// Klarna call latency in seconds, by `operation`.
pub const CALL_SECONDS: &str = "klarna_hpp_call_seconds";
/// Answers that the checkout retries (429, 5xx), by `operation`.
pub const RETRIES: &str = "klarna_hpp_retries_total";
/// Calls without an answer, by `operation`.
pub const TRANSPORT_FAILURES: &str = "klarna_hpp_transport_failures_total";
/// Checkouts that ended with an unknown place-order outcome.
pub const UNKNOWN_OUTCOMES: &str = "klarna_hpp_unknown_order_outcomes_total";
/// Deadlines that expired a checkout, by `deadline`.
pub const DEADLINES: &str = "klarna_hpp_deadlines_hit_total";
/// Fenced writes dropped because the lease was lost.
pub const LEASES_LOST: &str = "klarna_hpp_leases_lost_total";
/// Rows quarantined (unusable snapshot).
pub const QUARANTINED: &str = "klarna_hpp_quarantined_total";
/// Redirects and callbacks left queued for another instance.
pub const HINTS_QUEUED: &str = "klarna_hpp_hints_queued_total";
/// Redirects and callbacks the checkout refused (not authentic, not its session).
pub const HINTS_REJECTED: &str = "klarna_hpp_hints_rejected_total";
/// Checkouts claimed by workers.
pub const CLAIMED: &str = "klarna_hpp_claimed_total";
/// Times a worker backed off because the database was away.
pub const DB_BACKOFFS: &str = "klarna_hpp_database_backoffs_total";
/// Checkouts by `state` (gauge), and of them due now and leased now.
pub const CHECKOUTS: &str = "klarna_hpp_checkouts";
/// Due checkouts by `state` (gauge).
pub const DUE: &str = "klarna_hpp_checkouts_due";
/// Leased checkouts by `state` (gauge).
pub const LEASED: &str = "klarna_hpp_checkouts_leased";

/// The operation a request is, from its method and path (as the emulator names them); never
/// the path itself, which may carry an authorization token.
pub fn operation(method: &Method, path: &str) -> &'static str {
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let post = method == Method::POST;
    let get = method == Method::GET;
    let delete = method == Method::DELETE;
    match segments.as_slice() {
        ["payments", "v1", "sessions"] if post => "kp.create_session",
        ["payments", "v1", "sessions", _] if get => "kp.read_session",
        ["payments", "v1", "authorizations", _, "order"] if post => "kp.create_order",
        ["payments", "v1", "authorizations", _] if delete => "kp.cancel_authorization",
        ["hpp", "v1", "sessions"] if post => "hpp.create_session",
        ["hpp", "v1", "sessions", _] if get => "hpp.read_session",
        ["hpp", "v1", "sessions", _] if delete => "hpp.disable_session",
        ["hpp", "v1", "sessions", _, "distribution"] if post => "hpp.distribute_session",
        ["ordermanagement", "v1", "orders", _] if get => "om.get_order",
        ["ordermanagement", "v1", "orders", _, "captures"] if post => "om.create_capture",
        ["ordermanagement", "v1", "orders", _, "refunds"] if post => "om.create_refund",
        ["ordermanagement", "v1", "orders", _, "cancel"] if post => "om.cancel_order",
        ["ordermanagement", "v1", "orders", _, "release-remaining-authorization"] if post => {
            "om.release_remaining_authorization"
        }
        ["ordermanagement", "v1", "orders", _, "extend-authorization-time"] if post => {
            "om.extend_authorization_time"
        }
        ["ordermanagement", "v1", "orders", _, "merchant-references"]
            if method == Method::PATCH =>
        {
            "om.update_merchant_references"
        }
        ["ordermanagement", "v1", "orders", _, "captures", _, "shipping-info"] if post => {
            "om.add_capture_shipping_info"
        }
        _ => "other",
    }
}

/// Whether a request of this operation may be repeated after a crash without harm: reads, and
/// session creations (a repeated one leaves an unused session behind). Everything else (orders,
/// captures, refunds, cancels, disables, distributions, and anything unrecognised) is
/// committed as in flight before it is sent.
pub fn is_repeatable(operation: &str) -> bool {
    matches!(
        operation,
        "kp.create_session"
            | "kp.read_session"
            | "hpp.create_session"
            | "hpp.read_session"
            | "om.get_order"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operations_never_include_path_values() {
        assert_eq!(
            operation(
                &Method::POST,
                "/payments/v1/authorizations/secret-token/order"
            ),
            "kp.create_order"
        );
        assert_eq!(
            operation(&Method::POST, "/ordermanagement/v1/orders/o-1/captures"),
            "om.create_capture"
        );
        assert_eq!(operation(&Method::PUT, "/x/y"), "other");
        assert_eq!(
            operation(
                &Method::POST,
                "/ordermanagement/v1/orders/o-1/captures/c-1/shipping-info"
            ),
            "om.add_capture_shipping_info"
        );
        assert_eq!(
            operation(
                &Method::PATCH,
                "/ordermanagement/v1/orders/o-1/merchant-references"
            ),
            "om.update_merchant_references"
        );
        assert!(!is_repeatable("om.release_remaining_authorization"));
        assert!(!is_repeatable("other"));
        assert!(!is_repeatable("kp.create_order"));
        assert!(is_repeatable("hpp.read_session"));
    }
}

//! Issue 10 (outside findings), parts A and C: each test failed on the code before its fix.

mod scenario;

use std::time::Duration;

use klarna_hpp_core::checkout::{
    CallbackOutcome, Checkout, CommandError, Deadline, FailureReason, RetryPolicy, State,
    TransportFailure,
};
use klarna_hpp_core::hpp::PlaceOrderMode;
use klarna_hpp_core::kp::CreateOrderRequest;
use klarna_hpp_core::model::OrderLine;
use scenario::*;
use serde_json::json;

const TOTAL: i64 = 12_000;

/// Jumps to the HPP deadline (its margin included) and fires it.
fn to_hpp_deadline(s: &mut Scenario) {
    let deadline = s.checkout.deadlines().hpp_session.expect("known");
    s.now = deadline.unix_seconds() - ts(0).unix_seconds();
    s.advance(0);
}

fn callback(s: &mut Scenario, event_id: &str, status: &str) -> CallbackOutcome {
    let url = s.checkout.status_update_url().expect("set").to_owned();
    let query = url.split_once('?').expect("query").1.to_owned();
    let body =
        json!({"event_id": event_id, "session": {"session_id": "hpp-0001", "status": status}});
    let out = s
        .checkout
        .handle_callback(
            &format!("/klarna/callback?{query}"),
            &serde_json::to_vec(&body).expect("json"),
            s.ts(),
        )
        .expect("authentic");
    s.drain();
    out
}

/// A1: at the HPP deadline the checkout used to make a final read and, on IN_PROGRESS, walk
/// away (`Expired`) with the session still payable at Klarna for the whole margin. It now
/// disables the session first; Klarna's "already completed" answer leads to the read, and
/// the order the consumer paid for surfaces.
#[test]
fn the_deadline_disables_the_session_before_giving_up() {
    let mut s = Scenario::created(config(PlaceOrderMode::CaptureOrder));
    s.poll_answer(hpp_status("IN_PROGRESS", 0, json!({})));
    to_hpp_deadline(&mut s);
    s.expect_request("DELETE", "/hpp/v1/sessions/hpp-0001");
    // The consumer paid a moment before: Klarna refuses to disable a completed session.
    s.reply(error(
        400,
        "INVALID_OPERATION",
        "Session already completed.",
    ));
    s.expect_request("GET", "/hpp/v1/sessions/hpp-0001");
    s.reply(hpp_status(
        "COMPLETED",
        s.now,
        json!({"order_id": "om-0001"}),
    ));
    assert_eq!(s.state(), State::Captured, "the paid order surfaces");
    assert_eq!(s.checkout.order_id(), Some("om-0001"));
}

/// A1, when the session still reads as open after the disable (the read lags, or the disable
/// was refused): disable again, read again, until Klarna's own expiry.
#[test]
fn a_session_still_open_after_the_disable_is_disabled_again() {
    let mut s = Scenario::created(config(PlaceOrderMode::PlaceOrder));
    s.poll_answer(hpp_status("WAITING", 0, json!({})));
    to_hpp_deadline(&mut s);
    s.expect_request("DELETE", "/hpp/v1/sessions/hpp-0001");
    s.reply(no_content());
    s.expect_request("GET", "/hpp/v1/sessions/hpp-0001");
    s.reply(hpp_status("IN_PROGRESS", 0, json!({})));
    assert_eq!(s.state(), State::AwaitingConsumer);
    s.wait();
    s.expect_request("DELETE", "/hpp/v1/sessions/hpp-0001");
    s.reply(no_content());
    s.expect_request("GET", "/hpp/v1/sessions/hpp-0001");
    s.reply(hpp_status("DISABLED", 0, json!({})));
    assert_eq!(s.state(), State::Expired);
    assert_eq!(s.checkout.expired(), Some(Deadline::HppSession));
}

/// A1: a disable that Klarna keeps failing (5xx) is retried past the policy's attempts: the
/// door must be shut. At Klarna's own expiry the checkout gives up.
#[test]
fn the_closing_disable_is_retried_until_klarna_drops_the_session() {
    let config = config(PlaceOrderMode::PlaceOrder)
        .safety_margin(Duration::from_secs(600))
        .retry(RetryPolicy {
            max_attempts: 3,
            ..RetryPolicy::default()
        });
    let mut s = Scenario::created(config);
    s.poll_answer(hpp_status("WAITING", 0, json!({})));
    to_hpp_deadline(&mut s);
    let mut deletes = 0;
    while s.state() == State::AwaitingConsumer {
        if s.pending.is_some() {
            s.expect_request("DELETE", "/hpp/v1/sessions/hpp-0001");
            deletes += 1;
            s.reply(error(
                503,
                "TEMPORARILY_UNAVAILABLE",
                "Temporarily unavailable",
            ));
        } else {
            s.wait();
        }
        assert!(s.now < 48 * 3_600, "it ends");
    }
    assert!(deletes > 3, "{deletes} attempts");
    assert_eq!(s.state(), State::Expired);
    assert_eq!(s.now, 47 * 3_600, "at Klarna's expiry, not before");
}

/// A1: an authentic COMPLETED callback that reaches a checkout already expired at its HPP
/// deadline (while Klarna still had the session) used to be `Ignored`. It now leads to one
/// verifying read, which revives the checkout with the order.
#[test]
fn an_authentic_late_callback_leads_to_a_read_that_surfaces_the_order() {
    let mut s = Scenario::created(config(PlaceOrderMode::PlaceOrder));
    s.poll_answer(hpp_status("WAITING", 0, json!({})));
    to_hpp_deadline(&mut s);
    s.expect_request("DELETE", "/hpp/v1/sessions/hpp-0001");
    s.reply(error(404, "NOT_FOUND", "Not found."));
    assert_eq!(s.state(), State::Expired);
    // Klarna had the session after all, and the consumer paid.
    s.now += 10;
    assert_eq!(
        callback(&mut s, "ev-late", "COMPLETED"),
        CallbackOutcome::ReadScheduled
    );
    s.expect_request("GET", "/hpp/v1/sessions/hpp-0001");
    s.reply(hpp_status(
        "COMPLETED",
        s.now,
        json!({"order_id": "om-0001"}),
    ));
    assert_eq!(s.state(), State::OrderPlaced);
    s.expect_request("GET", "/ordermanagement/v1/orders/om-0001");
    // A read that shows nothing paid leaves the checkout expired.
    let mut s = Scenario::created(config(PlaceOrderMode::PlaceOrder));
    s.poll_answer(hpp_status("WAITING", 0, json!({})));
    to_hpp_deadline(&mut s);
    s.reply(error(404, "NOT_FOUND", "Not found."));
    s.now += 10;
    callback(&mut s, "ev-late", "COMPLETED");
    s.reply(hpp_status("DISABLED", s.now, json!({})));
    assert_eq!(s.state(), State::Expired);
    assert!(s.pending.is_none() && s.checkout.poll_timeout().is_none());
}

/// A2: after a place-order whose outcome is unknown, a replay answered 401 (credentials
/// rotated) used to clear the pending place and let a different body be placed. The outcome
/// stays unknown: the byte-identical replay goes on, nothing else.
#[test]
fn a_replay_refused_with_another_4xx_keeps_the_outcome_unknown() {
    for status in [400u16, 401, 422] {
        let mut s = Scenario::created(config(PlaceOrderMode::None));
        s.poll_answer(hpp_status(
            "COMPLETED",
            10,
            json!({"authorization_token": "tok-9"}),
        ));
        s.command("place_order", |c, now| c.place_order(None, now));
        let first = s.request().body().clone();
        s.fail(TransportFailure::OutcomeUnknown); // Klarna placed it; the answer was lost.
        s.wait();
        s.reply(error(status, "UNAUTHORIZED", "Unauthorized."));
        assert_eq!(s.state(), State::PlacingOrder, "{status}");
        let other = CreateOrderRequest::new("SE", "SEK", vec![OrderLine::new("Socks", 1, 1_000)]);
        assert_eq!(
            s.checkout.place_order(Some(other), s.ts()),
            Err(CommandError::InProgress {
                command: "place_order"
            }),
            "{status}"
        );
        s.wait();
        assert_eq!(
            s.request().body(),
            &first,
            "byte-identical replay ({status})"
        );
        // Until the token's deadline, where it fails loudly.
        s.reply(error(status, "UNAUTHORIZED", "Unauthorized."));
        while s.state() == State::PlacingOrder {
            if s.pending.is_some() {
                assert_eq!(s.request().body(), &first);
                s.reply(error(status, "UNAUTHORIZED", "Unauthorized."));
            } else {
                s.wait();
            }
        }
        assert_eq!(s.state(), State::Failed, "{status}");
        assert_eq!(
            s.checkout.failure(),
            Some(&FailureReason::OrderOutcomeUnknown)
        );
    }
}

/// A2's other side: without an unknown outcome, a 400 still means nothing was placed and the
/// merchant may place a corrected body.
#[test]
fn a_first_attempt_refused_with_400_may_be_corrected() {
    let mut s = Scenario::created(config(PlaceOrderMode::None));
    s.poll_answer(hpp_status(
        "COMPLETED",
        10,
        json!({"authorization_token": "tok-9"}),
    ));
    s.command("place_order", |c, now| c.place_order(None, now));
    s.reply(error(400, "BAD_VALUE", "Bad value."));
    assert_eq!(s.state(), State::Authorized);
}

/// A4: idempotency keys are bound to the order: a checkout id reused by mistake (same seed,
/// same id) makes different keys for another order.
#[test]
fn idempotency_keys_are_bound_to_the_order() {
    let key_for = |order: &str| {
        let mut s = Scenario::created(config(PlaceOrderMode::PlaceOrder));
        s.poll_answer(hpp_status("COMPLETED", 40, json!({"order_id": order})));
        let mut body: serde_json::Value =
            serde_json::from_slice(om_order("AUTHORIZED", TOTAL, 0, 28 * 86_400).body())
                .expect("json");
        body["order_id"] = json!(order);
        s.reply(respond(200, body));
        s.command("capture", |c, now| c.capture(Some(1_000), now));
        s.expect_request("POST", "/captures");
        s.request().headers()["klarna-idempotency-key"].clone()
    };
    let a = key_for("om-0001");
    assert_eq!(a, key_for("om-0001"), "deterministic");
    assert_ne!(a, key_for("om-0002"));
}

/// C10: unauthenticated redirects used to override `Retry-After` and the poll backoff (each
/// set the next read to now). A read waiting out a 429 keeps its time, and hints never make
/// reads closer together than the poll policy's first interval.
#[test]
fn hints_respect_retry_after_and_a_minimum_interval() {
    let mut s = Scenario::created(config(PlaceOrderMode::None));
    s.wait();
    s.expect_request("GET", "/hpp/v1/sessions/hpp-0001");
    let mut limited = error(429, "TOO_MANY_REQUESTS", "Too many requests");
    limited
        .headers_mut()
        .insert("retry-after", "120".parse().expect("header"));
    let read_at = s.now;
    s.reply(limited);
    for _ in 0..1_000 {
        let now = s.ts();
        s.checkout
            .handle_redirect("/klarna/cancel?sid=hpp-0001", now)
            .expect("ours");
    }
    s.drain();
    assert!(s.pending.is_none(), "no read before Retry-After");
    s.wait();
    s.expect_request("GET", "/hpp/v1/sessions/hpp-0001");
    assert!(s.now >= read_at + 120, "read at t+{}", s.now);
    s.reply(hpp_status("WAITING", 0, json!({})));
    // Right after a read, a thousand hints make one read, not before the first interval.
    let after = s.now;
    for _ in 0..1_000 {
        let now = s.ts();
        s.checkout
            .handle_redirect("/klarna/cancel?sid=hpp-0001", now)
            .expect("ours");
    }
    s.drain();
    assert!(s.pending.is_none());
    s.wait();
    s.expect_request("GET", "/hpp/v1/sessions/hpp-0001");
    assert!(s.now >= after + 2, "read at t+{}", s.now);
    s.reply(hpp_status("WAITING", 0, json!({})));
    assert!(s.pending.is_none(), "exactly one read");
}

/// C11: a retry policy with `base: Duration::MAX` and one transport failure panicked
/// ("overflow when adding durations").
#[test]
fn an_extreme_retry_policy_does_not_panic() {
    let config = config(PlaceOrderMode::None).retry(RetryPolicy {
        max_attempts: 3,
        base: Duration::MAX,
        max: Duration::MAX,
    });
    let mut s = Scenario::start(config);
    s.fail(TransportFailure::NotSent);
    assert!(s.checkout.poll_timeout().is_some());
}

/// C11: restore accepted `authorized = i64::MAX` (capturable 9.2e18) and other amounts no
/// valid order can have.
#[test]
fn restore_refuses_amounts_no_order_can_have() {
    let mut s = Scenario::placed_by_hpp();
    s.reply(om_order("AUTHORIZED", TOTAL, 0, 28 * 86_400));
    let doc: serde_json::Value = serde_json::from_slice(&s.checkout.snapshot()).expect("json");
    assert!(Checkout::restore(api(), &s.checkout.snapshot()).is_ok());
    for (field, value) in [
        ("authorized", json!(i64::MAX)),
        ("captured", json!(i64::MAX)),
        ("refunded", json!(1)),
    ] {
        let mut bad = doc.clone();
        bad["order"][field] = value;
        let restored = Checkout::restore(api(), &serde_json::to_vec(&bad).expect("json"));
        assert!(restored.is_err(), "{field} accepted");
    }
}

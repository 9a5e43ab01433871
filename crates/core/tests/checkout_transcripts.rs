//! Exact transcripts (every request, response and event, in order) of whole checkouts, pinned
//! with insta, one per place_order_mode and per notable path.

mod scenario;

use klarna_hpp_core::checkout::{
    CommandError, Deadline, Event, FailureReason, State, TransportFailure,
};
use klarna_hpp_core::hpp::PlaceOrderMode;
use scenario::*;
use serde_json::json;

const TOTAL: i64 = 12_000;

#[test]
fn mode_none_complete_place_capture() {
    let mut s = Scenario::created(config(PlaceOrderMode::None));
    s.poll_answer(hpp_status("WAITING", 0, json!({})));
    s.poll_answer(hpp_status("IN_PROGRESS", 5, json!({})));
    s.poll_answer(hpp_status(
        "COMPLETED",
        30,
        json!({"authorization_token": "tok-secret-1"}),
    ));
    assert_eq!(s.state(), State::Authorized);
    s.command("place_order", |c, now| c.place_order(None, now));
    s.expect_request("POST", "/payments/v1/authorizations/tok-secret-1/order");
    s.reply(kp_order());
    assert_eq!(s.state(), State::OrderPlaced);
    s.expect_request("GET", "/ordermanagement/v1/orders/om-0001");
    s.reply(om_order("AUTHORIZED", TOTAL, 0, 28 * 86_400));
    s.command("capture", |c, now| c.capture(None, now));
    s.expect_request("POST", "/ordermanagement/v1/orders/om-0001/captures");
    assert!(s.request().headers().contains_key("klarna-idempotency-key"));
    s.reply(created_with("capture-id", "cap-1", "captures"));
    assert_eq!(s.state(), State::Captured);
    assert_eq!(s.checkout.captured_amount(), TOTAL);
    // A typical checkout's snapshot stays compact (target: under 2 KiB).
    let snapshot = s.checkout.snapshot();
    eprintln!(
        "snapshot of a captured two-line checkout: {} bytes",
        snapshot.len()
    );
    assert!(
        snapshot.len() < 2048,
        "snapshot is {} bytes",
        snapshot.len()
    );
    insta::assert_snapshot!(s.transcript());
}

#[test]
fn place_order_mode_then_partial_captures() {
    let mut s = Scenario::created(config(PlaceOrderMode::PlaceOrder));
    s.poll_answer(hpp_status(
        "COMPLETED",
        40,
        json!({"order_id": "om-0001", "klarna_reference": "K4MADNY"}),
    ));
    assert_eq!(s.state(), State::OrderPlaced);
    s.expect_request("GET", "/ordermanagement/v1/orders/om-0001");
    s.reply(om_order("AUTHORIZED", TOTAL, 0, 28 * 86_400));
    s.command("capture 5000", |c, now| c.capture(Some(5_000), now));
    s.reply(created_with("capture-id", "cap-1", "captures"));
    s.command("capture 8000 (too much)", |c, now| {
        c.capture(Some(8_000), now)
    });
    s.command("capture rest", |c, now| c.capture(None, now));
    s.reply(created_with("capture-id", "cap-2", "captures"));
    assert_eq!(s.state(), State::Captured);
    assert_eq!(s.checkout.captured_amount(), TOTAL);
    insta::assert_snapshot!(s.transcript());
}

#[test]
fn capture_order_mode_then_refund() {
    let mut s = Scenario::created(config(PlaceOrderMode::CaptureOrder));
    s.poll_answer(hpp_status(
        "COMPLETED",
        40,
        json!({"order_id": "om-0001", "klarna_reference": "K4MADNY"}),
    ));
    s.expect_request("GET", "/ordermanagement/v1/orders/om-0001");
    s.reply(om_order("CAPTURED", TOTAL, TOTAL, 28 * 86_400));
    assert_eq!(s.state(), State::Captured);
    s.command("refund 2000", |c, now| c.refund(2_000, now));
    s.expect_request("POST", "/ordermanagement/v1/orders/om-0001/refunds");
    s.reply(created_with("refund-id", "ref-1", "refunds"));
    assert_eq!(s.checkout.refunded_amount(), 2_000);
    insta::assert_snapshot!(s.transcript());
}

#[test]
fn consumer_cancels() {
    let mut s = Scenario::created(config(PlaceOrderMode::None));
    s.poll_answer(hpp_status("IN_PROGRESS", 5, json!({})));
    s.poll_answer(hpp_status("CANCELLED", 20, json!({})));
    assert_eq!(s.state(), State::Cancelled);
    assert_eq!(s.checkout.poll_timeout(), None);
    insta::assert_snapshot!(s.transcript());
}

#[test]
fn back_then_complete() {
    let mut s = Scenario::created(config(PlaceOrderMode::None));
    s.poll_answer(hpp_status("IN_PROGRESS", 5, json!({})));
    s.poll_answer(hpp_status("BACK", 10, json!({})));
    s.poll_answer(hpp_status("IN_PROGRESS", 20, json!({})));
    s.poll_answer(hpp_status(
        "COMPLETED",
        25,
        json!({"authorization_token": "tok-2"}),
    ));
    assert_eq!(s.state(), State::Authorized);
    insta::assert_snapshot!(s.transcript());
}

#[test]
fn decline_then_retry() {
    let mut s = Scenario::created(config(PlaceOrderMode::PlaceOrder));
    s.poll_answer(hpp_status("IN_PROGRESS", 5, json!({})));
    s.poll_answer(hpp_status("FAILED", 10, json!({})));
    assert_eq!(s.state(), State::AwaitingConsumer);
    s.poll_answer(hpp_status("IN_PROGRESS", 20, json!({})));
    s.poll_answer(hpp_status(
        "COMPLETED",
        25,
        json!({"order_id": "om-0001", "klarna_reference": "K4MADNY"}),
    ));
    assert_eq!(s.state(), State::OrderPlaced);
    insta::assert_snapshot!(s.transcript());
}

#[test]
fn merchant_disables() {
    let mut s = Scenario::created(config(PlaceOrderMode::None));
    s.poll_answer(hpp_status("WAITING", 0, json!({})));
    s.command("disable", |c, now| c.disable(now));
    s.wait();
    s.expect_request("DELETE", "/hpp/v1/sessions/hpp-0001");
    s.reply(no_content());
    assert_eq!(s.state(), State::Disabled);
    s.command("capture after disable", |c, now| c.capture(None, now));
    insta::assert_snapshot!(s.transcript());
}

#[test]
fn hpp_session_expires_after_a_final_read() {
    let mut s = Scenario::created(config(PlaceOrderMode::None));
    s.poll_answer(hpp_status("WAITING", 0, json!({})));
    let deadline = s.checkout.deadlines().hpp_session.expect("known");
    let kp = s.checkout.deadlines().kp_session.expect("known");
    assert!(deadline <= kp.saturating_sub(minutes(60)));
    // Jump past the deadline: the checkout closes the door (disables the session), then
    // makes one last read before giving up.
    s.now = (deadline.unix_seconds() - ts(0).unix_seconds()) + 1;
    s.advance(0);
    s.expect_request("DELETE", "/hpp/v1/sessions/hpp-0001");
    s.reply(no_content());
    assert_eq!(
        s.state(),
        State::AwaitingConsumer,
        "not until a read says so"
    );
    s.expect_request("GET", "/hpp/v1/sessions/hpp-0001");
    s.reply(hpp_status("DISABLED", 0, json!({})));
    assert_eq!(s.state(), State::Expired);
    assert_eq!(s.checkout.expired(), Some(Deadline::HppSession));
    insta::assert_snapshot!(s.transcript());
}

#[test]
fn token_expires_before_placing() {
    let mut s = Scenario::created(config(PlaceOrderMode::None));
    s.poll_answer(hpp_status(
        "COMPLETED",
        10,
        json!({"authorization_token": "tok-3"}),
    ));
    assert_eq!(s.state(), State::Authorized);
    let deadline = s.checkout.deadlines().authorization_token.expect("known");
    // Issued at `updated_at` (t+10) but the read happened at t+2 (clock skew): the earlier
    // bound counts; 60 min minus the 60 s margin.
    assert_eq!(deadline, ts(10).min(ts(s.now)).saturating_add(minutes(59)));
    s.wait();
    assert_eq!(s.state(), State::Expired);
    s.command("place_order too late", |c, now| c.place_order(None, now));
    assert!(s.checkout.poll_request().is_none());
    insta::assert_snapshot!(s.transcript());
}

#[test]
fn place_order_after_unknown_outcome_replays_identical_body() {
    let mut s = Scenario::created(config(PlaceOrderMode::None));
    s.poll_answer(hpp_status(
        "COMPLETED",
        10,
        json!({"authorization_token": "tok-4"}),
    ));
    s.command("place_order", |c, now| c.place_order(None, now));
    let first = s.request().body().clone();
    s.fail(TransportFailure::OutcomeUnknown);
    assert_eq!(s.state(), State::PlacingOrder);
    let again = s.checkout.place_order(None, s.ts());
    assert_eq!(
        again,
        Err(CommandError::InProgress {
            command: "place_order"
        })
    );
    s.wait();
    assert_eq!(s.request().body(), &first, "byte-identical replay");
    s.reply(error(
        503,
        "TEMPORARILY_UNAVAILABLE",
        "Temporarily unavailable",
    ));
    s.wait();
    assert_eq!(s.request().body(), &first);
    s.reply(kp_order());
    assert_eq!(s.state(), State::OrderPlaced);
    insta::assert_snapshot!(s.transcript());
}

#[test]
fn unresolved_place_order_fails_at_token_expiry_without_blind_repost() {
    let mut s = Scenario::created(config(PlaceOrderMode::None));
    s.poll_answer(hpp_status(
        "COMPLETED",
        10,
        json!({"authorization_token": "tok-5"}),
    ));
    s.command("place_order", |c, now| c.place_order(None, now));
    s.fail(TransportFailure::OutcomeUnknown);
    s.wait();
    s.reply(error(
        403,
        "INVALID_OPERATION",
        "Authorization token already consumed",
    ));
    assert_eq!(s.state(), State::Failed);
    assert_eq!(
        s.checkout.failure(),
        Some(&FailureReason::OrderOutcomeUnknown)
    );
    let events: Vec<String> = s
        .log
        .iter()
        .filter(|l| l.contains("event"))
        .cloned()
        .collect();
    assert!(
        events.iter().any(|e| e.contains("OrderOutcomeUnknown")),
        "{events:?}"
    );
}

/// Found by the checkout fuzz target: a capture asked for while the first order read was in
/// flight was sent after that read showed the order already captured, and counted on top.
#[test]
fn queued_captures_and_refunds_that_no_longer_fit_are_withdrawn_unsent() {
    let mut s = Scenario::placed_by_hpp();
    // Before the read answers, the order looks wholly capturable.
    s.command("capture", |c, now| c.capture(None, now));
    // Captured outside this checkout (e.g. in the Merchant Portal) in the meantime.
    s.reply(om_order("CAPTURED", TOTAL, TOTAL, 28 * 86_400));
    assert!(
        s.pending.is_none(),
        "no capture is sent on top of the one Klarna already made"
    );
    assert_eq!(s.checkout.captured_amount(), TOTAL);
    assert_eq!(s.state(), State::Captured);
    // A refund Klarna refuses triggers a read; one asked for during that read, beyond what
    // the read shows refundable (refunded elsewhere), is withdrawn the same way.
    s.command("refund 5000", |c, now| c.refund(5_000, now));
    s.expect_request("POST", "/ordermanagement/v1/orders/om-0001/refunds");
    s.reply(error(403, "REFUND_NOT_ALLOWED", "Refund not allowed."));
    s.expect_request("GET", "/ordermanagement/v1/orders/om-0001");
    s.command("refund 4000", |c, now| c.refund(4_000, now));
    s.reply(respond(
        200,
        json!({
            "order_id": "om-0001", "status": "CAPTURED", "order_amount": TOTAL,
            "captured_amount": TOTAL, "refunded_amount": 10_000,
            "remaining_authorized_amount": 0, "expires_at": iso(28 * 86_400),
        }),
    ));
    assert!(s.pending.is_none(), "no refund beyond what is refundable");
    assert_eq!(s.checkout.refunded_amount(), 10_000);
    let withdrawn: Vec<&String> = s.log.iter().filter(|l| l.contains("Withdrawn")).collect();
    assert_eq!(withdrawn.len(), 2, "{:#?}", s.log);
    insta::assert_snapshot!(s.transcript());
}

/// Of two captures queued during a read, the one that still fits is sent; the other is
/// withdrawn with what is left once the kept one is counted.
#[test]
fn a_queued_capture_that_still_fits_is_sent() {
    let mut s = Scenario::placed_by_hpp();
    s.command("capture 10000", |c, now| c.capture(Some(10_000), now));
    s.command("capture 2000", |c, now| c.capture(Some(2_000), now));
    // 3000 captured in the Merchant Portal meanwhile: 9000 left.
    s.reply(om_order("PART_CAPTURED", TOTAL, 3_000, 28 * 86_400));
    let withdrawn: Vec<&String> = s.log.iter().filter(|l| l.contains("Withdrawn")).collect();
    assert_eq!(
        withdrawn,
        ["  event Withdrawn { call: Capture, amount: 10000, remaining: 7000 }"]
    );
    s.expect_request("POST", "/ordermanagement/v1/orders/om-0001/captures");
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(s.request().body()).expect("json")
            ["captured_amount"],
        2_000
    );
    s.reply(created_with("capture-id", "cap-1", "captures"));
    assert_eq!(s.checkout.captured_amount(), 5_000);
    assert_eq!(s.checkout.capturable_amount(), 7_000);
    assert!(s.pending.is_none());
}

/// Amounts in an order read are Klarna's word, not ours: absurd ones change what the checkout
/// believes, never make it panic (debug builds check overflow).
#[test]
fn absurd_order_amounts_do_not_panic() {
    for (amount, captured) in [(i64::MIN, 1), (0, i64::MAX), (i64::MAX, i64::MIN), (-5, 7)] {
        let mut s = Scenario::created(config(PlaceOrderMode::PlaceOrder));
        s.poll_answer(hpp_status("COMPLETED", 40, json!({"order_id": "om-0001"})));
        s.command("capture", |c, now| c.capture(Some(1_000), now));
        s.reply(respond(
            200,
            json!({"order_id": "om-0001", "status": "AUTHORIZED", "order_amount": amount,
                   "captured_amount": captured, "refunded_amount": i64::MAX,
                   "remaining_authorized_amount": 0, "expires_at": iso(28 * 86_400)}),
        ));
        assert!(s.checkout.capturable_amount() >= 0);
        let _ = s.checkout.refund(1, s.ts());
        let _ = s.checkout.capture(None, s.ts());
        s.drain();
    }
}

/// Found by the checkout fuzz target: a capture's outcome was unknown, its replay was answered
/// with a 4xx, the order read after it was refused too, and a second capture of the whole
/// amount was sent although the first may have committed.
#[test]
fn a_replay_refused_leaves_its_capture_reserved_until_a_read_settles_it() {
    let mut s = Scenario::placed_by_hpp();
    s.reply(om_order("AUTHORIZED", TOTAL, 0, 28 * 86_400));
    s.command("capture", |c, now| c.capture(None, now));
    s.expect_request("POST", "/ordermanagement/v1/orders/om-0001/captures");
    let key = s.request().headers()["klarna-idempotency-key"].clone();
    s.fail(TransportFailure::OutcomeUnknown); // Klarna captured; the answer was lost.
    s.wait();
    // A 409: the key is still being processed. Replayed with the same key.
    s.expect_request("POST", "/ordermanagement/v1/orders/om-0001/captures");
    s.reply(error(409, "CONFLICT", "Conflict."));
    s.wait();
    s.expect_request("POST", "/ordermanagement/v1/orders/om-0001/captures");
    assert_eq!(s.request().headers()["klarna-idempotency-key"], key);
    // Refused (say, past Klarna's 24 h key window): the first attempt may still have committed.
    s.reply(error(403, "CAPTURE_NOT_ALLOWED", "Capture not allowed."));
    assert_eq!(
        s.checkout.capturable_amount(),
        0,
        "the refused replay's capture stays reserved"
    );
    assert!(matches!(
        s.checkout.capture(Some(1), s.ts()),
        Err(CommandError::ExceedsRemaining { remaining: 0, .. })
    ));
    // The read that settles it is refused too: it is retried, not dropped.
    s.expect_request("GET", "/ordermanagement/v1/orders/om-0001");
    s.reply(error(403, "NO_ACCESS", "No access."));
    assert_eq!(s.checkout.capturable_amount(), 0);
    s.wait();
    s.expect_request("GET", "/ordermanagement/v1/orders/om-0001");
    s.reply(om_order("CAPTURED", TOTAL, TOTAL, 28 * 86_400));
    assert_eq!(s.checkout.captured_amount(), TOTAL);
    assert_eq!(s.state(), State::Captured);
    assert!(s.pending.is_none());
    insta::assert_snapshot!(s.transcript());
}

/// Outside finding (issue 10, A3): reads may lag behind Klarna's writes, so a read that does
/// not show a capture whose outcome is unknown is no proof it did not commit. It used to free
/// the amount, and a second capture went out under a new key. Now the capture is re-sent under
/// its own key (executed at most once by Klarna) and counted once.
#[test]
fn a_read_not_showing_a_refused_capture_resends_it_under_its_own_key() {
    let mut s = Scenario::placed_by_hpp();
    s.reply(om_order("AUTHORIZED", TOTAL, 0, 28 * 86_400));
    s.command("capture 5000", |c, now| c.capture(Some(5_000), now));
    let key = s.request().headers()["klarna-idempotency-key"].clone();
    s.fail(TransportFailure::OutcomeUnknown);
    s.wait();
    s.reply(error(403, "FORBIDDEN", "Forbidden by a proxy."));
    assert_eq!(s.checkout.capturable_amount(), TOTAL - 5_000);
    s.expect_request("GET", "/ordermanagement/v1/orders/om-0001");
    // The read lags: it does not show the capture yet.
    s.reply(om_order("AUTHORIZED", TOTAL, 0, 28 * 86_400));
    assert_eq!(
        s.checkout.capturable_amount(),
        TOTAL - 5_000,
        "still reserved: a lagging read proves nothing"
    );
    assert!(matches!(
        s.checkout.capture(Some(TOTAL - 4_999), s.ts()),
        Err(CommandError::ExceedsRemaining { .. })
    ));
    s.expect_request("POST", "/ordermanagement/v1/orders/om-0001/captures");
    assert_eq!(s.request().headers()["klarna-idempotency-key"], key);
    assert_eq!(s.request().body(), br#"{"captured_amount":5000}"#);
    // Klarna answers the replay with the first attempt's capture.
    s.reply(created_with("capture-id", "cap-1", "captures"));
    assert_eq!(s.checkout.captured_amount(), 5_000);
    assert_eq!(s.checkout.capturable_amount(), TOTAL - 5_000);
    insta::assert_snapshot!(s.transcript());
}

/// The other ends of the same rule: a read that shows the unsettled capture settles it as
/// committed; once Klarna no longer honours its key (24 h), a read that does not show it
/// frees its amount (by then a committed write is visible), reported as `Withdrawn`.
#[test]
fn an_unsettled_capture_is_settled_by_a_read_showing_it_or_freed_after_the_key_window() {
    let refused = |s: &mut Scenario| {
        s.reply(om_order("AUTHORIZED", TOTAL, 0, 28 * 86_400));
        s.command("capture 5000", |c, now| c.capture(Some(5_000), now));
        s.fail(TransportFailure::OutcomeUnknown);
        s.wait();
        s.reply(error(400, "BAD_VALUE", "Bad value."));
        s.expect_request("GET", "/ordermanagement/v1/orders/om-0001");
    };
    let mut s = Scenario::placed_by_hpp();
    refused(&mut s);
    s.reply(om_order("PART_CAPTURED", TOTAL, 5_000, 28 * 86_400));
    assert_eq!(s.checkout.captured_amount(), 5_000);
    assert_eq!(s.checkout.capturable_amount(), TOTAL - 5_000);
    assert!(s.pending.is_none(), "nothing re-sent");
    assert!(s
        .log
        .iter()
        .any(|l| l.contains("Captured { capture_id: None, amount: 5000, captured_total: 5000 }")));

    let mut s = Scenario::placed_by_hpp();
    refused(&mut s);
    let read = s.pending.take().expect("the read");
    s.now += 25 * 3_600;
    s.checkout
        .handle_response(
            read.0,
            om_order("AUTHORIZED", TOTAL, 0, 28 * 86_400),
            s.ts(),
        )
        .expect("in flight");
    s.drain();
    assert!(s.pending.is_none(), "not re-sent past the key's window");
    assert_eq!(s.checkout.capturable_amount(), TOTAL);
    assert!(s
        .log
        .iter()
        .any(|l| l.contains("Withdrawn { call: Capture, amount: 5000")));
}

/// Past the OM deadline, a checkout holding an unsettled capture keeps asking about it (its
/// key is re-sent, which asks what happened at no risk) until a read shows it or its key's
/// window is over, then expires if nothing was captured (it used to stall: no request, no
/// timeout, never terminal).
#[test]
fn an_unsettled_capture_past_the_om_deadline_expires_once_a_read_settles_it() {
    let mut s = Scenario::placed_by_hpp();
    s.reply(om_order("AUTHORIZED", TOTAL, 0, 600));
    s.command("capture", |c, now| c.capture(None, now));
    s.fail(TransportFailure::OutcomeUnknown);
    s.wait();
    s.reply(error(403, "CAPTURE_NOT_ALLOWED", "Capture not allowed."));
    s.expect_request("GET", "/ordermanagement/v1/orders/om-0001");
    s.reply(error(
        503,
        "TEMPORARILY_UNAVAILABLE",
        "Temporarily unavailable",
    ));
    s.advance(3_600);
    assert!(
        s.log
            .iter()
            .any(|l| l.contains("Expired { deadline: OrderAuthorization }")),
        "{:#?}",
        s.log
    );
    assert_eq!(
        s.state(),
        State::OrderPlaced,
        "a capture may have committed"
    );
    // Ask and ask again: reads that do not show it, replays under its key refused.
    for _ in 0..3 {
        if s.pending.is_none() {
            s.wait();
        }
        s.expect_request("GET", "/ordermanagement/v1/orders/om-0001");
        s.reply(om_order("AUTHORIZED", TOTAL, 0, -3_000));
        assert_eq!(s.state(), State::OrderPlaced);
        s.expect_request("POST", "/ordermanagement/v1/orders/om-0001/captures");
        s.reply(error(403, "CAPTURE_NOT_ALLOWED", "Capture not allowed."));
    }
    s.now += 24 * 3_600;
    s.expect_request("GET", "/ordermanagement/v1/orders/om-0001");
    s.reply(om_order("AUTHORIZED", TOTAL, 0, -3_000));
    assert_eq!(s.state(), State::Expired);
    assert_eq!(s.checkout.expired(), Some(Deadline::OrderAuthorization));
}

/// Right after placement Order Management may not know the order yet: while a capture waits
/// for the first read, a refused read is retried rather than skipped.
#[test]
fn a_capture_waits_for_the_first_order_read_even_through_a_404() {
    let mut s = Scenario::placed_by_hpp();
    s.command("capture", |c, now| c.capture(Some(4_000), now));
    s.reply(error(404, "NO_SUCH_ORDER", "No such order."));
    assert!(s.pending.is_none(), "no capture before the read");
    s.wait();
    s.expect_request("GET", "/ordermanagement/v1/orders/om-0001");
    s.reply(om_order("AUTHORIZED", TOTAL, 0, 28 * 86_400));
    s.expect_request("POST", "/ordermanagement/v1/orders/om-0001/captures");
}

#[test]
fn capture_retry_reuses_the_idempotency_key() {
    let mut s = Scenario::placed_by_hpp();
    s.reply(om_order("AUTHORIZED", TOTAL, 0, 28 * 86_400));
    s.command("capture", |c, now| c.capture(Some(4_000), now));
    let key = s.request().headers()["klarna-idempotency-key"].clone();
    s.fail(TransportFailure::OutcomeUnknown);
    assert_eq!(
        s.checkout.capturable_amount(),
        TOTAL - 4_000,
        "the capture under way is reserved"
    );
    s.wait();
    assert_eq!(s.request().headers()["klarna-idempotency-key"], key);
    // A restart from a snapshot reuses the key too.
    let snap = s.checkout.snapshot();
    let mut restored =
        klarna_hpp_core::checkout::Checkout::restore(api(), &snap).expect("restores");
    restored.resume_after_restart(s.ts());
    assert!(
        restored.poll_request().is_none(),
        "the taken request is now a pending retry"
    );
    let later = restored.poll_timeout().expect("retry scheduled");
    restored.handle_timeout(later);
    let (_, replay) = restored.poll_request().expect("replayed");
    assert_eq!(replay.headers()["klarna-idempotency-key"], key);
    s.reply(created_with("capture-id", "cap-1", "captures"));
    assert_eq!(s.checkout.captured_amount(), 4_000);
}

#[test]
fn callbacks_need_the_secret_and_are_deduplicated() {
    use klarna_hpp_core::checkout::{CallbackOutcome, InputError};
    let mut s = Scenario::created(config(PlaceOrderMode::None));
    let url = s
        .checkout
        .status_update_url()
        .expect("configured")
        .to_owned();
    assert!(url.starts_with("https://shop.example/klarna/callback?sid={{session_id}}&kh_secret="));
    let secret = url.rsplit("kh_secret=").next().expect("secret").to_owned();
    let body = serde_json::to_vec(&json!({"event_id": "ev-1", "session": {"session_id": "hpp-0001", "status": "COMPLETED", "authorization_token": "forged"}})).expect("json");
    let now = s.ts();
    let forged = s.checkout.handle_callback(
        "/klarna/callback?sid=hpp-0001&kh_secret=deadbeef",
        &body,
        now,
    );
    assert_eq!(forged, Err(InputError::BadCallbackSecret));
    let missing = s
        .checkout
        .handle_callback("/klarna/callback?sid=hpp-0001", &body, now);
    assert_eq!(missing, Err(InputError::BadCallbackSecret));
    let uri = format!("/klarna/callback?sid=hpp-0001&kh_secret={secret}");
    assert_eq!(
        s.checkout.handle_callback(&uri, &body, now),
        Ok(CallbackOutcome::ReadScheduled)
    );
    assert_eq!(
        s.checkout.handle_callback(&uri, &body, now),
        Ok(CallbackOutcome::Duplicate)
    );
    let other = serde_json::to_vec(
        &json!({"event_id": "ev-2", "session": {"session_id": "hpp-9999", "status": "COMPLETED"}}),
    )
    .expect("json");
    assert_eq!(
        s.checkout.handle_callback(&uri, &other, now),
        Err(InputError::WrongSession)
    );
    assert!(matches!(
        s.checkout.handle_callback(&uri, b"{not json", now),
        Err(InputError::MalformedCallback(_))
    ));
    // The callback changed nothing by itself: still waiting, and a read is due now.
    assert_eq!(s.state(), State::AwaitingConsumer);
    s.drain();
    s.expect_request("GET", "/hpp/v1/sessions/hpp-0001");
}

#[test]
fn redirects_are_matched_and_only_trigger_a_read() {
    use klarna_hpp_core::checkout::{InputError, RedirectKind};
    let mut s = Scenario::created(config(PlaceOrderMode::None));
    let now = s.ts();
    assert_eq!(
        s.checkout.handle_redirect(
            "https://shop.example/klarna/success?sid=hpp-0001&token=tok-x",
            now
        ),
        Ok(RedirectKind::Success)
    );
    assert_eq!(
        s.state(),
        State::AwaitingConsumer,
        "a redirect is only a hint"
    );
    assert_eq!(
        s.checkout
            .handle_redirect("/klarna/cancel?sid=hpp-0001", now),
        Ok(RedirectKind::Cancel)
    );
    assert_eq!(
        s.checkout
            .handle_redirect("/klarna/cancel?sid=hpp-0002", now),
        Err(InputError::WrongSession)
    );
    assert_eq!(
        s.checkout.handle_redirect("/elsewhere", now),
        Err(InputError::UnknownRedirect)
    );
    s.drain();
    s.expect_request("GET", "/hpp/v1/sessions/hpp-0001");
}

#[test]
fn events_carry_what_the_merchant_needs() {
    let mut s = Scenario::start(config(PlaceOrderMode::None));
    s.reply(kp_created());
    let (id, _) = s.pending.take().expect("hpp create");
    s.checkout
        .handle_response(id, hpp_created(), s.ts())
        .expect("in flight");
    let mut link = None;
    while let Some(e) = s.checkout.poll_event() {
        if let Event::ConsumerLinkReady(l) = e {
            link = Some(l);
        }
    }
    let link = link.expect("link event");
    assert_eq!(
        link.redirect_url.as_deref(),
        Some("https://pay.playground.klarna.com/eu/hpp/payments/abc")
    );
    assert!(link.qr_code_url.is_some());
    assert_eq!(link.session_id, "hpp-0001");
    assert!(
        !format!("{link:?}").contains("pay.playground"),
        "Debug redacts the consumer URLs"
    );
}

#[test]
fn restore_rechecks_what_the_snapshot_would_send() {
    use klarna_hpp_core::checkout::{Checkout, SnapshotError};
    let s = Scenario::created(config(PlaceOrderMode::None));
    let snapshot = s.checkout.snapshot();
    assert!(Checkout::restore(api(), &snapshot).is_ok());
    // A snapshot edited (or corrupted) so the session's amount no longer matches its lines is
    // refused with a typed error instead of being sent to Klarna.
    let mut doc: serde_json::Value = serde_json::from_slice(&snapshot).expect("json");
    doc["session"]["order_amount"] = json!(1);
    let edited = serde_json::to_vec(&doc).expect("json");
    match Checkout::restore(api(), &edited) {
        Err(SnapshotError::Malformed(message)) => {
            assert!(message.contains("order_amount"), "{message}")
        }
        other => panic!("expected Malformed, got {other:?}"),
    }
    // Nor may an edited snapshot make more capturable than was authorized.
    let mut s = Scenario::placed_by_hpp();
    s.reply(om_order("AUTHORIZED", TOTAL, 0, 28 * 86_400));
    let mut doc: serde_json::Value = serde_json::from_slice(&s.checkout.snapshot()).expect("json");
    assert!(Checkout::restore(api(), &serde_json::to_vec(&doc).expect("json")).is_ok());
    for field in ["captured", "unsettled_captures", "refunded"] {
        doc["order"][field] = json!(-5_000);
        let edited = serde_json::to_vec(&doc).expect("json");
        assert!(
            matches!(
                Checkout::restore(api(), &edited),
                Err(SnapshotError::Malformed(_))
            ),
            "{field}"
        );
        doc["order"][field] = json!(0);
    }
}

#[test]
fn snapshots_from_before_key_scheme_2_keep_their_idempotency_keys() {
    use klarna_hpp_core::checkout::{Checkout, SnapshotError};
    let mut s = Scenario::placed_by_hpp();
    s.reply(om_order("AUTHORIZED", TOTAL, 0, 28 * 86_400));
    s.command("capture", |c, now| c.capture(Some(4_000), now));
    let new_key = s.request().headers()["klarna-idempotency-key"].clone();
    // The capture was sent; the process dies before its answer. The snapshot it left was
    // written by a build before key scheme 2: no `key_scheme`, keys made with an HMAC each.
    let mut doc: serde_json::Value = serde_json::from_slice(&s.checkout.snapshot()).expect("json");
    assert_eq!(doc["key_scheme"], json!("3"));
    // Written by a build with key scheme 2 (namespace, call and sequence mixed, not bound to
    // the order): the key that build sent for this checkout's first capture, as pinned in
    // the transcripts of that build.
    let mut v2 = doc.clone();
    v2["key_scheme"] = json!("2");
    let mut restored =
        Checkout::restore(api(), &serde_json::to_vec(&v2).expect("json")).expect("restores");
    restored.resume_after_restart(s.ts());
    let later = restored.poll_timeout().expect("retry scheduled");
    restored.handle_timeout(later);
    let (_, replay) = restored.poll_request().expect("replayed");
    assert_eq!(
        replay.headers()["klarna-idempotency-key"],
        "24d8f2de-dac8-8d54-a580-03e53692e4f6"
    );
    doc.as_object_mut().expect("object").remove("key_scheme");
    doc["keys"] = json!("000102030405060708090a0b0c0d0e0f");
    let legacy = serde_json::to_vec(&doc).expect("json");
    let mut restored = Checkout::restore(api(), &legacy).expect("restores");
    restored.resume_after_restart(s.ts());
    let later = restored.poll_timeout().expect("retry scheduled");
    restored.handle_timeout(later);
    let (_, replay) = restored.poll_request().expect("replayed");
    // UUIDv8(HMAC-SHA-256(key = the namespace's text, "capture/1")), computed independently.
    assert_eq!(
        replay.headers()["klarna-idempotency-key"],
        "c7b3547d-acd0-830f-891d-301a594fa57f"
    );
    assert_ne!(replay.headers()["klarna-idempotency-key"], new_key);
    // A namespace that is not what a checkout derives is refused, not used.
    doc["keys"] = json!("not-hex");
    let tampered = serde_json::to_vec(&doc).expect("json");
    assert!(matches!(
        Checkout::restore(api(), &tampered),
        Err(SnapshotError::Malformed(_))
    ));
}

#[test]
fn an_empty_authorization_token_is_refused_at_place_order() {
    let mut s = Scenario::created(config(PlaceOrderMode::None));
    s.poll_answer(hpp_status(
        "COMPLETED",
        30,
        json!({"authorization_token": ""}),
    ));
    assert_eq!(s.state(), State::Authorized);
    let now = s.ts();
    assert!(matches!(
        s.checkout.place_order(None, now),
        Err(CommandError::Invalid(_))
    ));
    assert_eq!(
        s.state(),
        State::Authorized,
        "nothing was sent, nothing failed"
    );
    assert!(s.checkout.poll_request().is_none());
}

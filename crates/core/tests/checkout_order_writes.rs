//! Exact transcripts of Order Management's writes that move no amount, as checkout commands:
//! release the remaining authorization, extend the authorization time, update the merchant
//! references, add shipping information to a capture. Each: the happy path (the write, then an
//! order read refreshing the checkout's view), an unknown outcome replayed under the same
//! idempotency key, a refusal (4xx), and the states that refuse the command.

mod scenario;

use klarna_hpp_core::checkout::{Call, CommandError, Event, State, TransportFailure};
use klarna_hpp_core::hpp::PlaceOrderMode;
use klarna_hpp_core::om::{MerchantReferences, ShippingInfo};
use scenario::*;
use serde_json::json;

const TOTAL: i64 = 12_000;
const DAY: i64 = 86_400;

/// An order read: `amount` authorized, `captured` of it captured, with the given captures.
fn om_read(
    status: &str,
    amount: i64,
    captured: i64,
    expires_in: i64,
    captures: serde_json::Value,
) -> klarna_hpp_core::http::Response<Vec<u8>> {
    respond(
        200,
        json!({
            "order_id": "om-0001", "status": status,
            "order_amount": amount, "original_order_amount": TOTAL, "captured_amount": captured,
            "refunded_amount": 0, "remaining_authorized_amount": amount - captured,
            "expires_at": iso(expires_in), "captures": captures,
        }),
    )
}

/// PLACE_ORDER, order read, `capture` captured as `cap-1` (when positive).
fn placed_and_captured(capture: i64) -> Scenario {
    let mut s = Scenario::placed_by_hpp();
    s.reply(om_order("AUTHORIZED", TOTAL, 0, 28 * DAY));
    if capture > 0 {
        s.command("capture", move |c, now| c.capture(Some(capture), now));
        s.expect_request("POST", "/ordermanagement/v1/orders/om-0001/captures");
        s.reply(created_with("capture-id", "cap-1", "captures"));
    }
    s
}

fn key(s: &Scenario) -> String {
    s.request().headers()["klarna-idempotency-key"]
        .to_str()
        .expect("ascii")
        .to_owned()
}

fn written(s: &mut Scenario) -> Vec<Call> {
    // The transcript has the events; this reads what the checkout reported last.
    s.log
        .iter()
        .filter_map(|l| l.strip_prefix("  event OrderWritten { call: "))
        .map(|l| match l.trim_end_matches(" }") {
            "ReleaseRemainingAuthorization" => Call::ReleaseRemainingAuthorization,
            "ExtendAuthorizationTime" => Call::ExtendAuthorizationTime,
            "UpdateMerchantReferences" => Call::UpdateMerchantReferences,
            "AddShippingInfo" => Call::AddShippingInfo,
            other => panic!("unexpected call {other}"),
        })
        .collect()
}

// ----- release the remaining authorization -----

#[test]
fn release_after_a_partial_capture_then_nothing_more_is_capturable() {
    let mut s = placed_and_captured(5_000);
    assert_eq!(s.checkout.capturable_amount(), TOTAL - 5_000);
    s.command("release_remaining_authorization", |c, now| {
        c.release_remaining_authorization(now)
    });
    s.expect_request(
        "POST",
        "/ordermanagement/v1/orders/om-0001/release-remaining-authorization",
    );
    assert!(s.request().headers().contains_key("klarna-idempotency-key"));
    assert_eq!(s.checkout.capturable_amount(), 0, "nothing more once asked");
    s.command("capture (after release)", |c, now| c.capture(Some(1), now));
    s.reply(no_content());
    assert_eq!(written(&mut s), [Call::ReleaseRemainingAuthorization]);
    // The order read refreshes the view: Klarna lowered the order to what was captured.
    s.expect_request("GET", "/ordermanagement/v1/orders/om-0001");
    s.reply(om_read(
        "CAPTURED",
        5_000,
        5_000,
        28 * DAY,
        json!([{"capture_id": "cap-1", "captured_amount": 5_000}]),
    ));
    assert_eq!(s.state(), State::Captured);
    assert_eq!(s.checkout.capturable_amount(), 0);
    s.command("release again", |c, now| {
        c.release_remaining_authorization(now)
    });
    assert!(s.pending.is_none(), "a second release sends nothing");
    insta::assert_snapshot!(s.transcript());
}

#[test]
fn release_with_an_unknown_outcome_is_replayed_under_the_same_key() {
    let mut s = placed_and_captured(5_000);
    s.command("release_remaining_authorization", |c, now| {
        c.release_remaining_authorization(now)
    });
    let first = key(&s);
    s.fail(TransportFailure::OutcomeUnknown);
    assert_eq!(
        s.checkout.capturable_amount(),
        0,
        "the release is under way"
    );
    s.wait();
    s.expect_request(
        "POST",
        "/ordermanagement/v1/orders/om-0001/release-remaining-authorization",
    );
    assert_eq!(key(&s), first);
    // A 5xx is an unknown outcome too; and a restart replays the same key as well.
    s.reply(error(503, "SERVICE_UNAVAILABLE", "try later"));
    s.wait();
    assert_eq!(key(&s), first);
    let mut restored = klarna_hpp_core::checkout::Checkout::restore(api(), &s.checkout.snapshot())
        .expect("restores");
    restored.resume_after_restart(s.ts());
    let at = restored.poll_timeout().expect("replay scheduled");
    restored.handle_timeout(at);
    let (_, replay) = restored.poll_request().expect("replayed");
    assert_eq!(
        replay.headers()["klarna-idempotency-key"].to_str().ok(),
        Some(first.as_str())
    );
    s.reply(no_content());
    assert_eq!(written(&mut s), [Call::ReleaseRemainingAuthorization]);
    s.expect_request("GET", "/ordermanagement/v1/orders/om-0001");
    insta::assert_snapshot!(s.transcript());
}

#[test]
fn release_refused_reports_it_and_reads_the_order() {
    // Nothing captured: Klarna refuses to release (the order would have to be cancelled).
    let mut s = placed_and_captured(0);
    s.command("release_remaining_authorization", |c, now| {
        c.release_remaining_authorization(now)
    });
    s.reply(error(
        403,
        "NOT_ALLOWED",
        "Can not release when order has no captures.",
    ));
    assert!(written(&mut s).is_empty());
    s.expect_request("GET", "/ordermanagement/v1/orders/om-0001");
    s.reply(om_order("AUTHORIZED", TOTAL, 0, 28 * DAY));
    assert_eq!(s.state(), State::OrderPlaced);
    assert_eq!(
        s.checkout.capturable_amount(),
        TOTAL,
        "not released: capturable again"
    );
    insta::assert_snapshot!(s.transcript());
}

#[test]
fn release_is_refused_before_the_order_exists_and_after_the_end() {
    let mut s = Scenario::created(config(PlaceOrderMode::None));
    let before = s.checkout.release_remaining_authorization(s.ts());
    assert!(matches!(
        before,
        Err(CommandError::NotAllowed {
            command: "release_remaining_authorization",
            state: State::AwaitingConsumer
        })
    ));
    s.poll_answer(hpp_status("CANCELLED", 5, json!({})));
    assert_eq!(s.state(), State::Cancelled);
    let after = s.checkout.release_remaining_authorization(s.ts());
    assert!(matches!(
        after,
        Err(CommandError::Terminal {
            state: State::Cancelled
        })
    ));
    // While a cancel is queued, a release is refused.
    let mut s = placed_and_captured(0);
    s.command("cancel_order", |c, now| c.cancel_order(now));
    assert!(matches!(
        s.checkout.release_remaining_authorization(s.ts()),
        Err(CommandError::InProgress {
            command: "cancel_order"
        })
    ));
}

// ----- extend the authorization time -----

#[test]
fn extend_moves_the_om_deadline_from_the_next_read() {
    let mut s = placed_and_captured(0);
    let before = s.checkout.deadlines().order_authorization.expect("known");
    s.command("extend_authorization_time", |c, now| {
        c.extend_authorization_time(now)
    });
    s.expect_request(
        "POST",
        "/ordermanagement/v1/orders/om-0001/extend-authorization-time",
    );
    assert!(s.request().headers().contains_key("klarna-idempotency-key"));
    s.reply(no_content());
    assert_eq!(written(&mut s), [Call::ExtendAuthorizationTime]);
    s.expect_request("GET", "/ordermanagement/v1/orders/om-0001");
    s.reply(om_order("AUTHORIZED", TOTAL, 0, 56 * DAY));
    let after = s.checkout.deadlines().order_authorization.expect("known");
    assert_eq!(
        after.unix_millis() - before.unix_millis(),
        28 * DAY * 1000,
        "the read's expires_at is the new deadline"
    );
    insta::assert_snapshot!(s.transcript());
}

#[test]
fn extend_with_an_unknown_outcome_is_replayed_under_the_same_key() {
    let mut s = placed_and_captured(0);
    s.command("extend_authorization_time", |c, now| {
        c.extend_authorization_time(now)
    });
    let first = key(&s);
    s.fail(TransportFailure::OutcomeUnknown);
    s.wait();
    assert_eq!(key(&s), first);
    // 409: the key is still being processed; replayed again under it.
    s.reply(error(409, "CONFLICT", "in progress"));
    s.wait();
    assert_eq!(key(&s), first);
    s.reply(no_content());
    assert_eq!(written(&mut s), [Call::ExtendAuthorizationTime]);
    // A second extension is another write: another key.
    s.reply(om_order("AUTHORIZED", TOTAL, 0, 56 * DAY));
    s.command("extend again", |c, now| c.extend_authorization_time(now));
    assert_ne!(key(&s), first);
    insta::assert_snapshot!(s.transcript());
}

#[test]
fn extend_refused_is_reported_and_the_deadline_stays() {
    let mut s = placed_and_captured(0);
    let before = s.checkout.deadlines().order_authorization;
    s.command("extend_authorization_time", |c, now| {
        c.extend_authorization_time(now)
    });
    s.reply(error(
        403,
        "NOT_ALLOWED",
        "Authorization time cannot be extended.",
    ));
    s.expect_request("GET", "/ordermanagement/v1/orders/om-0001");
    s.reply(om_order("AUTHORIZED", TOTAL, 0, 28 * DAY));
    assert!(written(&mut s).is_empty());
    assert_eq!(s.checkout.deadlines().order_authorization, before);
    insta::assert_snapshot!(s.transcript());
}

#[test]
fn extend_is_refused_past_the_om_deadline_and_before_the_order() {
    let mut s = Scenario::created(config(PlaceOrderMode::None));
    assert!(matches!(
        s.checkout.extend_authorization_time(s.ts()),
        Err(CommandError::NotAllowed {
            command: "extend_authorization_time",
            ..
        })
    ));
    let mut s = placed_and_captured(1_000);
    s.advance(28 * DAY);
    assert!(matches!(
        s.checkout.extend_authorization_time(s.ts()),
        Err(CommandError::Expired { .. })
    ));
    assert!(s.pending.is_none());
}

// ----- merchant references -----

#[test]
fn update_merchant_references_then_read() {
    let mut s = placed_and_captured(0);
    s.command("update_merchant_references", |c, now| {
        c.update_merchant_references(
            MerchantReferences::new()
                .merchant_reference1("order-42")
                .merchant_reference2(""),
            now,
        )
    });
    s.expect_request(
        "PATCH",
        "/ordermanagement/v1/orders/om-0001/merchant-references",
    );
    assert!(s.request().headers().contains_key("klarna-idempotency-key"));
    s.reply(no_content());
    assert_eq!(written(&mut s), [Call::UpdateMerchantReferences]);
    s.expect_request("GET", "/ordermanagement/v1/orders/om-0001");
    s.reply(om_order("AUTHORIZED", TOTAL, 0, 28 * DAY));
    insta::assert_snapshot!(s.transcript());
}

#[test]
fn merchant_references_unknown_outcome_refusal_and_invalid_input() {
    let mut s = placed_and_captured(0);
    let too_long = "x".repeat(256);
    let r = s.checkout.update_merchant_references(
        MerchantReferences::new().merchant_reference1(too_long),
        s.ts(),
    );
    assert!(matches!(r, Err(CommandError::Invalid(_))), "{r:?}");
    assert!(s.pending.is_none(), "nothing sent");
    s.command("update_merchant_references", |c, now| {
        c.update_merchant_references(MerchantReferences::new().merchant_reference1("A"), now)
    });
    let first = key(&s);
    s.fail(TransportFailure::OutcomeUnknown);
    s.wait();
    assert_eq!(key(&s), first, "replayed under the same key");
    s.reply(error(400, "BAD_VALUE", "merchant_reference1 rejected"));
    assert!(written(&mut s).is_empty());
    s.expect_request("GET", "/ordermanagement/v1/orders/om-0001");
    insta::assert_snapshot!(s.transcript());
}

// ----- shipping information -----

#[test]
fn add_shipping_info_to_a_known_capture() {
    let mut s = placed_and_captured(5_000);
    assert_eq!(s.checkout.capture_ids(), ["cap-1"]);
    let unknown = s.checkout.add_shipping_info(
        "cap-9",
        vec![ShippingInfo::new().tracking_number("T1")],
        s.ts(),
    );
    assert!(matches!(unknown, Err(CommandError::UnknownCapture { .. })));
    let empty = s.checkout.add_shipping_info("cap-1", Vec::new(), s.ts());
    assert!(matches!(empty, Err(CommandError::Invalid(_))), "{empty:?}");
    s.command("add_shipping_info cap-1", |c, now| {
        c.add_shipping_info(
            "cap-1",
            vec![ShippingInfo::new()
                .shipping_company("DHL")
                .tracking_number("T1")],
            now,
        )
    });
    s.expect_request(
        "POST",
        "/ordermanagement/v1/orders/om-0001/captures/cap-1/shipping-info",
    );
    assert!(s.request().headers().contains_key("klarna-idempotency-key"));
    s.reply(no_content());
    assert_eq!(written(&mut s), [Call::AddShippingInfo]);
    // A capture made elsewhere (or whose id the capture's answer lacked) is learnt from a read.
    s.reply(om_read(
        "PART_CAPTURED",
        TOTAL,
        7_000,
        28 * DAY,
        json!([{"capture_id": "cap-1"}, {"capture_id": "cap-2"}, {"no_id": true}, 5]),
    ));
    assert_eq!(s.checkout.capture_ids(), ["cap-1", "cap-2"]);
    s.command("add_shipping_info cap-2", |c, now| {
        c.add_shipping_info(
            "cap-2",
            vec![ShippingInfo::new().tracking_number("T2")],
            now,
        )
    });
    s.expect_request(
        "POST",
        "/ordermanagement/v1/orders/om-0001/captures/cap-2/shipping-info",
    );
    insta::assert_snapshot!(s.transcript());
}

#[test]
fn shipping_info_unknown_outcome_and_refusal() {
    let mut s = placed_and_captured(5_000);
    s.command("add_shipping_info", |c, now| {
        c.add_shipping_info(
            "cap-1",
            vec![ShippingInfo::new().tracking_number("T1")],
            now,
        )
    });
    let first = key(&s);
    s.reply(error(502, "BAD_GATEWAY", "upstream"));
    s.wait();
    assert_eq!(key(&s), first);
    s.reply(error(404, "NO_SUCH_CAPTURE", "Capture could not be found."));
    assert!(written(&mut s).is_empty());
    s.expect_request("GET", "/ordermanagement/v1/orders/om-0001");
    // Before the order exists there is no capture to add to.
    let mut early = Scenario::created(config(PlaceOrderMode::None));
    assert!(matches!(
        early
            .checkout
            .add_shipping_info("cap-1", vec![ShippingInfo::new()], early.ts()),
        Err(CommandError::NotAllowed { .. })
    ));
    early.drain();
    insta::assert_snapshot!(s.transcript());
}

// ----- together -----

#[test]
fn writes_wait_for_the_owed_read_and_each_has_its_own_key() {
    // Right after placement the order read is owed: the writes wait for it.
    let mut s = Scenario::placed_by_hpp();
    s.command("update_merchant_references", |c, now| {
        c.update_merchant_references(MerchantReferences::new().merchant_reference1("A"), now)
    });
    s.command("extend_authorization_time", |c, now| {
        c.extend_authorization_time(now)
    });
    s.expect_request("GET", "/ordermanagement/v1/orders/om-0001");
    // A snapshot holding the queued writes restores them.
    let restored = klarna_hpp_core::checkout::Checkout::restore(api(), &s.checkout.snapshot())
        .expect("restores");
    assert_eq!(restored.snapshot(), s.checkout.snapshot());
    s.reply(om_order("AUTHORIZED", TOTAL, 0, 28 * DAY));
    s.expect_request(
        "PATCH",
        "/ordermanagement/v1/orders/om-0001/merchant-references",
    );
    let k1 = key(&s);
    s.reply(no_content());
    s.expect_request("GET", "/ordermanagement/v1/orders/om-0001");
    s.reply(om_order("AUTHORIZED", TOTAL, 0, 28 * DAY));
    s.expect_request(
        "POST",
        "/ordermanagement/v1/orders/om-0001/extend-authorization-time",
    );
    assert_ne!(key(&s), k1);
    s.reply(no_content());
    s.expect_request("GET", "/ordermanagement/v1/orders/om-0001");
    let events: Vec<Event> = std::iter::from_fn(|| s.checkout.poll_event()).collect();
    assert!(events.is_empty(), "drained into the transcript");
    assert_eq!(
        written(&mut s),
        [
            Call::UpdateMerchantReferences,
            Call::ExtendAuthorizationTime
        ]
    );
    insta::assert_snapshot!(s.transcript());
}

#[test]
fn a_2xx_other_than_204_is_replayed_under_the_same_key() {
    // Klarna answers these writes with 204: a 200 with some page (a proxy's?) proves nothing,
    // and the replay under the same key returns Klarna's real answer.
    let mut s = placed_and_captured(5_000);
    s.command("release_remaining_authorization", |c, now| {
        c.release_remaining_authorization(now)
    });
    let first = key(&s);
    s.reply(respond(200, json!({"note": "not Klarna"})));
    assert!(written(&mut s).is_empty(), "not taken as done");
    assert_eq!(s.checkout.capturable_amount(), 0, "still under way");
    s.wait();
    s.expect_request(
        "POST",
        "/ordermanagement/v1/orders/om-0001/release-remaining-authorization",
    );
    assert_eq!(key(&s), first);
    s.reply(no_content());
    assert_eq!(written(&mut s), [Call::ReleaseRemainingAuthorization]);
    assert_eq!(s.state(), State::Captured);
    insta::assert_snapshot!(s.transcript());
}

//! Decoding HPP responses and callbacks: Klarna's documented examples (reference §2.5, §2.6,
//! §2.10), the spec's examples, unknown values, and error bodies.

mod scenario;
mod support;

use klarna_hpp_core::hpp::{
    CreateSession, DisableSession, Distribute, HppStatus, Options, PaymentMethodCategory,
    PurchaseType, ReadSession, Session, SessionCreated, SessionCreationRequest, StatusCallback,
};
use klarna_hpp_core::http::{Response, StatusCode};
use klarna_hpp_core::{Error, Operation, Timestamp};

fn response(status: u16, body: &str) -> Response<Vec<u8>> {
    Response::builder()
        .status(status)
        .body(body.as_bytes().to_vec())
        .expect("valid response")
}

fn ts(s: &str) -> Option<Timestamp> {
    Some(Timestamp::parse(s).expect("valid timestamp"))
}

#[test]
fn created_session_from_the_docs() {
    // Reference §2.5 (S4).
    let body = r#"{"session_id":"9cbc9884-1fdb-45a8-9694-9340340d0436","redirect_url":"https://pay.klarna.com/eu/hpp/payments/2OCkffK",
 "session_url":"https://api.klarna.com/hpp/v1/sessions/9cbc9884-1fdb-45a8-9694-9340340d0436",
 "qr_code_url":"https://pay.klarna.com/eu/hpp/payments/9cbc9884-1fdb-45a8-9694-9340340d0436/qr",
 "distribution_url":"https://api.klarna.com/hpp/v1/sessions/9cbc9884-1fdb-45a8-9694-9340340d0436/distribution",
 "expires_at":"2019-05-29T08:22:05.563Z",
 "distribution_module":{"token":"dist-token-123",
   "standalone_url":"https://pay.klarna.com/eu/hpp/distributions/d1?profile_id={{profile_id}}&view_id={{view_id}}",
   "generation_url":"https://api.playground.klarna.com/hpp/v1/sessions/9cbc9884-1fdb-45a8-9694-9340340d0436/distribution-module/token"}}"#;
    let created = CreateSession::decode_response(&response(201, body)).unwrap();
    assert_eq!(
        created.session_id.as_deref(),
        Some("9cbc9884-1fdb-45a8-9694-9340340d0436")
    );
    assert_eq!(
        created.redirect_url.as_deref(),
        Some("https://pay.klarna.com/eu/hpp/payments/2OCkffK")
    );
    assert_eq!(created.expires_at, ts("2019-05-29T08:22:05.563Z"));
    let module = created.distribution_module.as_ref().unwrap();
    assert_eq!(module.token.as_ref().unwrap().expose(), "dist-token-123");
    let debug = format!("{created:?}");
    assert!(
        !debug.contains("2OCkffK") && !debug.contains("dist-token-123"),
        "{debug}"
    );
    // Any 2xx is success.
    assert!(CreateSession::decode_response(&response(200, body)).is_ok());
}

#[test]
fn spec_examples_decode() {
    let created = support::example("hpp", "SessionCreationResponseV1");
    let decoded = CreateSession::decode_response(&response(201, &created.to_string())).unwrap();
    assert_eq!(
        decoded.session_id.as_deref(),
        Some("9cbc9884-1fdb-45a8-9694-9340340d0436")
    );
    assert_eq!(decoded.expires_at, ts("2038-01-19T03:14:07.000Z"));
    assert!(decoded.manual_identification_check_url.is_some());
    // Re-encoding gives a body the spec accepts.
    support::assert_valid(
        "hpp",
        "SessionCreationResponseV1",
        &serde_json::to_value(&decoded).unwrap(),
    );

    let session = support::example("hpp", "SessionResponseV1");
    let decoded = ReadSession::decode_response(&response(200, &session.to_string())).unwrap();
    assert_eq!(decoded.status, HppStatus::Completed);
    assert_eq!(
        decoded.authorization_token.as_ref().unwrap().expose(),
        "70850a20-a2a0-5c70-810c-096fa6f850bb"
    );
    assert_eq!(
        decoded.order_id.as_deref(),
        Some("93d644a2-43f3-11e9-b210-d663bd873d93")
    );
    assert_eq!(decoded.klarna_reference.as_deref(), Some("ffc25786"));
    let customer = decoded.customer.as_ref().unwrap();
    assert_eq!(customer.date_of_birth.as_deref(), Some("1987-08-15"));
    let manual = decoded.manual_identification.as_ref().unwrap();
    assert_eq!(manual.challenge.as_deref(), Some("A78"));
    assert_eq!(manual.expires_at, ts("2038-01-19T03:14:07.000Z"));
    support::assert_valid(
        "hpp",
        "SessionResponseV1",
        &serde_json::to_value(&decoded).unwrap(),
    );
    let debug = format!("{decoded:?}");
    assert!(
        !debug.contains("19870815-84932") && !debug.contains("70850a20"),
        "{debug}"
    );
}

#[test]
fn polled_statuses_from_the_docs() {
    // Reference §2.6 (S5): one session, polled.
    let waiting = r#"{"session_id":"39a1c773-0f6e-4e49-9bb1-8f2f6e0a3c11","status":"WAITING","updated_at":"2019-05-13T14:51:46.288Z","expires_at":"2019-05-15T13:51:43.507Z"}"#;
    let s = ReadSession::decode_response(&response(200, waiting)).unwrap();
    assert_eq!(s.status, HppStatus::Waiting);
    assert!(!s.status.is_final());
    assert_eq!(s.updated_at, ts("2019-05-13T14:51:46.288Z"));
    assert_eq!(s.expires_at, ts("2019-05-15T13:51:43.507Z"));
    assert!(s.authorization_token.is_none() && s.order_id.is_none());

    let in_progress = r#"{"session_id":"39a1c773-0f6e-4e49-9bb1-8f2f6e0a3c11","status":"IN_PROGRESS","updated_at":"2019-05-13T14:52:57.540Z","expires_at":"2019-05-15T13:51:43.507Z"}"#;
    let s = ReadSession::decode_response(&response(200, in_progress)).unwrap();
    assert_eq!(s.status, HppStatus::InProgress);

    let with_token = r#"{"session_id":"39a1c773-0f6e-4e49-9bb1-8f2f6e0a3c11","status":"COMPLETED","authorization_token":"a1a8f727-1b2c-4d5e-8f90-0123456789ab","updated_at":"2019-05-13T14:54:04.675Z","expires_at":"2019-05-15T13:51:43.507Z"}"#;
    let s = ReadSession::decode_response(&response(200, with_token)).unwrap();
    assert_eq!(s.status, HppStatus::Completed);
    assert!(s.status.is_final());
    assert_eq!(
        s.authorization_token.as_ref().unwrap().expose(),
        "a1a8f727-1b2c-4d5e-8f90-0123456789ab"
    );
    assert!(!format!("{s:?}").contains("a1a8f727"));

    let with_order = r#"{"session_id":"39a1c773-0f6e-4e49-9bb1-8f2f6e0a3c11","status":"COMPLETED","order_id":"a1a8f727-1b2c-4d5e-8f90-0123456789ab","klarna_reference":"X438HG0Q","updated_at":"2019-05-13T14:54:04.675Z","expires_at":"2019-05-15T13:51:43.507Z"}"#;
    let s = ReadSession::decode_response(&response(200, with_order)).unwrap();
    assert_eq!(
        s.order_id.as_deref(),
        Some("a1a8f727-1b2c-4d5e-8f90-0123456789ab")
    );
    assert_eq!(s.klarna_reference.as_deref(), Some("X438HG0Q"));
    assert!(s.authorization_token.is_none());
}

#[test]
fn every_status_decodes_and_finality_is_right() {
    let final_ones = ["COMPLETED", "CANCELLED", "DISABLED"];
    for status in HppStatus::KNOWN {
        let body = format!(r#"{{"session_id":"s","status":"{status}"}}"#);
        let s = ReadSession::decode_response(&response(200, &body)).unwrap();
        assert_eq!(&s.status, status);
        assert_eq!(
            s.status.is_final(),
            final_ones.contains(&status.as_str()),
            "{status}"
        );
    }
    assert_eq!(HppStatus::KNOWN.len(), 9);
}

#[test]
fn unknown_status_and_fields_are_kept_or_ignored() {
    let body = r#"{"session_id":"s","status":"TIMEOUT","brand_new_field":{"x":[1,2]},"updated_at":"2019-05-13T14:51:46Z"}"#;
    let s = ReadSession::decode_response(&response(200, body)).unwrap();
    assert_eq!(s.status, HppStatus::Unknown("TIMEOUT".into()));
    assert!(!s.status.is_final());
    assert_eq!(s.status.as_str(), "TIMEOUT");
    // Lowercase from a lenient server decodes to the known value.
    let s =
        ReadSession::decode_response(&response(200, r#"{"session_id":"s","status":"completed"}"#))
            .unwrap();
    assert_eq!(s.status, HppStatus::Completed);
    // Nulls for optional fields.
    let s = ReadSession::decode_response(&response(
        200,
        r#"{"session_id":"s","status":"WAITING","order_id":null,"customer":null,"expires_at":null}"#,
    ))
    .unwrap();
    assert!(s.order_id.is_none() && s.customer.is_none() && s.expires_at.is_none());
}

#[test]
fn callbacks_from_the_docs() {
    // Reference §2.10 (S43, S44).
    let in_progress = br#"{"event_id":"270b2adc-35a4-4524-800a-a5d2b8a96a2c","session":{"session_id":"35bde117-aaaa-bbbb-cccc-000000000000","status":"IN_PROGRESS","updated_at":"2019-05-13T14:51:46.288Z","expires_at":"2019-05-15T13:51:43.507Z"}}"#;
    let cb = StatusCallback::decode(in_progress).unwrap();
    assert_eq!(cb.event_id, "270b2adc-35a4-4524-800a-a5d2b8a96a2c");
    assert_eq!(
        cb.session.session_id.as_deref(),
        Some("35bde117-aaaa-bbbb-cccc-000000000000")
    );
    assert_eq!(cb.session.status, HppStatus::InProgress);

    let completed = br#"{"event_id":"cd7e1171-aaaa-bbbb-cccc-000000000000","session":{"session_id":"39a1c773-0f6e-4e49-9bb1-8f2f6e0a3c11","status":"COMPLETED","order_id":"a1a8f727-1b2c-4d5e-8f90-0123456789ab","klarna_reference":"X438HG0Q","updated_at":"2019-05-13T14:54:04.675Z","expires_at":"2019-05-15T13:51:43.507Z"}}"#;
    let cb = StatusCallback::decode(completed).unwrap();
    assert_eq!(cb.session.status, HppStatus::Completed);
    assert_eq!(cb.session.klarna_reference.as_deref(), Some("X438HG0Q"));

    // The callback's session validates against the spec's session schema once re-encoded.
    support::assert_valid(
        "hpp",
        "SessionResponseV1",
        &serde_json::to_value(&cb.session).unwrap(),
    );
}

#[test]
fn callback_decode_errors_are_typed() {
    for (body, path) in [
        (&br#"{"session":{"session_id":"s","status":"WAITING"}}"#[..], Some(".")),
        (br#"{"event_id":"e","session":{"session_id":"s","status":7}}"#, Some("session.status")),
        (
            br#"{"event_id":"e","session":{"session_id":"s","status":"WAITING","updated_at":"yesterday"}}"#,
            Some("session.updated_at"),
        ),
        // A session without a status cannot be acted on (one without an id can: it is about
        // the checkout whose callback URL, secret included, was called).
        (br#"{"event_id":"e","session":{"session_id":"s"}}"#, Some("session")),
        // Syntax errors: the path is wherever the parser stopped.
        (br#"{"event_id":"e""#, None),
        (b"", None),
        (b"event_id=e", None),
    ] {
        match StatusCallback::decode(body) {
            Err(Error::Decode(d)) => {
                assert_eq!(d.operation, "hpp.status_callback");
                assert_eq!(d.status, StatusCode::OK);
                assert_eq!(d.body, body.to_vec());
                if let Some(path) = path {
                    assert_eq!(d.path, path, "{}", String::from_utf8_lossy(body));
                }
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn decode_error_names_the_path_and_hides_values() {
    let body =
        r#"{"session_id":"s","status":"COMPLETED","authorization_token":{"secret":"tok-123"}}"#;
    match ReadSession::decode_response(&response(200, body)) {
        Err(Error::Decode(d)) => {
            assert_eq!(d.operation, "hpp.read_session");
            assert_eq!(d.path, "authorization_token");
            assert!(!d.message.contains("tok-123"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn error_bodies_become_api_errors() {
    // H2 404: expired or unknown session.
    let expired = r#"{"error_code":"NOT_FOUND","error_messages":["HPP session has expired or could not be found by provided id."],"correlation_id":"9b716595-5b16-467d-b7a6-063062fc00f8"}"#;
    match ReadSession::decode_response(&response(404, expired)) {
        Err(Error::Api(e)) => {
            assert_eq!(e.operation, "hpp.read_session");
            assert_eq!(e.status, StatusCode::NOT_FOUND);
            assert_eq!(e.error_code.as_deref(), Some("NOT_FOUND"));
            assert_eq!(
                e.error_messages,
                ["HPP session has expired or could not be found by provided id."]
            );
            assert_eq!(
                e.correlation_id.as_deref(),
                Some("9b716595-5b16-467d-b7a6-063062fc00f8")
            );
            assert!(!e.is_transient());
        }
        other => panic!("{other:?}"),
    }
    // H1 404: the KP session expired.
    let kp_expired =
        r#"{"error_code":"NOT_FOUND","error_messages":["Payment session has expired."]}"#;
    match CreateSession::decode_response(&response(404, kp_expired)) {
        Err(Error::Api(e)) => assert_eq!(e.error_messages, ["Payment session has expired."]),
        other => panic!("{other:?}"),
    }
    // H3 400: already completed.
    let completed = r#"{"error_code":"BAD_VALUE","error_messages":["HPP session has already been successfully completed."]}"#;
    match DisableSession::decode_response(&response(400, completed)) {
        Err(Error::Api(e)) => {
            assert_eq!(e.operation, "hpp.disable_session");
            assert_eq!(e.status, StatusCode::BAD_REQUEST);
        }
        other => panic!("{other:?}"),
    }
    // H4 503 with an empty body: transient.
    match Distribute::decode_response(&response(503, "")) {
        Err(Error::Api(e)) => {
            assert_eq!(e.operation, "hpp.distribute");
            assert!(e.is_transient());
        }
        other => panic!("{other:?}"),
    }
    // A non-JSON error body.
    match ReadSession::decode_response(&response(401, "<html>Unauthorized</html>")) {
        Err(Error::Api(e)) => assert_eq!(e.status, StatusCode::UNAUTHORIZED),
        other => panic!("{other:?}"),
    }
}

#[test]
fn disable_and_distribute_accept_any_2xx() {
    for status in [200, 201, 204] {
        DisableSession::decode_response(&response(status, "")).unwrap();
        Distribute::decode_response(&response(status, "")).unwrap();
    }
    Distribute::decode_response(&response(201, r#"{"ignored":true}"#)).unwrap();
}

#[test]
fn lowercase_options_decode() {
    // Klarna's docs and SDK examples send lowercase enum values.
    let body = r#"{"payment_session_url":"https://api.klarna.com/payments/v1/sessions/x",
        "options":{"payment_method_category":"pay_later","purchase_type":"buy","place_order_mode":"place_order",
                   "payment_method_categories":null,"background_images":null}}"#;
    let request: SessionCreationRequest = serde_json::from_str(body).unwrap();
    let options: &Options = request.options.as_ref().unwrap();
    assert_eq!(
        options.payment_method_category,
        Some(PaymentMethodCategory::PayLater)
    );
    assert_eq!(options.purchase_type, Some(PurchaseType::Buy));
    assert!(options.background_images.is_empty());
    // Re-encoded in the spec's spelling.
    let json = serde_json::to_value(&request).unwrap();
    assert_eq!(json["options"]["payment_method_category"], "PAY_LATER");
    assert_eq!(json["options"]["place_order_mode"], "PLACE_ORDER");
    support::assert_valid("hpp", "SessionCreationRequestV1", &json);
}

#[test]
fn constructors_for_emulators() {
    let mut s = Session::new("s-1", HppStatus::Waiting);
    s.expires_at = ts("2019-05-15T13:51:43.507Z");
    let cb = StatusCallback::new("e-1", s.clone());
    let bytes = serde_json::to_vec(&cb).unwrap();
    assert_eq!(StatusCallback::decode(&bytes).unwrap(), cb);
    let created = SessionCreated::new("s-1");
    let json = serde_json::to_value(&created).unwrap();
    assert_eq!(json, serde_json::json!({"session_id": "s-1"}));
    support::assert_valid(
        "hpp",
        "SessionResponseV1",
        &serde_json::to_value(&s).unwrap(),
    );
}

// ---- Klarna's own shapes: a session body without `session_id` -------------------------------

/// A COMPLETED session with its token, in the shape Klarna's PHP SDK tests read it: no
/// `session_id` (the schema requires no field).
const SDK_COMPLETED: &str = include_str!("fixtures/hpp_session_completed_no_id.json");

#[test]
fn a_completed_session_without_its_id_decodes() {
    let s = ReadSession::decode_response(&response(200, SDK_COMPLETED)).unwrap();
    assert_eq!(s.session_id, None);
    assert_eq!(s.status, HppStatus::Completed);
    assert_eq!(
        s.authorization_token.as_ref().unwrap().expose(),
        "5e0c3f7a-91d2-4b6e-a0f4-2c7d18e9b355"
    );
    assert_eq!(s.updated_at, ts("2038-01-19T03:14:07.000Z"));
    // The same answer read as the answer to a given read: about that session.
    let read = ReadSession::new("hpp-0001");
    let s = read.decode(&response(200, SDK_COMPLETED)).unwrap();
    assert_eq!(s.session_id.as_deref(), Some("hpp-0001"));
    assert!(s.is_about("hpp-0001") && !s.is_about("hpp-0002"));
    // Its creation, in the SDK's shape: URLs only.
    let created = CreateSession::decode_response(&response(
        201,
        include_str!("fixtures/hpp_session_created_urls_only.json"),
    ))
    .unwrap();
    assert_eq!(created.session_id, None);
    assert!(created.redirect_url.is_some() && created.distribution_url.is_some());
}

#[test]
fn a_session_naming_another_session_is_refused_by_the_read() {
    let body = r#"{"session_id":"hpp-0002","status":"COMPLETED","authorization_token":"t"}"#;
    match ReadSession::new("hpp-0001").decode(&response(200, body)) {
        Err(Error::Decode(d)) => {
            assert_eq!(d.operation, "hpp.read_session");
            assert_eq!(d.path, "session_id");
            assert_eq!(d.body, body.as_bytes());
        }
        other => panic!("expected a decode error, got {other:?}"),
    }
    // The statusless session: a typed error naming the field, from both decoders.
    for result in [
        ReadSession::decode_response(&response(200, r#"{"session_id":"hpp-0001"}"#)),
        ReadSession::new("hpp-0001").decode(&response(200, r#"{"authorization_token":"t"}"#)),
    ] {
        match result {
            Err(Error::Decode(d)) => assert!(d.message.contains("`status`"), "{d}"),
            other => panic!("expected a decode error, got {other:?}"),
        }
    }
}

/// Through the read the checkout trusts most: the SDK's body (no `session_id`) authorizes.
#[test]
fn the_checkout_acts_on_a_read_without_session_id() {
    use klarna_hpp_core::checkout::State;
    let mut s =
        scenario::Scenario::created(scenario::config(klarna_hpp_core::hpp::PlaceOrderMode::None));
    s.poll_answer(scenario::respond(
        200,
        serde_json::from_str(SDK_COMPLETED).unwrap(),
    ));
    assert_eq!(s.state(), State::Authorized);
    assert_eq!(
        s.checkout.authorization_token().unwrap().expose(),
        "5e0c3f7a-91d2-4b6e-a0f4-2c7d18e9b355"
    );
}

/// A read naming another session, or without a status, is never acted on: the checkout keeps
/// waiting and reads again (no panic, no guess).
#[test]
fn the_checkout_refuses_another_session_and_retries_a_statusless_read() {
    use klarna_hpp_core::checkout::State;
    use serde_json::json;
    let mut s =
        scenario::Scenario::created(scenario::config(klarna_hpp_core::hpp::PlaceOrderMode::None));
    let other = json!({"session_id": "hpp-9999", "status": "COMPLETED", "authorization_token": "tok-other"});
    s.poll_answer(scenario::respond(200, other));
    assert_eq!(s.state(), State::AwaitingConsumer);
    assert!(s.checkout.authorization_token().is_none());
    let statusless = json!({"session_id": "hpp-0001", "authorization_token": "tok-1"});
    s.poll_answer(scenario::respond(200, statusless));
    assert_eq!(s.state(), State::AwaitingConsumer);
    assert!(s.checkout.authorization_token().is_none());
    // And reads again; the real answer then authorizes.
    s.poll_answer(scenario::respond(
        200,
        json!({"status": "COMPLETED", "authorization_token": "tok-1"}),
    ));
    assert_eq!(s.state(), State::Authorized);
    assert_eq!(s.checkout.authorization_token().unwrap().expose(), "tok-1");
}

/// A status callback whose session names no id, with the checkout's secret, is a hint about
/// that checkout's session; one naming another session is still refused.
#[test]
fn a_callback_without_session_id_is_a_hint_for_the_checkout() {
    use klarna_hpp_core::checkout::{CallbackOutcome, InputError};
    let mut s =
        scenario::Scenario::created(scenario::config(klarna_hpp_core::hpp::PlaceOrderMode::None));
    let url = s.checkout.status_update_url().unwrap().to_owned();
    let secret = url.rsplit("kh_secret=").next().unwrap().to_owned();
    let uri = format!("/klarna/callback?kh_secret={secret}");
    let body = format!(r#"{{"event_id":"ev-1","session":{SDK_COMPLETED}}}"#);
    let now = s.ts();
    assert_eq!(
        s.checkout.handle_callback(&uri, body.as_bytes(), now),
        Ok(CallbackOutcome::ReadScheduled)
    );
    let other = br#"{"event_id":"ev-2","session":{"session_id":"hpp-9999","status":"COMPLETED"}}"#;
    assert_eq!(
        s.checkout.handle_callback(&uri, other, now),
        Err(InputError::WrongSession)
    );
    // The hint changed nothing by itself.
    assert_eq!(
        s.state(),
        klarna_hpp_core::checkout::State::AwaitingConsumer
    );
}

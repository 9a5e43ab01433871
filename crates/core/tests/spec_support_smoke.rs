//! The spec support itself works: a known-good body validates, a bad one does not.
mod support;

#[test]
fn validator_accepts_and_rejects() {
    let v = support::validator("hpp", "DistributionRequestV1");
    assert!(
        v.is_valid(&serde_json::json!({"method":"email","contact_information":{"email":"a@b.c"}}))
    );
    assert!(!v.is_valid(&serde_json::json!({"method":"pigeon","contact_information":{}})));
    let ex = support::example("hpp", "SessionResponseV1");
    assert_eq!(ex["status"], "COMPLETED");
    support::assert_valid("hpp", "SessionResponseV1", &ex);
}

//! Snapshots hold secrets and customer data in clear; `snapshot_sealed` / `restore_sealed`
//! pass them through the merchant's [`SnapshotSeal`] (an AEAD in production). The seal here is
//! a test seal: a SHA-256 counter-mode keystream and an HMAC-SHA-256 tag (encrypt-then-MAC),
//! enough to show that the checkout's bytes only ever reach storage through it.

mod scenario;

use std::cell::Cell;

use hmac::{Hmac, Mac};
use klarna_hpp_core::checkout::{Checkout, SealError, SnapshotError, SnapshotSeal, State};
use klarna_hpp_core::hpp::PlaceOrderMode;
use klarna_hpp_core::model::Address;
use scenario::*;
use serde_json::json;
use sha2::{Digest, Sha256};

const NONCE: usize = 8;
const TAG: usize = 32;

struct TestSeal {
    key: [u8; 32],
    next_nonce: Cell<u64>,
}

impl TestSeal {
    fn new(key: u8) -> Self {
        Self {
            key: [key; 32],
            next_nonce: Cell::new(1),
        }
    }

    fn keystream(&self, nonce: &[u8], data: &mut [u8]) {
        for (block, chunk) in data.chunks_mut(32).enumerate() {
            let pad = Sha256::new()
                .chain_update(self.key)
                .chain_update(nonce)
                .chain_update((block as u64).to_be_bytes())
                .finalize();
            for (byte, p) in chunk.iter_mut().zip(pad) {
                *byte ^= p;
            }
        }
    }

    fn mac(&self) -> Hmac<Sha256> {
        <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("any key length")
    }
}

impl SnapshotSeal for TestSeal {
    fn seal(&self, plaintext: &[u8]) -> Vec<u8> {
        let nonce = self.next_nonce.get().to_be_bytes();
        self.next_nonce.set(self.next_nonce.get() + 1);
        let mut out = nonce.to_vec();
        let mut body = plaintext.to_vec();
        self.keystream(&nonce, &mut body);
        out.extend_from_slice(&body);
        let tag = self.mac().chain_update(&out).finalize().into_bytes();
        out.extend_from_slice(&tag);
        out
    }

    fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        if sealed.len() < NONCE + TAG {
            return Err(SealError::new("too short"));
        }
        let (signed, tag) = sealed.split_at(sealed.len() - TAG);
        self.mac()
            .chain_update(signed)
            .verify_slice(tag)
            .map_err(|_| SealError::new("authentication failed"))?;
        let (nonce, body) = signed.split_at(NONCE);
        let mut plain = body.to_vec();
        self.keystream(nonce, &mut plain);
        Ok(plain)
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// An authorized checkout (token `tok-secret-1`) whose session carries the consumer's address.
fn authorized() -> Scenario {
    let mut config = config(PlaceOrderMode::None);
    let mut address = Address::default();
    address.email = Some("jane.doe@example.com".into());
    address.given_name = Some("Jane".into());
    address.country = Some("SE".into());
    config.session.billing_address = Some(address);
    let mut s = Scenario::created(config);
    s.poll_answer(hpp_status(
        "COMPLETED",
        30,
        json!({"authorization_token": "tok-secret-1"}),
    ));
    assert_eq!(s.state(), State::Authorized);
    s
}

#[test]
fn a_plain_snapshot_holds_secrets_and_customer_data_in_clear() {
    // What the docs say: the token, the callback secret, the key namespace and the consumer's
    // data are all in a plain snapshot.
    let s = authorized();
    let plain = s.checkout.snapshot();
    let fields: serde_json::Value = serde_json::from_slice(&plain).expect("json");
    for secret in [
        "tok-secret-1",
        "jane.doe@example.com",
        fields["secret"].as_str().expect("callback secret"),
        fields["keys"].as_str().expect("key namespace"),
    ] {
        assert!(
            contains(&plain, secret),
            "{secret} not in the plain snapshot"
        );
    }
}

#[test]
fn a_sealed_snapshot_holds_nothing_in_clear_and_restores_the_same_checkout() {
    let mut s = authorized();
    let seal = TestSeal::new(7);
    let plain = s.checkout.snapshot();
    let sealed = s.checkout.snapshot_sealed(&seal);
    let fields: serde_json::Value = serde_json::from_slice(&plain).expect("json");
    for secret in [
        "tok-secret-1",
        "jane.doe@example.com",
        "Jane",
        "chk-1001",
        fields["secret"].as_str().expect("callback secret"),
        fields["keys"].as_str().expect("key namespace"),
    ] {
        assert!(
            !contains(&sealed, secret),
            "{secret} in the sealed snapshot"
        );
    }
    let mut restored = Checkout::restore_sealed(api(), &sealed, &seal).expect("opens");
    assert_eq!(restored.snapshot(), plain);
    // It behaves as the original: placing the order sends the same request.
    restored.place_order(None, s.ts()).expect("authorized");
    s.command("place_order", |c, now| c.place_order(None, now));
    let (_, replayed) = restored.poll_request().expect("a request");
    assert_eq!(replayed.uri(), s.request().uri());
    assert_eq!(replayed.body(), s.request().body());
}

#[test]
fn a_sealed_snapshot_that_does_not_open_is_refused() {
    let s = authorized();
    let seal = TestSeal::new(7);
    let sealed = s.checkout.snapshot_sealed(&seal);
    // Tampered with: one bit anywhere.
    for at in [0, NONCE + 3, sealed.len() / 2, sealed.len() - 1] {
        let mut tampered = sealed.clone();
        tampered[at] ^= 1;
        assert!(
            matches!(
                Checkout::restore_sealed(api(), &tampered, &seal),
                Err(SnapshotError::Sealed(_))
            ),
            "tampered at {at}"
        );
    }
    // Another key.
    assert_eq!(
        Checkout::restore_sealed(api(), &sealed, &TestSeal::new(8)).err(),
        Some(SnapshotError::Sealed(SealError::new(
            "authentication failed"
        )))
    );
    // Not sealed at all.
    assert!(matches!(
        Checkout::restore_sealed(api(), &s.checkout.snapshot(), &seal),
        Err(SnapshotError::Sealed(_))
    ));
    assert!(matches!(
        Checkout::restore_sealed(api(), b"", &seal),
        Err(SnapshotError::Sealed(_))
    ));
    // Sealed bytes are no plain snapshot.
    assert!(matches!(
        Checkout::restore(api(), &sealed),
        Err(SnapshotError::Malformed(_))
    ));
}

#[test]
fn a_seal_that_opens_to_garbage_is_a_malformed_snapshot() {
    struct Garbage;
    impl SnapshotSeal for Garbage {
        fn seal(&self, plaintext: &[u8]) -> Vec<u8> {
            plaintext.to_vec()
        }
        fn open(&self, _: &[u8]) -> Result<Vec<u8>, SealError> {
            Ok(b"{\"v\":1,\"id\":\"jane.doe@example.com\"}".to_vec())
        }
    }
    match Checkout::restore_sealed(api(), b"x", &Garbage) {
        Err(SnapshotError::Malformed(message)) => {
            assert!(!message.contains("jane"), "{message}")
        }
        other => panic!("expected Malformed, got {:?}", other.err()),
    }
}

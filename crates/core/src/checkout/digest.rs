//! HMAC-SHA-256 (RFC 2104) over RustCrypto's `sha2` and `hmac`, used to derive per-checkout
//! callback secrets and idempotency keys deterministically from a caller-given seed, and
//! constant-time comparison through `subtle`. The vectors below (NIST, RFC 4231) and the stored
//! checkout of `tests/crypto_swap.rs` pin the bytes the hand-written implementation this
//! replaced produced.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// An HMAC-SHA-256 key whose two padded key blocks are already compressed (`hmac`'s keyed
/// state: the inner and outer SHA-256 states after one block each), so a MAC of a message up to
/// 55 bytes costs two compressions instead of four. Holds only those hash states and a MAC of
/// the empty message (for equality), not the key.
#[derive(Clone)]
pub(crate) struct HmacKey {
    keyed: HmacSha256,
    fingerprint: [u8; 32],
}

impl HmacKey {
    pub(crate) fn new(key: &[u8]) -> Self {
        // HMAC takes keys of any length (a longer one is hashed first): this cannot fail.
        let keyed = <HmacSha256 as Mac>::new_from_slice(key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts keys of any length"));
        let fingerprint = keyed.clone().finalize().into_bytes().into();
        Self { keyed, fingerprint }
    }

    /// HMAC-SHA-256 of `message`.
    pub(crate) fn mac(&self, message: &[u8]) -> [u8; 32] {
        let mut mac = self.keyed.clone();
        mac.update(message);
        mac.finalize().into_bytes().into()
    }
}

/// Two keys are equal when they key the same function (keys that differ only by trailing zero
/// bytes within a block do, as in RFC 2104); compared in constant time.
impl PartialEq for HmacKey {
    fn eq(&self, other: &Self) -> bool {
        constant_time_eq(&self.fingerprint, &other.fingerprint)
    }
}

impl Eq for HmacKey {}

/// HMAC-SHA-256 of `message` under `key`.
pub(crate) fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    HmacKey::new(key).mac(message)
}

/// Lowercase hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

/// Compares two byte strings in time that depends only on their lengths (`subtle`).
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::Digest;

    fn sha256(data: &[u8]) -> [u8; 32] {
        Sha256::digest(data).into()
    }

    #[test]
    fn sha256_nist_vectors() {
        assert_eq!(
            hex(&sha256(b"")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex(&sha256(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            hex(&sha256(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
        assert_eq!(
            hex(&sha256(b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
        );
        assert_eq!(
            hex(&sha256(&vec![b'a'; 1_000_000])),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        );
    }

    #[test]
    fn hmac_rfc4231_vectors() {
        assert_eq!(
            hex(&hmac_sha256(&[0x0b; 20], b"Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // Key longer than the block size (test case 6).
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
        // Key and data longer than the block size (test case 7).
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                b"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm."
            )),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"
        );
    }

    #[test]
    fn a_keyed_state_is_reused_unchanged() {
        // The precomputed key serves any number of messages, each as if keyed afresh.
        let key = HmacKey::new(b"Jefe");
        let first = key.mac(b"what do ya want for nothing?");
        assert_eq!(key.mac(b"what do ya want for nothing?"), first);
        assert_ne!(key.mac(b"something else"), first);
        assert!(key == HmacKey::new(b"Jefe"));
        assert!(key != HmacKey::new(b"Jeff"));
    }

    #[test]
    fn constant_time_eq_works() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }
}

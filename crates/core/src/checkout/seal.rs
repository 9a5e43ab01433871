//! Encryption at rest for snapshots: the hook, not the cipher.

/// Seals and opens snapshot bytes: plug an AEAD (AES-GCM, ChaCha20-Poly1305) with the merchant's
/// key in here, and [`Checkout::snapshot_sealed`](super::Checkout::snapshot_sealed) /
/// [`Checkout::restore_sealed`](super::Checkout::restore_sealed) never let a snapshot's plain
/// bytes reach storage.
///
/// A plain snapshot holds, in clear: the authorization token, the callback secret, the
/// idempotency-key namespace and the consumer's data from the session (names, e-mail, phone,
/// addresses, national id). The core has no cipher (it stays free of crypto dependencies beyond
/// hashing); the seal brings one.
///
/// `seal` must be authenticated encryption (a tampered or foreign snapshot must fail to
/// `open`), and should bind what it can: a fresh nonce per call, and the checkout's id or the
/// storage key as associated data.
pub trait SnapshotSeal {
    /// Encrypts and authenticates `plaintext`.
    fn seal(&self, plaintext: &[u8]) -> Vec<u8>;

    /// Checks and decrypts what [`seal`](Self::seal) returned; anything else (another key,
    /// tampered bytes, plain bytes) is a [`SealError`].
    fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, SealError>;
}

/// A sealed snapshot could not be opened. Carries a fixed reason only, never the bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the sealed snapshot could not be opened: {reason}")]
pub struct SealError {
    reason: &'static str,
}

impl SealError {
    /// An error with a fixed reason, e.g. `"authentication failed"`.
    pub fn new(reason: &'static str) -> Self {
        Self { reason }
    }

    /// The reason.
    pub fn reason(&self) -> &'static str {
        self.reason
    }
}

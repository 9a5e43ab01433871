//! Identifiers: UUID-shaped strings from a seeded generator, so a run with a fixed seed hands out
//! the same ids in the same order. Each kind of id has its own counter, so polling (which uses
//! correlation ids) does not shift the session or order ids.

use std::fmt;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};

/// A UUID held as 128 bits (16 bytes in memory, 36 characters on the wire). Two `u64`s rather
/// than a `u128`, so that it needs 8-byte alignment only (an `Option<Id>` is 24 bytes, not 32).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub(crate) struct Id([u64; 2]);

impl Id {
    pub(crate) fn from_u128(v: u128) -> Id {
        Id([(v >> 64) as u64, v as u64])
    }

    pub(crate) fn as_u128(self) -> u128 {
        (u128::from(self.0[0]) << 64) | u128::from(self.0[1])
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = format!("{:032x}", self.as_u128());
        write!(
            f,
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }
}

impl FromStr for Id {
    type Err = ();

    /// Accepts the hyphenated form, in either letter case.
    fn from_str(s: &str) -> Result<Self, ()> {
        let b = s.as_bytes();
        if b.len() != 36 || [8, 13, 18, 23].iter().any(|&i| b[i] != b'-') {
            return Err(());
        }
        let mut v: u128 = 0;
        for (i, &c) in b.iter().enumerate() {
            if [8, 13, 18, 23].contains(&i) {
                continue;
            }
            let d = (c as char).to_digit(16).ok_or(())?;
            v = (v << 4) | u128::from(d);
        }
        Ok(Id::from_u128(v))
    }
}

/// What an id is for; each kind draws from its own stream.
#[derive(Clone, Copy, Debug)]
pub(crate) enum IdKind {
    KpSession = 0,
    HppSession = 1,
    AuthorizationToken = 2,
    Order = 3,
    Capture = 4,
    Refund = 5,
    Correlation = 6,
    Event = 7,
    CustomerToken = 8,
    Distribution = 9,
}

const KINDS: usize = 10;

/// The seeded generator.
#[derive(Debug)]
pub(crate) struct IdGen {
    seed: u64,
    counters: [AtomicU64; KINDS],
}

impl IdGen {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            seed,
            counters: Default::default(),
        }
    }

    /// The next id of a kind: a version-4-shaped UUID.
    pub(crate) fn next(&self, kind: IdKind) -> Id {
        let n = self.counters[kind as usize].fetch_add(1, Ordering::Relaxed);
        let stream = self.seed ^ (kind as u64).wrapping_mul(0xA076_1D64_78BD_642F);
        let hi = splitmix64(stream ^ splitmix64(n.wrapping_mul(2)));
        let lo = splitmix64(stream.rotate_left(17) ^ splitmix64(n.wrapping_mul(2).wrapping_add(1)));
        let mut v = (u128::from(hi) << 64) | u128::from(lo);
        // Version 4, RFC 4122 variant: what UUIDs from Klarna look like.
        v = (v & !(0xF_u128 << 76)) | (0x4_u128 << 76);
        v = (v & !(0x3_u128 << 62)) | (0x2_u128 << 62);
        Id::from_u128(v)
    }
}

fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A Klarna reference like `X438HG0Q`, derived from an order id (8 characters).
pub(crate) fn klarna_reference(order: Id) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut v = splitmix64(order.0[0] ^ order.0[1]);
    let mut out = String::with_capacity(8);
    for _ in 0..8 {
        out.push(char::from(ALPHABET[(v % 32) as usize]));
        v /= 32;
    }
    out
}

/// Base64url without padding.
pub(crate) fn base64url(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

/// Standard base64 decoding (padding optional); `None` on any invalid character.
pub(crate) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

/// A JWT-shaped client token for a KP session (unsigned; HPP integrations ignore it).
pub(crate) fn client_token(session: Id) -> String {
    let header = base64url(br#"{"alg":"none","typ":"JWT","kid":"klarna-hpp-sim"}"#);
    let payload = base64url(format!(r#"{{"session_id":"{session}","emulated":true}}"#).as_bytes());
    format!("{header}.{payload}.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_are_deterministic() {
        let a = IdGen::new(7);
        let b = IdGen::new(7);
        let x = a.next(IdKind::HppSession);
        assert_eq!(x, b.next(IdKind::HppSession));
        assert_ne!(x, a.next(IdKind::HppSession));
        let s = x.to_string();
        assert_eq!(s.len(), 36);
        assert_eq!(&s[14..15], "4");
        assert_eq!(s.parse::<Id>(), Ok(x));
        assert_eq!(s.to_uppercase().parse::<Id>(), Ok(x));
        assert!("not-a-uuid".parse::<Id>().is_err());
    }

    #[test]
    fn base64_round_trips() {
        assert_eq!(
            base64_decode("RGVtb01lcmNoYW50OkRlbW9QYXNzd29yZA==").as_deref(),
            Some(&b"DemoMerchant:DemoPassword"[..])
        );
        assert_eq!(base64url(b"hello?"), "aGVsbG8_");
        assert_eq!(base64_decode("aGVsbG8_").as_deref(), Some(&b"hello?"[..]));
    }

    #[test]
    fn klarna_reference_has_eight_characters() {
        assert_eq!(klarna_reference(Id::from_u128(42)).len(), 8);
    }
}

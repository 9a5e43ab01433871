//! SHA-256 and HMAC-SHA-256 (FIPS 180-4, RFC 2104), used to derive per-checkout callback secrets
//! and idempotency keys deterministically from a caller-given seed. Small enough to keep the
//! core's dependency list short; checked against the NIST and RFC 4231 vectors below.

const K: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

const H0: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// One SHA-256 round on the eight working variables, named in their rotated order: the
/// variables are renamed from round to round instead of moved.
macro_rules! round {
    ($a:ident, $b:ident, $c:ident, $d:ident, $e:ident, $f:ident, $g:ident, $h:ident, $kw:expr) => {
        let t1 = $h
            .wrapping_add($e.rotate_right(6) ^ $e.rotate_right(11) ^ $e.rotate_right(25))
            .wrapping_add($g ^ ($e & ($f ^ $g)))
            .wrapping_add($kw);
        let t2 = ($a.rotate_right(2) ^ $a.rotate_right(13) ^ $a.rotate_right(22))
            .wrapping_add(($a & $b) | ($c & ($a | $b)));
        $d = $d.wrapping_add(t1);
        $h = t1.wrapping_add(t2);
    };
}

/// One SHA-256 compression of a 64-byte block into the state `h`: 64 rounds in four passes
/// of 16, the message schedule kept as a 16-word window updated in place between passes.
fn compress(h: &mut [u32; 8], block: &[u8; 64]) {
    let mut w = [0u32; 16];
    for (word, bytes) in w.iter_mut().zip(block.chunks_exact(4)) {
        *word = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = *h;
    for (pass, k) in K.chunks_exact(16).enumerate() {
        if pass > 0 {
            // w[t] = σ1(w[t-2]) + w[t-7] + σ0(w[t-15]) + w[t-16], indices mod 16.
            for t in 0..16 {
                let (w2, w15) = (w[(t + 14) % 16], w[(t + 1) % 16]);
                let s0 = w15.rotate_right(7) ^ w15.rotate_right(18) ^ (w15 >> 3);
                let s1 = w2.rotate_right(17) ^ w2.rotate_right(19) ^ (w2 >> 10);
                w[t] = w[t]
                    .wrapping_add(s0)
                    .wrapping_add(w[(t + 9) % 16])
                    .wrapping_add(s1);
            }
        }
        let kw = |t: usize| k[t].wrapping_add(w[t]);
        round!(a, b, c, d, e, f, g, hh, kw(0));
        round!(hh, a, b, c, d, e, f, g, kw(1));
        round!(g, hh, a, b, c, d, e, f, kw(2));
        round!(f, g, hh, a, b, c, d, e, kw(3));
        round!(e, f, g, hh, a, b, c, d, kw(4));
        round!(d, e, f, g, hh, a, b, c, kw(5));
        round!(c, d, e, f, g, hh, a, b, kw(6));
        round!(b, c, d, e, f, g, hh, a, kw(7));
        round!(a, b, c, d, e, f, g, hh, kw(8));
        round!(hh, a, b, c, d, e, f, g, kw(9));
        round!(g, hh, a, b, c, d, e, f, kw(10));
        round!(f, g, hh, a, b, c, d, e, kw(11));
        round!(e, f, g, hh, a, b, c, d, kw(12));
        round!(d, e, f, g, hh, a, b, c, kw(13));
        round!(c, d, e, f, g, hh, a, b, kw(14));
        round!(b, c, d, e, f, g, hh, a, kw(15));
    }
    for (x, y) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
        *x = x.wrapping_add(y);
    }
}

/// Finishes SHA-256 from state `h` after `done` bytes (a multiple of 64) were compressed,
/// hashing the concatenation of `parts` (no copy of the input, no allocation).
fn sha256_from(mut h: [u32; 8], done: u64, parts: &[&[u8]]) -> [u8; 32] {
    let mut buf = [0u8; 64];
    let mut filled = 0usize;
    let mut total = done;
    for part in parts {
        total = total.wrapping_add(part.len() as u64);
        let mut rest = *part;
        while !rest.is_empty() {
            let take = (64 - filled).min(rest.len());
            buf[filled..filled + take].copy_from_slice(&rest[..take]);
            filled += take;
            rest = &rest[take..];
            if filled == 64 {
                compress(&mut h, &buf);
                filled = 0;
            }
        }
    }
    // Padding: 0x80, zeros, then the bit length in the last 8 bytes of a block.
    buf[filled] = 0x80;
    buf[filled + 1..].fill(0);
    if filled >= 56 {
        compress(&mut h, &buf);
        buf.fill(0);
    }
    buf[56..].copy_from_slice(&total.wrapping_mul(8).to_be_bytes());
    compress(&mut h, &buf);
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(h) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// SHA-256 of the concatenation of `parts`.
fn sha256_parts(parts: &[&[u8]]) -> [u8; 32] {
    sha256_from(H0, 0, parts)
}

/// SHA-256 of `data`.
pub(crate) fn sha256(data: &[u8]) -> [u8; 32] {
    sha256_parts(&[data])
}

/// An HMAC-SHA-256 key whose two padded key blocks are already compressed, so a MAC of a
/// message up to 55 bytes costs two compressions instead of four. Holds only those hash
/// states, not the key.
#[derive(Clone, PartialEq, Eq)]
pub(crate) struct HmacKey {
    inner: [u32; 8],
    outer: [u32; 8],
}

impl HmacKey {
    pub(crate) fn new(key: &[u8]) -> Self {
        let mut k = [0u8; 64];
        if key.len() > 64 {
            k[..32].copy_from_slice(&sha256(key));
        } else {
            k[..key.len()].copy_from_slice(key);
        }
        let mut inner = H0;
        compress(&mut inner, &k.map(|b| b ^ 0x36));
        let mut outer = H0;
        compress(&mut outer, &k.map(|b| b ^ 0x5c));
        Self { inner, outer }
    }

    /// HMAC-SHA-256 of `message`.
    pub(crate) fn mac(&self, message: &[u8]) -> [u8; 32] {
        let inner = sha256_from(self.inner, 64, &[message]);
        sha256_from(self.outer, 64, &[&inner])
    }
}

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

/// Compares two byte strings in time that depends only on their lengths.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }

    #[test]
    fn sha256_long_vectors_and_any_split() {
        // NIST: the 896-bit message, and one million 'a' fed in uneven parts.
        assert_eq!(
            hex(&sha256(b"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu")),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"
        );
        let a = vec![b'a'; 1_000_000];
        let (x, rest) = a.split_at(63);
        let (y, z) = rest.split_at(129);
        assert_eq!(
            hex(&sha256_parts(&[x, y, &[], z])),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"
        );
        // Every length around the padding boundaries, split anywhere, hashes the same.
        let data: Vec<u8> = (0..=200u8).collect();
        for len in [
            0, 1, 54, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 200,
        ] {
            let whole = sha256(&data[..len]);
            for cut in 0..=len {
                let (p, q) = data[..len].split_at(cut);
                assert_eq!(sha256_parts(&[p, q]), whole, "len {len} cut {cut}");
            }
        }
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
    }

    #[test]
    fn constant_time_eq_works() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}

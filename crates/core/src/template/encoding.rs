//! Percent-encoding (RFC 3986 §2.1) of placeholder values, and decoding of matched values.

use crate::wire::hex_value;

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// RFC 3986 unreserved: `A-Z a-z 0-9 - . _ ~`.
pub(super) fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Characters allowed literally in a URL (RFC 3986): unreserved, gen-delims, sub-delims, `%`.
pub(super) fn is_url_char(b: u8) -> bool {
    URL_CHAR[usize::from(b)]
}

/// [`is_url_char`] as a table, built at compile time.
const URL_CHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0usize;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b':'
                    | b'/'
                    | b'?'
                    | b'#'
                    | b'['
                    | b']'
                    | b'@'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b'%'
            );
        b += 1;
    }
    table
};

/// Whether `bytes[at..]` starts with `%` and two hex digits.
pub(super) fn is_escape(bytes: &[u8], at: usize) -> bool {
    bytes.get(at) == Some(&b'%')
        && bytes.get(at + 1).is_some_and(u8::is_ascii_hexdigit)
        && bytes.get(at + 2).is_some_and(u8::is_ascii_hexdigit)
}

/// Appends `value` percent-encoded: unreserved bytes kept, except `avoid`, which is encoded too.
pub(super) fn encode_into(out: &mut String, value: &str, avoid: Option<u8>) {
    let bytes = value.as_bytes();
    let mut kept = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if is_unreserved(b) && Some(b) != avoid {
            continue;
        }
        // Copy the run of kept bytes before this one in one go. A non-empty run is ASCII, so on
        // char boundaries; an empty one may sit inside a multi-byte character (`get` skips it).
        if let Some(run) = value.get(kept..i) {
            out.push_str(run);
        }
        out.push('%');
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
        kept = i + 1;
    }
    if let Some(run) = value.get(kept..) {
        out.push_str(run);
    }
}

/// Decodes a matched value (unreserved characters and complete escapes) into a string; `None`
/// when the decoded bytes are not UTF-8. One allocation, sized up front.
pub(super) fn decode(bytes: &[u8]) -> Option<String> {
    if !bytes.contains(&b'%') {
        return std::str::from_utf8(bytes).ok().map(str::to_owned);
    }
    let mut out = Vec::with_capacity(bytes.len());
    out.extend(Decoded::new(bytes));
    String::from_utf8(out).ok()
}

/// The bytes of a matched value with `%XX` escapes decoded (`+` stays `+`).
///
/// Callers only pass runs already scanned as unreserved characters and complete escapes; a lone
/// `%` would be yielded as is.
pub(super) struct Decoded<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Decoded<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, at: 0 }
    }
}

impl Iterator for Decoded<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        if is_escape(self.bytes, self.at) {
            let hi = hex_value(self.bytes[self.at + 1]);
            let lo = hex_value(self.bytes[self.at + 2]);
            self.at += 3;
            Some((hi << 4) | lo)
        } else {
            self.at += 1;
            Some(b)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_and_decodes() {
        let mut out = String::new();
        encode_into(&mut out, "a b/ä.~", None);
        assert_eq!(out, "a%20b%2F%C3%A4.~");
        let back: Vec<u8> = Decoded::new(out.as_bytes()).collect();
        assert_eq!(back, "a b/ä.~".as_bytes());

        let mut out = String::new();
        encode_into(&mut out, "äb€", None);
        assert_eq!(out, "%C3%A4b%E2%82%AC");

        let mut out = String::new();
        encode_into(&mut out, "a.b", Some(b'.'));
        assert_eq!(out, "a%2Eb");
        let back: Vec<u8> = Decoded::new(b"%2e%2E+").collect();
        assert_eq!(back, b"..+");
    }
}

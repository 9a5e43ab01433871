//! Template syntax shared by HPP (`{{name}}`) and KP (`{name}`) templates.

use super::encoding::{is_escape, is_url_char};
use super::{Part, Placeholder, TemplateError, MAX_PLACEHOLDERS};

/// A placeholder syntax.
pub(super) struct Syntax {
    open: &'static str,
    close: &'static str,
    lookup: fn(&str) -> Option<Placeholder>,
}

/// HPP: `{{session_id}}`, `{{authorization_token}}`, `{{order_id}}`.
pub(super) const HPP: Syntax = Syntax {
    open: "{{",
    close: "}}",
    lookup: Placeholder::from_name,
};

/// KP: `{session.id}`, `{order.id}`.
pub(super) const KP: Syntax = Syntax {
    open: "{",
    close: "}",
    lookup: kp_name,
};

fn kp_name(name: &str) -> Option<Placeholder> {
    match name {
        "session.id" => Some(Placeholder::SessionId),
        "order.id" => Some(Placeholder::OrderId),
        _ => None,
    }
}

/// Where the scheme and host are (byte offsets into the template, all in the first literal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Origin {
    /// End of the scheme (the `:` of `://`).
    pub(super) scheme_end: usize,
    /// Start of the host.
    pub(super) host_start: usize,
    /// End of the host.
    pub(super) host_end: usize,
    /// End of the authority: the first `/`, `?` or `#` after `://`, or the end.
    pub(super) authority_end: usize,
}

/// A tokenized, absolute template.
pub(super) struct Parsed {
    pub(super) parts: Vec<Part>,
    pub(super) origin: Origin,
}

/// At most this many characters of an unknown placeholder name are kept in the error.
const NAME_IN_ERROR: usize = 64;

/// Splits `raw` into literal parts and placeholders and checks it is an absolute http(s) URL
/// whose scheme and authority are literal.
pub(super) fn parse(raw: &str, syntax: &Syntax) -> Result<Parsed, TemplateError> {
    let parts = tokenize(raw, syntax)?;
    let origin = origin(raw, &parts)?;
    Ok(Parsed { parts, origin })
}

fn tokenize(raw: &str, syntax: &Syntax) -> Result<Vec<Part>, TemplateError> {
    let bytes = raw.as_bytes();
    let mut parts = Vec::with_capacity(4);
    let mut placeholders = 0usize;
    let mut literal_start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        // The common case first: a literal URL character (neither a brace nor an escape).
        if b != b'%' && is_url_char(b) {
            i += 1;
            continue;
        }
        let rest = &bytes[i..];
        if rest.starts_with(syntax.open.as_bytes()) {
            let name_start = i + syntax.open.len();
            let close =
                find(&raw[name_start..], syntax.close).ok_or(TemplateError::Unclosed { at: i })?;
            let name = &raw[name_start..name_start + close];
            if name.bytes().any(|b| b == b'{' || b == b'}') {
                return Err(TemplateError::NestedBraces { at: i });
            }
            if name.is_empty() {
                return Err(TemplateError::EmptyPlaceholder { at: i });
            }
            let placeholder =
                (syntax.lookup)(name).ok_or_else(|| TemplateError::UnknownPlaceholder {
                    name: name.chars().take(NAME_IN_ERROR).collect(),
                })?;
            placeholders += 1;
            if placeholders > MAX_PLACEHOLDERS {
                return Err(TemplateError::TooManyPlaceholders {
                    max: MAX_PLACEHOLDERS,
                });
            }
            if literal_start < i {
                parts.push(Part::Literal {
                    start: literal_start,
                    end: i,
                });
            }
            parts.push(Part::Placeholder { placeholder, at: i });
            i = name_start + close + syntax.close.len();
            literal_start = i;
        } else if rest.starts_with(syntax.close.as_bytes()) {
            return Err(TemplateError::StrayClose { at: i });
        } else {
            match b {
                b'{' | b'}' => return Err(TemplateError::SingleBrace { at: i }),
                b'%' if !is_escape(bytes, i) => {
                    return Err(TemplateError::InvalidPercentEncoding { at: i });
                }
                b'%' => i += 3,
                _ => return Err(TemplateError::InvalidCharacter { at: i }),
            }
        }
    }
    if literal_start < bytes.len() {
        parts.push(Part::Literal {
            start: literal_start,
            end: bytes.len(),
        });
    }
    Ok(parts)
}

/// The first occurrence of a short `needle` (`str::find` with a string pattern sets up a
/// general substring searcher, which costs more than these few-byte needles need).
fn find(haystack: &str, needle: &str) -> Option<usize> {
    let (hay, needle) = (haystack.as_bytes(), needle.as_bytes());
    let first = *needle.first()?;
    let mut from = 0;
    while let Some(offset) = hay.get(from..)?.iter().position(|&b| b == first) {
        let at = from + offset;
        if hay[at..].starts_with(needle) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn origin(raw: &str, parts: &[Part]) -> Result<Origin, TemplateError> {
    let scheme_end = find(raw, "://").ok_or(TemplateError::NotAbsolute)?;
    let scheme = &raw[..scheme_end];
    let ends_authority = |b: &u8| matches!(b, b'/' | b'?' | b'#');
    if scheme.as_bytes().iter().any(ends_authority) {
        // "://" only appears later (in a path or query): a relative URL.
        return Err(TemplateError::NotAbsolute);
    }
    let authority_start = scheme_end + 3;
    let authority_end = raw.as_bytes()[authority_start..]
        .iter()
        .position(ends_authority)
        .map_or(raw.len(), |e| authority_start + e);
    let first_placeholder = parts.iter().find_map(|p| match p {
        Part::Placeholder { at, .. } => Some(*at),
        Part::Literal { .. } => None,
    });
    if first_placeholder.is_some_and(|at| at < authority_end) {
        return Err(TemplateError::PlaceholderInAuthority);
    }
    if !(scheme.eq_ignore_ascii_case("https") || scheme.eq_ignore_ascii_case("http")) {
        return Err(TemplateError::NotAbsolute);
    }
    let authority = &raw[authority_start..authority_end];
    let host_start = authority
        .bytes()
        .rposition(|b| b == b'@')
        .map_or(0, |at| at + 1);
    let host_and_port = &authority[host_start..];
    let host_len = if host_and_port.starts_with('[') {
        host_and_port
            .bytes()
            .position(|b| b == b']')
            .ok_or(TemplateError::NotAbsolute)?
            + 1
    } else {
        host_and_port
            .bytes()
            .position(|b| b == b':')
            .unwrap_or(host_and_port.len())
    };
    let port = &host_and_port[host_len..];
    let port_ok = port.is_empty()
        || (port.len() > 1
            && port.starts_with(':')
            && port[1..].bytes().all(|b| b.is_ascii_digit()));
    if host_len == 0 || !port_ok {
        return Err(TemplateError::NotAbsolute);
    }
    Ok(Origin {
        scheme_end,
        host_start: authority_start + host_start,
        host_end: authority_start + host_start + host_len,
        authority_end,
    })
}

#[cfg(test)]
mod tests {
    use super::find;

    /// `find` agrees with `str::find` on every string of up to six characters over the
    /// characters that matter (needle characters, overlaps and near-misses included).
    #[test]
    fn find_agrees_with_str_find() {
        let alphabet = ['{', '}', ':', '/', 'a'];
        let mut haystacks = vec![String::new()];
        for _ in 0..6 {
            let longer: Vec<String> = haystacks
                .iter()
                .filter(|h| h.len() == haystacks.last().map_or(0, String::len))
                .flat_map(|h| alphabet.iter().map(move |c| format!("{h}{c}")))
                .collect();
            haystacks.extend(longer);
        }
        assert_eq!(haystacks.len(), 1 + 5 + 25 + 125 + 625 + 3125 + 15625);
        for hay in &haystacks {
            for needle in ["}}", "}", "://", "{"] {
                assert_eq!(find(hay, needle), hay.find(needle), "{needle:?} in {hay:?}");
            }
        }
        assert_eq!(find("abc", ""), None);
    }
}

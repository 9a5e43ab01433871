//! Matching a returned URL against a template: a small backtracking matcher over the parts.
//!
//! A value is a run of unreserved characters and `%XX` escapes. When the literal after a
//! placeholder starts with a character that cannot occur in a value (`&`, `/`, `=`, ...), the run
//! ends there and nothing is ambiguous. When it starts with an unreserved character `c`, every
//! standalone `c` in the run (not inside an escape) is a candidate end, tried in order; `render`
//! encodes `c` inside values, so for rendered URLs the first candidate is the right one. The
//! number of candidates tried is bounded, so matching is linear in practice and never explodes.

use super::encoding::{decode, is_escape, is_unreserved, Decoded};
use super::{Part, Placeholder, TemplateError, UrlTemplate, Values};

/// At most this many candidate splits are tried per match.
const BUDGET: u32 = 256;

/// Byte range of each placeholder's first occurrence in the URL (indexed by `Placeholder::index`).
type Captures = [Option<(usize, usize)>; 3];

pub(super) fn matches(template: &UrlTemplate, url: &str) -> Result<Values, TemplateError> {
    let start = head(template, url)?;
    let mut m = Matcher {
        template,
        url: url.as_bytes(),
        budget: BUDGET,
        error: TemplateError::Mismatch { at: start },
    };
    let captures = m.parts(1, start, [None; 3]).ok_or(m.error)?;
    let mut values = Values::new();
    for placeholder in Placeholder::ALL {
        if let Some((s, e)) = captures[placeholder.index()] {
            let value = decode(&url.as_bytes()[s..e])
                .ok_or(TemplateError::InvalidPercentEncoding { at: s })?;
            *values.slot(placeholder) = Some(value);
        }
    }
    Ok(values)
}

/// Matches the first literal (scheme, authority and what follows up to the first placeholder)
/// and returns the offset in `url` after it.
fn head(template: &UrlTemplate, url: &str) -> Result<usize, TemplateError> {
    let raw = template.raw.as_str();
    let first_end = match template.parts.first() {
        Some(Part::Literal { start: 0, end }) => *end,
        // Parsing guarantees a leading literal holding the origin.
        _ => return Err(TemplateError::Mismatch { at: 0 }),
    };
    let authority_end = template.origin.authority_end;
    let after_authority = &raw[authority_end..first_end];
    if url.starts_with('/') {
        // Origin form: what a server receives. The empty path of the template is `/`.
        let skip = usize::from(!after_authority.starts_with('/'));
        expect(url, skip, after_authority)
    } else {
        let origin = &raw[..authority_end];
        let same_origin = url
            .get(..authority_end)
            .is_some_and(|u| u.eq_ignore_ascii_case(origin));
        if !same_origin {
            let at = url
                .bytes()
                .zip(origin.bytes())
                .take_while(|(a, b)| a.eq_ignore_ascii_case(b))
                .count();
            return Err(TemplateError::Mismatch { at });
        }
        expect(url, authority_end, after_authority)
    }
}

/// `url[at..]` must start with `literal`; returns the offset after it.
fn expect(url: &str, at: usize, literal: &str) -> Result<usize, TemplateError> {
    let rest = url.as_bytes().get(at..).unwrap_or_default();
    if rest.starts_with(literal.as_bytes()) {
        Ok(at + literal.len())
    } else {
        let same = rest
            .iter()
            .zip(literal.bytes())
            .take_while(|(a, b)| **a == *b)
            .count();
        Err(TemplateError::Mismatch { at: at + same })
    }
}

struct Matcher<'a> {
    template: &'a UrlTemplate,
    url: &'a [u8],
    budget: u32,
    /// The failure that got furthest into the URL.
    error: TemplateError,
}

impl Matcher<'_> {
    fn fail(&mut self, error: TemplateError) -> Option<Captures> {
        if error.offset() >= self.error.offset() {
            self.error = error;
        }
        None
    }

    /// Matches parts `index..` at `url[at..]`. Recursion depth is bounded by the part count.
    fn parts(&mut self, index: usize, at: usize, captures: Captures) -> Option<Captures> {
        let Some(part) = self.template.parts.get(index) else {
            return self.end(at, captures);
        };
        match *part {
            Part::Literal { start, end } => {
                let literal = &self.template.raw.as_bytes()[start..end];
                if self.url[at..].starts_with(literal) {
                    self.parts(index + 1, at + literal.len(), captures)
                } else {
                    let same = self.url[at..]
                        .iter()
                        .zip(literal)
                        .take_while(|(a, b)| a == b)
                        .count();
                    self.fail(TemplateError::Mismatch { at: at + same })
                }
            }
            Part::Placeholder { placeholder, .. } => {
                self.placeholder(index, placeholder, at, captures)
            }
        }
    }

    fn placeholder(
        &mut self,
        index: usize,
        placeholder: Placeholder,
        at: usize,
        captures: Captures,
    ) -> Option<Captures> {
        let (run_end, bad_escape) = self.scan(at);
        let delimiter = match self.template.parts.get(index + 1) {
            Some(Part::Literal { start, .. }) => Some(self.template.raw.as_bytes()[*start]),
            _ => None,
        };
        match delimiter {
            Some(c) if is_unreserved(c) => {
                let mut j = at;
                while j < run_end {
                    if self.url[j] == b'%' {
                        j += 3;
                        continue;
                    }
                    if self.url[j] == c {
                        if self.budget == 0 {
                            return self.fail(TemplateError::Mismatch { at: j });
                        }
                        self.budget -= 1;
                        if let Some(next) = self.capture(placeholder, at, j, captures) {
                            if let Some(done) = self.parts(index + 1, j, next) {
                                return Some(done);
                            }
                        }
                    }
                    j += 1;
                }
                match bad_escape {
                    Some(at) => self.fail(TemplateError::InvalidPercentEncoding { at }),
                    None => self.fail(TemplateError::Mismatch { at: run_end }),
                }
            }
            _ => {
                if let Some(at) = bad_escape {
                    return self.fail(TemplateError::InvalidPercentEncoding { at });
                }
                let next = self.capture(placeholder, at, run_end, captures)?;
                self.parts(index + 1, run_end, next)
            }
        }
    }

    /// The end of the value run starting at `at`, and the offset of a malformed escape if that
    /// is what ended it.
    fn scan(&self, at: usize) -> (usize, Option<usize>) {
        let mut j = at;
        while let Some(&b) = self.url.get(j) {
            if is_unreserved(b) {
                j += 1;
            } else if b == b'%' {
                if !is_escape(self.url, j) {
                    return (j, Some(j));
                }
                j += 3;
            } else {
                break;
            }
        }
        (j, None)
    }

    /// Records a value; a repeated placeholder must decode to the same value as before.
    fn capture(
        &mut self,
        placeholder: Placeholder,
        start: usize,
        end: usize,
        mut captures: Captures,
    ) -> Option<Captures> {
        match captures[placeholder.index()] {
            Some((s, e)) => {
                if Decoded::new(&self.url[s..e]).eq(Decoded::new(&self.url[start..end])) {
                    Some(captures)
                } else {
                    self.fail(TemplateError::Mismatch { at: start })
                }
            }
            None => {
                captures[placeholder.index()] = Some((start, end));
                Some(captures)
            }
        }
    }

    /// The template is exhausted at `at`: the URL must end, or continue with extra `&` pairs.
    fn end(&mut self, at: usize, captures: Captures) -> Option<Captures> {
        match self.url.get(at) {
            None => Some(captures),
            Some(b'&') if self.template.extra_query_ok => Some(captures),
            Some(_) => self.fail(TemplateError::Mismatch { at }),
        }
    }
}

//! Printing: aligned tables for people, Klarna's exact bodies for scripts (`--json`).
//!
//! Results go to stdout; plans, prompts, idempotency keys and progress go to stderr, so that
//! `--json` output on stdout is only what Klarna returned.

use std::io::Write;

use klarna_hpp_core::Timestamp;

/// A table: key/value rows, or rows under column headings.
#[derive(Debug, Default)]
pub(crate) struct Table {
    headings: Option<Vec<String>>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A two-column key/value table.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// A table with column headings.
    pub(crate) fn columns(headings: &[&str]) -> Self {
        Self {
            headings: Some(headings.iter().map(|h| (*h).to_owned()).collect()),
            rows: Vec::new(),
        }
    }

    /// Adds a key/value row.
    pub(crate) fn row(mut self, key: &str, value: impl Into<String>) -> Self {
        self.rows.push(vec![key.to_owned(), value.into()]);
        self
    }

    /// Adds a key/value row when there is a value.
    pub(crate) fn opt(self, key: &str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.row(key, v),
            None => self,
        }
    }

    /// Adds a row under the headings.
    pub(crate) fn add(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    /// Renders it (every line ends with a newline).
    pub(crate) fn render(&self) -> String {
        let all: Vec<&Vec<String>> = self.headings.iter().chain(self.rows.iter()).collect();
        let ncols = all.iter().map(|r| r.len()).max().unwrap_or(0);
        let mut widths = vec![0usize; ncols];
        for row in &all {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for row in all {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i + 1 < row.len() {
                    line.push_str(&format!("{cell:<w$}  ", w = widths[i]));
                } else {
                    line.push_str(cell);
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }

    /// Prints it on stdout.
    pub(crate) fn print(&self) {
        print!("{}", self.render());
    }
}

/// Prints Klarna's bodies on stdout, each as received, one per line (nothing for an empty body).
pub(crate) fn print_bodies(bodies: &[&[u8]]) {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for body in bodies {
        if body.is_empty() {
            continue;
        }
        let _ = out.write_all(body);
        if !body.ends_with(b"\n") {
            let _ = out.write_all(b"\n");
        }
    }
    let _ = out.flush();
}

/// A note for the operator, on stderr.
pub(crate) fn note(text: impl AsRef<str>) {
    eprintln!("{}", text.as_ref());
}

/// An amount in minor units with its currency: `12500` → `125.00 SEK (12500)`.
pub(crate) fn money(minor: i64, currency: Option<&str>) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let major = format!("{sign}{}.{:02}", abs / 100, abs % 100);
    match currency {
        Some(c) => format!("{major} {c} ({minor})"),
        None => format!("{major} ({minor})"),
    }
}

/// A timestamp, RFC 3339 to the second (tables stay aligned; `--json` has Klarna's own text).
pub(crate) fn time(t: Option<Timestamp>) -> Option<String> {
    t.map(|t| {
        let text = t.to_string();
        match (text.find('.'), text.rfind(['Z', '+', '-'])) {
            (Some(dot), Some(zone)) if zone > dot => format!("{}{}", &text[..dot], &text[zone..]),
            _ => text,
        }
    })
}

/// A duration for people: `2d 3h`, `47h 59m`, `4m 10s`, `12s`.
pub(crate) fn duration(d: std::time::Duration) -> String {
    let s = d.as_secs();
    if s >= 48 * 3600 {
        format!("{}d {}h", s / 86_400, s % 86_400 / 3600)
    } else if s >= 3600 {
        format!("{}h {:02}m", s / 3600, s % 3600 / 60)
    } else if s >= 60 {
        format!("{}m {:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align() {
        let t = Table::new().row("a", "1").row("long key", "2");
        assert_eq!(t.render(), "a         1\nlong key  2\n");
        let mut c = Table::columns(&["id", "amount"]);
        c.add(vec!["x".into(), "10".into()]);
        assert_eq!(c.render(), "id  amount\nx   10\n");
    }

    #[test]
    fn times_to_the_second() {
        let t = |s: &str| time(Some(Timestamp::parse(s).expect("valid")));
        assert_eq!(
            t("2026-12-06T03:48:13.057Z").as_deref(),
            Some("2026-12-06T03:48:13Z")
        );
        assert_eq!(
            t("2026-12-06T03:48:13Z").as_deref(),
            Some("2026-12-06T03:48:13Z")
        );
    }

    #[test]
    fn money_and_durations() {
        assert_eq!(money(12_500, Some("SEK")), "125.00 SEK (12500)");
        assert_eq!(money(-5, None), "-0.05 (-5)");
        assert_eq!(
            duration(std::time::Duration::from_secs(47 * 3600 + 59 * 60)),
            "47h 59m"
        );
        assert_eq!(
            duration(std::time::Duration::from_secs(3 * 86_400)),
            "3d 0h"
        );
        assert_eq!(duration(std::time::Duration::from_secs(250)), "4m 10s");
        assert_eq!(duration(std::time::Duration::from_secs(9)), "9s");
    }
}

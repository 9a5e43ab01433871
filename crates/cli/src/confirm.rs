//! Before money moves: say what will happen, ask on a terminal, and fix the idempotency key.

use std::io::{BufRead, IsTerminal, Read, Write};

use klarna_hpp_core::om::IdempotencyKey;

use crate::error::CliError;

/// Options of every money-moving command.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct MoneyArgs {
    /// Do not ask for confirmation (required when stdin is not a terminal).
    #[arg(long, short = 'y')]
    pub(crate) yes: bool,
    /// Reuse this Klarna-Idempotency-Key (the one a previous run printed) instead of a new one:
    /// Klarna then answers a repeat with the first answer and does nothing again (24 h).
    #[arg(long, value_name = "KEY")]
    pub(crate) idempotency_key: Option<String>,
}

/// Options of the other Order Management writes (no confirmation).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct KeyArgs {
    /// Reuse this Klarna-Idempotency-Key instead of a new one.
    #[arg(long, value_name = "KEY")]
    pub(crate) idempotency_key: Option<String>,
}

/// The key to send: the operator's, checked, or a new random UUID (version 4).
pub(crate) fn key(given: Option<&str>) -> Result<IdempotencyKey, CliError> {
    match given {
        Some(k) => IdempotencyKey::new(k).map_err(|e| CliError::Validation(e.to_string())),
        None => IdempotencyKey::new(random_uuid()?).map_err(|e| CliError::Other(e.to_string())),
    }
}

/// A random UUID v4 from the operating system's generator.
fn random_uuid() -> Result<String, CliError> {
    let mut b = [0u8; 16];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut b))
        .map_err(|e| CliError::Other(format!("reading /dev/urandom: {e}")))?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    Ok(format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    ))
}

/// Prints `plan` on stderr, then asks on a terminal unless `yes`. Without a terminal, `--yes`
/// is required: nothing moves money unasked.
pub(crate) fn confirm(plan: &str, yes: bool) -> Result<(), CliError> {
    eprintln!("{plan}");
    if yes {
        return Ok(());
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(CliError::Usage(
            "stdin is not a terminal, so nobody can confirm: pass --yes to proceed".into(),
        ));
    }
    eprint!("Proceed? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let _ = stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| CliError::Other(format!("reading stdin: {e}")))?;
    match line.trim() {
        "y" | "Y" | "yes" | "YES" | "Yes" => Ok(()),
        _ => Err(CliError::Declined),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_v4_and_distinct() {
        let a = random_uuid().expect("urandom");
        let b = random_uuid().expect("urandom");
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
    }
}

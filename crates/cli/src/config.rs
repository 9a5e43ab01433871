//! `klarna-hpp config`: credential profiles in `profiles.json` in the user's config directory
//! (`$KLARNA_HPP_CONFIG_DIR`, else `$XDG_CONFIG_HOME/klarna-hpp`, else
//! `$HOME/.config/klarna-hpp`). The file holds passwords: it is written 0600 (directory 0700),
//! through a temporary file renamed over it, and nothing read from it is ever printed.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{BufRead, IsTerminal, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::PathBuf;

use clap::Subcommand;
use serde::{Deserialize, Serialize};

use crate::error::CliError;
use crate::output::Table;
use crate::{Global, RegionArg};

/// The profile used when none is named.
pub(crate) const DEFAULT_PROFILE: &str = "default";

/// The file's name in the config directory.
const FILE: &str = "profiles.json";

/// `klarna-hpp config …`
#[derive(Debug, Subcommand)]
pub(crate) enum Args {
    /// Save (or replace) a profile: username, password (asked for, never an argument) and the
    /// environment given with --region/--playground/--base-url.
    #[command(
        after_help = "Example:\n  klarna-hpp --region eu --playground config set-profile test --username PK12345_abc\n  (the password is read from a hidden prompt, or from stdin when it is not a terminal)"
    )]
    SetProfile {
        /// The profile's name.
        name: String,
        /// Klarna API username (asked for when missing).
        #[arg(long)]
        username: Option<String>,
    },
    /// List the profiles (names and environments; never credentials).
    #[command(after_help = "Example:\n  klarna-hpp config list")]
    List,
    /// Print where the profiles are kept.
    #[command(after_help = "Example:\n  klarna-hpp config path")]
    Path,
}

/// One saved profile.
#[derive(Clone, Serialize, Deserialize)]
pub(crate) struct Profile {
    /// Klarna API username.
    pub(crate) username: String,
    /// Klarna API password.
    pub(crate) password: String,
    /// `eu`, `na` or `oc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) region: Option<String>,
    /// Klarna's playground.
    #[serde(default)]
    pub(crate) playground: bool,
    /// A custom base URL (the emulator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) base_url: Option<String>,
}

impl fmt::Debug for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Profile")
            .field("username", &"[redacted]")
            .field("password", &"[redacted]")
            .field("region", &self.region)
            .field("playground", &self.playground)
            .field("base_url", &self.base_url)
            .finish()
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    #[serde(default)]
    profiles: BTreeMap<String, Profile>,
}

/// The config directory.
pub(crate) fn dir() -> Result<PathBuf, CliError> {
    let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(d) = env("KLARNA_HPP_CONFIG_DIR") {
        return Ok(PathBuf::from(d));
    }
    if let Some(d) = env("XDG_CONFIG_HOME") {
        return Ok(PathBuf::from(d).join("klarna-hpp"));
    }
    if let Some(home) = env("HOME") {
        return Ok(PathBuf::from(home).join(".config").join("klarna-hpp"));
    }
    Err(CliError::Usage(
        "no config directory: set KLARNA_HPP_CONFIG_DIR or HOME".into(),
    ))
}

fn read_file() -> Result<File, CliError> {
    let path = dir()?.join(FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            // serde's message may quote a value from the file (a password): only the place.
            CliError::Usage(format!(
                "{} is not a valid profiles file (line {}, column {})",
                path.display(),
                e.line(),
                e.column()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(File::default()),
        Err(e) => Err(CliError::Other(format!("reading {}: {e}", path.display()))),
    }
}

/// The profile `name`, when saved.
pub(crate) fn load_profile(name: &str) -> Result<Option<Profile>, CliError> {
    Ok(read_file()?.profiles.remove(name))
}

fn write_file(file: &File) -> Result<PathBuf, CliError> {
    let dir = dir()?;
    let io = |what: &str, e: std::io::Error| CliError::Other(format!("{what}: {e}"));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .map_err(|e| io(&format!("creating {}", dir.display()), e))?;
    let path = dir.join(FILE);
    let tmp = dir.join(format!(".{FILE}.tmp"));
    let bytes = serde_json::to_vec_pretty(file).map_err(|e| CliError::Other(e.to_string()))?;
    let _ = std::fs::remove_file(&tmp);
    let mut out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| io(&format!("creating {}", tmp.display()), e))?;
    out.write_all(&bytes)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.sync_all())
        .map_err(|e| io(&format!("writing {}", tmp.display()), e))?;
    std::fs::rename(&tmp, &path).map_err(|e| io(&format!("replacing {}", path.display()), e))?;
    Ok(path)
}

/// Runs `klarna-hpp config …`.
pub(crate) fn run(args: Args, global: &Global) -> Result<(), CliError> {
    match args {
        Args::SetProfile { name, username } => set_profile(&name, username, global),
        Args::List => {
            let file = read_file()?;
            let mut table = Table::columns(&["profile", "environment"]);
            for (name, p) in &file.profiles {
                table.add(vec![name.clone(), environment(p)]);
            }
            table.print();
            Ok(())
        }
        Args::Path => {
            println!("{}", dir()?.join(FILE).display());
            Ok(())
        }
    }
}

fn environment(p: &Profile) -> String {
    if let Some(url) = &p.base_url {
        return url.clone();
    }
    format!(
        "{} {}",
        p.region.as_deref().unwrap_or("eu"),
        if p.playground {
            "playground"
        } else {
            "production"
        }
    )
}

fn set_profile(name: &str, username: Option<String>, global: &Global) -> Result<(), CliError> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(CliError::Usage(
            "a profile name is letters, digits, '-', '_' and '.'".into(),
        ));
    }
    if global.base_url.is_some() && (global.region.is_some() || global.playground) {
        return Err(CliError::Usage(
            "--base-url excludes --region and --playground".into(),
        ));
    }
    if let Some(url) = &global.base_url {
        klarna_hpp_core::BaseUrl::custom(url)
            .map_err(|e| CliError::Usage(format!("--base-url: {e}")))?;
    }
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let username = match username {
        Some(u) => u,
        None => prompt_line(&mut input, "Klarna API username: ")?,
    };
    if username.is_empty() {
        return Err(CliError::Usage("the username is empty".into()));
    }
    let password = read_password(&mut input)?;
    if password.is_empty() {
        return Err(CliError::Usage("the password is empty".into()));
    }
    let profile = Profile {
        username,
        password,
        region: global.region.map(|r| {
            match r {
                RegionArg::Eu => "eu",
                RegionArg::Na => "na",
                RegionArg::Oc => "oc",
            }
            .to_owned()
        }),
        playground: global.playground,
        base_url: global.base_url.clone(),
    };
    let env = environment(&profile);
    let mut file = read_file()?;
    let _ = file.profiles.insert(name.to_owned(), profile);
    let path = write_file(&file)?;
    println!("saved profile `{name}` ({env}) in {}", path.display());
    Ok(())
}

fn prompt_line(input: &mut impl BufRead, prompt: &str) -> Result<String, CliError> {
    if std::io::stdin().is_terminal() {
        eprint!("{prompt}");
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    let _ = input
        .read_line(&mut line)
        .map_err(|e| CliError::Other(format!("reading stdin: {e}")))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Reads the password: from a prompt with echo off on a terminal, else one line of stdin.
fn read_password(input: &mut impl BufRead) -> Result<String, CliError> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return prompt_line(input, "");
    }
    use rustix::termios::{self, LocalModes, OptionalActions};
    let saved =
        termios::tcgetattr(&stdin).map_err(|e| CliError::Other(format!("terminal: {e}")))?;
    let mut quiet = saved.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    quiet.local_modes.insert(LocalModes::ECHONL);
    termios::tcsetattr(&stdin, OptionalActions::Now, &quiet)
        .map_err(|e| CliError::Other(format!("terminal: {e}")))?;
    let line = prompt_line(input, "Klarna API password (not shown): ");
    let _ = termios::tcsetattr(&stdin, OptionalActions::Now, &saved);
    line
}

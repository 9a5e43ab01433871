//! Test support: the emulator in-process on 127.0.0.1:0, the built `klarna-hpp` run against it
//! as a user runs it, and transcripts for insta with ids, times and ports redacted.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use klarna_hpp_sim::{Sim, SimConfig, SimHandle};

pub const BIN: &str = env!("CARGO_BIN_EXE_klarna-hpp");

/// A cart (KP session body): one line of 125.00 SEK with 25 % VAT.
pub const CART: &str = r#"{
  "purchase_country": "SE",
  "purchase_currency": "SEK",
  "locale": "sv-SE",
  "order_amount": 12500,
  "order_tax_amount": 2500,
  "order_lines": [
    {"name": "Running shoes", "quantity": 1, "unit_price": 12500, "total_amount": 12500,
     "tax_rate": 2500, "total_tax_amount": 2500}
  ]
}"#;

/// One emulator, one config directory, one work directory.
pub struct Env {
    pub sim: SimHandle,
    pub config: tempfile::TempDir,
    pub work: tempfile::TempDir,
    /// Credentials passed as KLARNA_USERNAME / KLARNA_PASSWORD (None: none passed).
    pub env_credentials: Option<(String, String)>,
    /// Extra environment.
    pub extra_env: Vec<(String, String)>,
}

/// What a run printed and how it ended.
#[derive(Debug)]
pub struct Run {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// `$ klarna-hpp args`, the exit code, stdout and stderr.
    pub fn transcript(&self) -> String {
        format!(
            "$ klarna-hpp {}\n[exit {}]\n--- stdout\n{}--- stderr\n{}",
            self.args.join(" "),
            self.code,
            self.stdout,
            self.stderr
        )
    }

    /// The value of the first `key  value` table row on stdout.
    pub fn field(&self, key: &str) -> String {
        self.stdout
            .lines()
            .find_map(|l| {
                let mut parts = l.split_whitespace();
                (parts.next() == Some(key)).then(|| parts.next().unwrap_or("").to_owned())
            })
            .unwrap_or_else(|| panic!("no `{key}` in\n{}", self.transcript()))
    }

    /// The idempotency key announced on stderr.
    pub fn key(&self) -> String {
        self.stderr
            .lines()
            .find_map(|l| l.strip_prefix("idempotency key: "))
            .unwrap_or_else(|| panic!("no key in\n{}", self.transcript()))
            .to_owned()
    }
}

impl Env {
    pub fn new(seed: u64) -> Self {
        Self::with_sim(SimConfig::default().with_seed(seed))
    }

    pub fn with_sim(config: SimConfig) -> Self {
        let sim = Sim::start_background(config).expect("emulator starts");
        let creds = (sim.username().to_owned(), sim.password().to_owned());
        Self {
            sim,
            config: tempfile::tempdir().expect("tempdir"),
            work: tempfile::tempdir().expect("tempdir"),
            env_credentials: Some(creds),
            extra_env: Vec::new(),
        }
    }

    /// A file in the work directory.
    pub fn file(&self, name: &str, content: &str) -> PathBuf {
        let path = self.work.path().join(name);
        std::fs::write(&path, content).expect("write");
        path
    }

    pub fn path(&self, name: &str) -> String {
        self.work.path().join(name).display().to_string()
    }

    /// The command, with a clean environment, against the emulator.
    pub fn command(&self, args: &[&str]) -> Command {
        self.command_at(self.sim.base_url(), args)
    }

    /// The command, with a clean environment, against `base_url`.
    pub fn command_at(&self, base_url: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.env_clear()
            .env("KLARNA_HPP_CONFIG_DIR", self.config.path())
            .current_dir(self.work.path())
            .arg("--base-url")
            .arg(base_url)
            .args(args);
        if let Some((u, p)) = &self.env_credentials {
            cmd.env("KLARNA_USERNAME", u).env("KLARNA_PASSWORD", p);
        }
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(self.command(args), args, "")
    }

    pub fn run_stdin(&self, args: &[&str], input: &str) -> Run {
        self.run_with(self.command(args), args, input)
    }

    pub fn run_with(&self, mut cmd: Command, args: &[&str], input: &str) -> Run {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn klarna-hpp");
        {
            let mut stdin = child.stdin.take().expect("stdin");
            stdin.write_all(input.as_bytes()).expect("write stdin");
        }
        let out = child.wait_with_output().expect("wait");
        Run {
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8(out.stdout).expect("utf-8"),
            stderr: String::from_utf8(out.stderr).expect("utf-8"),
        }
    }

    /// Creates a session from [`CART`] with `mode`; returns the run (stdout is a table).
    pub fn create_session(&self, mode: &str) -> Run {
        let cart = self.file("cart.json", CART);
        let run = self.run(&[
            "session",
            "create",
            "--cart",
            cart.to_str().unwrap(),
            "--mode",
            mode,
            "--success-url",
            "http://127.0.0.1:9/ok?sid={{session_id}}",
        ]);
        assert_eq!(run.code, 0, "{}", run.transcript());
        run
    }

    /// An order placed by HPP (PLACE_ORDER, consumer paid): its id.
    pub fn placed_order(&self) -> String {
        let hpp = self.create_session("place-order").field("hpp_session_id");
        let outcome = self.sim.consumer(&hpp).pay().expect("pays");
        outcome.order_id.expect("order id")
    }
}

/// Redactions for transcripts: UUIDs, timestamps, ports, elapsed times.
pub fn filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "[uuid]",
        ),
        (
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)",
            "[time]",
        ),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
        (r"\[\d+:\d\d\]", "[m:ss]"),
        (r"/tmp/\.tmp[A-Za-z0-9]+", "[dir]"),
        (r"(?m)^[█▀▄ ]{20,}$", "[qr]"),
    ]
}

/// Pins `text` with the redactions.
#[macro_export]
macro_rules! pin {
    ($name:expr, $text:expr) => {
        insta::with_settings!({filters => $crate::support::filters()}, {
            insta::assert_snapshot!($name, $text);
        });
    };
}

/// A child's stderr, line by line, on a channel (for runs that wait on the emulator).
pub fn lines_of(read: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let _ = std::thread::spawn(move || {
        for line in BufReader::new(read).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits for a line containing `needle`; returns the lines seen (panics after a minute: a hang).
pub fn wait_for_line(rx: &Receiver<String>, needle: &str) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            let hit = line.contains(needle);
            seen.push(line);
            if hit {
                return seen;
            }
        }
    }
    panic!("no line with {needle:?} in {seen:?}");
}

/// Waits for a child to exit (panics after a minute: a hang).
pub fn wait_exit(child: &mut Child) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status.code().unwrap_or(-1);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    panic!("klarna-hpp did not exit");
}

/// The names of the files in `dir`.
pub fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// A child running in a real pseudo-terminal (stdin, stdout and stderr), and its screen.
pub struct Pty {
    pub child: Child,
    screen: Receiver<Vec<u8>>,
    input: std::fs::File,
    pub text: Vec<u8>,
}

impl Pty {
    /// Spawns `cmd` with a new terminal as its stdin, stdout and stderr.
    pub fn spawn(mut cmd: Command) -> Pty {
        use rustix::fs::{Mode, OFlags};
        use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};
        let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).expect("openpt");
        grantpt(&master).expect("grantpt");
        unlockpt(&master).expect("unlockpt");
        let name = ptsname(&master, Vec::new()).expect("ptsname");
        let slave = rustix::fs::open(
            name.as_c_str(),
            OFlags::RDWR | OFlags::NOCTTY,
            Mode::empty(),
        )
        .expect("open the terminal");
        let slave = std::fs::File::from(slave);
        cmd.stdin(slave.try_clone().expect("dup"))
            .stdout(slave.try_clone().expect("dup"))
            .stderr(slave);
        let child = cmd.spawn().expect("spawn in the terminal");
        drop(cmd);
        let master = std::fs::File::from(master);
        let input = master.try_clone().expect("dup");
        let (tx, rx) = mpsc::channel::<Vec<u8>>();
        let mut reader = master;
        let _ = std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            // Linux answers EIO once the last writer of the terminal is gone.
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Pty {
            child,
            screen: rx,
            input,
            text: Vec::new(),
        }
    }

    /// The screen so far, as text.
    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.text).into_owned()
    }

    /// Reads until `done(screen)` holds (panics after a minute: a hang).
    pub fn wait_until(&mut self, done: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !done(&self.screen()) {
            assert!(Instant::now() < deadline, "waited for:\n{}", self.screen());
            if let Ok(chunk) = self.screen.recv_timeout(Duration::from_millis(100)) {
                self.text.extend(chunk);
            }
        }
    }

    /// Types `text`.
    pub fn type_text(&mut self, text: &str) {
        self.input.write_all(text.as_bytes()).expect("type");
    }

    /// Waits for the exit; returns the code and the whole screen.
    pub fn finish(mut self) -> (i32, String) {
        let code = wait_exit(&mut self.child);
        while let Ok(chunk) = self.screen.recv_timeout(Duration::from_millis(500)) {
            self.text.extend(chunk);
        }
        (code, self.screen())
    }
}

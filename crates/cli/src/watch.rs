//! `klarna-hpp session watch`: read an HPP session on the core's poll policy until it ends.
//!
//! On a terminal (stderr) a status line redraws in place: spinner, elapsed time, status, time
//! left before the session expires. Otherwise each status change is one plain line. The result
//! goes to stdout.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use klarna_hpp_blocking::{Clock, SystemClock};
use klarna_hpp_core::checkout::PollPolicy;
use klarna_hpp_core::hpp::{self, HppStatus};
use klarna_hpp_core::Timestamp;

use crate::connect::{Klarna, Reply};
use crate::error::{code, CliError};
use crate::output::{self, print_bodies};
use crate::session::session_table;
use crate::Global;

/// `session watch` options.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The HPP session id.
    id: String,
    /// First interval between reads, in milliseconds (default: the core's poll policy, 2000).
    #[arg(long, value_name = "MS")]
    poll_initial_ms: Option<u64>,
    /// Longest interval between reads, in milliseconds (default: the core's, 60000).
    #[arg(long, value_name = "MS")]
    poll_max_ms: Option<u64>,
}

/// The wall clock.
pub(crate) fn now() -> Timestamp {
    SystemClock.now()
}

const SPINNER: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const TICK: Duration = Duration::from_millis(100);

/// Where progress goes: a redrawn line on a terminal, plain lines otherwise.
struct Progress {
    live: bool,
    start: Instant,
    frame: usize,
}

impl Progress {
    fn elapsed(&self) -> String {
        let s = self.start.elapsed().as_secs();
        format!("{}:{:02}", s / 60, s % 60)
    }

    /// A status change or an event, kept on screen.
    fn line(&mut self, text: &str) {
        let mut err = std::io::stderr().lock();
        if self.live {
            let _ = write!(err, "\r\x1b[2K");
        }
        let _ = writeln!(err, "[{}] {text}", self.elapsed());
        let _ = err.flush();
    }

    /// Redraws the status line (terminal only).
    fn draw(&mut self, status: &str, expires_at: Option<Timestamp>, extra: &str) {
        if !self.live {
            return;
        }
        self.frame = (self.frame + 1) % SPINNER.len();
        let left = match expires_at {
            Some(t) if t > now() => {
                format!("expires in {}", output::duration(t.duration_since(now())))
            }
            Some(_) => "expired".to_owned(),
            None => "no expiry known".to_owned(),
        };
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2K{} {} {status} · {left}{extra}",
            SPINNER[self.frame],
            self.elapsed()
        );
        let _ = err.flush();
    }

    fn clear(&mut self) {
        if self.live {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}

/// Runs `session watch`.
pub(crate) fn run(args: &Args, global: &Global) -> Result<(), CliError> {
    let klarna = Klarna::connect(global)?;
    let mut policy = PollPolicy::default();
    if let Some(ms) = args.poll_initial_ms {
        policy.initial = Duration::from_millis(ms.max(1));
    }
    if let Some(ms) = args.poll_max_ms {
        policy.max = Duration::from_millis(ms.max(1));
    }
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(&stop))
            .map_err(|e| CliError::Other(format!("installing the Ctrl-C handler: {e}")))?;
    }
    let mut progress = Progress {
        live: std::io::stderr().is_terminal(),
        start: Instant::now(),
        frame: 0,
    };
    let read = hpp::ReadSession::new(args.id.clone());
    // The first read must work: a wrong id or wrong credentials end the watch at once.
    let mut last: Reply<hpp::Session> = klarna.call(&read, "")?;
    let mut status = last.value.status.clone();
    let mut expires_at = last.value.expires_at;
    progress.line(status.as_str());
    let mut polls_since_change: u32 = 0;
    let mut trouble = String::new();
    loop {
        if let Some(end) = ending(&status) {
            progress.clear();
            return finish(&last, global, end);
        }
        let mut next = Instant::now() + policy.interval(polls_since_change);
        // The session's expiry: read once more right then, and stop if it has not ended.
        if let Some(exp) = expires_at {
            let now = now();
            if exp <= now {
                progress.clear();
                progress.line("expired");
                return expired(&last, global);
            }
            let until_expiry = exp.duration_since(now);
            next = next.min(Instant::now() + until_expiry);
        }
        while Instant::now() < next {
            if stop.load(Ordering::Relaxed) {
                progress.clear();
                progress.line("interrupted");
                return Err(CliError::WatchEnded(
                    "interrupted; the session was not changed",
                    code::INTERRUPTED,
                ));
            }
            progress.draw(status.as_str(), expires_at, &trouble);
            std::thread::sleep(TICK.min(next.saturating_duration_since(Instant::now())));
        }
        match klarna.call(&read, "") {
            Ok(reply) => {
                trouble.clear();
                if reply.value.status != status {
                    status = reply.value.status.clone();
                    polls_since_change = 0;
                    progress.line(status.as_str());
                } else {
                    polls_since_change = polls_since_change.saturating_add(1);
                }
                expires_at = reply.value.expires_at.or(expires_at);
                last = reply;
            }
            // Klarna forgets a session once it has expired.
            Err(CliError::Refused(e)) if e.status.as_u16() == 404 => {
                progress.clear();
                progress.line("expired (Klarna no longer knows the session)");
                return expired(&last, global);
            }
            Err(e @ CliError::Refused(_)) => {
                progress.clear();
                return Err(e);
            }
            Err(e) => {
                polls_since_change = polls_since_change.saturating_add(1);
                let text = format!(" · read failed, retrying ({})", short(&e));
                if !progress.live {
                    progress.line(text.trim_start_matches(" · "));
                }
                trouble = text;
            }
        }
    }
}

fn short(e: &CliError) -> String {
    match e {
        CliError::UnknownAnswer(api, _) => format!("HTTP {}", api.status.as_u16()),
        CliError::Transport(t, _) => t.to_string(),
        other => other.to_string(),
    }
}

/// How a status ends the watch: `Some(None)` for success, `Some(Some(..))` for an ending with
/// an exit code, `None` to keep watching.
fn ending(status: &HppStatus) -> Option<Option<(&'static str, u8)>> {
    match status {
        HppStatus::Completed => Some(None),
        HppStatus::Cancelled => Some(Some(("the consumer cancelled", code::WATCH_CANCELLED))),
        HppStatus::Failed => Some(Some((
            "the payment was refused (FAILED; the consumer may still retry)",
            code::WATCH_FAILED,
        ))),
        HppStatus::Disabled => Some(Some(("the session is disabled", code::WATCH_DISABLED))),
        _ => None,
    }
}

fn print_result(last: &Reply<hpp::Session>, global: &Global, reveal: bool) {
    if global.json {
        print_bodies(&[&last.body]);
        return;
    }
    // The point of watching a NONE-mode session to COMPLETED: the token to place the order
    // with (`kp place-order`). Every other ending keeps it hidden.
    session_table(&last.value, reveal).print();
}

fn finish(
    last: &Reply<hpp::Session>,
    global: &Global,
    end: Option<(&'static str, u8)>,
) -> Result<(), CliError> {
    match end {
        None => {
            print_result(last, global, true);
            Ok(())
        }
        Some((message, exit)) => {
            print_result(last, global, false);
            Err(CliError::WatchEnded(message, exit))
        }
    }
}

fn expired(last: &Reply<hpp::Session>, global: &Global) -> Result<(), CliError> {
    print_result(last, global, false);
    Err(CliError::WatchEnded(
        "the session expired before the consumer completed it",
        code::WATCH_EXPIRED,
    ))
}

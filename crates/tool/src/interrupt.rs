//! Stopping a run early, at a callback boundary, on request.
//!
//! A [`Stop`] is a shared flag: whoever wants a run to end (the binary's
//! signal watcher, a test) calls [`Stop::request`], and every driver that
//! was given the token sees it between two callbacks (one relaxed atomic
//! load per event; nothing on an audio thread changes) and ends the run
//! as if it had reached its end, its outcome marked with the
//! [`Interrupt`]. The library installs no signal handling of its own.
//!
//! [`ExitHold`] marks a file being written, so that an exit forced from
//! another thread (a second interrupt) can wait for the write to finish
//! rather than leave a temporary file behind.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

/// Why a run was stopped: the signal that asked for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Interrupt {
    /// `SIGINT`: Ctrl-C in a terminal.
    Sigint,
    /// `SIGTERM`: `kill`, a service manager, a CI timeout.
    Sigterm,
}

impl Interrupt {
    /// The signal's name, as the report writes it: `SIGINT`, `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self {
            Interrupt::Sigint => "SIGINT",
            Interrupt::Sigterm => "SIGTERM",
        }
    }

    /// The signal's number on POSIX systems.
    pub fn number(self) -> i32 {
        match self {
            Interrupt::Sigint => 2,
            Interrupt::Sigterm => 15,
        }
    }

    /// The exit code of a process it stopped: 128 plus the signal's
    /// number, as shells report a process the signal killed (130, 143).
    pub fn exit_code(self) -> u8 {
        // Both numbers are below 128.
        128 + self.number() as u8
    }

    /// The interrupt of signal number `signo`, if it is one.
    pub fn from_number(signo: i32) -> Option<Interrupt> {
        [Interrupt::Sigint, Interrupt::Sigterm]
            .into_iter()
            .find(|i| i.number() == signo)
    }

    fn code(self) -> u8 {
        match self {
            Interrupt::Sigint => 1,
            Interrupt::Sigterm => 2,
        }
    }

    fn from_code(code: u8) -> Option<Interrupt> {
        match code {
            1 => Some(Interrupt::Sigint),
            2 => Some(Interrupt::Sigterm),
            _ => None,
        }
    }
}

impl fmt::Display for Interrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A request to stop, shared by cloning: every clone sees the same flag.
/// The first request is kept; later ones change nothing.
#[derive(Debug, Clone, Default)]
pub struct Stop(Arc<AtomicU8>);

impl Stop {
    /// A token nobody has requested yet.
    pub fn new() -> Stop {
        Stop::default()
    }

    /// Asks every run holding this token to stop at its next callback
    /// boundary. Returns false when a stop was requested already.
    pub fn request(&self, why: Interrupt) -> bool {
        self.0
            .compare_exchange(0, why.code(), Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    }

    /// The interrupt requested, if any: one relaxed load, real-time safe.
    #[inline]
    pub fn requested(&self) -> Option<Interrupt> {
        Interrupt::from_code(self.0.load(Ordering::Relaxed))
    }
}

/// Two tokens are equal when they are clones of one another.
impl PartialEq for Stop {
    fn eq(&self, other: &Stop) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Stop {}

/// Files being written now (see [`ExitHold`]).
static HOLDS: AtomicUsize = AtomicUsize::new(0);

/// Held while a file is written: [`exit_held`] is true until it is
/// dropped.
#[derive(Debug)]
#[must_use = "the hold ends when dropped"]
pub struct ExitHold(());

impl ExitHold {
    /// Marks a write as under way.
    pub fn new() -> ExitHold {
        HOLDS.fetch_add(1, Ordering::SeqCst);
        ExitHold(())
    }
}

impl Default for ExitHold {
    fn default() -> Self {
        ExitHold::new()
    }
}

impl Drop for ExitHold {
    fn drop(&mut self) {
        HOLDS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// True while some thread of this process holds an [`ExitHold`].
pub fn exit_held() -> bool {
    HOLDS.load(Ordering::SeqCst) > 0
}

/// `command` set to start its process with no signal blocked. A process
/// inherits its parent's signal mask through `exec`, and
/// `std::process::Command` does not reset it; the binary blocks `SIGINT`
/// and `SIGTERM` on every thread (its watcher takes them with `sigwait`),
/// so a child started without this would ignore both.
#[cfg(unix)]
pub fn unblock_signals_in_child(command: &mut std::process::Command) -> &mut std::process::Command {
    use std::os::unix::process::CommandExt;

    let reset = || {
        let mut empty = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
        // SAFETY: sigemptyset initialises the set it is given; both calls
        // are async-signal-safe, as code between fork and exec must be.
        let rc = unsafe {
            libc::sigemptyset(empty.as_mut_ptr());
            libc::pthread_sigmask(libc::SIG_SETMASK, empty.as_ptr(), std::ptr::null_mut())
        };
        match rc {
            0 => Ok(()),
            e => Err(std::io::Error::from_raw_os_error(e)),
        }
    };
    // SAFETY: the closure only calls async-signal-safe functions and
    // touches no memory of the parent's but its own stack.
    unsafe { command.pre_exec(reset) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_request_is_kept_and_seen_by_every_clone() {
        let stop = Stop::new();
        let seen = stop.clone();
        assert_eq!(seen.requested(), None);
        assert!(stop.request(Interrupt::Sigterm));
        assert!(!seen.request(Interrupt::Sigint));
        assert_eq!(seen.requested(), Some(Interrupt::Sigterm));
        assert_eq!(stop, seen);
        assert_ne!(stop, Stop::new());
    }

    #[test]
    fn exit_codes_are_128_plus_the_signal() {
        for i in [Interrupt::Sigint, Interrupt::Sigterm] {
            assert_eq!(Interrupt::from_number(i.number()), Some(i));
            assert_eq!(i32::from(i.exit_code()), 128 + i.number());
        }
        #[cfg(unix)]
        {
            assert_eq!(Interrupt::Sigint.number(), libc::SIGINT);
            assert_eq!(Interrupt::Sigterm.number(), libc::SIGTERM);
        }
        assert_eq!(Interrupt::from_number(9), None);
    }

    /// The signal mask `grep` reads for itself, started from a thread
    /// that blocks SIGINT, with and without the reset.
    #[cfg(target_os = "linux")]
    #[test]
    fn children_start_with_no_signal_blocked_only_when_reset() {
        use std::process::Command;

        let blocked = |reset: bool| {
            std::thread::spawn(move || {
                let mut set = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
                // SAFETY: the set is initialised before use; only this
                // test thread's mask changes.
                unsafe {
                    libc::sigemptyset(set.as_mut_ptr());
                    libc::sigaddset(set.as_mut_ptr(), libc::SIGINT);
                    libc::pthread_sigmask(libc::SIG_BLOCK, set.as_ptr(), std::ptr::null_mut());
                }
                let mut grep = Command::new("grep");
                grep.args(["^SigBlk", "/proc/self/status"]);
                if reset {
                    unblock_signals_in_child(&mut grep);
                }
                let out = grep.output().expect("grep runs");
                let line = String::from_utf8_lossy(&out.stdout).into_owned();
                let mask = line.split_whitespace().nth(1).expect("a mask");
                u64::from_str_radix(mask, 16).expect("hexadecimal")
            })
            .join()
            .expect("the thread ends")
        };
        let sigint = 1u64 << (libc::SIGINT - 1);
        assert_eq!(
            blocked(false) & sigint,
            sigint,
            "inherited without the reset"
        );
        assert_eq!(blocked(true), 0, "nothing blocked with it");
    }

    #[test]
    fn a_hold_lasts_until_dropped() {
        let hold = ExitHold::new();
        assert!(exit_held());
        drop(hold);
        // Other tests may hold their own; this one's is gone.
    }
}

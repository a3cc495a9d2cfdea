//! The profiled program: found as a shell would find it, started in a
//! process group of its own with the preload library, stopped with
//! `SIGTERM` and, after a grace period, `SIGKILL`; and no process of its
//! group left running afterwards.

use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use crate::interrupt::{Interrupt, Stop, unblock_signals_in_child};

/// How long the program has to exit after `SIGTERM` before `SIGKILL`.
pub const GRACE: Duration = Duration::from_secs(2);

/// How often the program is looked at while it runs.
const POLL: Duration = Duration::from_millis(20);

/// The process group of the program running now (0: none), for an exit
/// forced by a second interrupt ([`kill_running_group`]).
static RUNNING_GROUP: AtomicI32 = AtomicI32::new(0);

/// Sends `SIGKILL` to the process group of the program `allocgate attach`
/// is running, if any: what a forced exit must not leave behind.
pub fn kill_running_group() {
    let group = RUNNING_GROUP.load(Ordering::SeqCst);
    if group > 0 {
        signal_group(group, libc::SIGKILL);
    }
}

/// The file a program name runs: the name itself when it holds a `/`,
/// else the first executable regular file of that name on `PATH` (an
/// empty entry is the current directory). `Err` is the one-line reason.
pub fn resolve(program: &OsStr) -> Result<PathBuf, String> {
    let shown = program.to_string_lossy();
    if program.is_empty() {
        return Err("an empty program name; expected a program to run".to_owned());
    }
    if program.as_bytes().contains(&b'/') {
        let path = PathBuf::from(program);
        return check_runnable(&path).map(|()| path);
    }
    let search = std::env::var_os("PATH").unwrap_or_default();
    let mut refusal = None;
    for dir in std::env::split_paths(&search) {
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        let candidate = dir.join(program);
        if !candidate.exists() {
            continue;
        }
        match check_runnable(&candidate) {
            Ok(()) => return Ok(candidate),
            Err(why) => refusal = refusal.or(Some(why)),
        }
    }
    Err(refusal.unwrap_or_else(|| {
        format!("program '{shown}' not found on PATH; expected a program name on PATH or a path")
    }))
}

/// Whether `path` is a regular file someone may execute.
fn check_runnable(path: &Path) -> Result<(), String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => format!("program '{shown}' does not exist"),
        _ => format!("program '{shown}' cannot be read: {e}"),
    })?;
    if meta.is_dir() {
        return Err(format!(
            "program '{shown}' is a directory; expected an executable file"
        ));
    }
    if !meta.is_file() {
        return Err(format!(
            "program '{shown}' is not a regular file; expected an executable file"
        ));
    }
    let mode = meta.permissions().mode();
    if mode & 0o111 == 0 {
        return Err(format!(
            "program '{shown}' is not executable (mode {:o}); expected an executable file",
            mode & 0o7777
        ));
    }
    Ok(())
}

/// The environment the program starts with, beyond what it inherits:
/// each variable set, or removed when `None`.
pub type Environment = Vec<(&'static str, Option<OsString>)>;

/// The program, started.
#[derive(Debug)]
pub struct Started {
    child: Child,
    began: Instant,
}

/// Starts `executable` with `arguments`, named `program` (its
/// `argv[0]`), with `env` applied: standard input, output and error
/// inherited, in a process group of its own, no signal blocked.
pub fn start(
    executable: &Path,
    program: &OsStr,
    arguments: &[OsString],
    env: &Environment,
) -> io::Result<Started> {
    let mut command = Command::new(executable);
    command.arg0(program).args(arguments).process_group(0);
    for (name, value) in env {
        match value {
            Some(v) => command.env(name, v),
            None => command.env_remove(name),
        };
    }
    unblock_signals_in_child(&mut command);
    let began = Instant::now();
    let child = command.spawn()?;
    RUNNING_GROUP.store(group_of(&child), Ordering::SeqCst);
    Ok(Started { child, began })
}

/// Why allocgate stopped the program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// `--seconds` ran out.
    Seconds,
    /// allocgate itself was interrupted.
    Interrupted(Interrupt),
}

impl StopReason {
    /// The report's word: `seconds`, `SIGINT`, `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self {
            StopReason::Seconds => "seconds",
            StopReason::Interrupted(i) => i.name(),
        }
    }
}

/// How the program ended.
#[derive(Debug, Clone, Copy)]
pub struct Ended {
    /// Its exit status.
    pub status: ExitStatus,
    /// Why allocgate stopped it, if it did.
    pub stopped_by: Option<StopReason>,
    /// It outlived `SIGTERM` by [`GRACE`] and was killed.
    pub killed: bool,
    /// Processes of its group outlived it and were stopped.
    pub group_stopped: bool,
    /// From its start to its exit.
    pub ran: Duration,
    /// Its process id.
    pub pid: u32,
}

impl Ended {
    /// The signal that ended it, if one did.
    pub fn signal(&self) -> Option<i32> {
        self.status.signal()
    }

    /// True when it died of a signal allocgate did not send: a crash.
    pub fn crashed(&self) -> bool {
        match self.signal() {
            None => false,
            Some(s) if s == libc::SIGTERM => self.stopped_by.is_none(),
            Some(s) if s == libc::SIGKILL => !self.killed,
            Some(_) => true,
        }
    }

    /// `it exited with code 0`, `it was killed by SIGSEGV`, …
    pub fn describe(&self) -> String {
        match (self.status.code(), self.signal()) {
            (Some(code), _) => format!("it exited with code {code}"),
            (None, Some(s)) if self.killed => {
                format!(
                    "it ignored SIGTERM for {} s and was killed ({})",
                    GRACE.as_secs(),
                    signal_name(s)
                )
            }
            (None, Some(s)) if self.stopped_by.is_some() && s == libc::SIGTERM => {
                "it was stopped by SIGTERM".to_owned()
            }
            (None, Some(s)) => format!("it was killed by {}", signal_name(s)),
            (None, None) => "it ended".to_owned(),
        }
    }
}

/// Waits for the program to exit, stopping it when `seconds` have passed
/// or `stop` is requested: `SIGTERM` to its process group, `SIGKILL`
/// after [`GRACE`]. Then stops any process left in its group the same
/// way. `tick` is called every few milliseconds with the time it has run.
pub fn supervise(
    mut started: Started,
    seconds: Option<f64>,
    stop: Option<&Stop>,
    tick: &mut dyn FnMut(Duration),
) -> io::Result<Ended> {
    let group = group_of(&started.child);
    let deadline = seconds.map(Duration::from_secs_f64);
    let mut stopped_by = None;
    let mut killed = false;
    let status = loop {
        if let Some(status) = started.child.try_wait()? {
            break status;
        }
        let ran = started.began.elapsed();
        tick(ran);
        let why = match stop.and_then(Stop::requested) {
            Some(i) => Some(StopReason::Interrupted(i)),
            None if deadline.is_some_and(|d| ran >= d) => Some(StopReason::Seconds),
            None => None,
        };
        if let Some(why) = why {
            stopped_by = Some(why);
            let (status, kill) = terminate(&mut started.child, group)?;
            killed = kill;
            break status;
        }
        std::thread::sleep(POLL);
    };
    let ran = started.began.elapsed();
    let group_stopped = stop_group(group);
    RUNNING_GROUP.store(0, Ordering::SeqCst);
    Ok(Ended {
        status,
        stopped_by,
        killed,
        group_stopped,
        ran,
        pid: started.child.id(),
    })
}

/// `SIGTERM` to the group, then `SIGKILL` if the leader has not exited
/// within [`GRACE`]: its status, and whether it had to be killed.
fn terminate(child: &mut Child, group: i32) -> io::Result<(ExitStatus, bool)> {
    signal_group(group, libc::SIGTERM);
    let since = Instant::now();
    while since.elapsed() < GRACE {
        if let Some(status) = child.try_wait()? {
            return Ok((status, false));
        }
        std::thread::sleep(POLL / 4);
    }
    signal_group(group, libc::SIGKILL);
    Ok((child.wait()?, true))
}

/// Stops what is left of the group once its leader has exited: `SIGTERM`,
/// then `SIGKILL` after [`GRACE`]. True when anything was left.
fn stop_group(group: i32) -> bool {
    if !group_alive(group) {
        return false;
    }
    signal_group(group, libc::SIGTERM);
    let since = Instant::now();
    while group_alive(group) && since.elapsed() < GRACE {
        std::thread::sleep(POLL / 4);
    }
    if group_alive(group) {
        signal_group(group, libc::SIGKILL);
        // Killed processes whose parent is gone are reaped by init; give
        // it a moment so that nothing of the group is seen afterwards.
        let since = Instant::now();
        while group_alive(group) && since.elapsed() < GRACE {
            std::thread::sleep(POLL / 4);
        }
    }
    true
}

/// The process group a child started with `process_group(0)` leads.
fn group_of(child: &Child) -> i32 {
    i32::try_from(child.id()).unwrap_or(0)
}

fn signal_group(group: i32, signal: i32) {
    if group <= 0 {
        return;
    }
    // SAFETY: kill(2) with a negative pid signals a process group and
    // touches no memory; `group` is positive, so never every process.
    unsafe { libc::kill(-group, signal) };
}

/// True while some process of the group exists (zombies included).
fn group_alive(group: i32) -> bool {
    // SAFETY: signal 0 only checks that the group exists.
    group > 0 && unsafe { libc::kill(-group, 0) } == 0
}

/// `SIGSEGV`, `SIGABRT`, … or `signal N`.
pub fn signal_name(signal: i32) -> String {
    let names = [
        (libc::SIGHUP, "SIGHUP"),
        (libc::SIGINT, "SIGINT"),
        (libc::SIGQUIT, "SIGQUIT"),
        (libc::SIGILL, "SIGILL"),
        (libc::SIGTRAP, "SIGTRAP"),
        (libc::SIGABRT, "SIGABRT"),
        (libc::SIGBUS, "SIGBUS"),
        (libc::SIGFPE, "SIGFPE"),
        (libc::SIGKILL, "SIGKILL"),
        (libc::SIGUSR1, "SIGUSR1"),
        (libc::SIGSEGV, "SIGSEGV"),
        (libc::SIGUSR2, "SIGUSR2"),
        (libc::SIGPIPE, "SIGPIPE"),
        (libc::SIGALRM, "SIGALRM"),
        (libc::SIGTERM, "SIGTERM"),
        (libc::SIGXCPU, "SIGXCPU"),
        (libc::SIGXFSZ, "SIGXFSZ"),
    ];
    names.iter().find(|(n, _)| *n == signal).map_or_else(
        || format!("signal {signal}"),
        |(_, name)| (*name).to_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_found_as_a_shell_finds_them_and_refusals_name_the_file() {
        assert_eq!(
            resolve(OsStr::new("sh")).unwrap().file_name().unwrap(),
            "sh"
        );
        let e = resolve(OsStr::new("/nonexistent/allocgate-x")).unwrap_err();
        assert_eq!(e, "program '/nonexistent/allocgate-x' does not exist");
        let e = resolve(OsStr::new("allocgate-no-such-program-on-path")).unwrap_err();
        assert!(e.contains("not found on PATH"), "{e}");
        let e = resolve(OsStr::new("/")).unwrap_err();
        assert!(
            e.ends_with("is a directory; expected an executable file"),
            "{e}"
        );
        let e = resolve(OsStr::new("/etc/passwd")).unwrap_err();
        assert!(e.contains("is not executable (mode"), "{e}");
        assert!(resolve(OsStr::new("")).is_err());
    }

    #[test]
    fn signals_have_their_names() {
        assert_eq!(signal_name(libc::SIGSEGV), "SIGSEGV");
        assert_eq!(signal_name(63), "signal 63");
    }
}

//! A JACK server the harness starts itself: `jackd -n NAME -d dummy -r
//! RATE -p PERIOD` as a direct child, ready once `jack_lsp -s NAME`
//! answers, stopped with SIGTERM (and waited for) when dropped. The dummy
//! driver needs no sound card; as root, jackd2 runs its clients'
//! process threads with `SCHED_FIFO`.
//!
//! A server killed with SIGKILL leaves its files in `/dev/shm`
//! (`jack-*`); SIGTERM lets it remove them.
//!
//! The server runs in a process group of its own (jackd2 makes one itself
//! too), so a terminal's Ctrl-C reaches the caller alone: `allocgate run`
//! ends its run at a callback boundary, then stops the server. A process
//! that must exit at once can still stop every server it started with
//! [`terminate_spawned`].

use std::fs::File;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use crate::drive::backend::{BackendError, ErrorKind};
use crate::interrupt::unblock_signals_in_child;

/// How long a new server may take to answer (jackd2 on the dummy driver
/// is ready in about 0.2 s).
pub const READY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a server may take to exit after SIGTERM before it is killed.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// True when `program` is an executable on `PATH`.
pub fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| {
            let p = dir.join(program);
            p.is_file()
                && std::fs::metadata(&p).is_ok_and(|m| {
                    use std::os::unix::fs::PermissionsExt;
                    m.permissions().mode() & 0o111 != 0
                })
        })
    })
}

/// The error for a machine without `jackd` or `jack_lsp`.
fn not_installed(program: &str) -> BackendError {
    BackendError::new(
        ErrorKind::Unavailable,
        format!(
            "'{program}' is not on PATH; install JACK with \
             apt-get install -y --no-install-recommends jackd2"
        ),
    )
}

/// The pids of servers this process started and has not begun to stop
/// (0: a free slot), for [`terminate_spawned`]. A server beyond the
/// slots is still stopped when dropped, only not by that function.
static SPAWNED: [AtomicU32; 8] = [const { AtomicU32::new(0) }; 8];

fn register(pid: u32) {
    for slot in &SPAWNED {
        if slot
            .compare_exchange(0, pid, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return;
        }
    }
}

fn unregister(pid: u32) {
    for slot in &SPAWNED {
        let _ = slot.compare_exchange(pid, 0, Ordering::SeqCst, Ordering::SeqCst);
    }
}

/// Sends SIGTERM to every server this process started and whose
/// [`JackServer`] has not begun to stop it, without waiting: for a
/// process about to exit at once, which cannot wait for the servers'
/// owners to drop them. Each server then removes its files and exits on
/// its own. Returns how many were signalled.
pub fn terminate_spawned() -> usize {
    let mut signalled = 0;
    for slot in &SPAWNED {
        let Ok(pid) = libc::pid_t::try_from(slot.swap(0, Ordering::SeqCst)) else {
            continue;
        };
        if pid > 0 {
            // SAFETY: kill(2) with a valid signal. The pid is a child this
            // process started and had not reaped when it was taken out of
            // its slot (an owner unregisters before it signals and
            // reaps), so it names that server.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
            signalled += 1;
        }
    }
    signalled
}

/// True when a JACK server named `name` answers (`jack_lsp -s NAME`).
pub fn answers(name: &str) -> bool {
    unblock_signals_in_child(&mut Command::new("jack_lsp"))
        .args(["-s", name])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A running `jackd` child, stopped when dropped.
#[derive(Debug)]
pub struct JackServer {
    name: String,
    child: Option<Child>,
    log: PathBuf,
}

impl JackServer {
    /// Starts `jackd -n NAME -d dummy -r RATE -p PERIOD` and waits until
    /// it answers. Fails with a one-line reason when jackd is not
    /// installed, a server of that name already answers, jackd exits
    /// (its last message quoted) or does not answer in [`READY_TIMEOUT`].
    pub fn spawn(name: &str, rate: u32, period: u32) -> Result<JackServer, BackendError> {
        for program in ["jackd", "jack_lsp"] {
            if !on_path(program) {
                return Err(not_installed(program));
            }
        }
        if answers(name) {
            return Err(BackendError::new(
                ErrorKind::Unavailable,
                format!("a jack server named '{name}' is already running; pick another name"),
            ));
        }
        let log = std::env::temp_dir().join(format!("allocgate-jackd-{name}.log"));
        let stderr = File::create(&log).map_err(|e| {
            BackendError::new(
                ErrorKind::Unavailable,
                format!(
                    "cannot create '{}' for jackd's messages: {e}",
                    log.display()
                ),
            )
        })?;
        let child = unblock_signals_in_child(&mut Command::new("jackd"))
            .process_group(0)
            .args(["-n", name, "-d", "dummy"])
            .args(["-r", &rate.to_string(), "-p", &period.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .map_err(|e| {
                BackendError::new(ErrorKind::Unavailable, format!("cannot start jackd: {e}"))
            })?;
        register(child.id());
        let mut server = JackServer {
            name: name.to_owned(),
            child: Some(child),
            log,
        };
        server.wait_ready(rate, period)?;
        Ok(server)
    }

    fn wait_ready(&mut self, rate: u32, period: u32) -> Result<(), BackendError> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.try_exit_status() {
                return Err(BackendError::new(
                    ErrorKind::Unavailable,
                    format!(
                        "jackd -n {} -d dummy -r {rate} -p {period} exited ({status}) before \
                         it answered: {}",
                        self.name,
                        self.last_message()
                    ),
                ));
            }
            if answers(&self.name) {
                return Ok(());
            }
            if started.elapsed() > READY_TIMEOUT {
                self.terminate();
                return Err(BackendError::new(
                    ErrorKind::Unavailable,
                    format!(
                        "jack server '{}' did not answer within {} s: {}",
                        self.name,
                        READY_TIMEOUT.as_secs(),
                        self.last_message()
                    ),
                ));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    fn try_exit_status(&mut self) -> Option<ExitStatus> {
        self.child
            .as_mut()
            .and_then(|c| c.try_wait().ok().flatten())
    }

    /// The last line jackd wrote to its standard error, or a note that it
    /// wrote none.
    fn last_message(&self) -> String {
        std::fs::read_to_string(&self.log)
            .ok()
            .and_then(|s| {
                s.lines()
                    .rev()
                    .find(|l| !l.trim().is_empty())
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| "it printed nothing".to_owned())
    }

    /// The server's name (`-n`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The jackd process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Stops the server: SIGTERM, then SIGKILL after [`STOP_TIMEOUT`].
    /// Returns how it exited.
    pub fn stop(mut self) -> Option<ExitStatus> {
        self.terminate()
    }

    fn terminate(&mut self) -> Option<ExitStatus> {
        let mut child = self.child.take()?;
        unregister(child.id());
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if let Ok(pid) = libc::pid_t::try_from(child.id()) {
            // SAFETY: kill(2) with the pid of a child we have not reaped
            // yet (so the pid cannot have been reused) and a valid signal.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        child.wait().ok()
    }
}

impl Drop for JackServer {
    fn drop(&mut self) {
        self.terminate();
        let _ = std::fs::remove_file(&self.log);
    }
}

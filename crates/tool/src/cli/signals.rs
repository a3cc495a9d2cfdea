//! The binary's interrupts. `SIGINT` and `SIGTERM` are blocked on every
//! thread, so none is ever interrupted by a handler (the audio threads
//! least of all), and one watcher thread takes them with `sigwait`. The
//! first asks the work under way to stop at its next callback boundary
//! ([`Stop`]); the second stops every JACK server the process started
//! and the program `allocgate attach` runs (`SIGKILL` to its process
//! group), and exits at once with 128 plus the signal's number (after a file
//! write under way, if any, so that no temporary file is left behind).

use std::io;

use crate::interrupt::{Interrupt, Stop};

/// The line printed on the first interrupt.
pub const FIRST_INTERRUPT: &str =
    "stopping at the next callback boundary to write what ran; interrupt again to exit at once";

/// The watcher, installed.
#[derive(Debug)]
pub struct Interrupts {
    stop: Stop,
}

impl Interrupts {
    /// Blocks `SIGINT` and `SIGTERM` on the calling thread and starts the
    /// watcher. Call it before any other thread starts: threads inherit
    /// the mask when they are created (libjack's and the simulation's
    /// too), and one started earlier could still be signalled into.
    pub fn install() -> io::Result<Interrupts> {
        let stop = Stop::new();
        watch(stop.clone())?;
        Ok(Interrupts { stop })
    }

    /// The token the first interrupt requests: give it to the work.
    pub fn stop(&self) -> Stop {
        self.stop.clone()
    }

    /// The interrupt received, if any.
    pub fn requested(&self) -> Option<Interrupt> {
        self.stop.requested()
    }
}

/// Stops what a process must not leave running when it exits at once.
fn stop_children() {
    #[cfg(unix)]
    crate::attach::kill_running_group();
    #[cfg(all(feature = "jack", target_os = "linux"))]
    crate::drive::backend::jack::server::terminate_spawned();
}

/// How long an exit waits for a file being written, at most.
#[cfg(unix)]
const WRITE_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

#[cfg(unix)]
fn watch(stop: Stop) -> io::Result<()> {
    use std::io::Write as _;
    use std::time::Instant;

    let set = signal_set();
    // SAFETY: `set` is an initialised signal set; blocking signals on
    // this thread changes no memory of ours.
    let rc = unsafe { libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) };
    if rc != 0 {
        return Err(io::Error::from_raw_os_error(rc));
    }
    let watcher = std::thread::Builder::new()
        .name("allocgate-signals".to_owned())
        .spawn(move || {
            loop {
                let mut signo = 0;
                // SAFETY: `set` is initialised and `signo` is a valid
                // place for the signal's number.
                if unsafe { libc::sigwait(&set, &mut signo) } != 0 {
                    continue;
                }
                let Some(why) = Interrupt::from_number(signo) else {
                    continue;
                };
                if stop.request(why) {
                    // Not eprintln: a closed standard error must not end
                    // the watcher.
                    let _ = writeln!(io::stderr(), "\ninterrupted ({why}): {FIRST_INTERRUPT}");
                    continue;
                }
                stop_children();
                let since = Instant::now();
                while crate::interrupt::exit_held() && since.elapsed() < WRITE_GRACE {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                }
                let _ = writeln!(io::stderr(), "\ninterrupted again ({why}): exiting at once");
                // SAFETY: _exit ends the process without running Rust or C
                // exit handlers, which other threads may be using.
                unsafe { libc::_exit(i32::from(why.exit_code())) }
            }
        });
    if let Err(e) = watcher {
        // Nobody would take the signals: let them act as before.
        // SAFETY: as above.
        unsafe { libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut()) };
        return Err(e);
    }
    Ok(())
}

/// `SIGINT` and `SIGTERM`.
#[cfg(unix)]
fn signal_set() -> libc::sigset_t {
    let mut set = std::mem::MaybeUninit::<libc::sigset_t>::uninit();
    // SAFETY: sigemptyset initialises the set; sigaddset adds valid
    // signals to it.
    unsafe {
        libc::sigemptyset(set.as_mut_ptr());
        libc::sigaddset(set.as_mut_ptr(), libc::SIGINT);
        libc::sigaddset(set.as_mut_ptr(), libc::SIGTERM);
        set.assume_init()
    }
}

/// Elsewhere the signals act as they always do: the token is never
/// requested.
#[cfg(not(unix))]
fn watch(_: Stop) -> io::Result<()> {
    let _ = stop_children;
    Ok(())
}
